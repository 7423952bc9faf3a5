"""The widgets API (a Lambda behind a Lambda TOKEN authorizer), called as the README's two curls
call it: through the published port, with the shared secret from ./certs and without it."""

from __future__ import annotations

import httpx
import pytest

from .stack import CERTS

pytestmark = pytest.mark.e2e

WIDGETS = {"x-apigw-api-id": "widgetsap1"}


def token() -> str:
    return (CERTS / "authorizer" / "token").read_text().strip()


def test_with_the_token_the_widget(public_api: httpx.Client) -> None:
    response = public_api.get("/prod/widgets", headers={**WIDGETS, "Authorization": token()})
    assert response.status_code == 200, response.text
    assert response.json() == {"id": "1", "value": "4.99"}
    assert response.headers["x-amzn-RequestId"]


def test_without_the_token_unauthorized(public_api: httpx.Client) -> None:
    response = public_api.get("/prod/widgets", headers=WIDGETS)
    assert (response.status_code, response.content) == (401, b'{"message":"Unauthorized"}')


def test_a_wrong_token_unauthorized(public_api: httpx.Client) -> None:
    wrong = "A" * 43  # well-formed, so the authorizer function is asked and says no
    response = public_api.get("/prod/widgets", headers={**WIDGETS, "Authorization": wrong})
    assert (response.status_code, response.content) == (401, b'{"message":"Unauthorized"}')

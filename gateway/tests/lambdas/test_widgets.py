"""The widgets API of api/widgets.yaml through its own functions, as the README's curls call it:
the widgets function (services/widgets-lambda) behind the shared-secret TOKEN authorizer
(services/token-authorizer), both under the real awslambdaric."""

from __future__ import annotations

import json
import os

import requests
from certgen.secret import new_token, read_token

from .conftest import Functions, LambdaGateway

INVOKE = "/2015-03-31/functions/function/invocations"
UNAUTHORIZED = b'{"message":"Unauthorized"}'


def widgets(gateway: LambdaGateway, token: str | None) -> tuple[int, bytes, str | None]:
    headers = {"Authorization": token} if token is not None else {}
    response = gateway.call("GET", "/prod/widgets", api="widgetsap1", headers=headers)
    return response.status_code, response.content, response.headers.get("content-type")


def test_with_the_shared_secret_the_widget(gateway: LambdaGateway, functions: Functions) -> None:
    status, body, content_type = widgets(gateway, functions.token)
    assert (status, json.loads(body), content_type) == (
        200,
        {"id": "1", "value": "4.99"},
        "application/json",
    )


def test_without_a_token_401(gateway: LambdaGateway) -> None:
    assert widgets(gateway, None)[:2] == (401, UNAUTHORIZED)


def test_a_wrong_token_401(gateway: LambdaGateway) -> None:
    """Well-formed (43 URL-safe characters) but not the secret: the function says Unauthorized."""
    assert widgets(gateway, new_token())[:2] == (401, UNAUTHORIZED)


def test_a_malformed_token_401_before_the_function(gateway: LambdaGateway) -> None:
    assert widgets(gateway, "Bearer something")[:2] == (401, UNAUTHORIZED)


def invoke_authorizer(functions: Functions, token: str) -> dict[str, object]:
    event = {
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": "arn:aws:execute-api:us-east-1:111111111111:widgetsap1/prod/GET/widgets",
    }
    url = functions.services["authorizer"].base_url + INVOKE
    return requests.post(url, json=event, timeout=10).json()  # type: ignore[no-any-return]


def test_a_rotated_secret_is_read_again(gateway: LambdaGateway, functions: Functions) -> None:
    old = read_token(functions.token_secret)
    assert widgets(gateway, old)[0] == 200
    rotated = new_token()
    replacement = functions.token_secret.with_name("token.new")
    replacement.write_text(rotated + "\n")
    os.replace(replacement, functions.token_secret)  # a new file in its place, as a rotation
    try:
        assert invoke_authorizer(functions, old)["errorMessage"] == "Unauthorized"
        assert invoke_authorizer(functions, rotated)["principalId"] == "shared-secret-caller"
        assert widgets(gateway, rotated)[0] == 200
        # the old token's allow stays cached for authorizerResultTtlInSeconds (300), as in AWS
        assert widgets(gateway, old)[0] == 200
        gateway.clock.advance(301)
        assert widgets(gateway, old)[:2] == (401, UNAUTHORIZED)
    finally:
        replacement.write_text(old + "\n")
        os.replace(replacement, functions.token_secret)

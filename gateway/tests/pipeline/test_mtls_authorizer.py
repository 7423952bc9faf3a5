"""The mtls API's TOKEN authorizer (api/mtls.yaml, the cross-account patterns post's pattern 2:
the consumer sends its client certificate to the proxy and the shared secret to the API). The
real function (services/token-authorizer) with the tests' secret, MTLS_TOKEN; the providers are
the echo transport. API Gateway's answers, as for the widgets API (lambdas/test_widgets.py): no
token, or one that identityValidationExpression refuses, is 401 without calling the function; a
token the function refuses ("Unauthorized") is 401 too; the resource policy's explicit deny is
answered first, whatever the token."""

from __future__ import annotations

import pytest
from certgen.secret import new_token

from .conftest import (
    CONSUMER_VPC,
    MTLS_CALLER,
    MTLS_HOST,
    MTLS_TOKEN,
    OUTSIDE,
    PROXY_VPC,
    Gateway,
    deny_body,
    seen_upstream,
)

UNAUTHORIZED = b'{"message":"Unauthorized"}'
FORBIDDEN = b'{"message":"Forbidden"}'
ROUTES = [
    ("GET", "/prod/dogs"),
    ("GET", "/prod/dogs/males"),
    ("GET", "/prod/dogs/females"),
    ("POST", "/prod/todo"),
    ("DELETE", "/prod/todo/1a2b3c4d"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_without_a_token_every_method_is_401(gateway: Gateway, method: str, path: str) -> None:
    response = gateway.call(method, path, headers={"Host": MTLS_HOST}, client=PROXY_VPC)
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert response.headers["x-amzn-errortype"] == "UnauthorizedException"
    entry = gateway.last_log()
    assert (entry["status"], entry["integrationLatency"]) == (401, None)  # nothing went upstream


@pytest.mark.parametrize(
    "token",
    [
        new_token(),  # well-formed (43 URL-safe characters): the function says Unauthorized
        MTLS_TOKEN[:-1] + ("a" if MTLS_TOKEN[-1] != "a" else "b"),  # one character off
        "Bearer something",  # refused by identityValidationExpression, no function called
        f"Bearer {MTLS_TOKEN}",  # the token is the whole header, no scheme
    ],
    ids=["wrong", "one-off", "malformed", "bearer-prefix"],
)
def test_a_wrong_token_is_401(gateway: Gateway, token: str) -> None:
    headers = {"Host": MTLS_HOST, "Authorization": token}
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=PROXY_VPC)
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert gateway.last_log()["integrationLatency"] is None


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_the_right_token_passes_to_the_policy_and_the_integration(
    gateway: Gateway, method: str, path: str
) -> None:
    response = gateway.call(method, path, headers=MTLS_CALLER, client=PROXY_VPC)
    seen = seen_upstream(response)
    assert (seen["method"], seen["path"]) == (method, path.removeprefix("/prod"))
    entry = gateway.last_log()
    assert (entry["policyDecision"], entry["decidingStatements"]) == (
        "Allow",
        ["resource:AnyoneThroughProxyEndpoint"],
    )


@pytest.mark.parametrize("token", [MTLS_TOKEN, None], ids=["right-token", "no-token"])
def test_the_policys_deny_is_answered_before_the_authorizer(
    gateway: Gateway, token: str | None
) -> None:
    """Through another endpoint the explicit deny, without one a private API's Forbidden: the
    token does not matter (API Gateway evaluates the resource policy's explicit deny first)."""
    headers = {"Host": MTLS_HOST, **({"Authorization": token} if token else {})}
    denied = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    assert denied.status_code == 403
    assert denied.json() == deny_body("anonymous", "GET", "mtlsapi001/prod/{M}/dogs", explicit=True)
    outside = gateway.call("GET", "/prod/dogs", headers=headers, client=OUTSIDE)
    assert (outside.status_code, outside.content) == (403, FORBIDDEN)

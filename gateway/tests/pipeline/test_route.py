"""Stage 3, route: the stage, then the resource and method (gateway/README.md, step 3)."""

from __future__ import annotations

import pytest

from .conftest import (
    CONSUMER_SESSION,
    CONSUMER_VPC,
    MTLS_CALLER,
    MTLS_HOST,
    MTLS_TOKEN,
    PARTNER_HOST,
    PROXY_VPC,
    Gateway,
    deny_body,
    seen_upstream,
    sign,
)

MISSING_TOKEN = b'{"message":"Missing Authentication Token"}'
FORBIDDEN = b'{"message":"Forbidden"}'


@pytest.mark.parametrize(
    "path, body, error_type",
    [
        ("/prod/cats", MISSING_TOKEN, "MissingAuthenticationTokenException"),  # no resource
        ("/prod", MISSING_TOKEN, "MissingAuthenticationTokenException"),  # the stage's root
        ("/beta/dogs", FORBIDDEN, "ForbiddenException"),  # no such stage
        ("/dogs", FORBIDDEN, "ForbiddenException"),  # "dogs" taken as the stage
        ("/", FORBIDDEN, "ForbiddenException"),  # no stage at all
    ],
    ids=["resource", "stage-root", "stage", "no-stage", "root"],
)
def test_rest_api_misses(gateway: Gateway, path: str, body: bytes, error_type: str) -> None:
    """A REST API's unknown stage is 403 Forbidden; an unknown resource or method of a known
    stage is 403 Missing Authentication Token (API Gateway Developer Guide, "Gateway response
    types": MISSING_AUTHENTICATION_TOKEN for "a request to an API resource or method that does
    not exist")."""
    response = gateway.call("GET", path, headers={"Host": MTLS_HOST}, client=PROXY_VPC)
    assert response.status_code == 403
    assert response.content == body
    assert response.headers["x-amzn-errortype"] == error_type


def test_http_api_miss_is_404(gateway: Gateway) -> None:
    response = gateway.call("GET", "/cats")
    assert response.status_code == 404
    assert response.content == b'{"message":"Not Found"}'
    assert "x-amzn-errortype" not in response.headers


@pytest.mark.parametrize(
    "path, resource", [("/prod/dogs/", "/dogs"), ("/prod//todo/abc", "/todo/{todoId}")]
)
def test_trailing_and_repeated_slashes_are_ignored(
    gateway: Gateway, path: str, resource: str
) -> None:
    seen_upstream(gateway.call("GET", path, headers=MTLS_CALLER, client=PROXY_VPC))
    assert gateway.last_log()["resourcePath"] == resource


@pytest.mark.parametrize(
    "path, upstream",
    [
        ("/prod/cats/../dogs", "/dogs"),
        ("/prod/todo/%2e%2e/dogs/males", "/dogs/males"),
        ("/prod/./dogs", "/dogs"),
    ],
)
def test_dot_segments_are_resolved_before_routing(
    gateway: Gateway, path: str, upstream: str
) -> None:
    seen = seen_upstream(gateway.call("GET", path, headers=MTLS_CALLER, client=PROXY_VPC))
    assert seen["path"] == upstream


# --- an Authorization header is looked at before the route (REST APIs) -------------------------

INCOMPLETE = (
    "Authorization header requires 'Credential' parameter. Authorization header requires "
    "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
)


@pytest.mark.parametrize(
    "authorization, message",
    [
        ("Bearer abc.def", "Invalid key=value pair (missing equal-sign) in Authorization header"),
        ("Bearer token=abc", INCOMPLETE),
    ],
    ids=["jwt", "key-value"],
)
@pytest.mark.parametrize(
    "host, client", [(MTLS_HOST, PROXY_VPC), (PARTNER_HOST, CONSUMER_VPC)], ids=["mtls", "partner"]
)
def test_a_bearer_token_on_an_unknown_route_is_an_incomplete_signature(
    gateway: Gateway, host: str, client: tuple[str, int], authorization: str, message: str
) -> None:
    """Observed API Gateway behaviour on REST APIs, whatever the API's own auth: a path with no
    resource and an Authorization header that is not SigV4 gets IncompleteSignatureException
    ("That error will return for any invalid endpoints", amazon-archives/aws-cognito-angular-
    quickstart#50; keboola/developer-portal#102; HumanCellAtlas/data-store#328)."""
    response = gateway.call(
        "GET", "/prod/cats", headers={"Host": host, "Authorization": authorization}, client=client
    )
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "IncompleteSignatureException"
    assert response.json()["message"].startswith(message)


def test_a_token_on_a_route_without_iam_auth_passes(gateway: Gateway) -> None:
    """Only a miss (or an AWS_IAM method) looks at the header as a signature: on mtls's methods
    it is the TOKEN authorizer's token, and it is passed on as sent."""
    seen = seen_upstream(gateway.call("GET", "/prod/dogs", headers=MTLS_CALLER, client=PROXY_VPC))
    assert seen["headers"]["authorization"] == MTLS_TOKEN


def test_a_wrong_signature_on_an_unknown_route_is_a_signature_mismatch(gateway: Gateway) -> None:
    """A complete SigV4 header on a path with no resource is verified like any other: a wrong
    one gets the mismatch answer, not Missing Authentication Token (a signed call to an
    incorrect URL "may be returning 403s when it should be returning 404s",
    aws-amplify/amplify-android#640, whose caller saw the signature error for a wrong path)."""
    headers = sign("GET", "/prod/cats")
    headers["Authorization"] = headers["Authorization"][:-4] + "0000"
    response = gateway.call("GET", "/prod/cats", headers=headers, client=CONSUMER_VPC)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "InvalidSignatureException"
    assert response.json()["message"].startswith("The request signature we calculated")


def test_a_valid_signature_on_an_unknown_route_is_missing_authentication_token(
    gateway: Gateway,
) -> None:
    response = gateway.call(
        "GET", "/prod/cats", headers=sign("GET", "/prod/cats"), client=CONSUMER_VPC
    )
    assert response.status_code == 403
    assert response.content == MISSING_TOKEN
    assert gateway.last_log()["principal"] == CONSUMER_SESSION


def test_an_explicit_deny_is_answered_before_the_miss(gateway: Gateway) -> None:
    """partner allows only GET: a POST (no such method) gets the policy's explicit deny."""
    response = gateway.call(
        "POST", "/prod/todo", headers=sign("POST", "/prod/todo"), client=CONSUMER_VPC
    )
    assert response.status_code == 403
    assert response.json() == deny_body(
        CONSUMER_SESSION, "POST", "partnerap1/prod/{M}/todo", explicit=True
    )


# The method ARN `arn:aws:execute-api:us-east-1:111111111111:{api-id}/{stage}/GET/` takes 59
# bytes before the path for these APIs; a path of `PATH_ROOM` bytes makes it exactly 1600.
ARN_PREFIX = len("arn:aws:execute-api:us-east-1:111111111111:echopolicy/test/GET/")
PATH_ROOM = 1600 - ARN_PREFIX


@pytest.mark.parametrize("extra, status", [(0, 200), (1, 414)], ids=["1600-bytes", "1601-bytes"])
def test_method_arn_over_1600_bytes_is_414_where_authorization_applies(
    test_gateway: Gateway, extra: int, status: int
) -> None:
    """API Gateway Developer Guide, "Amazon API Gateway quotas and important notes": with
    authorization on a method (a resource policy on the API counts), a method ARN over 1600
    bytes gets "414 Request URI too long"."""
    path = "/test/" + "a" * (PATH_ROOM + extra)
    response = test_gateway.call("GET", path, headers={"x-apigw-api-id": "echopolicy"})
    assert response.status_code == status
    if status == 414:
        assert response.json() == {"message": "Request URI too long"}
        assert test_gateway.last_log()["status"] == 414


def test_long_paths_are_not_limited_without_authorization(test_gateway: Gateway) -> None:
    """The limit is the method ARN's, which only matters where something judges it."""
    path = "/test/" + "a" * 3000
    response = test_gateway.call("GET", path, headers={"x-apigw-api-id": "echorest01"})
    assert response.status_code == 200

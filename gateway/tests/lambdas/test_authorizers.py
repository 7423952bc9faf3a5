"""Lambda authorizers (REST APIs) through a real authorizer function (lambda_rie + awslambdaric),
its invocations counted from the lines it writes.

API Gateway's answers, as its documentation and its users' threads show them:
- 401 {"message":"Unauthorized"} (UnauthorizedException): "When a required token is missing or
  doesn't match the token validation, the Lambda authorizer isn't invoked" / "configured identity
  sources are missing, null, empty" (AWS Knowledge Center, "Why am I getting API Gateway 401
  Unauthorized errors after creating a Lambda authorizer?"; serverless/serverless#829); and a
  function that fails with exactly `Unauthorized` ("you can send a 401 Unauthorized response to
  the client by failing like so: raise Exception('Unauthorized')", the authorizer blueprints,
  quoted in serverless/examples#305; auth0-samples/jwt-rsa-aws-custom-authorizer#6:
  `{"message": "Unauthorized"}`).
- 403 {"Message":"User is not authorized to access this resource with an explicit deny"} and,
  for a policy that allows the method nowhere, "User is not authorized to access this resource"
  (AWS Knowledge Center, "How do I troubleshoot HTTP 403 Forbidden errors when using a Lambda
  authorizer with an API Gateway REST API?").
- 500 {"message": null} with x-amzn-ErrorType AuthorizerConfigurationException when the function
  fails otherwise or answers with something that is not an authorizer's output
  (auth0-samples/jwt-rsa-aws-custom-authorizer#6: "Status: 500 {"message": null}";
  serverless/examples#305 and aws/chalice#670: "x-amzn-errortype:
  AuthorizerConfigurationException", "Response Code: 500").
- With a resource policy, its explicit deny is found before the authorizer is called; then the
  two are combined by the Developer Guide's Table A ("How API Gateway resource policies affect
  authorization workflow"; gateway/tests/test_authorizer_output.py has every row).
"""

from __future__ import annotations

import pytest

from ..pipeline.conftest import CONSUMER_VPC, PROXY_VPC, seen_upstream
from .conftest import Functions, LambdaGateway, proxy_event

UNAUTHORIZED = b'{"message":"Unauthorized"}'
EXPLICIT_DENY = (
    b'{"Message":"User is not authorized to access this resource with an explicit deny"}'
)
IMPLICIT_DENY = b'{"Message":"User is not authorized to access this resource"}'
CONFIGURATION_ERROR = b'{"message":null}'
METHOD_ARN = "arn:aws:execute-api:us-east-1:111111111111:lambdarest/test/GET/token/widgets"


def token(gateway: LambdaGateway, value: str | None, path: str = "/test/token/widgets", **kw):  # type: ignore[no-untyped-def]
    headers = {"Authorization": value} if value is not None else {}
    return gateway.call(kw.pop("method", "GET"), path, headers=headers, **kw)


def test_allow_passes_principal_and_context_on(
    gateway: LambdaGateway, functions: Functions
) -> None:
    response = token(gateway, "allow-1")

    authorizer = proxy_event(response)["requestContext"]["authorizer"]
    assert authorizer.pop("integrationLatency") >= 0
    # context values are "all stringified" (Developer Guide, "Output from an Amazon API Gateway
    # Lambda authorizer")
    assert authorizer == {
        "principalId": "user-allow",
        "tenant": "blue",
        "level": "3",
        "admin": "false",
    }
    assert functions.authorizer_events("allow-1") == [
        {"type": "TOKEN", "authorizationToken": "allow-1", "methodArn": METHOD_ARN}
    ]


def test_explicit_deny_is_403(gateway: LambdaGateway) -> None:
    response = token(gateway, "deny-1")
    assert (response.status_code, response.content) == (403, EXPLICIT_DENY)
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"


def test_a_policy_that_allows_the_method_nowhere_is_403(gateway: LambdaGateway) -> None:
    response = token(gateway, "elsewhere-1")
    assert (response.status_code, response.content) == (403, IMPLICIT_DENY)


def test_unauthorized_from_the_function_is_401(
    gateway: LambdaGateway, functions: Functions
) -> None:
    response = token(gateway, "unauthorized-1")
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert len(functions.authorizer_events("unauthorized-1")) == 1


@pytest.mark.parametrize(
    "value", [None, "", "Not A Token!", "UPPER"], ids=["missing", "empty", "spaces", "upper"]
)
def test_no_token_or_one_the_validation_expression_refuses_is_401_uncalled(
    gateway: LambdaGateway, functions: Functions, value: str | None
) -> None:
    before = len(functions.authorizer_events())
    response = token(gateway, value)
    assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert len(functions.authorizer_events()) == before  # the function was not called


@pytest.mark.parametrize("word", ["fail", "garbage", "nested"])
def test_a_failing_or_garbage_authorizer_is_500(gateway: LambdaGateway, word: str) -> None:
    response = token(gateway, f"{word}-1")
    assert (response.status_code, response.content) == (500, CONFIGURATION_ERROR)
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert gateway.last_log()["status"] == 500


def test_a_cached_result_is_used_within_the_ttl_and_not_after(
    gateway: LambdaGateway, functions: Functions
) -> None:
    """authorizerResultTtlInSeconds 300: keyed by the token, for every method of the API."""
    assert token(gateway, "allow-2").status_code == 200
    gateway.clock.advance(299)
    assert token(gateway, "allow-2").status_code == 200
    assert token(gateway, "allow-2", "/test/token/other", method="POST").status_code == 200
    assert len(functions.authorizer_events("allow-2")) == 1  # hits: not called again

    gateway.clock.advance(2)  # 301 s after the first call
    assert token(gateway, "allow-2").status_code == 200
    assert len(functions.authorizer_events("allow-2")) == 2  # a miss: called again


def test_a_cached_policy_is_judged_again_for_each_method(
    gateway: LambdaGateway, functions: Functions
) -> None:
    """The cached policy allows the first method only: the next one is denied from the cache."""
    assert token(gateway, "exact-1").status_code == 200
    response = token(gateway, "exact-1", "/test/token/other")
    assert (response.status_code, response.content) == (403, IMPLICIT_DENY)
    assert len(functions.authorizer_events("exact-1")) == 1


def test_ttl_zero_calls_the_function_every_time(
    gateway: LambdaGateway, functions: Functions
) -> None:
    for _ in range(2):
        assert (
            gateway.call("GET", "/test/uncached", headers={"x-token": "allow-3"}).status_code == 200
        )
    assert len(functions.authorizer_events("allow-3")) == 2


def test_a_request_authorizer_gets_the_method_request(
    gateway: LambdaGateway, functions: Functions
) -> None:
    response = gateway.call("GET", "/test/request?tenant=blue&x=1", headers={"x-user": "allow-4"})
    assert response.status_code == 200
    [event] = functions.authorizer_events("allow-4")
    assert event["type"] == "REQUEST"
    assert (
        event["methodArn"]
        == "arn:aws:execute-api:us-east-1:111111111111:lambdarest/test/GET/request"
    )
    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/request",
        "/request",
        "GET",
    )
    assert event["queryStringParameters"] == {"tenant": "blue", "x": "1"}
    assert event["headers"]["x-user"] == "allow-4"
    assert event["requestContext"]["stage"] == "test"
    assert "authorizer" not in event["requestContext"]


def test_a_request_authorizer_needs_every_identity_source(
    gateway: LambdaGateway, functions: Functions
) -> None:
    before = len(functions.authorizer_events())
    for path, headers in (("/test/request", {"x-user": "allow-5"}), ("/test/request?tenant=b", {})):
        response = gateway.call("GET", path, headers=headers)
        assert (response.status_code, response.content) == (401, UNAUTHORIZED)
    assert len(functions.authorizer_events()) == before


def test_a_request_authorizers_cache_key_is_every_identity_source(
    gateway: LambdaGateway, functions: Functions
) -> None:
    for tenant in ("blue", "blue", "green"):
        response = gateway.call(
            "GET", f"/test/request?tenant={tenant}", headers={"x-user": "allow-6"}
        )
        assert response.status_code == 200
    assert len(functions.authorizer_events("allow-6")) == 2  # blue once, green once


def test_context_authorizer_in_an_http_proxy_mapping(gateway: LambdaGateway) -> None:
    """`$context.authorizer.*` as requestParameters sources (context.authorizer.<key>)."""
    seen = seen_upstream(token(gateway, "allow-7", "/test/mapped"))
    assert (seen["headers"]["x-principal"], seen["headers"]["x-tenant"]) == ("user-allow", "blue")


# With a resource policy (a PRIVATE API that admits the proxy VPC's endpoint and denies one path)


def test_the_resource_policys_explicit_deny_wins_before_the_authorizer(
    gateway: LambdaGateway, functions: Functions
) -> None:
    response = gateway.call(
        "GET", "/prod/denied", api="lambdapol1", client=PROXY_VPC,
        headers={"Authorization": "allow-8"},
    )  # fmt: skip
    assert response.status_code == 403
    assert response.json() == {
        "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource:"
        " arn:aws:execute-api:us-east-1:********1111:lambdapol1/prod/GET/denied"
        " with an explicit deny"
    }
    assert functions.authorizer_events("allow-8") == []  # denied before the authorizer ran


@pytest.mark.parametrize(
    "word, client, status, body",
    [
        # Table A: authorizer Deny, resource policy Allow: explicit deny
        ("deny", PROXY_VPC, 403, EXPLICIT_DENY),
        # Table A: authorizer "neither allow nor deny", resource policy Allow: allow
        ("elsewhere", PROXY_VPC, 200, None),
        # Table A: authorizer Allow, resource policy "neither" (its Allow is for the other
        # endpoint): allow
        ("allow", CONSUMER_VPC, 200, None),
        # Table A: neither, neither: implicit deny
        ("elsewhere", CONSUMER_VPC, 403, IMPLICIT_DENY),
    ],
    ids=["deny+allow", "neither+allow", "allow+neither", "neither+neither"],
)
def test_the_authorizers_policy_with_the_resource_policy(
    gateway: LambdaGateway, word: str, client: tuple[str, int], status: int, body: bytes | None
) -> None:
    response = gateway.call(
        "GET", "/prod/allowed", api="lambdapol1", client=client,
        headers={"Authorization": f"{word}-9"},
    )  # fmt: skip
    assert response.status_code == status, response.text
    if body is not None:
        assert response.content == body

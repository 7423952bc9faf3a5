"""Lambda proxy integrations through real function processes (lambda_rie + awslambdaric): the
event each API type sends, the result mapping, and API Gateway's answers for results it refuses,
failing functions, timeouts and functions it cannot reach."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest

from ..pipeline.conftest import NOW, PROXY_VPC
from .conftest import LambdaGateway, proxy_event, script

REST_502 = b'{"message": "Internal server error"}'
REST_504 = b'{"message": "Endpoint request timed out"}'


def test_rest_event_of_a_proxy_resource(gateway: LambdaGateway) -> None:
    response = gateway.call(
        "GET",
        "/test/echo/a%20b/c?x=1&x=2&flag",
        headers={"X-Forwarded-For": "203.0.113.7", "User-Agent": "curl/8", "X-Two": "1"},
    )
    event = proxy_event(response)

    assert (event["resource"], event["path"], event["httpMethod"]) == (
        "/echo/{proxy+}",
        "/echo/a b/c",
        "GET",
    )
    assert event["pathParameters"] == {"proxy": "a b/c"}
    assert event["queryStringParameters"] == {"x": "2", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "flag": [""]}
    assert event["stageVariables"] == {"echoFunction": "echo", "echoHost": "provider.local:8080"}
    assert (event["body"], event["isBase64Encoded"]) == (None, False)
    headers = event["headers"]
    assert headers["X-Forwarded-For"] == "203.0.113.7, 127.0.0.1"
    assert (headers["X-Forwarded-Proto"], headers["user-agent"]) == ("http", "curl/8")
    assert headers["X-Amzn-Trace-Id"] == response.headers["X-Amzn-Trace-Id"]
    assert "content-length" not in {name.lower() for name in headers}
    assert event["multiValueHeaders"]["x-two"] == ["1"]
    ctx = event["requestContext"]
    assert "authorizer" not in ctx  # no authorizer on this method
    assert {k: ctx[k] for k in ("accountId", "apiId", "stage", "path", "resourcePath")} == {
        "accountId": "111111111111",
        "apiId": "lambdarest",
        "stage": "test",
        "path": "/test/echo/a%20b/c",
        "resourcePath": "/echo/{proxy+}",
    }
    assert ctx["requestId"] == response.headers["x-amzn-RequestId"]
    assert ctx["extendedRequestId"] == response.headers["x-amz-apigw-id"]
    assert ctx["domainName"] == "lambdarest.execute-api.us-east-1.amazonaws.com"
    assert (ctx["domainPrefix"], ctx["protocol"]) == ("lambdarest", "HTTP/1.1")
    assert ctx["requestTimeEpoch"] == int(NOW.timestamp()) * 1000
    assert ctx["requestTime"] == "01/Dec/2026:12:00:00 +0000"
    assert len(ctx["resourceId"]) == 6 and ctx["resourceId"].isalnum()
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userArn"] is None
    assert "vpceId" not in ctx["identity"]  # a regional API


def test_the_function_arn_may_name_a_stage_variable(gateway: LambdaGateway) -> None:
    event = proxy_event(gateway.call("POST", "/test/echo", content=b'{"a": 1}'))
    assert (event["resource"], event["body"], event["isBase64Encoded"]) == (
        "/echo",
        '{"a": 1}',
        False,
    )


@pytest.mark.parametrize(
    "content_type, binary", [("image/png", True), ("application/octet-stream", True),
                             ("text/plain", False), (None, False)]
)  # fmt: skip
def test_rest_bodies_of_a_binary_media_type_are_base64(
    gateway: LambdaGateway, content_type: str | None, binary: bool
) -> None:
    body = b"\x89PNG\r\n\x1a\n" if binary else b"plain text"
    headers = {"Content-Type": content_type} if content_type else {}
    event = proxy_event(gateway.call("POST", "/test/echo", headers=headers, content=body))
    expected = base64.b64encode(body).decode() if binary else body.decode()
    assert (event["body"], event["isBase64Encoded"]) == (expected, binary)


def test_result_mapping(gateway: LambdaGateway) -> None:
    response = gateway.call(
        "POST",
        "/test/echo",
        **script(
            **{
                "return": {
                    "statusCode": 418,
                    "headers": {"X-One": "1", "Set-Cookie": "dropped=1"},
                    "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Many": ["x", "y"]},
                    "body": "short and stout",
                }
            }
        ),
    )
    assert response.status_code == 418
    assert response.content == b"short and stout"
    assert response.headers["content-type"] == "application/json"  # API Gateway's default
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers.get_list("x-many") == ["x", "y"]
    assert response.headers["x-one"] == "1"
    assert response.headers["content-length"] == "15"
    assert response.headers["x-amzn-RequestId"]


def test_base64_results_are_decoded_for_a_binary_accept(gateway: LambdaGateway) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\xff"
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    response = gateway.call("POST", "/test/echo", **script(**{"return": result}))
    assert (response.status_code, response.content) == (200, png)


@pytest.mark.parametrize(
    "result",
    [
        "a bare string",
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "unexpected": True},
        {"statusCode": "two hundred"},
        None,
    ],
    ids=["string", "object-body", "unknown-key", "bad-status", "null"],
)
def test_malformed_results_are_502(gateway: LambdaGateway, result: object) -> None:
    """REST: "If the function output is of a different format, API Gateway returns a 502 Bad
    Gateway error response" (Developer Guide, "Output format of a Lambda function for proxy
    integration"), the body of API Gateway's default 5XX answer for it."""
    response = gateway.call("POST", "/test/echo", **script(**{"return": result}))
    assert (response.status_code, response.content) == (502, REST_502)
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert gateway.last_log()["status"] == 502


def test_a_function_error_is_502(gateway: LambdaGateway) -> None:
    """The function failed (errorMessage/errorType, X-Amz-Function-Error): the same 502."""
    response = gateway.call("POST", "/test/echo", **script(**{"raise": "no widgets today"}))
    assert (response.status_code, response.content) == (502, REST_502)


def test_a_function_past_the_integration_timeout_is_504(gateway: LambdaGateway) -> None:
    started = time.monotonic()
    response = gateway.call("POST", "/test/slow", **script(sleep=1.5, **{"return": {}}))
    assert (response.status_code, response.content) == (504, REST_504)
    assert time.monotonic() - started < 1.3  # timeoutInMillis 500, not the function's 1.5 s


def test_a_function_nobody_serves_is_502(gateway: LambdaGateway) -> None:
    response = gateway.call("GET", "/test/down")
    assert (response.status_code, response.content) == (502, REST_502)


def test_a_slow_function_delays_no_other_request(gateway: LambdaGateway) -> None:
    async def both() -> tuple[float, float, int, int]:
        started = time.monotonic()

        async def timed(coro):  # type: ignore[no-untyped-def]
            response = await coro
            return time.monotonic() - started, response.status_code

        slow, quick = await asyncio.gather(
            timed(gateway.send("POST", "/test/slow", **script(sleep=1.0, **{"return": {}}))),
            timed(gateway.send("GET", "/test/echo/quick")),
        )
        return slow[0], quick[0], slow[1], quick[1]

    slow_s, quick_s, slow_status, quick_status = asyncio.run(both())
    assert (slow_status, quick_status) == (504, 200)
    assert quick_s < slow_s and quick_s < 0.4


def test_a_private_apis_event_names_the_vpc_endpoint(gateway: LambdaGateway) -> None:
    response = gateway.call(
        "GET", "/prod/allowed", api="lambdapol1", client=PROXY_VPC,
        headers={"Authorization": "allow-11"},
    )  # fmt: skip
    identity = proxy_event(response)["requestContext"]["identity"]
    assert (identity["vpceId"], identity["vpcId"], identity["sourceIp"]) == (
        "vpce-01111111111111111",
        "vpc-01111111111111111",
        "127.0.1.10",
    )


def test_access_log_has_the_integration_latency(gateway: LambdaGateway) -> None:
    gateway.call("GET", "/test/echo/x")
    entry = gateway.last_log()
    assert (entry["status"], entry["apiId"], entry["resourcePath"]) == (
        200,
        "lambdarest",
        "/echo/{proxy+}",
    )
    assert isinstance(entry["integrationLatency"], int)


# HTTP APIs -----------------------------------------------------------------------------------


def test_http_api_payload_1_0(gateway: LambdaGateway) -> None:
    event = proxy_event(
        gateway.call("GET", "/v1/thing?a=1&a=2", api="lambdahttp", headers={"X-Case": "Mixed"})
    )
    assert event["version"] == "1.0"
    assert (event["resource"], event["path"], event["pathParameters"]) == (
        "/v1/{item}",
        "/v1/thing",
        {"item": "thing"},
    )
    assert event["queryStringParameters"] == {"a": "2"}
    assert event["headers"]["x-case"] == "Mixed"  # HTTP APIs lower-case header names
    assert event["headers"]["x-forwarded-proto"] == "http"
    ctx = event["requestContext"]
    assert ctx["authorizer"] == {"claims": None, "scopes": None}
    assert (ctx["stage"], ctx["resourceId"], ctx["apiId"]) == ("$default", None, "lambdahttp")


def test_http_api_payload_2_0(gateway: LambdaGateway) -> None:
    response = gateway.call(
        "PUT",
        "/v2/a/b?x=1&x=2&y=3",
        api="lambdahttp",
        headers={"Cookie": "c1=1; c2=2", "X-Dup": "one"},
        content=b"hello",
    )
    event = proxy_event(response)
    assert (event["version"], event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "2.0",
        "ANY /v2/{proxy+}",
        "/v2/a/b",
        "x=1&x=2&y=3",
    )
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert "cookie" not in event["headers"]
    assert event["queryStringParameters"] == {"x": "1,2", "y": "3"}
    assert event["pathParameters"] == {"proxy": "a/b"}
    assert (event["body"], event["isBase64Encoded"]) == ("hello", False)
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"]) == ("PUT", "/v2/a/b", "127.0.0.1")
    # an HTTP API's request id is the one it answers with in apigw-requestid
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]


def test_http_api_2_0_results(gateway: LambdaGateway) -> None:
    cookies = gateway.call(
        "POST", "/v2/r", api="lambdahttp",
        **script(**{"return": {"statusCode": 201, "cookies": ["a=1", "b=2"], "body": "made"}}),
    )  # fmt: skip
    assert (cookies.status_code, cookies.content) == (201, b"made")
    assert cookies.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert cookies.headers["apigw-requestid"]
    inferred = gateway.call("POST", "/v2/r", api="lambdahttp", **script(**{"return": "hi"}))
    assert (inferred.status_code, inferred.content) == (200, b"hi")
    assert inferred.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "path, what, status, body",
    [
        ("/v1/x", {"raise": "boom"}, 500, b'{"message":"Internal Server Error"}'),
        ("/v1/x", {"return": {"statusCode": 200, "bad": 1}}, 500,
         b'{"message":"Internal Server Error"}'),
        ("/slow", {"sleep": 1.5, "return": {}}, 503, b'{"message":"Service Unavailable"}'),
    ],
    ids=["function-error", "malformed-1.0", "timeout"],
)  # fmt: skip
def test_http_api_failures(
    gateway: LambdaGateway, path: str, what: dict[str, object], status: int, body: bytes
) -> None:
    response = gateway.call("POST", path, api="lambdahttp", **script(**what))
    assert (response.status_code, response.content) == (status, body)


EVENTS = Path(__file__).resolve().parents[1] / "events"


@pytest.mark.parametrize(
    "api, path, example, version",
    [
        ("lambdarest", "/test/echo/x", "rest-1.0.json", None),
        ("lambdahttp", "/v1/x", "http-1.0.json", "1.0"),
    ],
)
def test_the_gateways_events_have_the_documented_fields(
    gateway: LambdaGateway, api: str, path: str, example: str, version: str | None
) -> None:
    """What the running gateway sends has the fields of the documented example (the values are
    compared in gateway/tests/test_proxy_events.py): no authorizer on a REST method without one,
    and no client certificate without mutual TLS on a custom domain."""
    documented = json.loads((EVENTS / example).read_text())
    event = proxy_event(gateway.call("GET", path, api=api))
    assert set(event) == set(documented)
    rest = version is None
    assert set(event["requestContext"]) == set(documented["requestContext"]) - (
        {"authorizer"} if rest else set()
    )
    assert set(event["requestContext"]["identity"]) == set(
        documented["requestContext"]["identity"]
    ) - {"clientCert"}


def test_the_gateways_v2_event_has_the_documented_fields(gateway: LambdaGateway) -> None:
    documented = json.loads((EVENTS / "http-2.0.json").read_text())
    event = proxy_event(
        gateway.call("POST", "/v2/a?q=1", api="lambdahttp", headers={"Cookie": "c=1"}, content=b"x")
    )
    # no stage variables on this API; authorizer and authentication need an authorizer and mTLS
    assert set(event) == set(documented) - {"stageVariables"}
    assert set(event["requestContext"]) == set(documented["requestContext"]) - {
        "authorizer",
        "authentication",
    }
    assert set(event["requestContext"]["http"]) == set(documented["requestContext"]["http"])

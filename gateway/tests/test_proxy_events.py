"""The events the gateway sends a Lambda proxy integration equal API Gateway's documented example
events (gateway/tests/events/*.json, verbatim from the Developer Guide) field by field.

Each test replays the request an example describes (method, path, query string, headers, body and
the `$context` values it shows) through the builder and compares every leaf of the two events.
Where an example contradicts itself or what API Gateway is observed to do, the test names the
field, what the gateway sends instead, and why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gateway.proxy_events import (
    EventContext,
    ProxyRequest,
    http_v1_event,
    http_v2_event,
    rest_event,
)

EVENTS = Path(__file__).resolve().parent / "events"
QUERY = "parameter1=value1&parameter1=value2&parameter2=value"
HEADERS = [("header1", "value1"), ("header2", "value1"), ("header2", "value2")]
CLIENT_CERT = {
    "clientCertPem": "CERT_CONTENT",
    "subjectDN": "www.example.com",
    "issuerDN": "Example issuer",
    "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
    "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2021 GMT"},
}
MISSING = object()  # the gateway's event has no such field

# API Gateway keeps the *last* value of a repeated query parameter in queryStringParameters, as
# it does for headers (the examples' header2 is "value2"); the examples' parameter1 "value1" is
# the first. Measured on a REST API: floci-io/floci#3548 ("?x=1&x=2&x=3 ... AWS {"x":"3"}");
# dherault/serverless-offline#469 ("/endpoint?a=1&a=2 ... queryStringParameters: { a: '2' }");
# aws/aws-lambda-go#42 ("only returns the last value").
LAST_QUERY_VALUE = {"queryStringParameters.parameter1": "value2"}


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by its dotted path ({} and [] count as leaves)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(leaves(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def assert_equal_but(event: dict[str, Any], example: dict[str, Any], **exceptions: Any) -> None:
    """`event` equals `example` leaf by leaf, except the named leaves, which hold the value given
    (MISSING: the event has no such leaf)."""
    got, want = leaves(event), leaves(example)
    for path, value in exceptions.items():
        assert path in want, f"{path} is not in the example"
        if value is MISSING:
            assert path not in got, path
        else:
            assert got[path] == value, path
        del want[path]
        got.pop(path, None)
    assert sorted(got) == sorted(want)  # the same fields
    assert {p: got[p] for p in want} == want  # with the same values


def v1_request(method: str) -> ProxyRequest:
    return ProxyRequest(
        method=method,
        path="/my/path",
        context_path="/my/path",
        raw_query=QUERY,
        headers=HEADERS,
        body=b"Hello from Lambda!",
        resource_path="/my/path",
    )


def v1_context(**overrides: Any) -> EventContext:
    values: dict[str, Any] = {
        "account_id": "123456789012",
        "api_id": "id",
        "domain_name": "id.execute-api.us-east-1.amazonaws.com",
        "request_id": "id=",
        "extended_request_id": "request-id",
        "request_time": datetime(2020, 3, 4, 19, 15, 17, 135000, tzinfo=UTC),
        "stage": "$default",
        "source_ip": "IP",
        "user_agent": "user-agent",
        "client_cert": CLIENT_CERT,
    }
    return EventContext(**(values | overrides))


def test_rest_event_is_the_documented_example() -> None:
    """The Developer Guide's REST example ("Input format of a Lambda function for proxy
    integration"), a custom domain's mTLS client certificate included."""
    example = load("rest-1.0.json")

    event = rest_event(v1_request("GET"), v1_context())

    assert_equal_but(
        event,
        example,
        **_exceptions(
            LAST_QUERY_VALUE,
            # A REST method without an authorizer has no requestContext.authorizer: the REST
            # events the guide records ("Tutorial: Build a Hello World REST API with Lambda proxy
            # integration"; the Lambda Developer Guide's sample-apps/nodejs-apig/event.json) have
            # none. The example's {"claims": null, "scopes": null} is the HTTP API's (the page's
            # example is the HTTP API 1.0 example without "version", stage "$default" and all).
            {
                "requestContext.authorizer.claims": MISSING,
                "requestContext.authorizer.scopes": MISSING,
            },
        ),
    )


def test_http_v1_event_is_the_documented_example() -> None:
    example = load("http-1.0.json")

    event = http_v1_event(v1_request("GET"), v1_context(source_ip="192.0.2.1"))

    assert_equal_but(event, example, **_exceptions(LAST_QUERY_VALUE))


def test_http_v2_event_is_the_documented_example() -> None:
    example = load("http-2.0.json")
    request = ProxyRequest(
        method="POST",
        path="/my/path",
        context_path="/my/path",
        raw_query=QUERY,
        headers=[("cookie", "cookie1; cookie2"), *HEADERS],
        body=b"Hello from Lambda",
        resource_path="$default",
        route_key="$default",
        path_parameters={"parameter1": "value1"},
        stage_variables={"stageVariable1": "value1", "stageVariable2": "value2"},
    )
    ctx = EventContext(
        account_id="123456789012",
        api_id="api-id",
        domain_name="id.execute-api.us-east-1.amazonaws.com",
        request_id="id",
        extended_request_id="unused-in-2.0",
        request_time=datetime(2020, 3, 4, 19, 3, 58, 390000, tzinfo=UTC),
        stage="$default",
        source_ip="192.0.2.1",
        user_agent="agent",
        # what a JWT authorizer leaves (the gateway runs none; the builder passes it on)
        authorizer={
            "jwt": {
                "claims": {"claim1": "value1", "claim2": "value2"},
                "scopes": ["scope1", "scope2"],
            }
        },
        client_cert=CLIENT_CERT,
    )

    event = http_v2_event(request, ctx)

    assert_equal_but(
        event,
        example,
        **_exceptions(
            # The example's time (12 March) and timeEpoch (1583348638390, 4 March 19:03:58.390)
            # are eight days apart; one request has one time, and the gateway writes both from it.
            {"requestContext.time": "04/Mar/2020:19:03:58 +0000"}
        ),
    )


def _exceptions(*groups: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for group in groups:
        merged.update(group)
    return merged


@pytest.mark.parametrize("builder", [rest_event, http_v1_event], ids=["rest", "http-1.0"])
def test_v1_without_query_headers_or_body_has_nulls(builder: Any) -> None:
    request = ProxyRequest(
        method="GET", path="/", context_path="/prod/", raw_query="", headers=[], body=b"",
        resource_path="/",
    )  # fmt: skip
    event = builder(request, v1_context())
    assert {k: event[k] for k in (
        "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body",
    )} == dict.fromkeys((
        "headers", "multiValueHeaders", "queryStringParameters",
        "multiValueQueryStringParameters", "pathParameters", "stageVariables", "body",
    ))  # fmt: skip
    assert event["isBase64Encoded"] is False


def test_v2_leaves_out_what_the_request_lacks() -> None:
    request = ProxyRequest(
        method="GET", path="/x", context_path="/x", raw_query="", headers=[("a", "1")], body=b"",
        resource_path="/x", route_key="GET /x",
    )  # fmt: skip
    event = http_v2_event(request, v1_context())
    assert set(event) == {
        "version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext",
        "isBase64Encoded",
    }  # fmt: skip


def test_binary_bodies_are_base64() -> None:
    request = ProxyRequest(
        method="POST", path="/up", context_path="/prod/up", raw_query="", headers=[],
        body=b"\x89PNG\r\n", resource_path="/up", binary=True,
    )  # fmt: skip
    for builder in (rest_event, http_v1_event, http_v2_event):
        event = builder(request, v1_context())
        assert (event["body"], event["isBase64Encoded"]) == ("iVBORw0K", True)


def test_private_api_identity_has_the_vpc_endpoint() -> None:
    event = rest_event(
        v1_request("GET"),
        v1_context(vpce_id="vpce-01111111111111111", vpc_id="vpc-01111111111111111"),
    )
    identity = event["requestContext"]["identity"]
    assert (identity["vpceId"], identity["vpcId"]) == (
        "vpce-01111111111111111",
        "vpc-01111111111111111",
    )

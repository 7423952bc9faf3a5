"""A Lambda proxy integration's result as the caller's response, and the results API Gateway
refuses (API Gateway Developer Guide, "Output format of a Lambda function for proxy
integration"; "Working with AWS Lambda proxy integrations for HTTP APIs", "Lambda function
response format")."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from gateway.proxy_results import MalformedResult, ProxyResponse, http_response, rest_response


def payload(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_status_headers_and_body() -> None:
    response = rest_response(
        payload({"statusCode": 201, "headers": {"X-Id": "7", "Content-Type": "text/plain"},
                 "body": "made"})
    )  # fmt: skip
    assert response == ProxyResponse(201, [("X-Id", "7"), ("Content-Type", "text/plain")], b"made")


def test_no_content_type_is_json_and_no_status_is_200() -> None:
    assert rest_response(payload({"body": "{}"})) == ProxyResponse(
        200, [("Content-Type", "application/json")], b"{}"
    )


def test_multi_value_headers_win_over_headers_of_the_same_name() -> None:
    """ "If the same key-value pair is specified in both, only the values from multiValueHeaders
    will appear in the merged list.\""""
    response = rest_response(
        payload(
            {
                "statusCode": 200,
                "headers": {"Set-Cookie": "a=1", "X-One": "1", "content-type": "text/plain"},
                "multiValueHeaders": {"set-cookie": ["b=2", "c=3"], "X-Two": ["2", "2b"]},
                "body": "",
            }
        )
    )
    assert response.headers == [
        ("X-One", "1"),
        ("content-type", "text/plain"),
        ("set-cookie", "b=2"),
        ("set-cookie", "c=3"),
        ("X-Two", "2"),
        ("X-Two", "2b"),
    ]


def test_boolean_header_values_are_text() -> None:
    response = rest_response(payload({"headers": {"X-Cached": True}, "body": ""}))
    assert ("X-Cached", "true") in response.headers


def test_rest_decodes_base64_only_for_a_binary_media_type() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    result = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
    }
    assert rest_response(payload(result), binary_media_types=["image/*"]).body == png
    # by the request's Accept too, and */* covers everything
    text = {**result, "headers": {"Content-Type": "application/json"}}
    assert (
        rest_response(payload(text), binary_media_types=["image/png"], accept="image/png").body
        == png
    )
    assert rest_response(payload(text), binary_media_types=["*/*"]).body == png
    # without a binary media type the base64 text goes out as it is
    assert rest_response(payload(result)).body == base64.b64encode(png)


def test_http_apis_always_decode_base64() -> None:
    result = {
        "statusCode": 200,
        "body": base64.b64encode(b"\x00\x01").decode(),
        "isBase64Encoded": True,
    }
    assert http_response(payload(result), "1.0").body == b"\x00\x01"
    assert http_response(payload(result), "2.0").body == b"\x00\x01"


def test_v2_cookies_are_set_cookie_headers() -> None:
    response = http_response(
        payload({"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "headers": {"x": "y"},
                 "body": "ok"}),
        "2.0",
    )  # fmt: skip
    assert response == ProxyResponse(
        200, [("x", "y"), ("set-cookie", "a=1; Path=/"), ("set-cookie", "b=2")], b"ok"
    )


@pytest.mark.parametrize(
    "value, body",
    [
        ("Hello from Lambda!", b"Hello from Lambda!"),
        ({"message": "Hello from Lambda!"}, b'{"message": "Hello from Lambda!"}'),
        ([1, 2], b"[1, 2]"),
    ],
)
def test_v2_infers_the_format_without_a_status_code(value: Any, body: bytes) -> None:
    """The guide's table: the value is the body of a 200 with content-type application/json."""
    assert http_response(payload(value), "2.0") == ProxyResponse(
        200, [("content-type", "application/json")], body
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"",
        payload("a string"),
        payload([1]),
        payload({"statusCode": 200, "body": "x", "extra": 1}),
        payload({"statusCode": "two hundred"}),
        payload({"statusCode": True}),
        payload({"statusCode": 99}),
        payload({"statusCode": 200, "body": {"an": "object"}}),
        payload({"statusCode": 200, "headers": {"X-N": 1}}),
        payload({"statusCode": 200, "headers": ["X-N"]}),
        payload({"statusCode": 200, "multiValueHeaders": {"X-N": "1"}}),
        payload({"statusCode": 200, "isBase64Encoded": "yes", "body": "eA=="}),
    ],
    ids=[
        "not-json", "empty", "a-string", "a-list", "unknown-key", "status-text", "status-bool",
        "status-range", "body-object", "header-number", "headers-list", "multi-not-list",
        "base64-flag-text",
    ],
)  # fmt: skip
def test_malformed_results_are_refused(raw: bytes) -> None:
    """REST APIs: "If the function output is of a different format, API Gateway returns a
    502 Bad Gateway error response" (HTTP APIs 500: the pipeline tests check the answers)."""
    with pytest.raises(MalformedResult):
        rest_response(raw)
    with pytest.raises(MalformedResult):
        http_response(raw, "1.0")


def test_bad_base64_is_malformed_where_it_is_decoded() -> None:
    result = payload({"statusCode": 200, "body": "***", "isBase64Encoded": True})
    with pytest.raises(MalformedResult):
        http_response(result, "2.0")
    with pytest.raises(MalformedResult):
        rest_response(result, binary_media_types=["*/*"])


def test_v2_json_that_is_not_json_is_refused() -> None:
    with pytest.raises(MalformedResult):
        http_response(b"{oops", "2.0")

"""API Gateway's own answers, byte for byte (SPEC section 4; bodies as API Gateway sends them)."""

from __future__ import annotations

import re

import pytest
from gateway.exchange import RequestIds, new_trace_id

from gateway import errors

EXPIRED = (
    "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z"
    " (20240101T001000Z - 5 min.)"
)


@pytest.mark.parametrize(
    "error, http_api, status, body, error_type",
    [
        (
            errors.MissingAuthenticationToken(),
            False,
            403,
            b'{"message":"Missing Authentication Token"}',
            "MissingAuthenticationTokenException",
        ),
        (errors.NotFound(), True, 404, b'{"message":"Not Found"}', None),
        (errors.Forbidden(), False, 403, b'{"message":"Forbidden"}', "ForbiddenException"),
        (
            errors.TooManyRequests(),
            False,
            429,
            b'{"message":"Too Many Requests"}',
            "TooManyRequestsException",
        ),
        (
            errors.IntegrationFailure(),
            False,
            502,
            b'{"message": "Internal server error"}',
            "InternalServerErrorException",
        ),
        (errors.IntegrationFailure(), True, 500, b'{"message":"Internal Server Error"}', None),
        (
            errors.IntegrationTimeout(),
            False,
            504,
            b'{"message": "Endpoint request timed out"}',
            None,
        ),
        (errors.IntegrationTimeout(), True, 503, b'{"message":"Service Unavailable"}', None),
        (errors.RequestTooLarge(), True, 413, b'{"message":"Request Too Long"}', None),
        (
            errors.SignatureRejected(403, "InvalidSignatureException", EXPIRED),
            False,
            403,
            b'{"message": "' + EXPIRED.encode() + b'"}',
            "InvalidSignatureException",
        ),
    ],
)
def test_bodies_and_types(
    error: errors.GatewayError, http_api: bool, status: int, body: bytes, error_type: str | None
) -> None:
    answer = error.answer(http_api=http_api)
    assert (answer.status, answer.body, answer.error_type) == (status, body, error_type)


def test_rest_413_is_plain_text_from_the_front_end() -> None:
    answer = errors.RequestTooLarge().answer(http_api=False)
    assert (answer.status, answer.body, answer.content_type) == (
        413,
        b"HTTP content length exceeded 10485760 bytes.",
        "text/plain",
    )


def test_access_denied_body_has_a_capital_m() -> None:
    message = (
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource:"
        ' arn:aws:execute-api:us-east-1:********1111:abc/prod/GET/"x" with an explicit deny'
    )
    answer = errors.AccessDenied(message).answer(http_api=False)
    assert answer.status == 403
    assert answer.body == b'{"Message":"' + message.replace('"', '\\"').encode() + b'"}'
    assert answer.error_type == "AccessDeniedException"
    assert answer.message == message


def test_rest_ids_headers() -> None:
    ids = RequestIds("11111111-2222-3333-4444-555555555555", "AbCdEfGhIjKlMnO=", "Root=1-a-b")
    assert ids.response_headers() == [
        ("x-amzn-RequestId", "11111111-2222-3333-4444-555555555555"),
        ("x-amz-apigw-id", "AbCdEfGhIjKlMnO="),
        ("X-Amzn-Trace-Id", "Root=1-a-b"),
    ]


def test_http_api_ids_headers_carry_apigw_requestid() -> None:
    ids = RequestIds("1111", "AbCdEfGhIjKlMnO=", "Root=1-a-b", http_api=True)
    assert ids.response_headers() == [
        ("apigw-requestid", "AbCdEfGhIjKlMnO="),
        ("X-Amzn-Trace-Id", "Root=1-a-b"),
    ]


def test_new_ids_are_unique_and_shaped_like_api_gateways() -> None:
    first, second = RequestIds.new(), RequestIds.new()
    assert first.request_id != second.request_id
    assert len(first.request_id) == 36
    assert len(first.extended_id) == 16 and first.extended_id.endswith("=")
    assert first.trace_id != second.trace_id


def test_trace_id_is_an_x_ray_root() -> None:
    """X-Ray Developer Guide, "Tracing header": Root=1-{8 hex digits: epoch seconds}-{24 hex}."""
    trace = new_trace_id(now=0x5759E988)
    assert re.fullmatch(r"Root=1-5759e988-[0-9a-f]{24}", trace)


def test_a_callers_trace_id_is_kept() -> None:
    assert RequestIds.new(trace_id="Root=1-00000001-abc").trace_id == "Root=1-00000001-abc"

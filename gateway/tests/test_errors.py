from __future__ import annotations

import pytest

from gateway import errors

REST = errors.RequestIds("11111111-2222-3333-4444-555555555555", "AbCdEfGhIjKlMnO=", http_api=False)
EXPIRED = (
    "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z"
    " (20240101T001000Z - 5 min.)"
)
HTTP = errors.RequestIds("11111111-2222-3333-4444-555555555555", "AbCdEfGhIjKlMnO=", http_api=True)


@pytest.mark.parametrize(
    "error, status, body, error_type",
    [
        (
            errors.missing_authentication_token(),
            403,
            b'{"message":"Missing Authentication Token"}',
            "MissingAuthenticationTokenException",
        ),
        (
            errors.route_not_found(http_api=False),
            403,
            b'{"message":"Missing Authentication Token"}',
            "MissingAuthenticationTokenException",
        ),
        (errors.route_not_found(http_api=True), 404, b'{"message":"Not Found"}', None),
        (errors.forbidden(), 403, b'{"message":"Forbidden"}', "ForbiddenException"),
        (
            errors.too_many_requests(),
            429,
            b'{"message":"Too Many Requests"}',
            "TooManyRequestsException",
        ),
        (
            errors.integration_failure(http_api=False),
            502,
            b'{"message": "Internal server error"}',
            "InternalServerErrorException",
        ),
        (
            errors.integration_failure(http_api=True),
            500,
            b'{"message":"Internal Server Error"}',
            None,
        ),
        (
            errors.integration_timeout(http_api=False),
            504,
            b'{"message": "Endpoint request timed out"}',
            None,
        ),
        (
            errors.integration_timeout(http_api=True),
            503,
            b'{"message":"Service Unavailable"}',
            None,
        ),
        (errors.request_too_large(http_api=True), 413, b'{"message":"Request Too Long"}', None),
        (
            errors.signature_error(
                403,
                "InvalidSignatureException",
                EXPIRED,
            ),
            403,
            b'{"message": "' + EXPIRED.encode() + b'"}',
            "InvalidSignatureException",
        ),
    ],
)
def test_bodies_and_types(
    error: errors.GatewayError, status: int, body: bytes, error_type: str | None
) -> None:
    assert (error.status, error.body, error.error_type) == (status, body, error_type)


def test_rest_413_is_plain_text_from_the_front_end() -> None:
    error = errors.request_too_large(http_api=False)
    assert (error.status, error.body, error.content_type) == (
        413,
        b"HTTP content length exceeded 10485760 bytes.",
        "text/plain",
    )


def test_access_denied_body_has_a_capital_m() -> None:
    message = (
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource:"
        ' arn:aws:execute-api:us-east-1:********1111:abc/prod/GET/"x" with an explicit deny'
    )
    error = errors.access_denied(message)
    assert error.status == 403
    assert error.body == b'{"Message":"' + message.replace('"', '\\"').encode() + b'"}'
    assert error.error_type == "AccessDeniedException"


def test_rest_headers() -> None:
    assert errors.forbidden().headers(REST) == [
        ("content-type", "application/json"),
        ("x-amzn-RequestId", "11111111-2222-3333-4444-555555555555"),
        ("x-amz-apigw-id", "AbCdEfGhIjKlMnO="),
        ("x-amzn-ErrorType", "ForbiddenException"),
    ]


def test_http_api_headers_carry_apigw_requestid_only() -> None:
    assert errors.too_many_requests().headers(HTTP) == [
        ("content-type", "application/json"),
        ("apigw-requestid", "AbCdEfGhIjKlMnO="),
    ]


def test_new_ids_are_unique_and_shaped_like_api_gateways() -> None:
    first, second = errors.RequestIds.new(), errors.RequestIds.new()
    assert first.request_id != second.request_id
    assert len(first.request_id) == 36
    assert len(first.extended_id) == 16 and first.extended_id.endswith("=")

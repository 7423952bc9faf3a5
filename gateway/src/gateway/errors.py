"""API Gateway's own error responses, byte for byte: REST APIs and HTTP APIs differ in status
codes, bodies and headers. Bodies are written out literally because clients (and tests) compare
them exactly, spacing included."""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class RequestIds:
    """The ids API Gateway gives every request, echoed in every response."""

    request_id: str
    extended_id: str  # x-amz-apigw-id
    http_api: bool = False

    @classmethod
    def new(cls, *, http_api: bool = False) -> RequestIds:
        extended = base64.b64encode(os.urandom(10)).decode("ascii")[:15] + "="
        return cls(str(uuid.uuid4()), extended, http_api)

    def response_headers(self) -> list[tuple[str, str]]:
        if self.http_api:
            return [("apigw-requestid", self.extended_id)]
        return [("x-amzn-RequestId", self.request_id), ("x-amz-apigw-id", self.extended_id)]


@dataclass(frozen=True)
class GatewayError:
    status: int
    body: bytes
    message: str  # for $context.error.message in the access log
    error_type: str | None = None  # x-amzn-ErrorType (REST APIs)
    content_type: str = "application/json"
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    def headers(self, ids: RequestIds) -> list[tuple[str, str]]:
        headers = [("content-type", self.content_type), *ids.response_headers()]
        if self.error_type and not ids.http_api:
            headers.append(("x-amzn-ErrorType", self.error_type))
        headers.extend(self.extra_headers)
        return headers


def _json(status: int, body: str, message: str, error_type: str | None = None) -> GatewayError:
    return GatewayError(status, body.encode(), message, error_type)


def missing_authentication_token() -> GatewayError:
    """REST API: no such stage/resource/method, or an IAM method called without a signature."""
    return _json(
        403,
        '{"message":"Missing Authentication Token"}',
        "Missing Authentication Token",
        "MissingAuthenticationTokenException",
    )


def route_not_found(*, http_api: bool) -> GatewayError:
    if http_api:
        return _json(404, '{"message":"Not Found"}', "Not Found")
    return missing_authentication_token()


def forbidden() -> GatewayError:
    """An unknown API id, or a private API reached without a VPC endpoint."""
    return _json(403, '{"message":"Forbidden"}', "Forbidden", "ForbiddenException")


def access_denied(message: str) -> GatewayError:
    """Resource (or identity) policy denied; `message` from `gateway.policy.denial_message`.
    Note the capital M of "Message" in this one body."""
    return _json(
        403,
        json.dumps({"Message": message}, separators=(",", ":")),
        message,
        "AccessDeniedException",
    )


def signature_error(status: int, error_type: str, message: str) -> GatewayError:
    return GatewayError(status, json.dumps({"message": message}).encode(), message, error_type)


def too_many_requests() -> GatewayError:
    return _json(
        429, '{"message":"Too Many Requests"}', "Too Many Requests", "TooManyRequestsException"
    )


def integration_failure(*, http_api: bool) -> GatewayError:
    """The backend refused or reset the connection."""
    if http_api:
        return _json(500, '{"message":"Internal Server Error"}', "Internal Server Error")
    return _json(
        502,
        '{"message": "Internal server error"}',
        "Internal server error",
        "InternalServerErrorException",
    )


def integration_timeout(*, http_api: bool) -> GatewayError:
    if http_api:
        return _json(503, '{"message":"Service Unavailable"}', "Service Unavailable")
    return _json(504, '{"message": "Endpoint request timed out"}', "Endpoint request timed out")


def request_too_large(*, http_api: bool, limit: int = MAX_BODY_BYTES) -> GatewayError:
    """REST APIs answer an over-long body from their front end in plain text; HTTP APIs with the
    REQUEST_TOO_LARGE gateway response."""
    if http_api:
        return _json(413, '{"message":"Request Too Long"}', "Request Too Long")
    message = f"HTTP content length exceeded {limit} bytes."
    return GatewayError(413, message.encode(), message, None, "text/plain")

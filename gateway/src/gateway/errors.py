"""API Gateway's own answers, one exception class per answer: a pipeline stage raises one to stop
the request, and `app.py` turns it into bytes in one place.

REST APIs and HTTP APIs differ in status codes, bodies and headers, so an error gives its `Answer`
for the API type. Bodies are written out literally because clients (and tests) compare them
exactly, spacing included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    """What the caller receives for an error."""

    status: int
    body: bytes
    message: str  # $context.error.message in the access log
    error_type: str | None = None  # x-amzn-ErrorType (REST APIs only)
    content_type: str = "application/json"
    close: bool = False  # the connection closes after the answer (the request was not read whole)


def _json_answer(status: int, body: str, error_type: str | None = None) -> Answer:
    return Answer(status, body.encode(), json.loads(body)["message"], error_type)


class GatewayError(Exception):
    """An answer of API Gateway's own. Subclasses set `rest` (and `http` where HTTP APIs answer
    differently) or override `answer` when the text depends on the request."""

    rest: Answer
    http: Answer | None = None  # None: as `rest`

    def answer(self, *, http_api: bool) -> Answer:
        return (self.http or self.rest) if http_api else self.rest

    def __str__(self) -> str:
        return self.rest.message


class Forbidden(GatewayError):
    """An unknown API id, a private API reached without a VPC endpoint, or a REST API's unknown
    stage."""

    rest = _json_answer(403, '{"message":"Forbidden"}', "ForbiddenException")


class MissingAuthenticationToken(GatewayError):
    """REST API: no such resource or method, or an IAM method called without a signature."""

    rest = _json_answer(
        403, '{"message":"Missing Authentication Token"}', "MissingAuthenticationTokenException"
    )


class MethodArnTooLong(GatewayError):
    """ "When authorization is enabled on a method, the maximum length of the method's ARN ... is
    1600 bytes ... the API client receives a 414 Request URI too long response ... In the case of
    private APIs where a resource policy is required, this limits the URI length of all private
    APIs." (API Gateway Developer Guide, "Amazon API Gateway quotas and important notes"). The
    body is not documented: the documented words, in API Gateway's error form."""

    rest = _json_answer(414, '{"message":"Request URI too long"}')


class NotFound(GatewayError):
    """HTTP API: no route matches."""

    rest = _json_answer(404, '{"message":"Not Found"}')


class AccessDenied(GatewayError):
    """Resource (or identity) policy denied; `message` from `gateway.policy.denial_message`.
    Note the capital M of "Message" in this one body."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        body = json.dumps({"Message": message}, separators=(",", ":")).encode()
        self.rest = Answer(403, body, message, "AccessDeniedException")


class SignatureRejected(GatewayError):
    """A SigV4 check failed (`gateway.sigv4.SigV4Error`): its status, type and message."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.rest = Answer(status, json.dumps({"message": message}).encode(), message, error_type)


class TooManyRequests(GatewayError):
    rest = _json_answer(429, '{"message":"Too Many Requests"}', "TooManyRequestsException")


class RequestTooLarge(GatewayError):
    """REST APIs answer an over-long body from their front end in plain text; HTTP APIs with the
    REQUEST_TOO_LARGE gateway response."""

    http = _json_answer(413, '{"message":"Request Too Long"}')

    def __init__(self, limit: int = MAX_BODY_BYTES) -> None:
        super().__init__(limit)
        message = f"HTTP content length exceeded {limit} bytes."
        self.rest = Answer(413, message.encode(), message, None, "text/plain")


class BodyTimeout(GatewayError):
    """The body stopped arriving (no piece for the idle timeout) or took longer than the whole
    body's deadline. AWS documents neither limit nor answer: HTTP's 408 (RFC 9110 15.5.9), from
    the front end like the 413, and the connection closes (the rest of the body is not read)."""

    rest = Answer(408, b"Request Timeout", "Request Timeout", None, "text/plain", close=True)
    http = Answer(408, b'{"message":"Request Timeout"}', "Request Timeout", close=True)


class IntegrationFailure(GatewayError):
    """The backend refused or reset the connection, or cannot be called as configured."""

    rest = _json_answer(502, '{"message": "Internal server error"}', "InternalServerErrorException")
    http = _json_answer(500, '{"message":"Internal Server Error"}')


class IntegrationTimeout(GatewayError):
    """No response head within the integration's timeoutInMillis."""

    rest = _json_answer(504, '{"message": "Endpoint request timed out"}')
    http = _json_answer(503, '{"message":"Service Unavailable"}')


# Lambda authorizers (REST APIs). The answers are API Gateway's default gateway responses
# UNAUTHORIZED, ACCESS_DENIED and AUTHORIZER_CONFIGURATION_ERROR; their sources are cited in
# gateway/tests/pipeline/test_lambda_authorizers.py.


class Unauthorized(GatewayError):
    """No token (or a missing identity source), a token the identityValidationExpression
    refuses, or an authorizer function that failed with the message `Unauthorized`."""

    rest = _json_answer(401, '{"message":"Unauthorized"}', "UnauthorizedException")


class AuthorizerDenied(GatewayError):
    """The authorizer's policy denies the method (explicitly), or allows it nowhere and no
    resource policy allows it either. Capital M, as in AccessDenied."""

    def __init__(self, *, explicit: bool) -> None:
        message = "User is not authorized to access this resource"
        if explicit:
            message += " with an explicit deny"
        super().__init__(message)
        body = json.dumps({"Message": message}, separators=(",", ":")).encode()
        self.rest = Answer(403, body, message, "AccessDeniedException")


class AuthorizerConfigurationError(GatewayError):
    """The authorizer function could not be called, failed (other than `Unauthorized`), timed out
    or answered with something that is not an authorizer's output. The body carries no message;
    `reason` goes to the access log's errorMessage."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.rest = Answer(500, b'{"message":null}', reason, "AuthorizerConfigurationException")


class ClientGone(Exception):
    """The caller went away: nobody is left to answer (logged with status 499 when it happened
    before the response started)."""


class ResponseInterrupted(Exception):
    """The integration's response broke off after its head was sent on: all that is left is to
    cut the caller's response short."""

"""The event API Gateway sends a Lambda proxy integration, built from plain values.

Three shapes (API Gateway Developer Guide, "Input format of a Lambda function for proxy
integration" for REST APIs, "Working with AWS Lambda proxy integrations for HTTP APIs" for the
payload formats 1.0 and 2.0; the documented examples are gateway/tests/events/*.json):

- REST APIs, 1.0: `headers` and `queryStringParameters` hold the last value of a repeated name,
  `multiValueHeaders` / `multiValueQueryStringParameters` every value; absent ones are null.
- HTTP APIs, 1.0: the same, with `"version": "1.0"`, and `requestContext.authorizer` with null
  `claims` and `scopes` when no authorizer answered.
- HTTP APIs, 2.0: repeated headers and query parameters joined with commas, cookies in
  `cookies` (not in `headers`), `rawPath`/`rawQueryString`, and absent fields left out.

`requestContext` holds the `$context` variables: identity (an IAM caller's, the source IP, the
VPC endpoint of a private API), the authorizer's output, stage, request ids and time.
Whether a body travels base64-encoded is the caller's decision (`ProxyRequest.binary`), made
from the API's binary media types or the body's content type.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

REQUEST_TIME_FORMAT = "%d/%b/%Y:%H:%M:%S +0000"  # $context.requestTime, CLF, in UTC
PROTOCOL = "HTTP/1.1"


@dataclass(frozen=True)
class CallerIdentity:
    """$context.identity of a caller that signed with IAM credentials (SigV4)."""

    access_key: str
    account_id: str
    caller: str | None  # the principal's id (a role session: "<role-id>:<session>")
    user_arn: str


@dataclass(frozen=True)
class EventContext:
    """The `$context` facts of one request that the event carries."""

    account_id: str
    api_id: str
    domain_name: str
    request_id: str
    extended_request_id: str
    request_time: datetime
    stage: str
    source_ip: str | None
    user_agent: str | None
    resource_id: str | None = None  # REST APIs: the resource's id (HTTP APIs have none)
    identity: CallerIdentity | None = None
    vpce_id: str | None = None  # private APIs: the VPC endpoint the request came through
    vpc_id: str | None = None
    # requestContext.authorizer as the authorizer left it (None: no authorizer answered)
    authorizer: Mapping[str, Any] | None = None
    client_cert: Mapping[str, Any] | None = None  # mutual TLS on a custom domain name

    @property
    def domain_prefix(self) -> str:
        return self.domain_name.split(".", 1)[0]

    @property
    def epoch_ms(self) -> int:
        """$context.requestTimeEpoch: milliseconds, counted in integers (no float rounding)."""
        seconds = int(self.request_time.timestamp())
        return seconds * 1000 + self.request_time.microsecond // 1000

    @property
    def request_time_text(self) -> str:
        return self.request_time.astimezone(UTC).strftime(REQUEST_TIME_FORMAT)


@dataclass(frozen=True)
class ProxyRequest:
    """The method request as the function sees it."""

    method: str
    path: str  # REST: below the stage, decoded; HTTP APIs: the path as received
    context_path: str  # $context.path: the path as the caller sent it (a REST stage included)
    raw_query: str
    headers: Sequence[tuple[str, str]]  # as they reach the function, in order
    body: bytes
    resource_path: str  # REST: the resource ("/widgets/{id}"); HTTP: the route's path
    route_key: str = "$default"  # HTTP APIs: "GET /widgets/{id}" or "$default"
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    stage_variables: Mapping[str, str] = field(default_factory=dict)
    binary: bool = False  # the body goes base64-encoded, isBase64Encoded true


def query_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _body(request: ProxyRequest) -> str | None:
    if not request.body:
        return None
    if request.binary:
        return base64.b64encode(request.body).decode("ascii")
    return request.body.decode("utf-8", "replace")


def _identity(ctx: EventContext, *, private: bool) -> dict[str, Any]:
    caller = ctx.identity
    identity: dict[str, Any] = {
        "accessKey": caller.access_key if caller else None,
        "accountId": caller.account_id if caller else None,
        "caller": caller.caller if caller else None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": ctx.source_ip,
        "user": caller.caller if caller else None,
        "userAgent": ctx.user_agent,
        "userArn": caller.user_arn if caller else None,
    }
    if ctx.client_cert is not None:
        identity["clientCert"] = dict(ctx.client_cert)
    if private:
        identity["vpceId"] = ctx.vpce_id
        identity["vpcId"] = ctx.vpc_id
    return identity


def request_context_v1(
    request: ProxyRequest, ctx: EventContext, *, http_api: bool
) -> dict[str, Any]:
    """requestContext of the 1.0 format (REST APIs, and HTTP APIs that ask for 1.0)."""
    context: dict[str, Any] = {"accountId": ctx.account_id, "apiId": ctx.api_id}
    if ctx.authorizer is not None:
        context["authorizer"] = dict(ctx.authorizer)
    elif http_api:
        context["authorizer"] = {"claims": None, "scopes": None}
    context.update(
        {
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "extendedRequestId": ctx.extended_request_id,
            "httpMethod": request.method,
            "identity": _identity(ctx, private=ctx.vpce_id is not None),
            "path": request.context_path,
            "protocol": PROTOCOL,
            "requestId": ctx.request_id,
            "requestTime": ctx.request_time_text,
            "requestTimeEpoch": ctx.epoch_ms,
            "resourceId": ctx.resource_id,
            "resourcePath": request.resource_path,
            "stage": ctx.stage,
        }
    )
    return context


def method_request_v1(request: ProxyRequest) -> dict[str, Any]:
    """The method request of the 1.0 format: also what a REQUEST authorizer receives."""
    headers = _multi(request.headers)
    query = _multi(query_pairs(request.raw_query))
    return {
        "resource": request.resource_path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in headers.items()} or None,
        "multiValueHeaders": headers or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": dict(request.path_parameters) or None,
        "stageVariables": dict(request.stage_variables) or None,
    }


def rest_event(request: ProxyRequest, ctx: EventContext) -> dict[str, Any]:
    """A REST API's Lambda proxy event (payload format 1.0)."""
    return {
        **method_request_v1(request),
        "requestContext": request_context_v1(request, ctx, http_api=False),
        "body": _body(request),
        "isBase64Encoded": request.binary and bool(request.body),
    }


def http_v1_event(request: ProxyRequest, ctx: EventContext) -> dict[str, Any]:
    """An HTTP API's Lambda proxy event in payload format 1.0."""
    return {
        "version": "1.0",
        **method_request_v1(request),
        "requestContext": request_context_v1(request, ctx, http_api=True),
        "body": _body(request),
        "isBase64Encoded": request.binary and bool(request.body),
    }


def http_v2_event(request: ProxyRequest, ctx: EventContext) -> dict[str, Any]:
    """An HTTP API's Lambda proxy event in payload format 2.0."""
    cookies: list[str] = []
    headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        if name.lower() == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            headers.setdefault(name.lower(), []).append(value)
    query = _multi(query_pairs(request.raw_query))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": request.route_key,
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = {name: ",".join(values) for name, values in headers.items()}
    if query:
        event["queryStringParameters"] = {name: ",".join(values) for name, values in query.items()}
    context: dict[str, Any] = {"accountId": ctx.account_id, "apiId": ctx.api_id}
    if ctx.client_cert is not None:
        context["authentication"] = {"clientCert": dict(ctx.client_cert)}
    if ctx.authorizer is not None:
        context["authorizer"] = dict(ctx.authorizer)
    context.update(
        {
            "domainName": ctx.domain_name,
            "domainPrefix": ctx.domain_prefix,
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": PROTOCOL,
                "sourceIp": ctx.source_ip,
                "userAgent": ctx.user_agent,
            },
            "requestId": ctx.request_id,
            "routeKey": request.route_key,
            "stage": ctx.stage,
            "time": ctx.request_time_text,
            "timeEpoch": ctx.epoch_ms,
        }
    )
    event["requestContext"] = context
    body = _body(request)
    if body is not None:
        event["body"] = body
    if request.path_parameters:
        event["pathParameters"] = dict(request.path_parameters)
    event["isBase64Encoded"] = request.binary and bool(request.body)
    if request.stage_variables:
        event["stageVariables"] = dict(request.stage_variables)
    return event

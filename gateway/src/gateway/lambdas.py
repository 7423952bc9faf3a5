"""The gateway's calls to Lambda functions for one request: a Lambda authorizer (the pipeline's
`authorize_lambda`) and a Lambda proxy integration (`integrate`). The shapes live in the pure
modules (`proxy_events`, `proxy_results`, `authorizers`, `authorizer_output`); this one takes
them from the Exchange, calls the function (`lambda_client`) and raises API Gateway's answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import string
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from gateway.apis import Api
from gateway.authorizer_output import (
    Authorized,
    AuthorizerOutput,
    AuthorizerOutputError,
    combine,
    is_unauthorized,
    parse_output,
)
from gateway.authorizers import (
    AUTHORIZER_TIMEOUT_S,
    AuthorizerCache,
    IdentityFacts,
    LambdaAuthorizer,
)
from gateway.errors import (
    AccessDenied,
    AuthorizerConfigurationError,
    AuthorizerDenied,
    IntegrationFailure,
    IntegrationTimeout,
    Unauthorized,
)
from gateway.exchange import Exchange
from gateway.headers import (
    CLIENT_CERT_HEADERS,
    HOP_BY_HOP,
    client_response_headers,
    wire_bytes,
)
from gateway.lambda_client import LambdaInvoker, LambdaTimeout, LambdaUnavailable
from gateway.lambda_proxy import AwsProxyIntegration
from gateway.policy import Decision, RequestContext, denial_message, evaluate
from gateway.proxy_events import (
    CallerIdentity,
    EventContext,
    ProxyRequest,
    http_v1_event,
    http_v2_event,
    method_request_v1,
    query_pairs,
    request_context_v1,
    rest_event,
)
from gateway.proxy_results import (
    MalformedResult,
    ProxyResponse,
    http_response,
    is_binary,
    rest_response,
)
from gateway.routing import HTTP_DEFAULT_ROUTE

log = logging.getLogger("gateway.lambda")
Clock = Callable[[], datetime]

# Text bodies of HTTP APIs go as they are; anything else base64-encoded (isBase64Encoded).
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
_TEXT_SUFFIXES = ("+json", "+xml")
_ALPHABET = string.digits + string.ascii_lowercase
_GATEWAY_SET = ("x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id")


class LambdaCalls:
    def __init__(self, *, region: str, clock: Clock, invoker: LambdaInvoker | None = None) -> None:
        self.region = region
        self.clock = clock
        self.invoker = invoker or LambdaInvoker(region=region)
        self.cache = AuthorizerCache()

    def close(self) -> None:
        self.invoker.close()

    # authorizers ------------------------------------------------------------------------------

    async def authorize(
        self,
        ex: Exchange,
        api: Api,
        authorizer: LambdaAuthorizer,
        *,
        ctx: RequestContext,
        resource: Decision | None,
    ) -> Authorized:
        """API Gateway's order ("Lambda authorizer and resource policy"): the resource policy is
        checked for an explicit deny before the authorizer is called (403 with the policy's
        message); then the authorizer runs, or its cached result is taken; then its policy,
        judged against this method, is combined with the resource policy's decision.
        `resource`: the resource policy's decision on the request (None: the API has none).
        Raises Unauthorized (401), AuthorizerDenied (403), AuthorizerConfigurationError (500)."""
        if resource is Decision.EXPLICIT_DENY:
            raise AccessDenied(denial_message(ctx, resource))
        if api.private and resource is None:  # a private API without a policy admits nobody
            raise AccessDenied(denial_message(ctx, Decision.IMPLICIT_DENY))
        request = proxy_request(ex, api)
        facts = IdentityFacts(
            headers=ex.headers,
            query=query_pairs(ex.raw_query),
            stage_variables=api.stage_variables,
            context=_context_variables(ex, api),
        )
        identity = authorizer.identity(facts)
        if identity is None:
            raise Unauthorized()
        if authorizer.kind == "token" and not authorizer.accepts_token(identity[0]):
            raise Unauthorized()
        key = (api.id, api.stage, authorizer.name, identity)
        now = self.clock().timestamp()
        output = self.cache.get(key, now) if authorizer.ttl_s else None
        latency = 0
        if output is None:
            event: dict[str, Any]
            if authorizer.kind == "token":
                event = {
                    "type": "TOKEN",
                    "authorizationToken": identity[0],
                    "methodArn": ctx.resource,
                }
            else:
                event = {
                    "type": "REQUEST",
                    "methodArn": ctx.resource,
                    **method_request_v1(request),
                    "requestContext": request_context_v1(
                        request, event_context(ex, api), http_api=False
                    ),
                }
            output, latency = await self._call_authorizer(authorizer, event)
            if authorizer.ttl_s:
                self.cache.put(key, output, now, authorizer.ttl_s)
        # Table A: a Lambda authorizer's caller belongs to no other account. (A function of
        # another account is no cross-account caller: "Configure a cross-account Lambda
        # authorizer" needs no resource policy, which Table B would make a condition.)
        decision = combine(
            evaluate(output.policy, ctx, require_principal=False), resource, cross_account=False
        )
        if decision is not Decision.ALLOW:
            raise AuthorizerDenied(explicit=decision is Decision.EXPLICIT_DENY)
        return Authorized(output, latency)

    async def _call_authorizer(
        self, authorizer: LambdaAuthorizer, event: dict[str, Any]
    ) -> tuple[AuthorizerOutput, int]:
        assert authorizer.endpoint is not None and authorizer.function_arn is not None  # bound
        name = authorizer.function_arn
        try:
            result = await self.invoker.invoke(
                endpoint=authorizer.endpoint,
                function_arn=name,
                payload=json.dumps(event).encode(),
                timeout_s=AUTHORIZER_TIMEOUT_S,
            )
        except (LambdaTimeout, LambdaUnavailable) as exc:
            raise _configuration_error(f"authorizer {name}: {exc}") from exc
        if result.function_error:
            if is_unauthorized(result.payload):
                raise Unauthorized()
            raise _configuration_error(
                f"authorizer {name} failed: {_error_summary(result.payload)}"
            )
        try:
            return parse_output(result.payload), result.latency_ms
        except AuthorizerOutputError as exc:
            raise _configuration_error(f"authorizer {name}: {exc}") from exc

    # proxy integrations -----------------------------------------------------------------------

    async def proxy(
        self,
        ex: Exchange,
        api: Api,
        integration: AwsProxyIntegration,
        authorized: Authorized | None,
    ) -> None:
        """Invoke the function with the event API Gateway sends and answer with its result."""
        assert integration.endpoint is not None and integration.function_arn is not None  # bound
        request = proxy_request(ex, api, binary=_binary_body(ex, api))
        ctx = event_context(ex, api, authorized)
        if not api.http_api:
            event = rest_event(request, ctx)
        elif integration.payload_format == "1.0":
            event = http_v1_event(request, ctx)
        else:
            event = http_v2_event(request, ctx)
        name = integration.function_arn
        try:
            result = await self.invoker.invoke(
                endpoint=integration.endpoint,
                function_arn=name,
                payload=json.dumps(event).encode(),
                timeout_s=integration.timeout_ms / 1000,
            )
        except LambdaTimeout as exc:
            log.warning("%s: %s", name, exc)
            raise IntegrationTimeout() from exc
        except LambdaUnavailable as exc:
            log.warning("%s: %s", name, exc)
            raise IntegrationFailure() from exc
        ex.integration_latency_ms = result.latency_ms
        if result.function_error:
            log.warning("%s failed: %s", name, _error_summary(result.payload))
            raise IntegrationFailure()
        try:
            if api.http_api:
                response = http_response(result.payload, integration.payload_format)
            else:
                response = rest_response(
                    result.payload,
                    binary_media_types=api.binary_media_types,
                    accept=ex.header("accept"),
                )
        except MalformedResult as exc:
            log.warning("%s: Malformed Lambda proxy response: %s", name, exc)
            raise IntegrationFailure() from exc
        await send(ex, response)


async def send(ex: Exchange, response: ProxyResponse) -> None:
    headers = [
        (name, value)
        for name, value in client_response_headers(response.headers)
        if name.lower() != "content-length"
    ]
    headers += [*ex.ids.response_headers(), ("content-length", str(len(response.body)))]
    await ex.start_response(response.status, [(wire_bytes(n), wire_bytes(v)) for n, v in headers])
    await ex.send_body(response.body)


# the event's values, from the Exchange ---------------------------------------------------------


def proxy_request(ex: Exchange, api: Api, *, binary: bool = False) -> ProxyRequest:
    match = ex.match
    assert match is not None  # routed
    route = match.route
    below_stage = ex.path or "/"
    if api.http_api:
        route_key = (
            HTTP_DEFAULT_ROUTE
            if route.resource_path == HTTP_DEFAULT_ROUTE
            else f"{route.method} {route.resource_path}"
        )
        path = ex.raw_path
    else:
        route_key, path = HTTP_DEFAULT_ROUTE, unquote(below_stage)
    return ProxyRequest(
        method=ex.method,
        path=path,
        context_path=ex.raw_path,
        raw_query=ex.raw_query,
        headers=function_headers(ex, api),
        body=ex.body or b"",
        resource_path=route.resource_path,
        route_key=route_key,
        path_parameters={k: unquote(v) for k, v in match.path_params.items()},
        stage_variables=api.stage_variables,
        binary=binary,
    )


def function_headers(ex: Exchange, api: Api) -> list[tuple[str, str]]:
    """The caller's headers as the function receives them, and API Gateway's X-Forwarded-*."""
    tokens = {t.strip().lower() for n, v in ex.headers if n == "connection" for t in v.split(",")}
    # API Gateway sets these itself; REST APIs' events carry no Content-Length
    drop = {*HOP_BY_HOP, *tokens, *_GATEWAY_SET}
    if not api.http_api:
        drop.add("content-length")
    headers = [
        (n, v)
        for n, v in ex.headers
        if n not in drop
        and not (
            n.replace("_", "-").startswith("x-client-cert-")
            and not (api.forwards_client_cert and n in CLIENT_CERT_HEADERS)
        )
    ]
    forwarded = [v.strip() for n, v in ex.headers if n == "x-forwarded-for" and v.strip()]
    if ex.source_ip:
        forwarded.append(ex.source_ip)
    host = ex.header("host") or ""
    port = host.rsplit(":", 1)[1] if ":" in host.lstrip("[").split("]")[-1] else "80"
    added = [
        ("X-Amzn-Trace-Id", ex.ids.trace_id),
        ("X-Forwarded-For", ", ".join(forwarded)),
        ("X-Forwarded-Port", port),
        ("X-Forwarded-Proto", "http"),  # TLS ends in front of the gateway (the mTLS proxy)
    ]
    if api.http_api:
        added = [(n.lower(), v) for n, v in added]
    return headers + [(n, v) for n, v in added if v]


def event_context(ex: Exchange, api: Api, authorized: Authorized | None = None) -> EventContext:
    identity = ex.identity
    attribution = ex.attribution if api.private else None
    authorizer: dict[str, Any] | None = None
    if authorized is not None:
        authorizer = authorized.request_context()
    elif identity is not None and api.http_api:
        authorizer = {
            "iam": {
                "accessKey": identity.access_key_id,
                "accountId": identity.account,
                "callerId": identity.user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": identity.caller_arn,
                "userId": identity.user_id,
            }
        }
    return EventContext(
        account_id=api.account,
        api_id=api.id,
        domain_name=_domain_name(ex, api),
        # an HTTP API has one request id, the one it answers with in apigw-requestid
        request_id=ex.ids.extended_id if api.http_api else ex.ids.request_id,
        extended_request_id=ex.ids.extended_id,
        request_time=ex.request_time,
        stage=api.stage,
        source_ip=ex.source_ip,
        user_agent=ex.header("user-agent"),
        resource_id=None if api.http_api else resource_id(api, _resource_path(ex)),
        identity=CallerIdentity(
            access_key=identity.access_key_id,
            account_id=identity.account,
            caller=identity.user_id,
            user_arn=identity.caller_arn,
        )
        if identity is not None
        else None,
        vpce_id=attribution.vpce_id if attribution else None,
        vpc_id=attribution.vpc_id if attribution else None,
        authorizer=authorizer,
    )


def resource_id(api: Api, resource_path: str) -> str:
    """A REST resource's id: six letters and digits, the same for the same resource every time
    (API Gateway makes them up when the API is imported)."""
    number = int.from_bytes(hashlib.sha256(f"{api.id}{resource_path}".encode()).digest()[:8])
    chars = []
    for _ in range(6):
        number, digit = divmod(number, 36)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def _resource_path(ex: Exchange) -> str:
    return ex.resource_path or "/"


def _domain_name(ex: Exchange, api: Api) -> str:
    """The execute-api host name the caller used, else the API's own."""
    host = (ex.header("host") or "").strip().lower().rsplit(":", 1)[0].rstrip(".")
    if ".execute-api." in host and host.endswith(".amazonaws.com"):
        return host
    return f"{api.id}.execute-api.{api.region}.amazonaws.com"


def _context_variables(ex: Exchange, api: Api) -> Mapping[str, str]:
    """The $context variables a request authorizer's `context.X` identity source may name."""
    values = {
        "requestId": ex.ids.request_id,
        "extendedRequestId": ex.ids.extended_id,
        "apiId": api.id,
        "stage": api.stage,
        "httpMethod": ex.method,
        "resourcePath": _resource_path(ex),
        "identity.sourceIp": ex.source_ip,
        "identity.userAgent": ex.header("user-agent"),
    }
    return {k: v for k, v in values.items() if v}


def _binary_body(ex: Exchange, api: Api) -> bool:
    """REST APIs: the request's Content-Type is one of the API's binary media types. HTTP APIs:
    the body is not text by its Content-Type, or not UTF-8."""
    body = ex.body or b""
    if not body:
        return False
    content_type = ex.header("content-type")
    if not api.http_api:
        return is_binary(content_type, api.binary_media_types)
    media = (content_type or "").split(";", 1)[0].strip().lower()
    textual = media.startswith(_TEXT_TYPES) or media.endswith(_TEXT_SUFFIXES)
    if content_type is not None and not textual:
        return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _error_summary(payload: bytes) -> str:
    try:
        error = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload[:200].decode("utf-8", "replace")
    if isinstance(error, dict):
        return f"{error.get('errorType', 'Error')}: {error.get('errorMessage')}"
    return str(error)[:200]


def _configuration_error(reason: str) -> AuthorizerConfigurationError:
    log.warning("%s", reason)
    return AuthorizerConfigurationError(reason)

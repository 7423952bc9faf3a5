"""The gateway as a plain ASGI application: API and stage selection, VPC endpoint attribution,
routing, throttling, SigV4, resource policies, then the http_proxy integration."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import httpx

from gateway import errors
from gateway.accesslog import AccessLog, write_json_line
from gateway.apis import Api, Target, load_apis, load_identities
from gateway.config import GatewayConfig, load_config
from gateway.headers import wire_text
from gateway.policy import Decision, RequestContext, authorize, denial_message
from gateway.proxy import BodyTooLarge, ClientGone, Upstream, read_body
from gateway.routing import SelectionOutcome, remove_dot_segments, select_api, split_stage
from gateway.sigv4 import Identity, SigV4Error, has_sigv4, verify_sigv4
from gateway.throttle import Limit, Throttler
from gateway.vpce import Attribution, EndpointSubnets, VpceAttributor

HEALTH_PATH = "/__gateway/health"  # answered by the gateway itself, before any API
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass
class Exchange:
    """One request as it moves through the gateway (and into the access log)."""

    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    source_ip: str | None
    started: float
    request_time: datetime
    ids: errors.RequestIds = field(default_factory=errors.RequestIds.new)
    api: Api | None = None
    resource_path: str | None = None
    attribution: Attribution | None = None
    identity: Identity | None = None
    status: int = 0
    error_message: str | None = None
    integration_latency_ms: int | None = None

    def header(self, name: str) -> str | None:
        return next((v for n, v in self.headers if n == name), None)


class GatewayApp:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        access_log: Callable[[dict[str, Any]], None] = write_json_line,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.region = config.region
        self.apis = load_apis(config)
        self.identities, self.identity_policies = load_identities(config)
        self.attributor = VpceAttributor(
            EndpointSubnets(e.id, e.vpc_id, tuple(e.subnets), frozenset(e.exclude))
            for e in config.vpc_endpoints
        )
        self.throttler = Throttler(
            stage_limits={
                _stage_key(cfg.id, cfg.stage): _limit(cfg.throttling.stage_limit())
                for cfg in config.apis.values()
            },
            method_limits={
                _stage_key(cfg.id, cfg.stage): {
                    key: Limit(lim.rate, lim.burst) for key, lim in cfg.throttling.methods.items()
                }
                for cfg in config.apis.values()
            },
        )
        self.default_api_id = config.apis[config.default_api].id if config.default_api else None
        self.clock = clock
        self.access_log = AccessLog(access_log)
        self.upstream = Upstream(transport=transport)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.upstream.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = wire_text(scope.get("raw_path") or scope["path"].encode())
        client = scope.get("client")
        ex = Exchange(
            method=scope["method"].upper(),
            raw_path=raw_path.split("?", 1)[0] or "/",
            raw_query=wire_text(scope.get("query_string", b"")),
            headers=[(wire_text(n).lower(), wire_text(v)) for n, v in scope["headers"]],
            source_ip=client[0] if client else None,
            started=time.perf_counter(),
            request_time=self.clock(),
        )
        try:
            if ex.raw_path == HEALTH_PATH and ex.method in ("GET", "HEAD"):
                await self._respond_health(ex, send)
                return  # health checks every few seconds would drown the access log
            failure = await self._handle(ex, receive, send)
            if failure is not None:
                await self._respond_error(ex, failure, send)
            self.access_log.record(ex)
        except BaseException:
            ex.status = ex.status or 500
            ex.error_message = ex.error_message or "gateway error"
            self.access_log.record(ex)
            raise

    async def _handle(
        self, ex: Exchange, receive: Receive, send: Send
    ) -> errors.GatewayError | None:
        selection = select_api(
            host=ex.header("host"),
            api_id_header=ex.header("x-apigw-api-id"),
            region=self.region,
            known_api_ids=self.apis,
            default_api_id=self.default_api_id,
        )
        if selection.outcome is not SelectionOutcome.SELECTED or selection.api_id is None:
            return errors.forbidden()
        api = ex.api = self.apis[selection.api_id]
        ex.ids = errors.RequestIds(ex.ids.request_id, ex.ids.extended_id, api.http_api)
        ex.attribution = self.attributor.attribute(ex.source_ip)
        if api.private and ex.attribution is None:
            return errors.forbidden()  # a private API exists only behind VPC endpoints

        # Routed, authorized and forwarded: one path, its dot segments resolved.
        path = split_stage(
            remove_dot_segments(ex.raw_path), api.stage, stage_in_path=api.stage_in_path
        )
        if path is None:
            return errors.route_not_found(http_api=api.http_api)
        match = api.routes.match(ex.method, path)
        target: Target | None = match.route.data if match else None
        if match is not None:
            ex.resource_path = match.route.resource_path
            if not self.throttler.allow(_stage_key(api.id, api.stage), ex.method, ex.resource_path):
                return errors.too_many_requests()

        length = _content_length(ex)
        if length is not None and length > self.config.max_body_bytes:
            return errors.request_too_large(http_api=api.http_api, limit=self.config.max_body_bytes)

        iam_route = target is not None and target.iam_auth
        signed = has_sigv4(ex.headers, ex.raw_query)
        body: bytes | None = None
        if iam_route or (target is None and signed and api.uses_iam):
            try:
                body = await read_body(receive, self.config.max_body_bytes)
            except BodyTooLarge:
                return errors.request_too_large(
                    http_api=api.http_api, limit=self.config.max_body_bytes
                )
            except ClientGone:
                ex.status, ex.error_message = 499, "client closed the request"
                return None
        if iam_route and not signed:
            return errors.missing_authentication_token()
        if signed and body is not None:
            try:
                ex.identity = self._verify(ex, body)
            except SigV4Error as exc:
                if iam_route:
                    return errors.signature_error(exc.status, exc.error_type, exc.message)

        if api.resource_policy is not None or iam_route:
            decision, ctx = self._authorize(ex, api, path, iam_route)
            if decision is not Decision.ALLOW and (
                target is not None or decision is Decision.EXPLICIT_DENY
            ):
                return errors.access_denied(denial_message(ctx, decision))
        if match is None or target is None:
            return errors.route_not_found(http_api=api.http_api)

        return await self.upstream.forward(
            ex,
            api,
            target.integration,
            match.path_params,
            body,
            receive,
            send,
            self.config.max_body_bytes,
        )

    def _verify(self, ex: Exchange, body: bytes) -> Identity:
        return verify_sigv4(
            method=ex.method,
            raw_path=ex.raw_path,
            raw_query=ex.raw_query,
            headers=ex.headers,
            body_sha256=hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256,
            identities=self.identities,
            now=self.clock(),
            regions=(self.region,),
        )

    def _authorize(
        self, ex: Exchange, api: Api, path: str, iam_route: bool
    ) -> tuple[Decision, RequestContext]:
        identity = ex.identity
        now = self.clock()
        keys: dict[str, Any] = {
            "aws:SourceIp": ex.source_ip,
            "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": int(now.timestamp()),
            "aws:SecureTransport": False,  # TLS ends at the mTLS proxy; the gateway speaks HTTP
            "aws:UserAgent": ex.header("user-agent"),
            "aws:Referer": ex.header("referer"),
        }
        if ex.attribution is not None:
            keys["aws:SourceVpce"] = ex.attribution.vpce_id
            keys["aws:SourceVpc"] = ex.attribution.vpc_id
            keys["aws:VpcSourceIp"] = ex.source_ip
        if identity is not None:
            keys["aws:userid"] = identity.user_id
            keys["aws:username"] = identity.username
        ctx = RequestContext(
            principal_arn=identity.principal_arn if identity else None,
            principal_account=identity.account if identity else None,
            action="execute-api:Invoke",
            resource=api.execute_api_arn(ex.method, unquote(path)),
            condition_keys=keys,
        )
        policies = self.identity_policies.get(identity.principal_arn, []) if identity else []
        decision = authorize(
            resource_policy=api.resource_policy,
            identity_policies=policies,
            ctx=ctx,
            api_account=api.account,
            iam_auth=iam_route,
        )
        return decision, ctx

    async def _respond_error(self, ex: Exchange, error: errors.GatewayError, send: Send) -> None:
        ex.status = error.status
        ex.error_message = error.message
        headers = [*error.headers(ex.ids), ("content-length", str(len(error.body)))]
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": error.body})

    async def _respond_health(self, ex: Exchange, send: Send) -> None:
        ex.status = 200
        body = b'{"status":"ok"}'
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"15")],
            }
        )
        await send({"type": "http.response.body", "body": body if ex.method == "GET" else b""})


def _stage_key(api_id: str, stage: str) -> str:
    return f"{api_id}/{stage}"


def _limit(limit: Any) -> Limit | None:
    return Limit(limit.rate, limit.burst) if limit is not None else None


def _content_length(ex: Exchange) -> int | None:
    value = ex.header("content-length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def create_app(config: GatewayConfig | None = None) -> GatewayApp:
    """The ASGI app for `config`, else for the file named by $GATEWAY_CONFIG."""
    return GatewayApp(config or load_config())

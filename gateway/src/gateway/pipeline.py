"""The request path, one stage per step of gateway/README.md's "Request pipeline", in its order.

Each stage reads and writes the `Exchange` and raises a `gateway.errors.GatewayError` to stop
the request with API Gateway's answer (or `ClientGone` when the caller left). The decisions
themselves live in framework-free modules (routing, vpce, throttle, sigv4, policy, integration);
the stages only put them in order. `app.py` turns a raised error into the response.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qsl, unquote

import httpx

from gateway.apis import Api, load_apis, load_identities
from gateway.config import GatewayConfig
from gateway.errors import (
    AccessDenied,
    BodyTimeout,
    ClientGone,
    Forbidden,
    IntegrationFailure,
    MethodArnTooLong,
    MissingAuthenticationToken,
    NotFound,
    RequestTooLarge,
    SignatureRejected,
    TooManyRequests,
)
from gateway.exchange import Exchange, Receive
from gateway.facts import Caller, judge_policies, request_context
from gateway.headers import upstream_request_headers
from gateway.integration import IntegrationError, RequestValues, upstream_url
from gateway.lambda_proxy import AwsProxyIntegration
from gateway.lambdas import LambdaCalls
from gateway.memo import MAX_REMEMBERED, BoundedMemo, Remembered
from gateway.policy import (
    Authorization,
    AuthorizationMemo,
    Decision,
    RequestContext,
    denial_message,
)
from gateway.proxy import TransportFactory, Upstream, UpstreamRequest
from gateway.routing import SelectionOutcome, remove_dot_segments, select_api, split_stage
from gateway.sigv4 import Identity, SigV4Error, SigV4Verifier, has_sigv4
from gateway.throttle import Limit, Throttler
from gateway.vpce import EndpointSubnets, VpceAttributor

Stage = Callable[[Exchange], Awaitable[None]]
Judged = tuple[Authorization, RequestContext]  # a policy answer and the facts it was made on
# the longest method ARN of a method with authorization (errors.MethodArnTooLong)
MAX_METHOD_ARN_BYTES = 1600
Clock = Callable[[], datetime]
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()  # the payload hash of most signed requests


class Pipeline:
    """The gateway's per-API state (built once from the configuration) and the stages."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
        transport_for: TransportFactory | None = None,
    ) -> None:
        self.region = config.region
        self.max_body_bytes = config.max_body_bytes
        self.body_timeouts = BodyTimeouts(
            config.body_idle_timeout_seconds, config.body_timeout_seconds
        )
        self.apis = load_apis(config)
        self.identities, self.identity_policies = load_identities(config)
        self.verifier = SigV4Verifier(self.identities, (self.region,))  # repeated requests
        self.authorizations = AuthorizationMemo()  # policy decisions of repeated callers
        self.default_api_id = config.apis[config.default_api].id if config.default_api else None
        # an API's own port: there, requests that name no API are that API's
        self.own_port_api_ids = {
            port: config.apis[name].id for port, name in config.own_ports().items()
        }
        self.attributor = VpceAttributor(
            EndpointSubnets(e.id, e.vpc_id, tuple(e.subnets), frozenset(e.exclude))
            for e in config.vpc_endpoints
        )
        # pure functions of what a request says, remembered: parsing an address or a host name
        # costs more than the rest of the stage
        self._selected = Remembered(self._select)
        self._attributed = Remembered(self.attributor.attribute)
        # a repeated caller's policy answer, by its facts (judge_policies)
        self._judged: BoundedMemo[tuple[object, ...], tuple[Api, Identity | None, Judged]] = (
            BoundedMemo(MAX_REMEMBERED)
        )
        self.throttler = _throttler(config)
        self.clock = clock
        self.upstream = Upstream(transport=transport, transport_for=transport_for)
        self.lambdas = LambdaCalls(region=config.region, clock=clock)  # authorizers, aws_proxy
        self.stages: tuple[Stage, ...] = (
            self.select_api,
            self.attribute_endpoint,
            self.route,
            self.throttle,
            self.limit_body,
            self.authorize_sigv4,
            self.authorize_lambda,
            self.authorize_policy,
            self.integrate,
        )

    async def run(self, ex: Exchange) -> None:
        for stage in self.stages:
            await stage(ex)

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self.lambdas.close()

    # 1. API -------------------------------------------------------------------------------------

    async def select_api(self, ex: Exchange) -> None:
        """By host name, else `x-apigw-api-id`, else the API whose own port the request came to,
        else the default API; an unknown one: 403."""
        api = self._selected((ex.header("host"), ex.header("x-apigw-api-id"), ex.server_port))
        if api is None:
            raise Forbidden()
        ex.api = api
        ex.ids = ex.ids.for_api(api.http_api)

    def _select(self, request: tuple[str | None, str | None, int | None]) -> Api | None:
        host, api_id_header, server_port = request
        own_port_api = self.own_port_api_ids.get(server_port) if server_port else None
        selection = select_api(
            host=host,
            api_id_header=api_id_header,
            region=self.region,
            known_api_ids=self.apis,
            default_api_id=own_port_api or self.default_api_id,
        )
        if selection.outcome is not SelectionOutcome.SELECTED or selection.api_id is None:
            return None
        return self.apis[selection.api_id]

    # 2. VPC endpoint ----------------------------------------------------------------------------

    async def attribute_endpoint(self, ex: Exchange) -> None:
        """From the peer address only; a private API exists only behind its VPC endpoints."""
        ex.attribution = self._attributed(ex.source_ip)
        if _api(ex).private and ex.attribution is None:
            raise Forbidden()

    # 3. Stage and route -------------------------------------------------------------------------

    async def route(self, ex: Exchange) -> None:
        """The stage, then the resource and method of one path, its dot segments resolved.

        A REST API's miss is not answered here when something may answer first: a signature
        (checked before the route, as API Gateway does) or an explicit deny of the resource policy.
        """
        api = _api(ex)
        path = split_stage(
            remove_dot_segments(ex.raw_path), api.stage, stage_in_path=api.stage_in_path
        )
        if path is None:
            raise NotFound() if api.http_api else Forbidden()
        ex.path = path
        ex.match = api.routes.match(ex.method, path)
        # has_sigv4: a non-blank first Authorization header (the one ex.header gives), else the
        # presigned parameters, which only a query can carry
        authorization = ex.header("authorization")
        ex.signed = bool(authorization and authorization.strip()) or (
            bool(ex.raw_query) and has_sigv4((), ex.raw_query)
        )
        if ex.match is not None:
            target = ex.match.route.data
            authorized = target.iam_auth or target.authorizer or api.resource_policy is not None
            if authorized:
                arn = api.execute_api_arn(ex.method, unquote(path))
                if len(arn.encode()) > MAX_METHOD_ARN_BYTES:
                    raise MethodArnTooLong()
            return
        if api.http_api:
            raise NotFound()
        if not ex.signed and api.resource_policy is None:
            raise MissingAuthenticationToken()

    # 4. Throttling ------------------------------------------------------------------------------

    async def throttle(self, ex: Exchange) -> None:
        """The method's bucket, else the stage's, then the account's: 429 when one is empty."""
        if ex.resource_path is None:
            return
        api = _api(ex)
        if not self.throttler.allow(_stage_key(api.id, api.stage), ex.method, ex.resource_path):
            raise TooManyRequests()

    # 5. Body limit ------------------------------------------------------------------------------

    async def limit_body(self, ex: Exchange) -> None:
        """The whole body, read before anything is called (as API Gateway does): over the limit
        by Content-Length at once, or once that many bytes have arrived: 413."""
        length = ex.header("content-length")
        if length is not None and length.strip().isdigit() and int(length) > self.max_body_bytes:
            raise RequestTooLarge(self.max_body_bytes)
        if length is None and ex.header("transfer-encoding") is None:
            # no body (RFC 9112 6.3): the server hands over the one empty message at once
            message = await ex.receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            if not message.get("more_body", False):
                ex.body = message.get("body", b"")
                return
            first = message.get("body", b"")  # a server that frames otherwise: read on
        else:
            first = b""
        ex.body = await read_body(ex.receive, self.max_body_bytes, self.body_timeouts, first)

    # 6. Authorization: SigV4, Lambda authorizer, resource policy --------------------------------

    async def authorize_sigv4(self, ex: Exchange) -> None:
        """AWS_IAM methods need a valid signature. A REST API also checks a signature sent to a
        path it has no resource for (observed: the answer is the signature's error)."""
        target = ex.target
        iam_route = target is not None and target.iam_auth
        if iam_route and not ex.signed:
            raise MissingAuthenticationToken()
        if not ex.signed or not (iam_route or ex.match is None):
            return
        body = ex.body or b""
        try:
            ex.identity = self.verifier.verify(
                method=ex.method,
                raw_path=ex.raw_path,
                raw_query=ex.raw_query,
                headers=ex.headers,
                body_sha256=hashlib.sha256(body).hexdigest() if body else EMPTY_BODY_SHA256,
                now=self.clock(),
            )
        except SigV4Error as exc:
            raise SignatureRejected(exc.status, exc.error_type, exc.message) from exc

    async def authorize_lambda(self, ex: Exchange) -> None:
        """A route's Lambda authorizer (`gateway.lambdas`): the resource policy's explicit deny
        first, then the authorizer (its result cached by identity), then its policy with the
        resource policy, by the Developer Guide's tables. What it returns is kept for
        `$context.authorizer.*`; authorize_policy then has nothing left to judge."""
        target = ex.target
        if target is None or target.authorizer is None:
            return
        api = _api(ex)
        if api.resource_policy is not None:
            ex.authorization, ctx = self.judge_policies(ex, iam_route=False)
        else:
            ctx = self.request_context(ex)
        ex.authorizer = await self.lambdas.authorize(
            ex,
            api,
            target.authorizer,
            ctx=ctx,
            resource=ex.authorization.decision if ex.authorization else None,
        )

    async def authorize_policy(self, ex: Exchange) -> None:
        """The resource policy (and, with IAM auth, the caller's identity policies). An explicit
        deny is answered even on a path with no resource; otherwise a miss is answered now."""
        if ex.authorizer is not None:
            return  # authorize_lambda judged the resource policy with the authorizer's policy
        api = _api(ex)
        iam_route = ex.target is not None and ex.target.iam_auth
        if api.resource_policy is not None or iam_route:
            ex.authorization, ctx = self.judge_policies(ex, iam_route=iam_route)
            decision = ex.authorization.decision
            if decision is Decision.EXPLICIT_DENY or (
                decision is not Decision.ALLOW and ex.match is not None
            ):
                raise AccessDenied(denial_message(ctx, decision))
        if ex.match is None:
            raise MissingAuthenticationToken()

    def judge_policies(self, ex: Exchange, *, iam_route: bool) -> Judged:
        """The resource policy and (with IAM auth) the caller's identity policies on the request:
        for each spelling of its path that a method ARN may name (`gateway.facts.judge_policies`),
        the stricter answer.

        Remembered for a repeated caller: the answer is made of the API, the identity, the
        route's IAM auth and the arguments of `gateway.facts.request_context`, the clock to the
        second (the finest aws:CurrentTime and aws:EpochTime carry), and nothing else. So the
        same facts get the same answer, and any other difference, a second later included, is
        judged afresh. The API and the identity are told apart by identity (`is`), checked on
        every hit, so a reused id can never pass for them."""
        api, identity, attribution = _api(ex), ex.identity, ex.attribution
        path = ex.path or "/"
        now = self.clock().replace(microsecond=0)
        facts = (
            id(api),
            id(identity),
            iam_route,
            ex.method,
            path,
            ex.source_ip,
            attribution.vpce_id if attribution else None,
            attribution.vpc_id if attribution else None,
            ex.header("user-agent"),
            ex.header("referer"),
            now,
        )
        kept = self._judged.get(facts)
        if kept is not None and kept[0] is api and kept[1] is identity:
            return kept[2]
        answer = judge_policies(
            api=api,
            path=path,
            identity_policies=self.identity_policies.get(identity.principal_arn, [])
            if identity
            else [],
            iam_auth=iam_route,
            context_for=lambda judged_path: self.request_context(ex, path=judged_path, now=now),
            authorize=self.authorizations,
        )
        self._judged.put(facts, (api, identity, answer))
        return answer

    def request_context(
        self, ex: Exchange, *, path: str | None = None, now: datetime | None = None
    ) -> RequestContext:
        """The facts a policy is judged on (`gateway.facts`, shared with the policy tools), for
        `path` below the stage (default: the request's), at `now` (default: the clock's)."""
        attribution = ex.attribution
        return request_context(
            api=_api(ex),
            method=ex.method,
            path=path or ex.path or "/",
            caller=Caller.of(ex.identity) if ex.identity is not None else None,
            source_ip=ex.source_ip,
            vpce_id=attribution.vpce_id if attribution else None,
            vpc_id=attribution.vpc_id if attribution else None,
            user_agent=ex.header("user-agent"),
            referer=ex.header("referer"),
            now=self.clock() if now is None else now,
        )

    # 7. Integration -----------------------------------------------------------------------------

    async def integrate(self, ex: Exchange) -> None:
        """Call the route's integration and relay its answer to the caller: a Lambda function
        (aws_proxy, `gateway.lambdas`) or an HTTP backend (http_proxy)."""
        api, target, match = _api(ex), ex.target, ex.match
        assert target is not None and match is not None  # authorize_policy answered a miss
        integration = target.integration
        if isinstance(integration, AwsProxyIntegration):
            await self.lambdas.proxy(ex, api, integration, ex.authorizer)
            return
        try:
            url, extra_headers = upstream_url(
                integration,
                http_api=api.http_api,
                stage_variables=api.stage_variables,
                values=RequestValues(
                    path=match.path_params,
                    query=parse_qsl(ex.raw_query, keep_blank_values=True) if ex.raw_query else [],
                    headers=dict(ex.headers),
                    authorizer=ex.authorizer.output.context_variables() if ex.authorizer else {},
                ),
                raw_query=ex.raw_query,
            )
        except IntegrationError as exc:
            raise IntegrationFailure() from exc
        headers = upstream_request_headers(
            ex.headers,
            request_id=ex.ids.request_id,
            trace_id=ex.ids.trace_id,
            peer_ip=ex.source_ip,
            forward_client_cert=api.forwards_client_cert,
            body_length=len(ex.body or b""),
            extra=extra_headers,
        )
        request = UpstreamRequest(
            method=integration.upstream_method(ex.method),
            url=url,
            headers=headers,
            body=ex.body or b"",
            timeout_s=integration.timeout_ms / 1000,
            local_address=integration.source_address,
        )
        await self.upstream.forward(ex, request)


@dataclass(frozen=True)
class BodyTimeouts:
    idle_s: float  # longest wait for the next piece
    whole_s: float  # longest time for the whole body


async def read_body(
    receive: Receive, limit: int, timeouts: BodyTimeouts, first: bytes = b""
) -> bytes:
    """The caller's whole body (after `first`, a piece already received); more than `limit`
    bytes: RequestTooLarge; a body that stops arriving, or trickles in for longer than the whole
    body may take: BodyTimeout."""
    if len(first) > limit:
        raise RequestTooLarge(limit)
    chunks, size = [first], len(first)
    deadline = asyncio.get_running_loop().time() + timeouts.whole_s
    while True:
        try:
            async with asyncio.timeout_at(
                min(deadline, asyncio.get_running_loop().time() + timeouts.idle_s)
            ):
                message = await receive()
        except TimeoutError:
            raise BodyTimeout() from None
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _api(ex: Exchange) -> Api:
    assert ex.api is not None, "select_api runs first"
    return ex.api


def _stage_key(api_id: str, stage: str) -> str:
    return f"{api_id}/{stage}"


def _throttler(config: GatewayConfig) -> Throttler:
    stage_limits: dict[str, Limit | None] = {}
    method_limits: dict[str, dict[str, Limit]] = {}
    for api in config.apis.values():
        key = _stage_key(api.id, api.stage)
        limit = api.throttling.stage_limit()
        stage_limits[key] = Limit(limit.rate, limit.burst) if limit is not None else None
        method_limits[key] = {
            name: Limit(lim.rate, lim.burst) for name, lim in api.throttling.methods.items()
        }
    return Throttler(stage_limits=stage_limits, method_limits=method_limits)

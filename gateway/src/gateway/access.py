"""What the gateway answers a described request, in policy terms: the policy tools' one view of
the request path (`python -m gateway check`, the policy tests, `analyze`).

A `Probe` describes a request as a person does (method, path, `--principal` or `--identity`,
`--vpce`, `--source-ip`, headers, time). `Setup.resolve` turns it into the facts the gateway would
have (`Request`); `judge` answers it as the pipeline's stages do, in their order (gateway/README.md
"Request pipeline" steps 2, 3, 6a and 6c): a PRIVATE API outside every VPC endpoint is Forbidden;
an HTTP API's miss is Not Found, a REST API's is Missing Authentication Token unless a signature
or the resource policy answers first; an AWS_IAM method needs a signature; then
`gateway.facts.request_context` and `gateway.policy.authorization`, the functions the gateway runs.
A route with a Lambda authorizer is refused here only by the resource policy's explicit deny
(checked before the authorizer is called); anything else the authorizer decides: undecided.
The tests hold this module to the running gateway, case by case.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from gateway.apis import Api, load_api, load_identities
from gateway.config import ConfigError, GatewayConfig, VpcEndpoint
from gateway.errors import AccessDenied, Answer, Forbidden, MissingAuthenticationToken, NotFound
from gateway.facts import Caller, judge_policies, request_context
from gateway.policy import (
    Authorization,
    Decision,
    Policy,
    RequestContext,
    denial_message,
)
from gateway.routing import RouteMatch, remove_dot_segments, split_stage
from gateway.sigv4 import Identity
from gateway.vpce import EndpointSubnets, VpceAttributor

OUTSIDE_ADDRESS = "127.0.0.1"  # where callers outside every VPC come from on the native stack
CHECK_SESSION = "policy-check"  # the session name a role ARN's caller gets
VPCE_ID = re.compile(r"vpce-[0-9a-f]{8,17}")
_PARTITION = r"aws(?:-[a-z]+)*"
_ACCOUNT = re.compile(r"\d{12}")
_ROLE = re.compile(rf"arn:({_PARTITION}):iam::(\d{{12}}):role/(?:[^/]+/)*([\w+=,.@-]+)")
_USER = re.compile(rf"arn:({_PARTITION}):iam::(\d{{12}}):user/(?:[^/]+/)*([\w+=,.@-]+)")
_ROOT = re.compile(rf"arn:({_PARTITION}):iam::(\d{{12}}):root")
_SESSION = re.compile(rf"arn:({_PARTITION}):sts::(\d{{12}}):assumed-role/([\w+=,.@-]+)/[\w+=,.@-]+")

# The rules that may decide, beside gateway.policy.Rule's values.
NO_ENDPOINT = "no VPC endpoint"  # a PRIVATE API outside every endpoint: 403 Forbidden
NO_ROUTE = "no route"  # REST 403 Missing Authentication Token, HTTP 404 Not Found
UNSIGNED = "unsigned"  # an AWS_IAM method without SigV4: 403 Missing Authentication Token
NO_POLICY = "no resource policy"  # nothing to evaluate: the request goes on
AUTHORIZER = "Lambda authorizer"  # the route's Lambda authorizer decides: undecided here


class ProbeError(ValueError):
    """A request description that names nothing real (bad ARN, address, unknown identity)."""


@dataclass(frozen=True)
class Probe:
    method: str
    path: str  # below the stage, as sent (percent-encoded)
    time: datetime
    principal: str | None = None  # "anonymous" (or None), an account id, a role/user/session ARN
    identity: str | None = None  # a configured identity: access key id or principal/session ARN
    vpce: str | None = None  # default: the endpoint whose subnet holds source_ip
    source_ip: str | None = None  # default: an address of the endpoint's subnet, else 127.0.0.1
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-case


@dataclass(frozen=True)
class Request:
    """A probe as the gateway would see it."""

    method: str
    path: str
    caller: Caller | None  # the signer; None: unsigned
    identity_policies: tuple[Policy, ...]
    identity_known: bool  # the caller and its identity policies come from the configuration
    source_ip: str | None
    vpce_id: str | None
    vpc_id: str | None
    headers: Mapping[str, str]
    time: datetime


@dataclass(frozen=True)
class Verdict:
    allowed: bool  # the gateway lets it through (False: refused, or undecided)
    rule: str  # a Rule value, or NO_ENDPOINT, NO_ROUTE, UNSIGNED, NO_POLICY, AUTHORIZER
    answer: Answer | None  # the gateway's answer to a refused request (None: not refused)
    explicit: bool = False
    match: RouteMatch | None = None
    authenticated: Caller | None = None  # the caller the policies saw (None: anonymous)
    ctx: RequestContext | None = None  # the facts the policies were judged on
    authorization: Authorization | None = None  # None: no policy was evaluated

    @property
    def undecided(self) -> bool:
        """A Lambda authorizer decides what the policies leave open: no tool can tell."""
        return self.rule == AUTHORIZER


class Setup:
    """The configuration the way the gateway loads it: identities and their policies, the VPC
    endpoints; APIs are loaded one by one, so one broken document does not hide the others."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.identities, self.identity_policies = load_identities(config)
        self.endpoints = {e.id: e for e in config.vpc_endpoints}
        self.attributor = VpceAttributor(
            EndpointSubnets(e.id, e.vpc_id, tuple(e.subnets), frozenset(e.exclude))
            for e in config.vpc_endpoints
        )

    def api_name(self, name_or_document: str) -> str:
        """The configured API named (key of `apis`, its id, or its OpenAPI document's path)."""
        apis = self.config.apis
        if name_or_document in apis:
            return name_or_document
        for name, api in apis.items():
            if api.id == name_or_document:
                return name
        wanted = Path(name_or_document).resolve()
        for name in apis:
            if self.config.openapi_path(name) == wanted:
                return name
        known = ", ".join(sorted(apis))
        hint = (
            "a document no API of the configuration serves (apis.*.openapi)"
            if Path(name_or_document).exists()
            else "not a configured API"
        )
        raise ConfigError(f"{name_or_document}: {hint}; the APIs are {known}")

    def api(self, name_or_document: str) -> Api:
        return load_api(self.config, self.api_name(name_or_document))

    def resolve(self, probe: Probe) -> Request:
        """The facts the gateway would have for `probe`; ProbeError when it names nothing real."""
        if probe.principal is not None and probe.identity is not None:
            raise ProbeError("give --principal or --identity, not both")
        identity_known = probe.identity is not None
        policies: tuple[Policy, ...] = ()
        if probe.identity is not None:
            identity = self.find_identity(probe.identity)
            caller: Caller | None = Caller.of(identity)
            policies = tuple(self.identity_policies.get(identity.principal_arn, ()))
        else:
            caller = parse_principal(probe.principal)
        source_ip = _address(probe.source_ip) if probe.source_ip is not None else None
        vpce_id, vpc_id = None, None
        if probe.vpce is not None:
            if not VPCE_ID.fullmatch(probe.vpce):
                raise ProbeError(f"{probe.vpce!r} is not a VPC endpoint id (vpce-<8-17 hex>)")
            vpce_id = probe.vpce
            endpoint = self.endpoints.get(vpce_id)
            vpc_id = endpoint.vpc_id if endpoint else None
            if source_ip is None:
                source_ip = endpoint_address(endpoint) if endpoint else OUTSIDE_ADDRESS
        else:
            source_ip = source_ip or OUTSIDE_ADDRESS
            attribution = self.attributor.attribute(source_ip)
            if attribution is not None:
                vpce_id, vpc_id = attribution.vpce_id, attribution.vpc_id
        return Request(
            method=probe.method.upper(),
            path=probe.path,
            caller=caller,
            identity_policies=policies,
            identity_known=identity_known,
            source_ip=source_ip,
            vpce_id=vpce_id,
            vpc_id=vpc_id,
            headers={k.lower(): v for k, v in probe.headers.items()},
            time=probe.time,
        )

    def find_identity(self, name: str) -> Identity:
        for identity in self.identities.values():
            if name in (identity.access_key_id, identity.principal_arn, identity.caller_arn):
                return identity
        raise ProbeError(
            f"{name}: no identity of the configuration has this access key id or principal ARN"
        )


def parse_principal(principal: str | None) -> Caller | None:
    """The caller `--principal` names: None for "anonymous"; an account id is the account's root;
    a role ARN stands for a session of the role (aws:PrincipalArn the role's ARN, with its path);
    an assumed-role session ARN is that session; an IAM user ARN the user."""
    if principal is None or principal == "anonymous":
        return None
    if _ACCOUNT.fullmatch(principal):
        return Caller(f"arn:aws:iam::{principal}:root", principal, f"arn:aws:iam::{principal}:root")
    if role := _ROLE.fullmatch(principal):
        partition, account, name = role.groups()
        session_arn = f"arn:{partition}:sts::{account}:assumed-role/{name}/{CHECK_SESSION}"
        return Caller(session_arn, account, principal)
    if session := _SESSION.fullmatch(principal):
        partition, account, name = session.groups()
        return Caller(principal, account, f"arn:{partition}:iam::{account}:role/{name}")
    if user := _USER.fullmatch(principal):
        return Caller(principal, user.group(2), principal, username=user.group(3))
    if root := _ROOT.fullmatch(principal):
        return Caller(principal, root.group(2), principal)
    raise ProbeError(
        f"{principal!r} is not 'anonymous', an account id, or an IAM role, user, root or"
        " assumed-role session ARN"
    )


def endpoint_address(endpoint: VpcEndpoint) -> str:
    """An address the gateway attributes to `endpoint`: the first host of its first subnet after
    the router's address (x.x.x.1), not excluded."""
    subnet = endpoint.subnets[0]
    for address in subnet.hosts():
        if address != subnet.network_address + 1 and address not in endpoint.exclude:
            return str(address)
    raise ProbeError(f"{endpoint.id}: its subnet {subnet} has no address for a caller")


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ProbeError(f"{text!r} is not an IP address") from None


def judge(api: Api, request: Request) -> Verdict:
    """The gateway's answer to `request` on `api`, stage by stage as `gateway.pipeline` runs."""
    if api.private and request.vpce_id is None:
        return Verdict(False, NO_ENDPOINT, Forbidden().answer(http_api=api.http_api))
    raw = f"/{api.stage}{_rooted(request.path)}" if api.stage_in_path else request.path
    path = split_stage(
        remove_dot_segments(_rooted(raw)), api.stage, stage_in_path=api.stage_in_path
    )
    if path is None:
        answer = (NotFound() if api.http_api else Forbidden()).answer(http_api=api.http_api)
        return Verdict(False, NO_ROUTE, answer)
    match = api.routes.match(request.method, path)
    signed = request.caller is not None
    if match is None and (api.http_api or (not signed and api.resource_policy is None)):
        return _no_route(api)
    iam_route = match is not None and match.route.data.iam_auth
    if iam_route and not signed:
        answer = MissingAuthenticationToken().answer(http_api=api.http_api)
        return Verdict(False, UNSIGNED, answer, match=match)
    # the gateway verifies a signature on an AWS_IAM method, and on a REST API's miss
    caller = request.caller if signed and (iam_route or match is None) else None
    authorizer = match is not None and match.route.data.authorizer is not None
    if api.resource_policy is None and not iam_route and not authorizer:
        return Verdict(True, NO_POLICY, None, match=match)
    decided, ctx = judge_policies(
        api=api,
        path=path,
        identity_policies=request.identity_policies if caller else (),
        iam_auth=iam_route,
        context_for=lambda judged_path: request_context(
            api=api,
            method=request.method,
            path=judged_path,
            caller=caller,
            source_ip=request.source_ip,
            vpce_id=request.vpce_id,
            vpc_id=request.vpc_id,
            user_agent=request.headers.get("user-agent"),
            referer=request.headers.get("referer"),
            now=request.time,
        ),
    )
    explicit = decided.decision is Decision.EXPLICIT_DENY

    def judged(allowed: bool, rule: str, answer: Answer | None) -> Verdict:
        return Verdict(allowed, rule, answer, explicit, match, caller, ctx, decided)

    if authorizer and not explicit:
        # "Lambda authorizer and resource policy": the resource policy is checked for an
        # explicit deny first; what it leaves open, the authorizer's policy decides
        return judged(False, AUTHORIZER, None)
    refused = explicit or (decided.decision is not Decision.ALLOW and match is not None)
    if match is None and not refused:
        return judged(False, NO_ROUTE, _miss(api))
    if not refused:
        return judged(True, decided.rule.value, None)
    denied = AccessDenied(denial_message(ctx, decided.decision))
    return judged(False, decided.rule.value, denied.answer(http_api=api.http_api))


def _no_route(api: Api) -> Verdict:
    return Verdict(False, NO_ROUTE, _miss(api))


def _miss(api: Api) -> Answer:
    error = NotFound() if api.http_api else MissingAuthenticationToken()
    return error.answer(http_api=api.http_api)


def _rooted(path: str) -> str:
    return path if path.startswith("/") else "/" + path

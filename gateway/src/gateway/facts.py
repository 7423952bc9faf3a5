"""The facts a policy judges a request on: the caller, the method ARN and the condition keys API
Gateway offers. Built in this one place for the running gateway (`Pipeline.request_context`) and
for the policy tools (`python -m gateway check`, `analyze`, the policy tests), so what the tools
evaluate is what the gateway evaluates.

Framework-free: plain values in, a `gateway.policy.RequestContext` out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from gateway.policy import Authorization, Decision, Policy, RequestContext, authorization

if TYPE_CHECKING:
    from gateway.apis import Api
    from gateway.sigv4 import Identity

ACTION = "execute-api:Invoke"

# Every condition key the gateway ever puts into a request context. A condition on any other key
# always sees a missing key.
KEY_NAMES = (
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:SourceIp",
    "aws:VpcSourceIp",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:userid",
    "aws:username",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:UserAgent",
    "aws:Referer",
)
OFFERED_KEYS = frozenset(name.lower() for name in KEY_NAMES)  # as policies compare keys
# Global keys other AWS services set, for messages about conditions on them.
_OTHER_KEY_NAMES = (
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalType",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:SourceArn",
    "aws:SourceAccount",
    "aws:SourceOrgID",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:RequestedRegion",
    "aws:MultiFactorAuthPresent",
    "aws:TokenIssueTime",
    "aws:ViaAWSService",
    "aws:CalledVia",
    "aws:TagKeys",
)
_TAG_PREFIXES = ("aws:PrincipalTag/", "aws:ResourceTag/", "aws:RequestTag/")
_SPELLING = {name.lower(): name for name in (*KEY_NAMES, *_OTHER_KEY_NAMES)}


def key_name(key: str) -> str:
    """A condition key as AWS documents its spelling (policies compare keys case-insensitively)."""
    for prefix in _TAG_PREFIXES:
        if key.lower().startswith(prefix.lower()):
            return prefix + key[len(prefix) :]
    return _SPELLING.get(key.lower(), key)


@dataclass(frozen=True)
class Caller:
    """An authenticated caller as the policies see it."""

    arn: str  # who AWS says called: a role's session ARN, else the principal's ARN
    account: str
    principal_arn: str  # aws:PrincipalArn: for a role session the role's ARN, with its path
    user_id: str | None = None  # aws:userid
    username: str | None = None  # aws:username

    @classmethod
    def of(cls, identity: Identity) -> Caller:
        return cls(
            arn=identity.caller_arn,
            account=identity.account,
            principal_arn=identity.principal_arn,
            user_id=identity.user_id,
            username=identity.username,
        )


def request_context(
    *,
    api: Api,
    method: str,
    path: str,
    caller: Caller | None,
    source_ip: str | None,
    vpce_id: str | None,
    vpc_id: str | None,
    user_agent: str | None,
    referer: str | None,
    now: datetime,
) -> RequestContext:
    """The request context of `method path` on `api`: `path` is the path below the stage as
    routed (dot segments resolved, still percent-encoded); the method ARN names it decoded.

    `vpce_id`: the VPC endpoint the request came through (None: none), `vpc_id` its VPC when
    known. As AWS's global condition keys are documented (IAM User Guide, "AWS global condition
    context keys"): aws:SourceIp is "included in the request context, except when the requester
    uses a VPC endpoint", where aws:VpcSourceIp carries the address instead; aws:SecureTransport
    is true, because API Gateway answers on HTTPS endpoints only ("API Gateway doesn't support
    unencrypted (HTTP) endpoints", API Gateway Developer Guide, "Data protection"): locally TLS
    ends at the mTLS proxy (or is left out), but a policy must judge the request as AWS would.
    """
    keys: dict[str, Any] = {
        # strftime("%Y-%m-%dT%H:%M:%SZ") (years 1000-9999), at under half its cost
        "aws:CurrentTime": f"{now.year:04d}-{now.month:02d}-{now.day:02d}"
        f"T{now.hour:02d}:{now.minute:02d}:{now.second:02d}Z",
        "aws:EpochTime": int(now.timestamp()),
        "aws:SecureTransport": True,
        "aws:UserAgent": user_agent,
        "aws:Referer": referer,
    }
    if vpce_id is not None:
        keys["aws:SourceVpce"] = vpce_id
        keys["aws:SourceVpc"] = vpc_id
        keys["aws:VpcSourceIp"] = source_ip
    else:
        keys["aws:SourceIp"] = source_ip
    if caller is not None:
        # A role session's aws:PrincipalArn is the role's ARN, not the session's.
        keys["aws:PrincipalArn"] = caller.principal_arn
        keys["aws:userid"] = caller.user_id
        keys["aws:username"] = caller.username
    return RequestContext(
        principal_arn=caller.arn if caller else None,
        principal_account=caller.account if caller else None,
        action=ACTION,
        resource=api.execute_api_arn(method, unquote(path or "/")),
        condition_keys=keys,
    )


def judge_policies(
    *,
    api: Api,
    path: str,
    identity_policies: Sequence[Policy],
    iam_auth: bool,
    context_for: Callable[[str], RequestContext],
    authorize: Callable[..., Authorization] = authorization,
) -> tuple[Authorization, RequestContext]:
    """The resource policy of `api` and (with IAM auth) the caller's identity policies on a
    request for `path` below the stage, whose facts `context_for(path)` gives: the stricter
    judgement of each spelling of the path a method ARN may name (`_policy_paths`), with the
    facts it was made on. `authorize`: `gateway.policy.authorization`, or an
    `AuthorizationMemo` of it (the running gateway's)."""
    judged = []
    for judged_path in _policy_paths(path):
        ctx = context_for(judged_path)
        decided = authorize(
            resource_policy=api.resource_policy,
            identity_policies=identity_policies,
            ctx=ctx,
            api_account=api.account,
            iam_auth=iam_auth,
        )
        judged.append((decided, ctx))
    return min(judged, key=lambda pair: _STRICTNESS[pair[0].decision])


def _policy_paths(path: str) -> tuple[str, ...]:
    """The forms of `path` (below the stage) a policy judges: as sent, and as routed (empty
    segments, i.e. a trailing slash or `//`, left out). Both reach the same resource, and which
    one AWS names in the method ARN is not documented: judging both and keeping the stricter
    answer means a Deny of `GET/dogs` also stops `/dogs/` and `//dogs`."""
    routed = "/" + "/".join(segment for segment in path.split("/") if segment)
    return (path,) if routed == path else (path, routed)


# Stricter first: an explicit deny, then a deny for want of an allow, then an allow.
_STRICTNESS = {Decision.EXPLICIT_DENY: 0, Decision.IMPLICIT_DENY: 1, Decision.ALLOW: 2}

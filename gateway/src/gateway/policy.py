"""IAM policy evaluation for API Gateway resource policies and the callers' identity policies.

Framework-free: documents and request facts in, a Decision out. Semantics follow the IAM User
Guide ("Policy evaluation logic", "Principal", "NotPrincipal", "Resource") and the API Gateway
Developer Guide ("How API Gateway resource policies affect authorization workflow", "API Gateway
resource policy examples"). Condition operators live in `gateway.conditions`.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from gateway.conditions import (
    Condition,
    ConditionError,
    ContextValues,
    compile_wildcard,
    invalidates_statement,
    normalize_context,
    parse_condition_block,
    substitute,
    variable_keys,
    wildcard_match,
)
from gateway.memo import BoundedMemo

__all__ = [
    "Authorization",
    "AuthorizationMemo",
    "Decision",
    "Outcome",
    "Policy",
    "PolicyError",
    "RequestContext",
    "Rule",
    "Statement",
    "action_applies",
    "authorization",
    "authorize",
    "denial_message",
    "evaluate",
    "expand_execute_api_shorthand",
    "outcome",
    "parse_policy",
    "principal_applies",
    "principal_names",
    "request_values",
    "resource_applies",
    "resource_pattern_hit",
]

VERSIONS = ("2012-10-17", "2008-10-17")  # only 2012-10-17 has policy variables
SHORTHAND_PREFIX = "execute-api:/"
_STATEMENT_KEYS = {
    "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
    "Resource", "NotResource", "Condition",
}  # fmt: skip
_PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
_ACCOUNT_ID = re.compile(r"\d{12}")
_ROOT_ARN = re.compile(r"arn:[^:]+:iam::(\d{12}):root")
_ROLE_ARN = re.compile(r"arn:([^:]+):iam::(\d{12}):role/(?:.*/)?([^/]+)")
_SESSION_ARN = re.compile(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/[^/]+")
_EXECUTE_API_ARN = re.compile(r"(arn:[^:]+:execute-api:[^:]*:[^:]*:[^/]+)/")


class Decision(enum.Enum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


class Rule(enum.Enum):
    """Which rule of API Gateway's authorization decided (`authorization`)."""

    ALLOWED = "allowed"
    EXPLICIT_DENY = "explicit deny"
    NO_ALLOW = "no allow"
    CROSS_ACCOUNT_NEEDS_BOTH = "cross-account needs both"


class PolicyError(ValueError):
    """A malformed policy document; the message names the statement and the field."""


@dataclass(frozen=True)
class RequestContext:
    principal_arn: str | None  # None: anonymous (unauthenticated) caller
    principal_account: str | None
    action: str  # "execute-api:Invoke"
    resource: str  # arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{path}
    # aws:SourceVpce, aws:SourceIp, ...: case-insensitive keys, absent (or None, []) = missing.
    # The caller supplies aws:CurrentTime/aws:EpochTime (evaluation never reads the clock) and
    # aws:userid/aws:username (for a role session: aws:userid "<role-id>:<session-name>", no
    # aws:username). aws:PrincipalAccount defaults to the caller's account; aws:PrincipalArn to
    # principal_arn, except that for an assumed-role session it is the role's ARN, which AWS
    # puts there, without the role's path (a session ARN does not carry it): pass
    # aws:PrincipalArn here for a role with a path; a value given here always wins.
    condition_keys: Mapping[str, str | Sequence[str] | bool | int]


@dataclass(frozen=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" or "Deny"
    principals: tuple[str, ...] | None  # None: no Principal element; "*" means everyone
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Condition, ...]

    @property
    def label(self) -> str:
        """How messages and the access log name it: its Sid, else `Statement[<index>]`."""
        return self.sid if self.sid else f"Statement[{self.index}]"


@dataclass(frozen=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]

    @functools.cached_property
    def referenced_keys(self) -> frozenset[str]:
        """The request keys (lower-cased) the policy's decisions can depend on besides the
        caller, the action and the resource: the keys its conditions test and those its policy
        variables name, in condition values and in Resource/NotResource. Nothing else of the
        request context is ever read (`outcome`), which is what `AuthorizationMemo` rests on."""
        keys: set[str] = set()
        for statement in self.statements:
            for resource in statement.resources:
                keys |= variable_keys(resource)
            for condition in statement.conditions:
                keys.add(condition.key)
                for value in condition.values:
                    keys |= variable_keys(value)
        return frozenset(keys)


@dataclass(frozen=True)
class Outcome:
    """One policy's decision and the statements that applied to the request."""

    decision: Decision
    applying: tuple[Statement, ...]

    @property
    def allows(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.applying if s.effect == "Allow")

    @property
    def denies(self) -> tuple[Statement, ...]:
        return tuple(s for s in self.applying if s.effect == "Deny")


@dataclass(frozen=True)
class Authorization:
    """`authorization`'s answer: the decision, the rule that gave it, and each policy's outcome
    (`resource` None: the API has no resource policy; `identity` empty without IAM auth)."""

    decision: Decision
    rule: Rule
    resource: Outcome | None
    identity: tuple[Outcome, ...]

    def deciding_statements(self) -> list[str]:
        """The statements the decision rests on, as `resource:<label>` and
        `identity[<n>]:<label>` (`Statement.label`): the Denies that applied for an explicit
        deny, the Allows that granted for an allow; across accounts, when only one of the two
        policies allows, that policy's Allows (the other policy has none); else none."""
        return list(self._deciding_labels)

    @functools.cached_property
    def _deciding_labels(self) -> tuple[str, ...]:
        # worked out once: a remembered answer (AuthorizationMemo) serves many requests
        if self.rule is Rule.NO_ALLOW:
            return ()
        deny = self.rule is Rule.EXPLICIT_DENY

        def pick(o: Outcome) -> tuple[Statement, ...]:
            return o.denies if deny else o.allows

        labels = [f"resource:{s.label}" for s in pick(self.resource)] if self.resource else []
        for n, identity in enumerate(self.identity):
            labels.extend(f"identity[{n}]:{s.label}" for s in pick(identity))
        return tuple(labels)


# --- parsing ----------------------------------------------------------------------------------


def parse_policy(document: str | Mapping, *, resource_policy: bool = True) -> Policy:
    """Validate a policy document (JSON text or a mapping) and return it parsed.

    A resource policy needs exactly one of Principal/NotPrincipal in every statement; an identity
    policy (resource_policy=False) must have neither.
    """
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except json.JSONDecodeError as error:
            raise PolicyError(f"policy is not valid JSON: {error}") from None
    if not isinstance(document, Mapping):
        raise PolicyError("policy must be a JSON object")
    unknown = set(document) - {"Version", "Id", "Statement"}
    if unknown:
        raise PolicyError(f"policy has unknown fields: {', '.join(sorted(unknown))}")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError(f"Version must be one of {', '.join(VERSIONS)}, not {version!r}")
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list) or not statements:
        raise PolicyError("Statement must be a statement object or a non-empty list of them")
    return Policy(
        version,
        tuple(_parse_statement(i, s, resource_policy) for i, s in enumerate(statements)),
    )


def _parse_statement(index: int, raw: object, resource_policy: bool) -> Statement:
    where = f"Statement[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} must be an object")
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        raise PolicyError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}.Sid must be a string")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}.Effect must be 'Allow' or 'Deny', not {effect!r}")
    principal_field = _exactly_one(raw, where, "Principal", "NotPrincipal", required=False)
    if resource_policy and principal_field is None:
        raise PolicyError(f"{where} needs a Principal or NotPrincipal (resource policy)")
    if not resource_policy and principal_field is not None:
        raise PolicyError(f"{where}.{principal_field} is not allowed in an identity policy")
    if principal_field == "NotPrincipal" and effect == "Allow":
        raise PolicyError(f"{where}.NotPrincipal is only supported with Effect 'Deny'")
    principals = (
        _parse_principal(f"{where}.{principal_field}", raw[principal_field])
        if principal_field
        else None
    )
    action_field = _exactly_one(raw, where, "Action", "NotAction")
    actions = _string_list(f"{where}.{action_field}", raw[action_field])
    for action in actions:
        if action != "*" and not re.fullmatch(r"[^:\s]+:[^:\s]+", action):
            raise PolicyError(f"{where}.{action_field}: {action!r} is not 'service:action' or '*'")
    resource_field = _exactly_one(raw, where, "Resource", "NotResource")
    resources = _string_list(f"{where}.{resource_field}", raw[resource_field])
    for resource in resources:
        if resource != "*" and not resource.startswith(("arn:", SHORTHAND_PREFIX)):
            raise PolicyError(
                f"{where}.{resource_field}: {resource!r} is not an ARN, "
                f"'{SHORTHAND_PREFIX}...' or '*'"
            )
    try:
        conditions = parse_condition_block(raw["Condition"]) if "Condition" in raw else ()
    except ConditionError as error:
        raise PolicyError(f"{where}.Condition: {error}") from None
    return Statement(
        index=index,
        sid=sid,
        effect=effect,
        principals=principals,
        not_principal=principal_field == "NotPrincipal",
        actions=actions,
        not_action=action_field == "NotAction",
        resources=resources,
        not_resource=resource_field == "NotResource",
        conditions=conditions,
    )


def _exactly_one(raw: Mapping, where: str, first: str, second: str, *, required: bool = True):
    present = [name for name in (first, second) if name in raw]
    if len(present) == 2:
        raise PolicyError(f"{where} must not have both {first} and {second}")
    if not present and required:
        raise PolicyError(f"{where} needs {first} or {second}")
    return present[0] if present else None


def _string_list(where: str, value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{where} must be a non-empty string or list of non-empty strings")
    return tuple(items)


def _parse_principal(where: str, value: object) -> tuple[str, ...]:
    """Principal as a tuple of matchable entries: "*", account root ARNs and principal ARNs.

    Service, Federated and CanonicalUser principals are kept as "Service:..." etc.: valid, but
    no caller of this gateway is ever one of them.
    """
    if value == "*":
        return ("*",)
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f"{where} must be '*' or an object such as {{'AWS': [...]}}")
    entries: list[str] = []
    for kind, raw in value.items():
        if kind not in _PRINCIPAL_TYPES:
            raise PolicyError(f"{where} has unknown principal type {kind!r}")
        for item in _string_list(f"{where}.{kind}", raw):
            if kind != "AWS":
                entries.append(f"{kind}:{item}")
            elif item == "*":
                entries.append("*")
            elif _ACCOUNT_ID.fullmatch(item):
                entries.append(f"arn:aws:iam::{item}:root")
            elif not item.startswith("arn:") or len(item.split(":", 5)) != 6:
                raise PolicyError(f"{where}.AWS: {item!r} is not an account id, an ARN or '*'")
            elif "*" in item or "?" in item:
                raise PolicyError(
                    f"{where}.AWS: {item!r}: wildcards are not allowed in principal ARNs "
                    "(only '*' on its own); use a Condition on aws:PrincipalArn instead"
                )
            else:
                entries.append(item)
    return tuple(entries)


def expand_execute_api_shorthand(
    policy: Policy, *, region: str, account: str, api_id: str
) -> Policy:
    """Rewrite `execute-api:/stage/METHOD/path` resources to full ARNs, as API Gateway does
    when the policy is saved (current region, the API's account and id)."""
    prefix = f"arn:aws:execute-api:{region}:{account}:{api_id}/"

    def expand(resources: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            prefix + r.removeprefix(SHORTHAND_PREFIX) if r.startswith(SHORTHAND_PREFIX) else r
            for r in resources
        )

    return replace(
        policy,
        statements=tuple(replace(s, resources=expand(s.resources)) for s in policy.statements),
    )


# --- evaluation -------------------------------------------------------------------------------


def evaluate(policy: Policy, ctx: RequestContext, *, require_principal: bool = True) -> Decision:
    """One policy's decision (`outcome` without the statements)."""
    return outcome(policy, ctx, require_principal=require_principal).decision


def outcome(
    policy: Policy,
    ctx: RequestContext,
    *,
    require_principal: bool = True,
    context: ContextValues | None = None,
) -> Outcome:
    """One policy: EXPLICIT_DENY if a Deny statement applies, else ALLOW if an Allow statement
    applies, else IMPLICIT_DENY; with the statements that applied.

    require_principal=True (resource policies): a statement without Principal/NotPrincipal never
    applies. False (identity policies): such a statement applies to the caller it is attached to.
    Leftover `execute-api:/` shorthand resolves against the API named in ctx.resource (a resource
    policy only ever governs its own API, so this equals expanding it on save). `context`:
    `request_values(ctx)`, when the caller has it already.
    """
    if context is None:
        context = request_values(ctx)
    variables = policy.version == "2012-10-17"
    # A variable of the caller's identity that the request lacks (aws:username of a role, any of
    # them for an anonymous caller) switches its statement off, Allow or Deny. Any other variable
    # without a value is a null policy value that positive operators never match and negated ones
    # always match (see gateway.conditions): a Deny whose StringNotEquals compares with an unset
    # tag denies.
    applying = tuple(
        s for s in policy.statements if _applies(s, ctx, context, variables, require_principal)
    )
    if any(s.effect == "Deny" for s in applying):
        return Outcome(Decision.EXPLICIT_DENY, applying)
    if applying:
        return Outcome(Decision.ALLOW, applying)
    return Outcome(Decision.IMPLICIT_DENY, applying)


def request_values(ctx: RequestContext) -> ContextValues:
    """The request's condition keys; aws:PrincipalArn/aws:PrincipalAccount default from ctx."""
    context = normalize_context(ctx.condition_keys)
    if ctx.principal_arn and "aws:principalarn" not in context:
        context["aws:principalarn"] = (_principal_arn_key(ctx.principal_arn),)
    account = _caller_account(ctx)
    if account:
        context.setdefault("aws:principalaccount", (account,))
    return context


def _principal_arn_key(principal_arn: str) -> str:
    """The value of aws:PrincipalArn for a caller.

    IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
    request context returns the ARN of the role, not the ARN of the user that assumed the role"
    (`arn:aws:iam::123456789012:role/role-name`; "Do not specify the assumed role session ARN as
    a value for this condition key"). The session ARN names the role without its path, so a
    role ARN derived here has none; a caller that knows the path supplies aws:PrincipalArn.
    """
    session = _SESSION_ARN.fullmatch(principal_arn)
    if session is None:
        return principal_arn
    partition, account, role_name = session.groups()
    return f"arn:{partition}:iam::{account}:role/{role_name}"


def _caller_account(ctx: RequestContext) -> str | None:
    if ctx.principal_account:
        return ctx.principal_account
    if ctx.principal_arn and len(parts := ctx.principal_arn.split(":", 5)) == 6:
        return parts[4] or None
    return None


def _applies(
    statement: Statement,
    ctx: RequestContext,
    context: ContextValues,
    variables: bool,
    require_principal: bool,
) -> bool:
    return (
        principal_applies(statement, ctx, require_principal=require_principal)
        and action_applies(statement, ctx)
        and resource_applies(statement, ctx, context, variables=variables)
        and all(c.evaluate(context, variables=variables) for c in statement.conditions)
    )


# The elements of a statement, one predicate each: `evaluate` combines them with AND; the policy
# tools (gateway.explain, gateway.analyze) report them one by one.


def principal_applies(
    statement: Statement, ctx: RequestContext, *, require_principal: bool
) -> bool:
    """Principal/NotPrincipal holds for the caller. A statement without either holds only in an
    identity policy (require_principal=False): it applies to the caller it is attached to."""
    if statement.principals is None:
        return not require_principal
    return _principal_listed(statement, ctx) != statement.not_principal


def action_applies(statement: Statement, ctx: RequestContext) -> bool:
    hit = any(wildcard_match(a, ctx.action, ignore_case=True) for a in statement.actions)
    return hit != statement.not_action


def resource_applies(
    statement: Statement, ctx: RequestContext, context: ContextValues, *, variables: bool
) -> bool:
    """Resource/NotResource holds for the request's resource. A variable of an identity the
    caller does not have makes the statement invalid: it holds for nothing."""
    if variables and any(invalidates_statement(r, context) for r in statement.resources):
        return False
    hit = any(_resource_match(r, ctx.resource, context, variables) for r in statement.resources)
    return hit != statement.not_resource


def resource_pattern_hit(
    statement: Statement, ctx: RequestContext, context: ContextValues, *, variables: bool
) -> str | None:
    """For the explanations: for Resource the first pattern that matches, for NotResource ""
    when none does (the element holds); None when the element does not hold (invalidation by a
    missing identity variable aside: `resource_applies` decides)."""
    hit = next(
        (r for r in statement.resources if _resource_match(r, ctx.resource, context, variables)),
        None,
    )
    if statement.not_resource:
        return "" if hit is None else None
    return hit


def _principal_listed(statement: Statement, ctx: RequestContext) -> bool:
    """Whether the caller is named by Principal (or, for NotPrincipal, excepted by it).

    Anonymous callers are named only by "*". An account id / root ARN names every principal of
    the account; a role ARN names the role and its assumed-role sessions. NotPrincipal excepts a
    caller only when every identity AWS checks for it is listed: the account, then the role,
    then the session (IAM User Guide, NotPrincipal), so listing just a role still denies it.
    """
    entries = statement.principals or ()
    if "*" in entries:
        return True
    if ctx.principal_arn is None:
        return False
    account = _caller_account(ctx)
    account_listed = any(
        (m := _ROOT_ARN.fullmatch(e)) is not None and m.group(1) == account for e in entries
    )
    role_arns = [e for e in entries if _ROLE_ARN.fullmatch(e)]
    arn_listed = ctx.principal_arn in entries or _session_of_listed_role(
        ctx.principal_arn, role_arns
    )
    if not statement.not_principal:
        return account_listed or arn_listed
    if _ROOT_ARN.fullmatch(ctx.principal_arn):
        return account_listed
    session = _SESSION_ARN.fullmatch(ctx.principal_arn)
    role_listed = session is None or _session_of_listed_role(ctx.principal_arn, role_arns)
    return account_listed and ctx.principal_arn in entries and role_listed


def principal_names(statement: Statement, ctx: RequestContext) -> list[tuple[str, str]]:
    """The Principal/NotPrincipal entries that name the caller, each with how: "everyone" (`*`),
    "account" (its account's root), "caller" (its ARN), "role" (the role of its session). For
    the policy tools' explanations; `principal_applies` decides."""
    named: list[tuple[str, str]] = []
    account = _caller_account(ctx)
    for entry in statement.principals or ():
        if entry == "*":
            named.append(("everyone", entry))
        elif ctx.principal_arn is None:
            continue
        elif (m := _ROOT_ARN.fullmatch(entry)) is not None and m.group(1) == account:
            named.append(("account", entry))
        elif entry == ctx.principal_arn:
            named.append(("caller", entry))
        elif _ROLE_ARN.fullmatch(entry) and _session_of_listed_role(ctx.principal_arn, [entry]):
            named.append(("role", entry))
    return named


def _session_of_listed_role(principal_arn: str, role_arns: list[str]) -> bool:
    session = _SESSION_ARN.fullmatch(principal_arn)
    if session is None:
        return False
    for role_arn in role_arns:
        role = _ROLE_ARN.fullmatch(role_arn)
        if role is not None and role.groups() == session.groups():
            return True
    return False


def _resource_match(pattern: str, resource: str, context: ContextValues, variables: bool) -> bool:
    if pattern.startswith(SHORTHAND_PREFIX):
        api = _EXECUTE_API_ARN.match(resource)
        if api is None:
            return False
        pattern = api.group(1) + "/" + pattern.removeprefix(SHORTHAND_PREFIX)
    parts = substitute(pattern, context) if variables else [(False, pattern)]
    if parts is None:
        # IAM User Guide, "Policy variables with no value": "If a variable that has no value in
        # the authorization context is used as part of the Resource or NotResource element of a
        # policy, the resource that includes a policy variable with no value will not match any
        # resource." In NotResource such an entry therefore excepts nothing, and the statement
        # still applies to every resource its other entries do not list: as on AWS, on purpose.
        return False
    return compile_wildcard(parts, arn_segments=True).fullmatch(resource) is not None


def _combine(decisions: Sequence[Decision]) -> Decision:
    if Decision.EXPLICIT_DENY in decisions:
        return Decision.EXPLICIT_DENY
    if Decision.ALLOW in decisions:
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def authorize(
    *,
    resource_policy: Policy | None,
    identity_policies: Sequence[Policy],
    ctx: RequestContext,
    api_account: str,
    iam_auth: bool,
) -> Decision:
    """API Gateway's decision (`authorization` without the rule and the statements)."""
    return authorization(
        resource_policy=resource_policy,
        identity_policies=identity_policies,
        ctx=ctx,
        api_account=api_account,
        iam_auth=iam_auth,
    ).decision


def authorization(
    *,
    resource_policy: Policy | None,
    identity_policies: Sequence[Policy],
    ctx: RequestContext,
    api_account: str,
    iam_auth: bool,
) -> Authorization:
    """Combine the resource policy and the caller's identity policies as API Gateway does.

    - Without IAM auth only the resource policy counts and it must allow explicitly. With no
      resource policy this returns IMPLICIT_DENY ("nothing allowed it"): a caller serving a
      REGIONAL API without a policy should not call authorize at all; a PRIVATE API without a
      policy rejects everything, which is exactly this answer.
    - With IAM auth an explicit deny in either wins. Same account (caller's account ==
      api_account): ALLOW if the resource policy OR an identity policy allows (a missing resource
      policy allows nothing). Other account: both must allow, so without a resource policy
      a cross-account caller is always IMPLICIT_DENY.

    The rule: EXPLICIT_DENY, ALLOWED, NO_ALLOW (no policy that counts allows), or
    CROSS_ACCOUNT_NEEDS_BOTH (another account's caller that only one of the two allows). IAM User
    Guide, "Policy evaluation logic" and "Cross-account policy evaluation logic"; API Gateway
    Developer Guide, "How API Gateway resource policies affect authorization workflow", tables A
    and B.
    """
    return _authorization(
        resource_policy, identity_policies, ctx, request_values(ctx), api_account, iam_auth
    )


def _authorization(
    resource_policy: Policy | None,
    identity_policies: Sequence[Policy],
    ctx: RequestContext,
    context: ContextValues,
    api_account: str,
    iam_auth: bool,
) -> Authorization:
    rp = outcome(resource_policy, ctx, context=context) if resource_policy else None
    resource = rp.decision if rp else Decision.IMPLICIT_DENY
    if not iam_auth:
        return Authorization(resource, _rule(resource), rp, ())
    identities = tuple(
        outcome(p, ctx, require_principal=False, context=context) for p in identity_policies
    )
    identity = _combine([o.decision for o in identities])
    if Decision.EXPLICIT_DENY in (resource, identity):
        return Authorization(Decision.EXPLICIT_DENY, Rule.EXPLICIT_DENY, rp, identities)
    allowed = (resource, identity)
    if _caller_account(ctx) == api_account:
        rule = Rule.ALLOWED if Decision.ALLOW in allowed else Rule.NO_ALLOW
    elif allowed == (Decision.ALLOW, Decision.ALLOW):
        rule = Rule.ALLOWED
    else:
        rule = Rule.CROSS_ACCOUNT_NEEDS_BOTH if Decision.ALLOW in allowed else Rule.NO_ALLOW
    decision = Decision.ALLOW if rule is Rule.ALLOWED else Decision.IMPLICIT_DENY
    return Authorization(decision, rule, rp, identities)


class AuthorizationMemo:
    """`authorization` with its most recent answers kept: a repeated caller costs one lookup.

    Exact by construction: `authorization` is a pure function of the policies, `api_account`,
    `iam_auth`, the caller (`principal_arn`, `principal_account`), the action, the resource
    and the values of the request keys the policies reference (`Policy.referenced_keys`, as the
    evaluation reads them: lower-cased and normalised), and those are the memo's key. A key no
    policy reads (the Referer, the time when no condition tests it) does not split the memo;
    one a policy reads does, so a policy on aws:CurrentTime is judged afresh each second. The
    answers are immutable `Authorization`s, so the rule and the deciding statements of a
    remembered answer are the ones a fresh evaluation gives.

    Policies are told apart by identity (hashing a whole document per request would cost what
    the memo saves); every entry holds the policies it was made with, so no other policy can
    take one of their ids while the entry lives. Least recently used entries go first once
    `maxsize` are kept.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self._answers: BoundedMemo[
            tuple[object, ...], tuple[tuple[Policy | None, ...], Authorization]
        ] = BoundedMemo(maxsize)

    def __len__(self) -> int:
        return len(self._answers)

    def __call__(
        self,
        *,
        resource_policy: Policy | None,
        identity_policies: Sequence[Policy],
        ctx: RequestContext,
        api_account: str,
        iam_auth: bool,
    ) -> Authorization:
        """What `authorization` answers for the same arguments."""
        policies = (resource_policy, *identity_policies)
        referenced = frozenset().union(*[p.referenced_keys for p in policies if p is not None])
        # With the caller in the key, the keys the policies read give `request_values`'s values
        # for them: its defaults for aws:PrincipalArn/aws:PrincipalAccount come from the caller.
        values = normalize_context(ctx.condition_keys, referenced)
        key = (
            tuple(map(id, policies)),
            api_account,
            iam_auth,
            ctx.principal_arn,
            ctx.principal_account,
            ctx.action,
            ctx.resource,
            tuple(sorted(values.items())),
        )
        kept = self._answers.get(key)
        if kept is not None:
            return kept[1]
        answer = _authorization(
            resource_policy, identity_policies, ctx, request_values(ctx), api_account, iam_auth
        )
        self._answers.put(key, (policies, answer))
        return answer


def _rule(decision: Decision) -> Rule:
    return {
        Decision.ALLOW: Rule.ALLOWED,
        Decision.EXPLICIT_DENY: Rule.EXPLICIT_DENY,
        Decision.IMPLICIT_DENY: Rule.NO_ALLOW,
    }[decision]


def denial_message(ctx: RequestContext, decision: Decision) -> str:
    """API Gateway's 403 message for a policy denial (the `Message` of the JSON body).

    As observed from API Gateway, the account id in the resource ARN shows only its last four
    digits: `arn:aws:execute-api:us-west-2:********2543:abcde12345/prod/GET/`.
    """
    user = ctx.principal_arn or "anonymous"
    resource = _mask_account(ctx.resource)
    message = f"User: {user} is not authorized to perform: {ctx.action} on resource: {resource}"
    return message + " with an explicit deny" if decision is Decision.EXPLICIT_DENY else message


def _mask_account(arn: str) -> str:
    parts = arn.split(":", 5)
    if len(parts) == 6 and _ACCOUNT_ID.fullmatch(parts[4]):
        parts[4] = "*" * 8 + parts[4][-4:]
    return ":".join(parts)

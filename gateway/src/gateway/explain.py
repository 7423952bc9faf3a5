"""Why a policy decided as it did: every statement of the policies the gateway evaluated, each
element (Principal, Action, Resource, each condition) with whether it held for the request and
why. The answers come from the evaluator's own predicates (`gateway.policy.principal_applies`,
`action_applies`, `resource_applies`, `Condition.evaluate`) and the statements that applied from
`gateway.policy.authorization`; this module only words them.

Framework-free: a `gateway.access.Verdict` in, plain dataclasses out (`explain`); the check's
text and JSON are `gateway.reports`'.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gateway.access import AUTHORIZER, NO_ENDPOINT, NO_POLICY, NO_ROUTE, UNSIGNED, Request, Verdict
from gateway.apis import Api
from gateway.conditions import (
    OPERATORS,
    Condition,
    ContextValues,
    invalidates_statement,
    substitute,
    wildcard_match,
)
from gateway.facts import key_name
from gateway.policy import (
    Outcome,
    Policy,
    RequestContext,
    Rule,
    Statement,
    action_applies,
    principal_applies,
    principal_names,
    request_values,
    resource_applies,
    resource_pattern_hit,
)


@dataclass(frozen=True)
class Element:
    holds: bool
    why: str


@dataclass(frozen=True)
class ConditionResult:
    operator: str
    key: str
    values: tuple[str, ...]
    request_values: tuple[str, ...]
    holds: bool
    why: str


@dataclass(frozen=True)
class StatementResult:
    statement: Statement
    applies: bool
    principal: Element
    action: Element
    resource: Element
    conditions: tuple[ConditionResult, ...]


@dataclass(frozen=True)
class PolicyResult:
    name: str  # "resource" or "identity[<n>]", as the access log's decidingStatements
    decision: str
    statements: tuple[StatementResult, ...]


@dataclass(frozen=True)
class Explanation:
    verdict: Verdict
    reason: str  # the rule, in words
    policies: tuple[PolicyResult, ...]  # empty when no policy was evaluated


def explain(api: Api, request: Request, verdict: Verdict) -> Explanation:
    decided, ctx = verdict.authorization, verdict.ctx
    policies: list[PolicyResult] = []
    if decided is not None and ctx is not None:
        shorten = _shortener(api)
        if decided.resource is not None and api.resource_policy is not None:
            policies.append(
                _policy("resource", api.resource_policy, decided.resource, ctx, shorten, True)
            )
        identity_policies = request.identity_policies if decided.identity else ()
        for n, (policy, result) in enumerate(zip(identity_policies, decided.identity, strict=True)):
            policies.append(_policy(f"identity[{n}]", policy, result, ctx, shorten, False))
    return Explanation(verdict, _reason(api, request, verdict), tuple(policies))


def explain_statement(
    statement: Statement,
    ctx: RequestContext,
    *,
    require_principal: bool,
    variables: bool,
    shorten: Callable[[str], str] = str,
) -> StatementResult:
    """Each element of `statement` for `ctx`; `applies` is their AND, as the evaluator's."""
    context = request_values(ctx)
    principal = Element(
        principal_applies(statement, ctx, require_principal=require_principal),
        _principal_why(statement, ctx, require_principal),
    )
    action_entry = next(
        (a for a in statement.actions if wildcard_match(a, ctx.action, ignore_case=True)), None
    )
    action = Element(
        action_applies(statement, ctx),
        _listing("NotAction" if statement.not_action else "Action", action_entry, ctx.action),
    )
    resource = Element(
        resource_applies(statement, ctx, context, variables=variables),
        _resource_why(statement, ctx, context, variables, shorten),
    )
    conditions = tuple(_condition(c, context, variables) for c in statement.conditions)
    applies = (
        principal.holds and action.holds and resource.holds and all(c.holds for c in conditions)
    )
    return StatementResult(statement, applies, principal, action, resource, conditions)


def _policy(
    name: str,
    policy: Policy,
    result: Outcome,
    ctx: RequestContext,
    shorten: Callable[[str], str],
    require_principal: bool,
) -> PolicyResult:
    variables = policy.version == "2012-10-17"
    statements = tuple(
        explain_statement(
            s, ctx, require_principal=require_principal, variables=variables, shorten=shorten
        )
        for s in policy.statements
    )
    assert {s.statement.index for s in statements if s.applies} == {
        s.index for s in result.applying
    }, "the explanation must agree with the evaluator"
    return PolicyResult(name, result.decision.value, statements)


def _principal_why(statement: Statement, ctx: RequestContext, require_principal: bool) -> str:
    if statement.principals is None:
        return (
            "no Principal: an identity policy applies to the caller it is attached to"
            if not require_principal
            else "no Principal: a resource policy statement without one applies to nobody"
        )
    field = "NotPrincipal" if statement.not_principal else "Principal"
    named = principal_names(statement, ctx)
    caller = ctx.principal_arn or "anonymous"
    if ctx.principal_arn is None and not named:
        return f"{field} does not name {caller}: an anonymous caller is named only by '*'"
    if not named:
        return f"{field} names neither {caller}, its role nor its account"
    listed = "; ".join(f"{entry} ({how})" for how, entry in named)
    if not statement.not_principal:
        return f"{field} names the caller: {listed}"
    if any(how == "everyone" for how, _ in named):
        return f"{field} '*' excepts every caller"
    needed = {"account", "caller"} | ({"role"} if ":assumed-role/" in caller else set())
    missing = needed - {how for how, _ in named}
    if not missing:
        return f"{field} excepts the caller, listing its account, ARN and role: {listed}"
    return (
        f"{field} lists {listed} but not the caller's {', '.join(sorted(missing))}: the"
        " caller is not excepted (IAM checks the account, the role and the session)"
    )


def _listing(field: str, entry: str | None, value: str) -> str:
    if entry is None:
        return f"{value} matches no entry of {field}"
    return f"{value} matches {field} {entry}"


def _resource_why(
    statement: Statement,
    ctx: RequestContext,
    context: ContextValues,
    variables: bool,
    shorten: Callable[[str], str],
) -> str:
    field = "NotResource" if statement.not_resource else "Resource"
    if variables:
        bad = next((r for r in statement.resources if invalidates_statement(r, context)), None)
        if bad is not None:
            return f"{field} {shorten(bad)} uses a variable of an identity the caller lacks"
    hit = resource_pattern_hit(statement, ctx, context, variables=variables)
    resource = shorten(ctx.resource)
    if statement.not_resource:
        if hit is None:
            return f"{resource} is listed in NotResource"
        return f"{resource} is not listed in NotResource"
    if hit is None:
        listed = ", ".join(shorten(r) for r in statement.resources)
        return f"{resource} matches none of {listed}"
    return f"{resource} matches {shorten(hit)}"


def _condition(condition: Condition, context: ContextValues, variables: bool) -> ConditionResult:
    holds = condition.evaluate(context, variables=variables)
    described, why = describe_condition(condition, context, variables=variables)
    assert described == holds, f"the explanation of {condition} must agree with the evaluator"
    return ConditionResult(
        operator=condition.operator,
        key=key_name(condition.key),
        values=condition.values,
        request_values=context.get(condition.key, ()),
        holds=holds,
        why=why,
    )


def describe_condition(
    condition: Condition, context: ContextValues, *, variables: bool
) -> tuple[bool, str]:
    """Why `condition` holds or not, following the rules `Condition.evaluate` implements (IAM
    User Guide, "Condition operators", "Conditions with multiple context keys or values",
    "Policy variables with no value"); returns the outcome the words describe."""
    key = key_name(condition.key)
    if variables:
        bad = next((v for v in condition.values if invalidates_statement(v, context)), None)
        if bad is not None:
            return False, f"{bad} uses a variable of an identity the caller lacks: invalid"
    present = context.get(condition.key, ())
    if condition.base == "Null":
        wanted = {v.lower() == "true" for v in condition.values}
        state = "missing" if not present else "present"
        return (not present) in wanted, f"{key} is {state}"
    _, negated, _ = OPERATORS[condition.base]
    if not present:
        if condition.if_exists:
            return True, f"{key} is not in the request: ...IfExists holds"
        if condition.qualifier == "ForAllValues":
            return True, f"{key} is not in the request: ForAllValues holds for no values"
        if condition.qualifier == "ForAnyValue":
            return False, f"{key} is not in the request: ForAnyValue needs a value"
        if negated:
            return True, f"{key} is not in the request: a negated operator holds"
        return False, f"{key} is not in the request"
    matcher = OPERATORS[condition.base][0]
    resolved: list[tuple[str, list[tuple[bool, str]]]] = []
    nulls: list[str] = []
    for value in condition.values:
        parts = substitute(value, context) if variables else [(False, value)]
        if parts is None:
            nulls.append(value)
        else:
            resolved.append((value, parts))
    words: list[str] = []
    outcomes: list[bool] = []
    for request_value in present:
        hits = [v for v, parts in resolved if matcher(parts, request_value)]
        outcomes.append(not hits if negated else bool(hits))
        if hits:
            words.append(f"{request_value} matches {', '.join(hits)}")
        else:
            listed = ", ".join(v for v, _ in resolved) or "nothing"
            words.append(f"{request_value} matches none of {listed}")
    if condition.qualifier == "ForAllValues":
        holds = all(outcomes)
    elif condition.qualifier == "ForAnyValue" or not negated:
        holds = any(outcomes)
    else:
        holds = all(outcomes)
    why = f"{key}: " + "; ".join(words)
    if nulls:
        why += f" ({', '.join(nulls)}: a variable without a value, null, matches nothing)"
    return holds, why


def _shortener(api: Api) -> Callable[[str], str]:
    prefix = f"arn:aws:execute-api:{api.region}:{api.account}:{api.id}/"

    def shorten(arn: str) -> str:
        return "execute-api:/" + arn.removeprefix(prefix) if arn.startswith(prefix) else arn

    return shorten


def _reason(api: Api, request: Request, verdict: Verdict) -> str:
    rule, decided = verdict.rule, verdict.authorization
    if rule == NO_ENDPOINT:
        return (
            f"{api.name} is a PRIVATE API and the request comes through no VPC endpoint:"
            " 403 Forbidden before any policy (give --vpce)"
        )
    if rule == UNSIGNED:
        return (
            f"{route_of(verdict)} uses AWS_IAM: an unsigned request gets 403 Missing"
            " Authentication Token before any policy (give --identity or --principal)"
        )
    if rule == NO_ROUTE:
        return f"{api.name} has no route for {request.method} {request.path}"
    if rule == AUTHORIZER:
        return (
            f"{route_of(verdict)} has a Lambda authorizer: the resource policy denies nothing"
            " explicitly, and what the function answers decides (no tool can tell)"
        )
    if rule == NO_POLICY:
        return f"{api.name} has no resource policy and no IAM auth on {route_of(verdict)}"
    assert decided is not None
    deciding = ", ".join(decided.deciding_statements())
    if decided.rule is Rule.EXPLICIT_DENY:
        return f"{deciding} {'denies' if ',' not in deciding else 'deny'}, whatever allows"
    if decided.rule is Rule.CROSS_ACCOUNT_NEEDS_BOTH:
        if deciding.startswith("resource"):
            which = f"the resource policy allows ({deciding}), no identity policy does"
        else:
            which = f"an identity policy allows ({deciding}), the resource policy does not"
        return (
            f"the caller's account ({_account(verdict)}) is not the API's ({api.account}):"
            f" both policies must allow; {which}" + _identity_hint(request)
        )
    if decided.rule is Rule.NO_ALLOW:
        iam = verdict.match is not None and verdict.match.route.data.iam_auth
        if iam and api.resource_policy is None:
            return "no resource policy, and no identity policy allows" + _identity_hint(request)
        if iam:
            return "neither the resource policy nor an identity policy allows" + _identity_hint(
                request
            )
        return "no statement of the resource policy allows"
    verb = "allows" if len(decided.deciding_statements()) == 1 else "allow"
    if decided.identity and _account(verdict) != api.account:
        return f"{deciding} {verb} (another account's caller: both policies must, and do)"
    return f"{deciding} {verb}"


def _identity_hint(request: Request) -> str:
    if request.identity_known:
        return ""
    return " (--principal has no identity policies; --identity takes a configured caller's)"


def _account(verdict: Verdict) -> str:
    return verdict.authenticated.account if verdict.authenticated else "none"


def route_of(verdict: Verdict) -> str:
    match = verdict.match
    return f"{match.route.method} {match.route.resource_path}" if match else "(no route)"

"""Who can call an API (`python -m gateway analyze`): a table of the caller classes its resource
policy tells apart (`gateway.callers`) against its routes and methods, and what a reviewer must
see.

Each route's paths are split the same way, by the Resource patterns (`gateway.patterns`: a route
serves its template's paths less those a more specific route takes). Every cell is one
representative request judged by the gateway's own path (`gateway.access.judge`: the facts and
the evaluator the gateway runs), and within a class every statement decides alike, so the table
is exact, except for the statements listed as not analysed exactly.

Identity policies are not part of the analysis: a caller of another account also needs its own
identity policy to allow ("allow"), and a caller of the API's account the resource policy does
not allow may still be allowed by its identity policy alone ("iam"). Paths are the canonical
spellings (single '/', no trailing '/', nothing percent-encoded).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from gateway.access import (
    NO_POLICY,
    OUTSIDE_ADDRESS,
    UNSIGNED,
    Request,
    Setup,
    Verdict,
    endpoint_address,
    judge,
)
from gateway.apis import Api
from gateway.callers import CallerClass, Inexact, caller_classes
from gateway.config import HTTP_METHODS
from gateway.explain import StatementResult, explain_statement
from gateway.facts import OFFERED_KEYS, key_name, request_context
from gateway.patterns import Language, TooComplex, any_path, atoms, glob, route_path, union
from gateway.policy import Policy, RequestContext, Rule, Statement
from gateway.routing import ANY_METHOD, HTTP_DEFAULT_ROUTE, Route

PATH_SAFE = "/:@!$&'()*+,;=-._~"  # characters a path carries unencoded

ACROSS_ACCOUNTS = " (a caller of another account also needs its identity policy to allow)"
CELL_MEANINGS = {
    "open": "no resource policy and no IAM auth: nothing is evaluated",
    "allow": "the resource policy allows",
    "DENY": "explicitly denied",
    "iam": "the resource policy does not allow; a caller of the API's account is allowed if its"
    " identity policy allows",
    "auth": "refused before the policy: an AWS_IAM route needs a signature",
    "authz": "the route's Lambda authorizer decides (no explicit deny of the resource policy)",
    "-": "not allowed (no statement allows)",
}


@dataclass(frozen=True)
class Column:
    classes: tuple[CallerClass, ...]  # one per dimension
    code: str

    def of(self, letter: str) -> CallerClass | None:
        return next((c for c in self.classes if c.code[0] == letter), None)


@dataclass(frozen=True)
class Row:
    resource_path: str
    methods: tuple[str, ...]
    paths: str | None  # which of the route's paths, when the policy tells them apart
    example: str  # a path of the row, as requested
    cells: tuple[str, ...]  # one per column, a key of CELL_MEANINGS

    @property
    def label(self) -> str:
        methods = "ANY" if set(self.methods) == set(HTTP_METHODS) else ",".join(self.methods)
        paths = f" [{self.paths}, e.g. {self.example}]" if self.paths else ""
        return f"{methods} {self.resource_path}{paths}"


@dataclass(frozen=True)
class Finding:
    kind: str  # no-policy, any-endpoint, any-principal, always-holds, no-route, never-applies
    statement: str | None
    message: str


@dataclass
class Report:
    api: Api
    dimensions: list[tuple[str, list[CallerClass]]]
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    inexact: list[tuple[str, str]] = field(default_factory=list)  # (statement or route, why)


def analyze(api: Api, setup: Setup, *, now: datetime) -> Report:
    """The table and the findings for `api` (its resource policy as loaded); `now` is the time
    of every representative request (only time conditions depend on it: not analysed exactly)."""
    inexact = Inexact()
    vpcs_of = {vpce: e.vpc_id for vpce, e in setup.endpoints.items()}
    dimensions = caller_classes(api, vpcs_of, inexact)
    columns = []
    for combo in itertools.product(*(classes for _, classes in dimensions)):
        varying = [c.code for c, (_, d) in zip(combo, dimensions, strict=True) if len(d) > 1]
        columns.append(Column(combo, "/".join(varying) or "any"))
    report = Report(api, dimensions, columns)
    judged: list[RequestContext] = []
    for route in api.routes.routes:
        report.rows.extend(_rows(report, setup, route, now, judged, inexact))
    report.findings = _findings(report, setup, judged, now, inexact)
    report.inexact = [(label, "; ".join(dict.fromkeys(why))) for label, why in inexact.items()]
    return report


# --- rows -------------------------------------------------------------------------------------


def _rows(
    report: Report,
    setup: Setup,
    route: Route,
    now: datetime,
    judged: list[RequestContext],
    inexact: Inexact,
) -> list[Row]:
    api = report.api
    patterns = _patterns(api.resource_policy)
    merged: dict[tuple[str | None, tuple[str, ...]], tuple[list[str], str]] = {}
    for method in HTTP_METHODS if route.method == ANY_METHOD else (route.method,):
        prefix = api.execute_api_arn(method, "")
        free = [Language(glob(p, arn_segments=True), None, prefix) for p in patterns]
        try:
            found = atoms([*_served(api, route, method), *free])
        except TooComplex as exc:
            inexact.setdefault(f"{method} {route.resource_path}", []).append(str(exc))
            continue
        varying = [i for i in range(len(patterns)) if len({v[i] for v in found}) > 1]
        for vector, path in sorted(found.items(), key=lambda item: item[1]):
            paths = None
            if varying:
                like = [_short(api, patterns[i]) for i in varying if vector[i]]
                paths = "like " + ", ".join(like) if like else "other paths"
            example = "/" + quote(path, safe=PATH_SAFE)
            cells = []
            for column in report.columns:
                verdict = judge(api, _request(setup, method, example, column, now))
                if verdict.match is not None and verdict.match.route is not route:
                    served = verdict.match.route.resource_path
                    why = f"{method} {example} is served by {served}"
                    inexact.setdefault(f"{method} {route.resource_path}", []).append(why)
                if verdict.ctx is not None:
                    judged.append(verdict.ctx)
                cells.append(cell(api, verdict))
            merged.setdefault((paths, tuple(cells)), ([], example))[0].append(method)
    return [
        Row(route.resource_path, tuple(methods), paths, example, cells)
        for (paths, cells), (methods, example) in merged.items()
    ]


def _patterns(policy: Policy | None) -> list[str]:
    statements = policy.statements if policy else ()
    return list(dict.fromkeys(r for s in statements for r in s.resources if "${" not in r))


def _rank(route: Route, method: str) -> tuple[tuple[int, ...], int]:
    """How `gateway.routing.RouteTable.match` ranks the route: its segments (static 2,
    `{param}` 1, `{proxy+}` 0), then its method over ANY."""
    kinds: list[int] = []
    for part in (p for p in route.resource_path.split("/") if p):
        kinds.append(0 if part.endswith("+}") else 1 if part.startswith("{") else 2)
        if kinds[-1] == 0:
            break
    return tuple(kinds), 1 if route.method == method else 0


def _template(route: Route) -> str | None:
    return None if route.resource_path == HTTP_DEFAULT_ROUTE else route.resource_path


def _served(api: Api, route: Route, method: str) -> list[Language]:
    """The paths `route` serves for `method`: its template's, less those a better route takes
    (an HTTP API's `$default` serves what no other route does)."""
    others = [
        r
        for r in api.routes.routes
        if r is not route and r.method in (method, ANY_METHOD) and _template(r) is not None
    ]
    if _template(route) is not None:
        others = [r for r in others if _rank(r, method) > _rank(route, method)]
    taken = [Language(route_path(_template(r)), False) for r in others]
    return [Language(route_path(_template(route)), True), *taken]


def _request(setup: Setup, method: str, path: str, column: Column, now: datetime) -> Request:
    """The representative request of `column` (one class per dimension)."""
    principal, endpoint, address = column.of("P"), column.of("E"), column.of("I")
    vpce = endpoint.vpce_id if endpoint else None
    source_ip = address.address if address else None
    if source_ip is None:
        known = setup.endpoints.get(vpce) if vpce else None
        source_ip = endpoint_address(known) if known else OUTSIDE_ADDRESS
    headers = {}
    for letter, name in (("U", "user-agent"), ("R", "referer")):
        header = column.of(letter)
        if header is not None and header.header is not None:
            headers[name] = header.header
    return Request(
        method=method,
        path=path,
        caller=principal.caller if principal else None,
        identity_policies=(),
        identity_known=False,
        source_ip=source_ip,
        vpce_id=vpce,
        vpc_id=endpoint.vpc_id if endpoint else None,
        headers=headers,
        time=now,
    )


def cell(api: Api, verdict: Verdict) -> str:
    """The table's word for a verdict on a representative request (CELL_MEANINGS)."""
    if verdict.rule == NO_POLICY:
        return "open"
    if verdict.undecided:
        return "authz"
    if verdict.allowed or verdict.rule == Rule.CROSS_ACCOUNT_NEEDS_BOTH.value:
        return "allow"  # across accounts the resource policy allowed; the identity policy must too
    if verdict.explicit:
        return "DENY"
    if verdict.rule == UNSIGNED:
        return "auth"
    caller, match = verdict.authenticated, verdict.match
    iam = match is not None and match.route.data.iam_auth
    if iam and caller is not None and caller.account == api.account:
        return "iam"
    return "-"


def _short(api: Api, arn: str) -> str:
    prefix = f"arn:aws:execute-api:{api.region}:{api.account}:{api.id}/"
    return "execute-api:/" + arn.removeprefix(prefix) if arn.startswith(prefix) else arn


# --- findings ---------------------------------------------------------------------------------


def _findings(
    report: Report,
    setup: Setup,
    judged: list[RequestContext],
    now: datetime,
    inexact: Inexact,
) -> list[Finding]:
    api, policy = report.api, report.api.resource_policy
    if policy is None:
        opened = [row for row in report.rows if "open" in row.cells]
        if api.private:
            who = "nobody may call it"
        elif opened:
            who = f"anyone who reaches it may call {_routes(report, opened)}"
        else:
            who = "the Lambda authorizers decide every call"
        return [Finding("no-policy", None, f"no resource policy: {who}")]
    findings: list[Finding] = []
    allowed = [
        (row, column)
        for row in report.rows
        for column, cell in zip(report.columns, row.cells, strict=True)
        if cell == "allow"
    ]
    unnamed_endpoint = [row for row, col in allowed if not _named(col, "E")]
    if api.private and unnamed_endpoint:
        findings.append(Finding("any-endpoint", None, (
            f"any VPC endpoint: {_routes(report, unnamed_endpoint)} allowed through VPC endpoints"
            " the policy does not name (on AWS an endpoint of any account can reach a private API)"
        )))  # fmt: skip
    unnamed = [(row, col.of("P")) for row, col in allowed if not _named(col, "P")]
    signed = [row for row, p in unnamed if p is not None and p.caller is not None]
    anonymous = [row for row, p in unnamed if p is None or p.caller is None]
    if signed:
        findings.append(Finding("any-principal", None, (
            f"any principal: {_routes(report, signed)} allowed for principals the policy does not"
            " name (of any account, if their identity policy allows it)"
        )))  # fmt: skip
    if anonymous:
        findings.append(Finding("any-principal", None, (
            f"any caller: {_routes(report, anonymous)} allowed for anonymous callers (no IAM"
            " auth: the gateway authenticates nobody)"
        )))  # fmt: skip
    on_routes = _applying(policy, judged)
    anywhere, held = _anywhere(report, setup, now)
    for statement in policy.statements:
        label = f"{statement.label} ({statement.effect})"
        for c in statement.conditions:
            if c.key not in OFFERED_KEYS and c.evaluate({}):
                findings.append(Finding("always-holds", statement.label, (
                    f"{label}: {c.operator} on {key_name(c.key)} always holds: the API never"
                    " sets the key"
                )))  # fmt: skip
        if statement.index in on_routes or statement.label in inexact:
            continue
        if statement.index in anywhere:
            findings.append(Finding("no-route", statement.label, (
                f"{label} applies to no route of the API, only to requests it has no route for"
            )))  # fmt: skip
            continue
        never = [name for name, holds in held[statement.index].items() if not holds]
        why = "; ".join(never) or "its elements never hold together"
        dead = "is a dead Deny" if statement.effect == "Deny" else "can never apply"
        findings.append(Finding("never-applies", statement.label, f"{label} {dead}: {why}"))
    return findings


def _named(column: Column, letter: str) -> bool:
    cls = column.of(letter)
    return cls is None or cls.named


def _routes(report: Report, rows: Sequence[Row]) -> str:
    labels = list(dict.fromkeys(row.label for row in report.rows if row in rows))
    if len(labels) == len({row.label for row in report.rows}):
        return "every route"
    return ", ".join(labels)


def _applying(policy: Policy, contexts: list[RequestContext]) -> set[int]:
    variables = policy.version == "2012-10-17"
    return {
        s.index
        for ctx in contexts
        for s in policy.statements
        if explain_statement(s, ctx, require_principal=True, variables=variables).applies
    }


def _anywhere(
    report: Report, setup: Setup, now: datetime
) -> tuple[set[int], dict[int, dict[str, bool]]]:
    """The statements that apply to some request, with a route or not, and for each statement
    which of its elements ever held: each judged for every caller class (and anonymous) on the
    paths its own Resource names, for every method."""
    api, policy = report.api, report.api.resource_policy
    assert policy is not None
    variables = policy.version == "2012-10-17"
    anonymous = CallerClass("P0", "anonymous", False)
    applies: set[int] = set()
    held: dict[int, dict[str, bool]] = {}
    for statement in policy.statements:
        elements = held.setdefault(statement.index, {})
        for method in HTTP_METHODS:
            for path in _paths_named(api, statement, method):
                for column in report.columns:
                    for principal in (column.of("P"), anonymous):
                        ctx = _context(api, setup, method, path, principal, column, now)
                        result = explain_statement(
                            statement, ctx, require_principal=True, variables=variables
                        )
                        if result.applies:
                            applies.add(statement.index)
                        for name, holds in _elements(result):
                            elements[name] = elements.get(name, False) or holds
    return applies, held


def _paths_named(api: Api, statement: Statement, method: str) -> list[str]:
    """A path for which `statement`'s Resource (NotResource) element holds, if there is one."""
    patterns = [r for r in statement.resources if "${" not in r]
    if not patterns:
        return ["/x"]
    prefix = api.execute_api_arn(method, "")
    nfa = union([glob(p, arn_segments=True) for p in patterns])
    try:
        found = atoms(
            [Language(any_path(), True), Language(nfa, not statement.not_resource, prefix)]
        )
    except TooComplex:
        return []
    return ["/" + quote(path, safe=PATH_SAFE) for path in found.values()]


def _elements(result: StatementResult) -> list[tuple[str, bool]]:
    s = result.statement
    principal = (
        "its NotPrincipal excepts every caller"
        if s.not_principal
        else "its Principal names no caller the API can have"
    )
    resource = "its NotResource lists every resource" if s.not_resource else (
        "its Resource names no resource of this API"
    )  # fmt: skip
    return [
        (principal, result.principal.holds),
        ("its Action never matches execute-api:Invoke", result.action.holds),
        (resource, result.resource.holds),
        *((_condition_never(c.operator, c.key), c.holds) for c in result.conditions),
    ]


def _condition_never(operator: str, key: str) -> str:
    unset = "" if key.lower() in OFFERED_KEYS else ", a key the API never sets,"
    return f"its condition {operator} on {key_name(key)}{unset} never holds"


def _context(
    api: Api,
    setup: Setup,
    method: str,
    path: str,
    principal: CallerClass | None,
    column: Column,
    now: datetime,
) -> RequestContext:
    request = _request(setup, method, path, column, now)
    return request_context(
        api=api,
        method=method,
        path=path,
        caller=principal.caller if principal else None,
        source_ip=request.source_ip,
        vpce_id=request.vpce_id,
        vpc_id=request.vpc_id,
        user_agent=request.headers.get("user-agent"),
        referer=request.headers.get("referer"),
        now=now,
    )

"""`python -m gateway analyze`: who can call an API, from its resource policy's own values. The
tables of the project's APIs and of AWS's documented sample policies (API Gateway Developer
Guide, "API Gateway resource policy examples"), exactly; what a reviewer must see; what cannot
be analysed exactly; and other members of a class get the same answer as its representative."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from gateway.access import Request, Setup, judge
from gateway.analysis import analyze, cell
from gateway.apis import Api
from gateway.facts import Caller
from gateway.policy import expand_execute_api_shorthand, parse_policy
from gateway.reports import analysis_json, analysis_text
from gateway.routing import Route, RouteTable

from gateway.config import DEFAULT_CONFIG_PATH, load_config

from .test_policy import (
    ACCOUNT_ALLOW_LIST,
    GET_ONLY_FROM_CONSUMER,
    SOURCE_IP_DENY_LIST,
    SOURCE_VPCE_ALLOW_LIST,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
SETUP = Setup(load_config(DEFAULT_CONFIG_PATH, environ={}))
ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"


def api(name: str) -> Api:
    return SETUP.api(name)


def attach(to: Api, document: dict, **changes) -> Api:
    """`to` with `document` as its resource policy, expanded as API Gateway saves it."""
    policy = parse_policy(document)
    policy = expand_execute_api_shorthand(policy, region=to.region, account=to.account,
                                          api_id=to.id)  # fmt: skip
    return replace(to, resource_policy=policy, **changes)


def routes_of(of: Api, *, iam_auth: bool) -> RouteTable:
    """`of`'s routes, each with AWS_IAM auth or none, and without their Lambda authorizer (the
    mtls API's routes are the vehicle of AWS's sample policies, which assume none)."""
    routes = [Route(r.resource_path, r.method, replace(r.data, iam_auth=iam_auth, authorizer=None))
              for r in of.routes.routes]  # fmt: skip
    return RouteTable(routes, http_api=of.http_api)


ANONYMOUS_MTLS = {"routes": routes_of(api("mtls"), iam_auth=False)}
IAM_MTLS = {"routes": routes_of(api("mtls"), iam_auth=True)}


def text(of: Api) -> str:
    return analysis_text(analyze(of, SETUP, now=NOW))


ALLOW_IAM = (
    "  allow  the resource policy allows (a caller of another account also needs its identity"
    " policy to allow)"
)
IAM = (
    "  iam    the resource policy does not allow; a caller of the API's account is allowed if its"
    " identity policy allows"
)
FIVE_ROUTES = ("/dogs", "/dogs/males", "/dogs/females", "/todo", "/todo/{todoId}")
PARTNER_SIDS = (
    "ConsumerRoleReadsThroughConsumerEndpoint, OnlyReadMethods, OnlyThroughConsumerEndpoint"
)
ANY_CALLER = (
    "  ! any caller: every route allowed for anonymous callers (no IAM auth: the gateway"
    " authenticates nobody)"
)
ANY_ENDPOINT = (
    "  ! any VPC endpoint: GET /dogs allowed through VPC endpoints the policy does not name (on"
    " AWS an endpoint of any account can reach a private API)"
)


def table(rows: list[str]) -> str:
    return "\n".join(rows)


PARTNER = f"""\
partner (partnerap1): PRIVATE REST API of account 111111111111, stage prod
  auth: AWS_IAM (SigV4) on every route
  resource policy: {PARTNER_SIDS}
callers (from the policy's own values)
  P1  a session of {ROLE}
  P2  another principal of account 111111111111 (the API's)
  P3  any other principal (another account)
  E1  through vpce-04444444444444444
  E2  through any other VPC endpoint
  I1  any address (the policy names none)
who may call
  route               P1/E1  P1/E2  P2/E1  P2/E2  P3/E1  P3/E2
{table([f"  GET {p:<15} allow  DENY   iam    DENY   -      DENY" for p in FIVE_ROUTES])}
{ALLOW_IAM}
  DENY   explicitly denied
{IAM}
  -      not allowed (no statement allows)
findings
  ! OnlyReadMethods (Deny) applies to no route of the API, only to requests it has no route for
not analysed exactly
  none: every statement is analysed exactly
"""


def one_endpoint(vpce: str) -> str:
    """The callers and the table's head of a private API whose policy names one endpoint."""
    return f"""\
callers (from the policy's own values)
  P1  anonymous (a route without IAM auth)
  E1  through {vpce}
  E2  through any other VPC endpoint
  I1  any address (the policy names none)
who may call
  route               E1     E2"""


# The mtls API: every route behind the shared-secret TOKEN authorizer, which decides what the
# resource policy does not deny.
MTLS = f"""\
mtls (mtlsapi001): PRIVATE REST API of account 111111111111, stage prod
  auth: no IAM auth (callers are anonymous)
  Lambda authorizer on: {", ".join(f"ANY {p}" for p in FIVE_ROUTES)}
  resource policy: AnyoneThroughProxyEndpoint, NothingElse
{one_endpoint("vpce-01111111111111111")}
{table([f"  ANY {p:<15} authz  DENY" for p in FIVE_ROUTES])}
  DENY   explicitly denied
  authz  the route's Lambda authorizer decides (no explicit deny of the resource policy)
findings
  none
not analysed exactly
  none: every statement is analysed exactly
"""

GLOBAL = f"""\
global (globalapi1): REGIONAL HTTP API of account 111111111111, stage $default
  auth: no IAM auth (callers are anonymous)
  resource policy: none
callers (from the policy's own values)
  P1  anonymous (a route without IAM auth)
  E1  through any VPC endpoint or none (the policy names none)
  I1  any address (the policy names none)
who may call
  route               any
{table([f"  ANY {p:<15} open" for p in FIVE_ROUTES])}
  open   no resource policy and no IAM auth: nothing is evaluated
findings
  ! no resource policy: anyone who reaches it may call every route
not analysed exactly
  none: every statement is analysed exactly
"""


@pytest.mark.parametrize(("name", "expected"), [("partner", PARTNER), ("mtls", MTLS),
                                                 ("global", GLOBAL)])  # fmt: skip
def test_the_projects_apis(name: str, expected: str) -> None:
    assert text(api(name)) == expected


# "Allow private API traffic based on source VPC or VPC endpoint" on the private mtls API's
# routes (without their authorizer)
SOURCE_VPCE = f"""\
mtls (mtlsapi001): PRIVATE REST API of account 111111111111, stage prod
  auth: no IAM auth (callers are anonymous)
  resource policy: Statement[0], Statement[1]
{one_endpoint("vpce-04444444444444444")}
{table([f"  ANY {p:<15} allow  DENY" for p in FIVE_ROUTES])}
  allow  the resource policy allows
  DENY   explicitly denied
findings
{ANY_CALLER}
not analysed exactly
  none: every statement is analysed exactly
"""

# "Allow roles in another AWS account to use an API" (GET /dogs) on the private partner API
ACCOUNTS = f"""\
partner (partnerap1): PRIVATE REST API of account 111111111111, stage prod
  auth: AWS_IAM (SigV4) on every route
  resource policy: Statement[0]
callers (from the policy's own values)
  P1  a session of {ROLE}
  P2  a session of arn:aws:iam::444444444444:role/Admin
  P3  another principal of account 111111111111 (the API's)
  P4  any other principal (another account)
  E1  through any VPC endpoint (the policy names none)
  I1  any address (the policy names none)
who may call
  route               P1     P2     P3     P4
  GET /dogs           allow  allow  iam    -
{table([f"  GET {p:<15} -      -      iam    -" for p in FIVE_ROUTES[1:]])}
{ALLOW_IAM}
{IAM}
  -      not allowed (no statement allows)
findings
{ANY_ENDPOINT}
not analysed exactly
  none: every statement is analysed exactly
"""

# "Deny API traffic based on source IP address or range" on a REGIONAL API with mtls's routes
# (without their authorizer)
SOURCE_IP = f"""\
mtls (mtlsapi001): REGIONAL REST API of account 111111111111, stage prod
  auth: no IAM auth (callers are anonymous)
  resource policy: Statement[0], Statement[1]
callers (from the policy's own values)
  P1  anonymous (a route without IAM auth)
  E1  through any VPC endpoint or none (the policy names none)
  I1  192.0.2.0/24
  I2  198.51.100.0/24
  I3  any other IPv4 address
who may call
  route               I1     I2     I3
{table([f"  ANY {p:<15} DENY   DENY   allow" for p in FIVE_ROUTES])}
  allow  the resource policy allows
  DENY   explicitly denied
findings
{ANY_CALLER}
not analysed exactly
  none: every statement is analysed exactly
"""

# The "authorized methods" post: the consumer role, GET only, through the consumer VPC's
# endpoint; on routes of every method with AWS_IAM
GET_ONLY_ROWS = [
    row
    for p in FIVE_ROUTES
    for row in (
        f"  {'GET ' + p:<49}  allow  -      iam    iam    -      -",
        f"  {'HEAD,POST,PUT,PATCH,DELETE,OPTIONS ' + p:<49}  -      -      iam    iam    -      -",
    )
]
GET_ONLY = f"""\
partner (partnerap1): PRIVATE REST API of account 111111111111, stage prod
  auth: AWS_IAM (SigV4) on every route
  resource policy: Statement[0]
callers (from the policy's own values)
  P1  a session of {ROLE}
  P2  another principal of account 111111111111 (the API's)
  P3  any other principal (another account)
  E1  through vpce-04444444444444444
  E2  through any other VPC endpoint
  I1  any address (the policy names none)
who may call
  route                                              P1/E1  P1/E2  P2/E1  P2/E2  P3/E1  P3/E2
{table(GET_ONLY_ROWS)}
{ALLOW_IAM}
{IAM}
  -      not allowed (no statement allows)
findings
  none
not analysed exactly
  none: every statement is analysed exactly
"""


@pytest.mark.parametrize(
    ("document", "on", "changes", "expected"),
    [
        (SOURCE_VPCE_ALLOW_LIST, "mtls", ANONYMOUS_MTLS, SOURCE_VPCE),
        (ACCOUNT_ALLOW_LIST, "partner", {}, ACCOUNTS),
        (SOURCE_IP_DENY_LIST, "mtls", {"private": False, **ANONYMOUS_MTLS}, SOURCE_IP),
        (GET_ONLY_FROM_CONSUMER, "partner", IAM_MTLS, GET_ONLY),
    ],
    ids=["source-vpce-allow-list", "account-allow-list", "source-ip-deny-list", "get-only"],
)
def test_the_documented_sample_policies(document, on, changes, expected) -> None:
    assert text(attach(api(on), document, **changes)) == expected


def allow_all(**condition) -> dict:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
                 "Resource": "execute-api:/*", **condition}  # fmt: skip
    return {"Version": "2012-10-17", "Statement": [statement]}


def findings(of: Api) -> list[tuple[str, str | None]]:
    report = analysis_json(analyze(of, SETUP, now=NOW))
    return [(f["kind"], f["statement"]) for f in report["findings"]]


@pytest.mark.parametrize(
    "document",
    [allow_all(), allow_all(Condition={"StringLike": {"aws:SourceVpce": "vpce-*"}}),
     allow_all(Condition={"StringLike": {"aws:SourceVpce": "vpce-0*"}}),
     allow_all(Condition={"Null": {"aws:SourceVpce": "false"}})],
    ids=["no-condition", "like-vpce-star", "like-vpce-0-star", "null-false"],
)  # fmt: skip
def test_a_private_api_open_to_any_vpc_endpoint_is_flagged(document) -> None:
    """A private API is reachable from VPC endpoints of any account: a policy that names no
    endpoint, or only a pattern, lets them all in."""
    assert ("any-endpoint", None) in findings(attach(api("mtls"), document, **ANONYMOUS_MTLS))
    pinned = allow_all(Condition={"StringEquals": {"aws:SourceVpce": "vpce-01111111111111111"}})
    assert ("any-endpoint", None) not in findings(attach(api("mtls"), pinned, **ANONYMOUS_MTLS))


def deny(sid: str, **fields) -> dict:
    return {"Sid": sid, "Effect": "Deny", "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*", **fields}  # fmt: skip


def test_what_a_reviewer_must_see() -> None:
    document = allow_all()
    document["Statement"][0]["Principal"] = {"AWS": ROLE}
    document["Statement"] += [
        deny("ExceptsEveryone", NotPrincipal={"AWS": "*"}),
        deny("OrgOnly", Principal="*", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-1"}}),
        deny("NotOrg", Principal="*", Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}}),
        {"Sid": "S3", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "*"},
        deny("NoWrites", Principal="*", Resource="execute-api:/*/POST/*"),
    ]  # fmt: skip
    report = analysis_json(analyze(attach(api("partner"), document), SETUP, now=NOW))
    messages = {(f["kind"], f["statement"]): f["message"] for f in report["findings"]}
    assert messages == {
        ("never-applies", "ExceptsEveryone"): (
            "ExceptsEveryone (Deny) is a dead Deny: its NotPrincipal excepts every caller"
        ),
        ("never-applies", "OrgOnly"): (
            "OrgOnly (Deny) is a dead Deny: its condition StringEquals on aws:PrincipalOrgID,"
            " a key the API never sets, never holds"
        ),
        ("always-holds", "NotOrg"): (
            "NotOrg (Deny): StringNotEquals on aws:PrincipalOrgID always holds: the API never"
            " sets the key"
        ),
        ("never-applies", "S3"): (
            "S3 (Allow) can never apply: its Action never matches execute-api:Invoke"
        ),
        ("no-route", "NoWrites"): (
            "NoWrites (Deny) applies to no route of the API, only to requests it has no route for"
        ),
    }
    # NotOrg denies every caller: nobody gets in
    assert {cell for row in report["rows"] for cell in row["cells"].values()} == {"DENY"}


def test_what_cannot_be_analysed_exactly_is_listed_not_guessed() -> None:
    document = allow_all(Condition={
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::444444444444:role/team-*"},
        "StringEqualsIgnoreCase": {"aws:UserAgent": "curl/8"},
    })  # fmt: skip
    document["Statement"] += [
        deny("Later", Principal="*",
             Condition={"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}),
        deny("Mine", Principal="*", Resource="execute-api:/*/GET/todo/${aws:username}"),
    ]  # fmt: skip
    report = analyze(attach(api("partner"), document), SETUP, now=NOW)
    assert report.inexact == [
        ("Statement[0]", "ArnLike on aws:PrincipalArn: principal patterns; StringEqualsIgnoreCase"
                         " on aws:UserAgent"),
        ("Later", "DateGreaterThan on aws:CurrentTime: depends on the time"),
        ("Mine", "policy variables in Resource"),
    ]  # fmt: skip
    # not called dead: it may apply at another time
    assert "Later" not in {f.statement for f in report.findings}


def test_a_wildcard_reaches_further_than_it_reads() -> None:
    """IAM's `*` runs over '/': `execute-api:/*/GET/*` also allows DELETE on a {proxy+} path
    that contains /GET/. The table splits the route there and shows an example."""
    partner = api("partner")
    proxy = RouteTable([Route("/{proxy+}", "ANY", partner.routes.routes[0].data)], http_api=False)
    document = allow_all()
    document["Statement"][0].update(Principal={"AWS": ROLE}, Resource="execute-api:/*/GET/*")
    rows = analysis_json(analyze(attach(partner, document, routes=proxy), SETUP, now=NOW))["rows"]
    assert [(r["methods"][0], r["paths"], r["example"], r["cells"]["P1"]) for r in rows] == [
        ("GET", None, "/x", "allow"),
        ("HEAD", "like execute-api:/*/GET/*", "/GET/x", "allow"),
        ("HEAD", "other paths", "/x", "-"),
    ]
    assert rows[1]["methods"] == ["HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    allowed = judge(partner_with(document, proxy), probe("DELETE", "/anything/GET/thing"))
    assert allowed.rule == "cross-account needs both"  # the resource policy allows it


def partner_with(document: dict, routes: RouteTable) -> Api:
    return attach(api("partner"), document, routes=routes)


def probe(
    method: str,
    path: str,
    *,
    caller: str = ROLE,
    session: str = "consumer-lambda",
    vpce: str | None = "vpce-04444444444444444",
    address: str = "127.0.4.33",
) -> Request:
    role = caller.rsplit("/", 1)[1]
    account = caller.split(":")[4]
    who = Caller(f"arn:aws:sts::{account}:assumed-role/{role}/{session}", account, caller)
    vpc = SETUP.endpoints[vpce].vpc_id if vpce in SETUP.endpoints else None
    return Request(method, path, who, (), False, address, vpce, vpc, {}, NOW)


@pytest.mark.parametrize(
    ("method", "path", "caller", "vpce", "column"),
    [
        ("GET", "/todo/zz-top", ROLE, "vpce-04444444444444444", "P1/E1"),
        ("GET", "/dogs/females", ROLE, "vpce-01111111111111111", "P1/E2"),
        ("GET", "/dogs", ROLE, "vpce-0abcdef0123456789", "P1/E2"),
        ("GET", "/todo", "arn:aws:iam::111111111111:role/api-team", "vpce-04444444444444444",
         "P2/E1"),
        ("GET", "/todo/1", "arn:aws:iam::111111111111:role/ops/api-team", "vpce-01111111111111111",
         "P2/E2"),
        ("GET", "/dogs/males", "arn:aws:iam::555555555555:role/x", "vpce-04444444444444444",
         "P3/E1"),
    ],
)  # fmt: skip
def test_other_members_of_a_class_get_its_answer(method, path, caller, vpce, column) -> None:
    """Another session name, another endpoint that the policy does not name, another path of
    the same route, another role of the API's account: the same cell as the representative."""
    partner = api("partner")
    report = analysis_json(analyze(partner, SETUP, now=NOW))
    verdict = judge(partner, probe(method, path, caller=caller, session="someone", vpce=vpce))
    route = verdict.match.route.resource_path
    (row,) = [r for r in report["rows"] if r["route"] == route and method in r["methods"]]
    assert cell(partner, verdict) == row["cells"][column]

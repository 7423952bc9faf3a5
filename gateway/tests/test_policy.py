"""Policy documents and API Gateway's authorization table, with AWS's documented examples."""

import json

import pytest
from gateway.policy import (
    AuthorizationMemo,
    Decision,
    PolicyError,
    RequestContext,
    Rule,
    authorization,
    authorize,
    denial_message,
    evaluate,
    expand_execute_api_shorthand,
    parse_policy,
)

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = Decision.ALLOW, Decision.EXPLICIT_DENY, Decision.IMPLICIT_DENY
API_ACCOUNT = "111111111111"
ARN_PREFIX = "arn:aws:execute-api:us-east-1:111111111111:partnerap1"
CONSUMER_ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"
OTHER_ROLE = "arn:aws:iam::444444444444:role/other-team"
CONSUMER_VPCE = "vpce-04444444444444444"
PROXY_VPCE = "vpce-01111111111111111"


def request(
    path="prod/GET/dogs/males",
    principal=CONSUMER_ROLE,
    account=None,
    action="execute-api:Invoke",
    **keys,
):
    if principal is not None and account is None:
        account = principal.split(":")[4]
    return RequestContext(
        principal_arn=principal,
        principal_account=account,
        action=action,
        resource=f"{ARN_PREFIX}/{path}",
        # keyword arguments: aws_SourceVpce=... stands for "aws:SourceVpce"
        condition_keys={k.replace("aws_", "aws:", 1): v for k, v in keys.items()},
    )


def policy(*statements, version="2012-10-17", resource_policy=True):
    return parse_policy(
        {"Version": version, "Statement": list(statements)}, resource_policy=resource_policy
    )


def allow(**fields):
    return {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", **fields}


def deny(**fields):
    return {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", **fields}


# --- AWS's documented sample resource policies ------------------------------------------------

# "Allow private API traffic based on source VPC or VPC endpoint" (API Gateway developer guide)
SOURCE_VPCE_ALLOW_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/*"],
            "Condition": {"StringNotEquals": {"aws:SourceVpce": CONSUMER_VPCE}},
        },
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/*"],
        },
    ],
}

# "Allow roles in another AWS account to use an API"
ACCOUNT_ALLOW_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": [CONSUMER_ROLE, "arn:aws:iam::444444444444:role/Admin"]},
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/prod/GET/dogs"],
        }
    ],
}

# "Deny API traffic based on source IP address or range"
SOURCE_IP_DENY_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/*"],
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": ["execute-api:/*"],
            "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "198.51.100.0/24"]}},
        },
    ],
}

# the "authorized methods" post: the consumer role, GET only, through the consumer VPC endpoint
GET_ONLY_FROM_CONSUMER = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": CONSUMER_ROLE},
            "Action": "execute-api:Invoke",
            "Resource": f"{ARN_PREFIX}/*/GET/*",
            "Condition": {"StringEquals": {"aws:SourceVpce": CONSUMER_VPCE}},
        }
    ],
}

SAMPLE_CASES = [
    ("vpce allow-list", SOURCE_VPCE_ALLOW_LIST, request(aws_SourceVpce=CONSUMER_VPCE), ALLOW),
    ("vpce allow-list", SOURCE_VPCE_ALLOW_LIST, request(aws_SourceVpce=PROXY_VPCE), EXPLICIT_DENY),
    ("vpce allow-list", SOURCE_VPCE_ALLOW_LIST, request(principal=None), EXPLICIT_DENY),
    ("accounts", ACCOUNT_ALLOW_LIST, request("prod/GET/dogs"), ALLOW),
    ("accounts", ACCOUNT_ALLOW_LIST, request("prod/GET/dogs", OTHER_ROLE), IMPLICIT_DENY),
    ("accounts", ACCOUNT_ALLOW_LIST, request("prod/POST/dogs"), IMPLICIT_DENY),
    ("accounts", ACCOUNT_ALLOW_LIST, request("prod/GET/dogs", principal=None), IMPLICIT_DENY),
    ("ip deny-list", SOURCE_IP_DENY_LIST, request(aws_SourceIp="203.0.113.9"), ALLOW),
    ("ip deny-list", SOURCE_IP_DENY_LIST, request(aws_SourceIp="198.51.100.4"), EXPLICIT_DENY),
    ("ip deny-list", SOURCE_IP_DENY_LIST, request(principal=None), ALLOW),
    ("GET only", GET_ONLY_FROM_CONSUMER, request(aws_SourceVpce=CONSUMER_VPCE), ALLOW),
    (
        "GET only",
        GET_ONLY_FROM_CONSUMER,
        request("prod/POST/todo", aws_SourceVpce=CONSUMER_VPCE),
        IMPLICIT_DENY,
    ),
    (
        "GET only",
        GET_ONLY_FROM_CONSUMER,
        request("prod/GET/dogs", OTHER_ROLE, aws_SourceVpce=CONSUMER_VPCE),
        IMPLICIT_DENY,
    ),
    ("GET only", GET_ONLY_FROM_CONSUMER, request(aws_SourceVpce=PROXY_VPCE), IMPLICIT_DENY),
    ("GET only", GET_ONLY_FROM_CONSUMER, request(), IMPLICIT_DENY),
]


@pytest.mark.parametrize(("name", "document", "ctx", "expected"), SAMPLE_CASES)
def test_documented_sample_policies(name, document, ctx, expected):
    parsed = expand_execute_api_shorthand(
        parse_policy(document), region="us-east-1", account=API_ACCOUNT, api_id="partnerap1"
    )
    assert evaluate(parsed, ctx) is expected
    # leftover shorthand resolves against the API in the request: same answer
    assert evaluate(parse_policy(json.dumps(document)), ctx) is expected


def test_explicit_deny_beats_allow_in_any_order():
    statements = [allow(Resource="*"), deny(Resource=f"{ARN_PREFIX}/prod/GET/dogs/*")]
    for ordered in (statements, statements[::-1]):
        assert evaluate(policy(*ordered), request()) is EXPLICIT_DENY
        assert evaluate(policy(*ordered), request("prod/GET/dogs")) is ALLOW


# --- Resource wildcards -----------------------------------------------------------------------

RESOURCE_CASES = [
    ("*", "prod/GET/dogs", True),
    (f"{ARN_PREFIX}/*", "prod/POST/todo/abc", True),
    (f"{ARN_PREFIX}/prod/GET/dogs", "prod/GET/dogs", True),
    (f"{ARN_PREFIX}/prod/GET/dogs", "prod/GET/dogs/males", False),
    (f"{ARN_PREFIX}/prod/get/dogs", "prod/GET/dogs", False),  # resources are case-sensitive
    (f"{ARN_PREFIX}/*/GET/*", "prod/GET/dogs/males", True),  # `*` crosses `/`
    (f"{ARN_PREFIX}/*/GET/*", "prod/DELETE/todo/1", False),
    (f"{ARN_PREFIX}/prod/*/todo/*", "prod/DELETE/todo/1", True),
    (f"{ARN_PREFIX}/prod/GET/dogs/?ales", "prod/GET/dogs/males", True),
    (f"{ARN_PREFIX}/prod/GET/dogs/?ales", "prod/GET/dogs/females", False),
    (f"{ARN_PREFIX}/pro?/GET/*", "prod/GET/dogs", True),
    ("arn:aws:execute-api:us-east-1:111111111111:*/prod/GET/*", "prod/GET/dogs", True),
    ("arn:aws:execute-api:*:*:partnerap1/*", "prod/GET/dogs", True),
    ("arn:aws:execute-api:*:*:otherapi01/*", "prod/GET/dogs", False),
    ("arn:aws:execute-api:*", "prod/GET/dogs", True),  # a segment-final `*` runs past colons
    ("arn:aws:execute-api:us-east-1:222222222222:partnerap1/*", "prod/GET/dogs", False),
    ("arn:aws:execute-api:us-west-2:111111111111:partnerap1/*", "prod/GET/dogs", False),
    ("arn:aws:execute-api:us-*-1:111111111111:partnerap1/*", "prod/GET/dogs", True),
    # inside a segment `*` does not cross a colon
    ("arn:aws:execute-api:us-east*111111111111:partnerap1/*", "prod/GET/dogs", False),
    ("execute-api:/prod/GET/*", "prod/GET/dogs", True),
    ("execute-api:/*", "anything/PUT/x", True),
    ("execute-api:/test/GET/*", "prod/GET/dogs", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), RESOURCE_CASES)
def test_resource_wildcards(pattern, path, expected):
    decision = evaluate(policy(allow(Resource=pattern)), request(path))
    assert decision is (ALLOW if expected else IMPLICIT_DENY)


# --- Action -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("execute-api:Invoke", ALLOW),
        ("execute-api:invoke", ALLOW),
        ("Execute-API:INVOKE", ALLOW),
        ("execute-api:*", ALLOW),
        ("execute-api:In*", ALLOW),
        ("*", ALLOW),
        ("execute-api:ManageConnections", IMPLICIT_DENY),
        ("s3:*", IMPLICIT_DENY),
        (["s3:GetObject", "execute-api:Invoke"], ALLOW),
    ],
)
def test_action(action, expected):
    statement = {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": "*"}
    assert evaluate(policy(statement), request()) is expected


# --- Principal and NotPrincipal ---------------------------------------------------------------

PRINCIPAL_CASES = [
    ("*", CONSUMER_ROLE, True),
    ("*", None, True),
    ({"AWS": "*"}, CONSUMER_ROLE, True),
    ({"AWS": "*"}, None, True),  # anonymous matches only the two wildcard forms
    ({"AWS": CONSUMER_ROLE}, CONSUMER_ROLE, True),
    ({"AWS": CONSUMER_ROLE}, OTHER_ROLE, False),
    ({"AWS": CONSUMER_ROLE}, None, False),
    ({"AWS": "444444444444"}, OTHER_ROLE, True),  # an account id names all its principals
    ({"AWS": "444444444444"}, None, False),
    ({"AWS": "arn:aws:iam::444444444444:root"}, CONSUMER_ROLE, True),
    ({"AWS": "arn:aws:iam::333333333333:root"}, CONSUMER_ROLE, False),
    ({"AWS": ["333333333333", CONSUMER_ROLE]}, CONSUMER_ROLE, True),
    # a role names its assumed-role sessions, with or without a path in the role ARN
    (
        {"AWS": CONSUMER_ROLE},
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/session-1",
        True,
    ),
    (
        {"AWS": "arn:aws:iam::444444444444:role/team/consumer-lambda"},
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/session-1",
        True,
    ),
    (
        {"AWS": "arn:aws:iam::333333333333:role/consumer-lambda"},
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/session-1",
        False,
    ),
    ({"Service": "lambda.amazonaws.com"}, CONSUMER_ROLE, False),
]


@pytest.mark.parametrize(("principal", "caller", "expected"), PRINCIPAL_CASES)
def test_principal(principal, caller, expected):
    document = policy(allow(Principal=principal, Resource="*"))
    assert evaluate(document, request(principal=caller)) is (ALLOW if expected else IMPLICIT_DENY)


NOT_PRINCIPAL_CASES = [
    # excepted only when the account and the role are both listed (IAM User Guide, NotPrincipal)
    ([CONSUMER_ROLE, "arn:aws:iam::444444444444:root"], CONSUMER_ROLE, False),
    ([CONSUMER_ROLE, "444444444444"], CONSUMER_ROLE, False),
    ([CONSUMER_ROLE], CONSUMER_ROLE, True),
    (["444444444444"], CONSUMER_ROLE, True),
    ([CONSUMER_ROLE, "444444444444"], OTHER_ROLE, True),
    ([CONSUMER_ROLE, "444444444444"], None, True),  # anonymous is never excepted
    (
        [CONSUMER_ROLE, "444444444444"],
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/s1",
        True,
    ),
    (
        [
            CONSUMER_ROLE,
            "444444444444",
            "arn:aws:sts::444444444444:assumed-role/consumer-lambda/s1",
        ],
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/s1",
        False,
    ),
    (["444444444444"], "arn:aws:iam::444444444444:root", False),
]


@pytest.mark.parametrize(("listed", "caller", "denied"), NOT_PRINCIPAL_CASES)
def test_not_principal(listed, caller, denied):
    statement = {
        "Effect": "Deny",
        "NotPrincipal": {"AWS": listed},
        "Action": "execute-api:Invoke",
        "Resource": "*",
    }
    decision = evaluate(policy(statement, allow(Resource="*")), request(principal=caller))
    assert decision is (EXPLICIT_DENY if denied else ALLOW)


@pytest.mark.parametrize(
    ("statement", "ctx", "expected"),
    [
        # NotAction: everything but the listed actions
        (
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "execute-api:Invoke",
                "Resource": "*",
            },
            request(),
            IMPLICIT_DENY,
        ),
        (
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "execute-api:Invoke",
                "Resource": "*",
            },
            request(action="execute-api:ManageConnections"),
            EXPLICIT_DENY,
        ),
        (
            {"Effect": "Allow", "Principal": "*", "NotAction": "s3:*", "Resource": "*"},
            request(),
            ALLOW,
        ),
        # NotResource: every resource but the listed ones
        (deny(NotResource=f"{ARN_PREFIX}/*/GET/*"), request("prod/POST/todo"), EXPLICIT_DENY),
        (deny(NotResource=f"{ARN_PREFIX}/*/GET/*"), request("prod/GET/todo"), IMPLICIT_DENY),
        (allow(NotResource="execute-api:/*/DELETE/*"), request("prod/GET/todo"), ALLOW),
        (
            allow(NotResource="execute-api:/*/DELETE/*"),
            request("prod/DELETE/todo/1"),
            IMPLICIT_DENY,
        ),
    ],
)
def test_not_action_and_not_resource(statement, ctx, expected):
    assert evaluate(policy(statement), ctx) is expected


# --- Conditions inside statements -------------------------------------------------------------


def test_conditions_combine_with_and_and_keys_are_case_insensitive():
    statement = allow(
        Resource="*",
        Condition={
            "StringEquals": {"aws:SourceVpce": CONSUMER_VPCE},
            "IpAddress": {"AWS:SOURCEIP": "10.214.4.0/24"},
        },
    )
    document = policy(statement)
    keys = {"AWS:SourceVPCE": CONSUMER_VPCE, "aws:sourceip": "10.214.4.20"}
    assert evaluate(document, request()) is IMPLICIT_DENY
    cases = [
        (keys, ALLOW),
        ({**keys, "aws:sourceip": "10.211.1.20"}, IMPLICIT_DENY),
        ({"aws:sourceip": "10.214.4.20"}, IMPLICIT_DENY),
    ]
    for condition_keys, expected in cases:
        ctx = RequestContext(
            CONSUMER_ROLE, None, "execute-api:Invoke", f"{ARN_PREFIX}/p", condition_keys
        )
        assert evaluate(document, ctx) is expected, condition_keys


def test_principal_keys_default_from_the_request():
    statement = allow(
        Resource="*",
        Condition={
            "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/consumer-*"},
            "StringEquals": {"aws:PrincipalAccount": "444444444444"},
        },
    )
    assert evaluate(policy(statement), request()) is ALLOW
    assert evaluate(policy(statement), request(principal=OTHER_ROLE)) is IMPLICIT_DENY
    assert evaluate(policy(statement), request(principal=None)) is IMPLICIT_DENY


@pytest.mark.parametrize(
    ("version", "username", "path", "expected"),
    [
        ("2012-10-17", "bob", "prod/GET/users/bob", ALLOW),
        ("2012-10-17", "bob", "prod/GET/users/alice", IMPLICIT_DENY),
        ("2012-10-17", None, "prod/GET/users/bob", IMPLICIT_DENY),  # no value: no match
        ("2012-10-17", "b*", "prod/GET/users/bob", IMPLICIT_DENY),  # values are literal
        ("2008-10-17", "bob", "prod/GET/users/bob", IMPLICIT_DENY),  # no variables before 2012
    ],
)
def test_policy_variable_in_resource(version, username, path, expected):
    document = policy(
        allow(Resource=f"{ARN_PREFIX}/*/GET/users/${{aws:username}}"), version=version
    )
    keys = {"aws:username": username} if username else {}
    ctx = RequestContext(CONSUMER_ROLE, None, "execute-api:Invoke", f"{ARN_PREFIX}/{path}", keys)
    assert evaluate(document, ctx) is expected


def test_policy_variable_in_condition():
    statement = allow(
        Resource="*",
        Condition={"StringLike": {"aws:Referer": "https://${aws:username}.example.com/*"}},
    )
    document = policy(statement)
    good = {"aws:username": "bob", "aws:Referer": "https://bob.example.com/page"}
    bad = {"aws:username": "bob", "aws:Referer": "https://eve.example.com/page"}
    for keys, expected in ((good, ALLOW), (bad, IMPLICIT_DENY)):
        ctx = RequestContext(CONSUMER_ROLE, None, "execute-api:Invoke", f"{ARN_PREFIX}/p", keys)
        assert evaluate(document, ctx) is expected


# --- identity policies ------------------------------------------------------------------------


def test_identity_policy_has_no_principal():
    identity = policy(
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{ARN_PREFIX}/*"},
        resource_policy=False,
    )
    assert evaluate(identity, request(), require_principal=False) is ALLOW
    # as a resource policy a statement without Principal applies to nobody
    assert evaluate(identity, request()) is IMPLICIT_DENY


# --- authorize: API Gateway's tables A (same account) and B (cross-account) -------------------

RP_ALLOW = policy(allow(Resource="execute-api:/*"))
RP_DENY = policy(deny(Resource="execute-api:/*"))
RP_SILENT = policy(allow(Resource="execute-api:/test/*"))
IDENTITY_ALLOW = policy(
    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}, resource_policy=False
)
IDENTITY_DENY = policy(
    {"Effect": "Deny", "Action": "execute-api:*", "Resource": f"{ARN_PREFIX}/*"},
    resource_policy=False,
)
IDENTITY_SILENT = policy(
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, resource_policy=False
)
SAME_ACCOUNT_ROLE = "arn:aws:iam::111111111111:role/api-team"
SAME_ACCOUNT_CALLER = request(principal=SAME_ACCOUNT_ROLE)
CROSS_ACCOUNT_CALLER = request()

AUTHORIZE_CASES = [
    # table A: caller in the API's account, either policy suffices
    (SAME_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_ALLOW], ALLOW),
    (SAME_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT], ALLOW),
    (SAME_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_ALLOW], ALLOW),
    (SAME_ACCOUNT_CALLER, None, [IDENTITY_ALLOW], ALLOW),
    (SAME_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_SILENT], IMPLICIT_DENY),
    (SAME_ACCOUNT_CALLER, None, [], IMPLICIT_DENY),
    (SAME_ACCOUNT_CALLER, RP_DENY, [IDENTITY_ALLOW], EXPLICIT_DENY),
    (SAME_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_DENY], EXPLICIT_DENY),
    (SAME_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_ALLOW, IDENTITY_DENY], EXPLICIT_DENY),
    # table B: caller in another account, both must allow
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_ALLOW], ALLOW),
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT, IDENTITY_ALLOW], ALLOW),
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT], IMPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [], IMPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_ALLOW], IMPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, None, [IDENTITY_ALLOW], IMPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, RP_DENY, [IDENTITY_ALLOW], EXPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_DENY], EXPLICIT_DENY),
    (CROSS_ACCOUNT_CALLER, RP_DENY, [IDENTITY_DENY], EXPLICIT_DENY),
]


@pytest.mark.parametrize(("ctx", "resource_policy", "identity", "expected"), AUTHORIZE_CASES)
def test_authorize_with_iam_auth(ctx, resource_policy, identity, expected):
    decision = authorize(
        resource_policy=resource_policy,
        identity_policies=identity,
        ctx=ctx,
        api_account=API_ACCOUNT,
        iam_auth=True,
    )
    assert decision is expected


@pytest.mark.parametrize(
    ("resource_policy", "identity", "expected"),
    [
        (RP_ALLOW, [], ALLOW),
        (RP_SILENT, [IDENTITY_ALLOW], IMPLICIT_DENY),  # identity policies don't count
        (RP_DENY, [], EXPLICIT_DENY),
        (None, [IDENTITY_ALLOW], IMPLICIT_DENY),  # no policy allows anything
    ],
)
def test_authorize_without_iam_auth(resource_policy, identity, expected):
    anonymous = request(principal=None)
    decision = authorize(
        resource_policy=resource_policy,
        identity_policies=identity,
        ctx=anonymous,
        api_account=API_ACCOUNT,
        iam_auth=False,
    )
    assert decision is expected


def test_partner_api_policy_end_to_end():
    """The partner API: the consumer role, GET only, only through the consumer VPC endpoint."""
    resource_policy = expand_execute_api_shorthand(
        parse_policy(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": CONSUMER_ROLE},
                        "Action": "execute-api:Invoke",
                        "Resource": "execute-api:/prod/GET/*",
                    },
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "execute-api:Invoke",
                        "Resource": "execute-api:/*",
                        "Condition": {"StringNotEquals": {"aws:SourceVpce": CONSUMER_VPCE}},
                    },
                ],
            }
        ),
        region="us-east-1",
        account=API_ACCOUNT,
        api_id="partnerap1",
    )
    lambda_role_policy = policy(
        {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{ARN_PREFIX}/*"},
        resource_policy=False,
    )
    cases = [
        (CONSUMER_ROLE, "prod/GET/dogs", CONSUMER_VPCE, ALLOW),
        (CONSUMER_ROLE, "prod/POST/todo", CONSUMER_VPCE, IMPLICIT_DENY),
        (CONSUMER_ROLE, "prod/GET/dogs", PROXY_VPCE, EXPLICIT_DENY),
        (CONSUMER_ROLE, "prod/GET/dogs", None, EXPLICIT_DENY),
        (OTHER_ROLE, "prod/GET/dogs", CONSUMER_VPCE, IMPLICIT_DENY),
    ]
    for principal, path, vpce, expected in cases:
        keys = {"aws:SourceVpce": vpce} if vpce else {}
        ctx = RequestContext(principal, None, "execute-api:Invoke", f"{ARN_PREFIX}/{path}", keys)
        decision = authorize(
            resource_policy=resource_policy,
            identity_policies=[lambda_role_policy],
            ctx=ctx,
            api_account=API_ACCOUNT,
            iam_auth=True,
        )
        assert decision is expected, (principal, path, vpce)


# --- shorthand, messages, malformed documents -------------------------------------------------


def test_expand_execute_api_shorthand():
    document = policy(
        allow(Resource=["execute-api:/prod/GET/pets", "execute-api:/*", "*", f"{ARN_PREFIX}/x"]),
        deny(NotResource="execute-api:/*/DELETE/*"),
    )
    expanded = expand_execute_api_shorthand(
        document, region="us-west-2", account="123456789012", api_id="aabbccddee"
    )
    assert expanded.statements[0].resources == (
        "arn:aws:execute-api:us-west-2:123456789012:aabbccddee/prod/GET/pets",
        "arn:aws:execute-api:us-west-2:123456789012:aabbccddee/*",
        "*",
        f"{ARN_PREFIX}/x",
    )
    assert expanded.statements[1].resources == (
        "arn:aws:execute-api:us-west-2:123456789012:aabbccddee/*/DELETE/*",
    )
    assert document.statements[0].resources[0] == "execute-api:/prod/GET/pets"  # unchanged


@pytest.mark.parametrize(
    ("principal", "decision", "message"),
    [
        (
            None,
            EXPLICIT_DENY,
            "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
            "arn:aws:execute-api:us-east-1:********1111:partnerap1/prod/GET/dogs/males "
            "with an explicit deny",
        ),
        (
            CONSUMER_ROLE,
            IMPLICIT_DENY,
            f"User: {CONSUMER_ROLE} is not authorized to perform: execute-api:Invoke on "
            "resource: arn:aws:execute-api:us-east-1:********1111:partnerap1/prod/GET/dogs/males",
        ),
    ],
)
def test_denial_message(principal, decision, message):
    assert denial_message(request(principal=principal), decision) == message


MALFORMED = [
    ("not json", "policy is not valid JSON"),
    ([], "policy must be a JSON object"),
    ({"Version": "2012-10-17"}, "Statement must be a statement object or a non-empty list"),
    ({"Version": "2012-10-17", "Statement": []}, "Statement must be a statement object"),
    ({"Version": "2020-01-01", "Statement": allow(Resource="*")}, "Version must be one of"),
    ({"Statement": allow(Resource="*"), "Extra": 1}, "policy has unknown fields: Extra"),
    ({"Statement": ["x"]}, r"Statement\[0\] must be an object"),
    (
        {"Statement": [allow(Resource="*"), {**allow(Resource="*"), "Effect": "allow"}]},
        r"Statement\[1\]\.Effect must be 'Allow' or 'Deny', not 'allow'",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Efect": "Allow"}},
        r"Statement\[0\] has unknown fields: Efect",
    ),
    (
        {"Statement": {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}},
        r"Statement\[0\] needs a Principal or NotPrincipal",
    ),
    (
        {"Statement": {**allow(Resource="*"), "NotPrincipal": {"AWS": CONSUMER_ROLE}}},
        r"Statement\[0\] must not have both Principal and NotPrincipal",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Principal": None, "NotPrincipal": "*"}},
        r"must not have both Principal and NotPrincipal",
    ),
    (
        {
            "Statement": {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": CONSUMER_ROLE},
                "Action": "execute-api:Invoke",
                "Resource": "*",
            }
        },
        r"Statement\[0\]\.NotPrincipal is only supported with Effect 'Deny'",
    ),
    (
        {
            "Statement": {
                **allow(Resource="*"),
                "Principal": {"AWS": "arn:aws:iam::444444444444:role/*"},
            }
        },
        r"wildcards are not allowed in principal ARNs",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Principal": {"AWS": "bob"}}},
        r"Statement\[0\]\.Principal\.AWS: 'bob' is not an account id, an ARN or '\*'",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Principal": {"IAM": "x"}}},
        r"unknown principal type 'IAM'",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Principal": "everyone"}},
        r"Statement\[0\]\.Principal must be '\*' or an object",
    ),
    (
        {"Statement": {"Effect": "Allow", "Principal": "*", "Resource": "*"}},
        r"Statement\[0\] needs Action or NotAction",
    ),
    (
        {"Statement": {**allow(Resource="*"), "NotAction": "s3:*"}},
        r"must not have both Action and NotAction",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Action": "Invoke"}},
        r"Statement\[0\]\.Action: 'Invoke' is not 'service:action' or '\*'",
    ),
    (
        {"Statement": {**allow(Resource="*"), "Action": []}},
        r"Statement\[0\]\.Action must be a non-empty string or list",
    ),
    ({"Statement": allow()}, r"Statement\[0\] needs Resource or NotResource"),
    (
        {"Statement": allow(Resource="partnerap1/*")},
        r"Statement\[0\]\.Resource: 'partnerap1/\*' is not an ARN",
    ),
    ({"Statement": allow(Resource=["*", 3])}, r"Statement\[0\]\.Resource must be a non-empty"),
    (
        {"Statement": allow(Resource="*", Condition={"StringEqualsX": {"k": "v"}})},
        r"Statement\[0\]\.Condition: unknown condition operator 'StringEqualsX'",
    ),
    (
        {"Statement": allow(Resource="*", Condition={"IpAddress": {"aws:SourceIp": "nope"}})},
        r"Statement\[0\]\.Condition: Condition 'IpAddress' on 'aws:SourceIp': 'nope'",
    ),
]


@pytest.mark.parametrize(("document", "message"), MALFORMED)
def test_malformed_policy(document, message):
    with pytest.raises(PolicyError, match=message):
        parse_policy(document)


def test_identity_policy_must_not_name_a_principal():
    with pytest.raises(
        PolicyError, match=r"Statement\[0\]\.Principal is not allowed in an identity"
    ):
        parse_policy({"Statement": allow(Resource="*")}, resource_policy=False)


def test_single_statement_object_and_json_text_are_accepted():
    document = json.dumps({"Version": "2012-10-17", "Statement": allow(Resource="*", Sid="all")})
    parsed = parse_policy(document)
    assert [(s.index, s.sid, s.effect) for s in parsed.statements] == [(0, "all", "Allow")]
    assert evaluate(parsed, request()) is ALLOW


# --- policy variables without a value inside statements ---------------------------------------
#
# IAM User Guide, "IAM policy elements: Variables and tags", "Policy variables with no value":
# "condition operators like StringEquals or StringLike do not match, and the policy statement
# does not take effect. Inverted condition operators like StringNotEquals or StringNotLike do
# match against a null value". Its example is a Deny with StringNotEquals against
# ${aws:PrincipalTag/Team}: "Access is explicitly denied when aws:principaltag/Team is not set."
# So an unresolvable variable does not switch a statement off: a positive operator's statement
# does not apply, a negated operator's statement applies, and that holds for Allow and Deny.

SESSION = "arn:aws:sts::444444444444:assumed-role/consumer-lambda/session-1"
UNSET = "${aws:PrincipalTag/team}"  # a tag the caller does not have: a null value

# (operator, condition key, request value, policy value with `{}` for the variable, a fill
# the operator's positive form matches). Numeric/Date/IP rows: this gateway's extension, AWS
# documents variables for String and ARN operators only.
NEGATED_FAMILIES = [
    ("StringNotEquals", "aws:SourceVpce", CONSUMER_VPCE, "{}", CONSUMER_VPCE),
    ("StringNotEqualsIgnoreCase", "aws:SourceVpce", CONSUMER_VPCE, "{}", CONSUMER_VPCE.upper()),
    ("StringNotLike", "aws:SourceVpce", CONSUMER_VPCE, "{}*", "vpce-04"),
    ("ArnNotEquals", "aws:PrincipalArn", CONSUMER_ROLE, "arn:aws:iam::444444444444:role/{}",
     "consumer-lambda"),
    ("ArnNotLike", "aws:PrincipalArn", CONSUMER_ROLE, "arn:aws:iam::*:role/{}-*", "consumer"),
    ("NumericNotEquals", "aws:EpochTime", 1704067200, "{}", "1704067200"),
    ("DateNotEquals", "aws:CurrentTime", "2024-01-01T00:00:00Z", "{}", "2024-01-01T00:00:00Z"),
    ("NotIpAddress", "aws:SourceIp", "10.214.4.9", "{}", "10.214.4.0/24"),
]  # fmt: skip
NEGATED_IDS = [family[0] for family in NEGATED_FAMILIES]
POSITIVE = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
}


def conditional(effect, operator, key, value):
    statement = allow if effect == "Allow" else deny
    return statement(Resource="*", Condition={operator: {key: value}})


def decide(effect, operator, key, value, ctx):
    """The decision of one conditional statement; a Deny gets an Allow-everything beside it, so
    a Deny that does not apply shows as ALLOW."""
    statements = [conditional(effect, operator, key, value)]
    if effect == "Deny":
        statements.append(allow(Resource="*"))
    return evaluate(policy(*statements), ctx)


APPLIES = {"Allow": ALLOW, "Deny": EXPLICIT_DENY}
DOES_NOT_APPLY = {"Allow": IMPLICIT_DENY, "Deny": ALLOW}


@pytest.mark.parametrize(("operator", "key", "value", "template", "hit"), NEGATED_FAMILIES,
                         ids=NEGATED_IDS)  # fmt: skip
@pytest.mark.parametrize("suffix", ["", "IfExists"])
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_negated_operator_matches_an_unresolvable_variable(
    effect, suffix, operator, key, value, template, hit
):
    """IAM User Guide, "IAM policy elements: Variables and tags" / "Policy variables with no
    value": inverted operators "do match against a null value", so the statement applies:
    an Allow allows and a Deny denies (the page's own example is such a Deny)."""
    ctx = request(**{key.replace("aws:", "aws_"): value})  # no aws:PrincipalTag/team
    assert decide(effect, operator + suffix, key, template.format(UNSET), ctx) is APPLIES[effect]


@pytest.mark.parametrize(
    "variable", ["${aws:username}", "${aws:userid}", "${aws:PrincipalAccount}"]
)
@pytest.mark.parametrize(("operator", "key", "value", "template", "hit"), NEGATED_FAMILIES,
                         ids=NEGATED_IDS)  # fmt: skip
@pytest.mark.parametrize("suffix", ["", "IfExists"])
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_a_missing_identity_variable_switches_the_statement_off(
    effect, suffix, operator, key, value, template, hit, variable
):
    """IAM User Guide, "IAM policy elements: Variables and tags", "Principal key values": a key
    "not present" for the caller (an anonymous caller has none of them) "means that the value
    is not in the current request information, and any attempt to match it fails and causes the
    statement to be invalid": an Allow does not allow and a Deny does not deny, negated
    operators included. (Before this rule an Allow with StringNotEquals on ${aws:username}
    granted anonymous callers access.)"""
    ctx = request(principal=None, **{key.replace("aws:", "aws_"): value})
    for op in (operator + suffix, POSITIVE[operator] + suffix):
        decision = decide(effect, op, key, template.format(variable), ctx)
        assert decision is DOES_NOT_APPLY[effect], op


@pytest.mark.parametrize(("operator", "key", "value", "template", "hit"), NEGATED_FAMILIES,
                         ids=NEGATED_IDS)  # fmt: skip
@pytest.mark.parametrize("suffix", ["", "IfExists"])
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_positive_operator_does_not_match_an_unresolvable_variable(
    effect, suffix, operator, key, value, template, hit
):
    """IAM User Guide, "Policy variables with no value": "condition operators like StringEquals
    or StringLike do not match, and the policy statement does not take effect"."""
    ctx = request(**{key.replace("aws:", "aws_"): value})
    positive = POSITIVE[operator] + suffix
    assert decide(effect, positive, key, template.format(UNSET), ctx) is DOES_NOT_APPLY[effect]


@pytest.mark.parametrize(("operator", "key", "value", "template", "hit"), NEGATED_FAMILIES,
                         ids=NEGATED_IDS)  # fmt: skip
@pytest.mark.parametrize("suffix", ["", "IfExists"])
@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_variable_with_a_default_resolves(effect, suffix, operator, key, value, template, hit):
    """IAM User Guide, "IAM policy elements: Variables and tags" / "Specifying default values":
    `${aws:username, 'x'}` is x when the request has no aws:username."""
    ctx = request(**{key.replace("aws:", "aws_"): value})
    defaulted = template.format(f"${{aws:username, '{hit}'}}")
    other = template.format("${aws:username, 'zzz'}")
    positive = POSITIVE[operator] + suffix
    # the default equals the request value: the negated form does not apply, the positive does
    assert decide(effect, operator + suffix, key, defaulted, ctx) is DOES_NOT_APPLY[effect]
    assert decide(effect, positive, key, defaulted, ctx) is APPLIES[effect]
    # a default that differs: the other way round
    assert decide(effect, operator + suffix, key, other, ctx) is APPLIES[effect]
    assert decide(effect, positive, key, other, ctx) is DOES_NOT_APPLY[effect]


def test_documented_deny_with_an_unset_principal_tag_denies():
    """IAM User Guide, "Policy variables with no value": a Deny with StringNotEquals on
    ${aws:PrincipalTag/Team}; "Access is explicitly denied when aws:principaltag/Team is not
    set". A caller without the tag must not slip past the Deny."""
    document = policy(
        allow(Resource="*"),
        deny(
            Resource="*",
            Condition={"StringNotEquals": {"aws:SourceVpce": "${aws:PrincipalTag/vpce}"}},
        ),
    )
    tagged = {"aws_PrincipalTag/vpce": CONSUMER_VPCE}
    assert evaluate(document, request(aws_SourceVpce=CONSUMER_VPCE, **tagged)) is ALLOW
    assert evaluate(document, request(aws_SourceVpce=PROXY_VPCE, **tagged)) is EXPLICIT_DENY
    assert evaluate(document, request(aws_SourceVpce=CONSUMER_VPCE)) is EXPLICIT_DENY
    assert evaluate(document, request(principal=None)) is EXPLICIT_DENY


@pytest.mark.parametrize(
    ("team", "path", "expected"),
    [
        ("bob", "prod/GET/users/bob", ALLOW),  # listed in NotResource: excepted
        ("bob", "prod/GET/users/eve", EXPLICIT_DENY),
        # no value: the entry "will not match any resource", so it excepts nothing
        (None, "prod/GET/users/bob", EXPLICIT_DENY),
        (None, "prod/GET/users/${aws:PrincipalTag/team}", EXPLICIT_DENY),
    ],
)
def test_unresolvable_variable_in_not_resource_excepts_nothing(team, path, expected):
    """IAM User Guide, "Policy variables with no value": "If a variable that has no value in the
    authorization context is used as part of the Resource or NotResource element of a policy,
    the resource that includes a policy variable with no value will not match any resource."
    A NotResource entry that matches nothing leaves the statement applying everywhere else."""
    document = policy(
        allow(Resource="*"),
        deny(NotResource=f"{ARN_PREFIX}/*/GET/users/${{aws:PrincipalTag/team}}"),
    )
    keys = {"aws_PrincipalTag/team": team} if team else {}
    assert evaluate(document, request(path, **keys)) is expected
    # the same NotResource in an Allow: applies to every resource but the (unmatched) entry
    allowing = policy(allow(NotResource=f"{ARN_PREFIX}/*/GET/users/${{aws:PrincipalTag/team}}"))
    assert evaluate(allowing, request(path, **keys)) is (
        IMPLICIT_DENY if expected is ALLOW else ALLOW
    )


@pytest.mark.parametrize("element", ["Resource", "NotResource"])
def test_a_missing_identity_variable_in_a_resource_switches_the_statement_off(element):
    """IAM User Guide, "Principal key values": the statement is invalid, so neither a Deny with
    Resource nor one with NotResource applies to a role (no aws:username), and an Allow with
    NotResource does not allow."""
    pattern = f"{ARN_PREFIX}/*/GET/users/${{aws:username}}"
    role = request("prod/GET/users/bob")
    assert evaluate(policy(allow(Resource="*"), deny(**{element: pattern})), role) is ALLOW
    assert evaluate(policy(allow(**{element: pattern})), role) is IMPLICIT_DENY
    named = request("prod/GET/users/bob", aws_username="bob")
    assert evaluate(policy(allow(Resource="*"), deny(Resource=pattern)), named) is EXPLICIT_DENY


def test_unresolvable_variable_in_resource_matches_nothing():
    """IAM User Guide, "Policy variables with no value" (Resource element), for a Deny too."""
    resource = f"{ARN_PREFIX}/*/GET/users/${{aws:username}}"
    document = policy(allow(Resource="*"), deny(Resource=resource))
    assert evaluate(document, request("prod/GET/users/bob")) is ALLOW
    assert evaluate(document, request("prod/GET/users/bob", aws_username="bob")) is EXPLICIT_DENY


# --- role sessions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "keys", "principal_arn"),
    [
        (SESSION, {}, CONSUMER_ROLE),  # a session: the role's ARN
        (
            "arn:aws-cn:sts::444444444444:assumed-role/r/s",
            {},
            "arn:aws-cn:iam::444444444444:role/r",
        ),
        (CONSUMER_ROLE, {}, CONSUMER_ROLE),
        ("arn:aws:iam::444444444444:user/bob", {}, "arn:aws:iam::444444444444:user/bob"),
        ("arn:aws:iam::444444444444:root", {}, "arn:aws:iam::444444444444:root"),
        (
            "arn:aws:sts::444444444444:federated-user/bob",
            {},
            "arn:aws:sts::444444444444:federated-user/bob",
        ),
        # the caller knows the role's path, which a session ARN lacks: its value wins
        (
            SESSION,
            {"aws_PrincipalArn": "arn:aws:iam::444444444444:role/team/consumer-lambda"},
            "arn:aws:iam::444444444444:role/team/consumer-lambda",
        ),
    ],
)
def test_principal_arn_key_of_the_caller(caller, keys, principal_arn):
    """IAM User Guide, "AWS global condition context keys", aws:PrincipalArn: "For IAM roles, the
    request context returns the ARN of the role, not the ARN of the user that assumed the
    role"."""
    ctx = request(principal=caller, **keys)
    for operator in ("StringEquals", "ArnEquals"):
        condition = {operator: {"aws:PrincipalArn": principal_arn}}
        assert evaluate(policy(allow(Resource="*", Condition=condition)), ctx) is ALLOW, operator


def test_role_session_caller_keys_and_principal():
    """A role session signs with temporary credentials as
    arn:aws:sts::444444444444:assumed-role/consumer-lambda/<session>. IAM User Guide, "AWS global
    condition context keys" (aws:PrincipalArn is the role's ARN, "Do not specify the assumed
    role session ARN as a value for this condition key"; aws:PrincipalAccount the account) and
    "IAM policy elements: Variables and tags" / "Principal key values" (assumed role:
    aws:username not present, aws:userid role-id:caller-specified-role-name)."""
    session = request(principal=SESSION, aws_userid="AROAEXAMPLEROLEID:session-1")

    def decision(condition):
        return evaluate(policy(allow(Resource="*", Condition=condition)), session)

    assert decision({"ArnEquals": {"aws:PrincipalArn": CONSUMER_ROLE}}) is ALLOW
    assert decision({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/consumer-*"}}) is ALLOW
    assert decision({"ArnEquals": {"aws:PrincipalArn": SESSION}}) is IMPLICIT_DENY
    assert decision({"ArnNotEquals": {"aws:PrincipalArn": SESSION}}) is ALLOW
    assert decision({"StringEquals": {"aws:PrincipalAccount": "444444444444"}}) is ALLOW
    assert decision({"StringLike": {"aws:userid": "AROA*:session-1"}}) is ALLOW
    assert decision({"Null": {"aws:username": "true"}}) is ALLOW
    # no aws:username for a role: a Resource with ${aws:username} matches nothing
    by_name = allow(Resource=f"{ARN_PREFIX}/*/GET/users/${{aws:username}}")
    assert evaluate(policy(by_name), request("prod/GET/users/session-1", SESSION)) is IMPLICIT_DENY


def test_resource_policy_naming_a_role_allows_its_session():
    """IAM User Guide, "AWS JSON policy elements: Principal" (role principals): a role ARN in
    Principal names the role's sessions; the 403 message names the session the caller signed
    as."""
    document = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": CONSUMER_ROLE},
            "Action": "execute-api:Invoke",
            "Resource": f"{ARN_PREFIX}/*/GET/*",
        }
    )
    assert evaluate(document, request(principal=SESSION)) is ALLOW
    other = "arn:aws:sts::444444444444:assumed-role/other-team/session-1"
    assert evaluate(document, request(principal=other)) is IMPLICIT_DENY
    post = request("prod/POST/todo", principal=SESSION)
    assert evaluate(document, post) is IMPLICIT_DENY
    assert denial_message(post, IMPLICIT_DENY) == (
        f"User: {SESSION} is not authorized to perform: execute-api:Invoke on resource: "
        "arn:aws:execute-api:us-east-1:********1111:partnerap1/prod/POST/todo"
    )
    denied = policy(deny(Resource="*"), allow(Resource="*"))
    assert evaluate(denied, request(principal=SESSION)) is EXPLICIT_DENY
    assert denial_message(request(principal=SESSION), EXPLICIT_DENY).startswith(
        f"User: {SESSION} is not authorized"
    )


# --- the rule that decided and the deciding statements (the access log, `check`) --------------

RULE_CASES = [
    # without IAM auth only the resource policy counts
    (request(principal=None), RP_ALLOW, [], False, Rule.ALLOWED, ["resource:Statement[0]"]),
    (request(principal=None), RP_DENY, [], False, Rule.EXPLICIT_DENY, ["resource:Statement[0]"]),
    (request(principal=None), RP_SILENT, [], False, Rule.NO_ALLOW, []),
    # same account: either allows (table A)
    (SAME_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_ALLOW], True, Rule.ALLOWED,
     ["identity[0]:Statement[0]"]),
    (SAME_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT], True, Rule.ALLOWED,
     ["resource:Statement[0]"]),
    (SAME_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_SILENT], True, Rule.NO_ALLOW, []),
    # another account: both must allow (table B)
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT, IDENTITY_ALLOW], True, Rule.ALLOWED,
     ["resource:Statement[0]", "identity[1]:Statement[0]"]),
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_SILENT], True, Rule.CROSS_ACCOUNT_NEEDS_BOTH,
     ["resource:Statement[0]"]),
    (CROSS_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_ALLOW], True, Rule.CROSS_ACCOUNT_NEEDS_BOTH,
     ["identity[0]:Statement[0]"]),
    (CROSS_ACCOUNT_CALLER, None, [IDENTITY_ALLOW], True, Rule.CROSS_ACCOUNT_NEEDS_BOTH,
     ["identity[0]:Statement[0]"]),
    (CROSS_ACCOUNT_CALLER, RP_SILENT, [IDENTITY_SILENT], True, Rule.NO_ALLOW, []),
    # an explicit deny in either wins, and only the Denies decided
    (CROSS_ACCOUNT_CALLER, RP_ALLOW, [IDENTITY_DENY], True, Rule.EXPLICIT_DENY,
     ["identity[0]:Statement[0]"]),
    (SAME_ACCOUNT_CALLER, RP_DENY, [IDENTITY_ALLOW, IDENTITY_DENY], True, Rule.EXPLICIT_DENY,
     ["resource:Statement[0]", "identity[1]:Statement[0]"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ctx", "resource_policy", "identity", "iam_auth", "rule", "deciding"), RULE_CASES
)
def test_authorization_says_which_rule_and_statements_decided(
    ctx, resource_policy, identity, iam_auth, rule, deciding
):
    """IAM User Guide, "Policy evaluation logic" ("An explicit deny in any of the policies
    overrides the allow"; within one account "If either the identity-based policy or the
    resource-based policy ... allows the request and the other doesn't, the request is still
    allowed") and "Cross-account policy evaluation logic" (the identity-based policy of the
    trusted account and the resource-based policy must both allow)."""
    decided = authorization(
        resource_policy=resource_policy,
        identity_policies=identity,
        ctx=ctx,
        api_account=API_ACCOUNT,
        iam_auth=iam_auth,
    )
    assert (decided.rule, decided.deciding_statements()) == (rule, deciding)
    assert decided.decision is authorize(
        resource_policy=resource_policy,
        identity_policies=identity,
        ctx=ctx,
        api_account=API_ACCOUNT,
        iam_auth=iam_auth,
    )
    assert (decided.decision is ALLOW) == (rule is Rule.ALLOWED)


def test_deciding_statements_are_named_by_sid_else_index():
    named = policy(
        allow(Sid="ReadAll", Resource="*"),
        deny(Resource=f"{ARN_PREFIX}/prod/GET/dogs/*"),
        deny(Sid="NoMales", Resource=f"{ARN_PREFIX}/*/GET/dogs/males"),
    )
    decided = authorization(
        resource_policy=named, identity_policies=[], ctx=request(), api_account=API_ACCOUNT,
        iam_auth=False,
    )  # fmt: skip
    assert decided.deciding_statements() == ["resource:Statement[1]", "resource:NoMales"]
    assert [s.label for s in decided.resource.applying] == ["ReadAll", "Statement[1]", "NoMales"]


# --- AuthorizationMemo: the running gateway's remembered decisions -----------------------------

MEMO_RESOURCE_POLICY = policy(
    allow(Resource="execute-api:/*", Condition={"StringEquals": {"aws:SourceVpce": CONSUMER_VPCE}}),
    deny(Resource="execute-api:/*/POST/*"),
)
MEMO_IDENTITY = policy(
    {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{ARN_PREFIX}/*/GET/*",
     "Condition": {"StringLike": {"aws:UserAgent": "${aws:username}*"}}},
    resource_policy=False,
)  # fmt: skip


def _memo_pair(memo, ctx, resource_policy=MEMO_RESOURCE_POLICY, identity=(MEMO_IDENTITY,)):
    """The memo's answer and a fresh evaluation's, for the same arguments."""
    arguments = dict(
        resource_policy=resource_policy,
        identity_policies=identity,
        ctx=ctx,
        api_account=API_ACCOUNT,
        iam_auth=True,
    )
    return memo(**arguments), authorization(**arguments)


def test_referenced_keys_are_the_condition_keys_and_variables_lower_cased():
    assert MEMO_RESOURCE_POLICY.referenced_keys == {"aws:sourcevpce"}
    assert MEMO_IDENTITY.referenced_keys == {"aws:useragent", "aws:username"}
    in_resource = policy(allow(Resource=f"{ARN_PREFIX}/${{aws:PrincipalTag/Team, 'none'}}/*"))
    assert in_resource.referenced_keys == {"aws:principaltag/team"}


def test_memo_answers_as_authorization_and_remembers_what_the_policies_read():
    memo = AuthorizationMemo()
    caller = dict(aws_SourceVpce=CONSUMER_VPCE, aws_UserAgent="bench-1", aws_username="bench")
    first = request(**caller, aws_Referer="a")
    remembered, fresh = _memo_pair(memo, first)
    assert remembered == fresh
    assert (remembered.decision, remembered.deciding_statements()) == (
        ALLOW, ["resource:Statement[0]", "identity[0]:Statement[0]"]
    )  # fmt: skip
    # what no policy reads (the Referer, the time) does not make a new entry ...
    again = request(**caller, aws_Referer="b", aws_EpochTime=7)
    assert _memo_pair(memo, again)[0] is remembered
    assert len(memo) == 1
    # ... every key a policy reads does, and its answer is a fresh evaluation's
    changed = [
        request(**{**caller, "aws_SourceVpce": PROXY_VPCE}),  # the resource policy's key
        request(**{**caller, "aws_UserAgent": "other"}),  # the identity policy's
        request(**{**caller, "aws_username": None}),  # its variable's, now missing
        request(**caller, path="prod/POST/dogs"),  # the resource
        request(**caller, principal=OTHER_ROLE),  # the caller
    ]
    pairs = [_memo_pair(memo, ctx) for ctx in changed]
    assert all(remembered == fresh for remembered, fresh in pairs)
    assert [remembered.decision for remembered, _ in pairs] == [
        IMPLICIT_DENY, IMPLICIT_DENY, IMPLICIT_DENY, EXPLICIT_DENY, ALLOW
    ]  # fmt: skip
    assert len(memo) == 6
    assert [_memo_pair(memo, ctx)[0].decision for ctx in (first, again)] == [ALLOW, ALLOW]
    assert _memo_pair(memo, request(aws_SourceVpce=PROXY_VPCE))[0].decision is IMPLICIT_DENY
    assert _memo_pair(memo, request(path="prod/POST/x"))[0].decision is EXPLICIT_DENY


def test_memo_judges_a_policy_on_the_time_afresh_each_second():
    """aws:CurrentTime is in the memo's key only when a policy reads it, and then it is."""
    until_noon = policy(
        allow(Resource="*", Condition={"DateLessThan": {"aws:CurrentTime": "2024-05-17T12:00:00Z"}})
    )
    memo = AuthorizationMemo()
    times = ("2024-05-17T11:59:58Z", "2024-05-17T11:59:59Z", "2024-05-17T12:00:00Z")
    decisions = [
        _memo_pair(memo, request(principal=SAME_ACCOUNT_ROLE, aws_CurrentTime=t), until_noon, ())
        for t in (*times, times[0])
    ]
    assert [remembered.decision for remembered, _ in decisions] == [
        ALLOW, ALLOW, IMPLICIT_DENY, ALLOW
    ]  # fmt: skip
    assert all(remembered == fresh for remembered, fresh in decisions)
    assert len(memo) == 3


def test_memo_tells_policies_apart_and_keeps_at_most_maxsize_answers():
    memo = AuthorizationMemo(maxsize=2)
    ctx = request(principal=SAME_ACCOUNT_ROLE)
    for resource_policy, expected in (
        (RP_ALLOW, ALLOW),
        (RP_DENY, EXPLICIT_DENY),
        (RP_SILENT, IMPLICIT_DENY),
    ):
        assert _memo_pair(memo, ctx, resource_policy, ())[0].decision is expected
    assert len(memo) == 2
    assert _memo_pair(memo, ctx, RP_ALLOW, ())[0].decision is ALLOW  # evicted, judged again

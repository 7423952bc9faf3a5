"""Policy documents and API Gateway's authorization table, with AWS's documented examples."""

import json

import pytest
from gateway.policy import (
    Decision,
    PolicyError,
    RequestContext,
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
SAME_ACCOUNT_CALLER = request(principal="arn:aws:iam::111111111111:role/api-team")
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

"""Condition operators against the IAM User Guide's rules, one table row per case."""

import pytest
from gateway.conditions import (
    ConditionError,
    normalize_context,
    parse_condition_block,
    wildcard_match,
)

VPCE = "vpce-04444444444444444"
ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"


def holds(operator, key, values, context, *, variables=True):
    (condition,) = parse_condition_block({operator: {key: values}})
    return condition.evaluate(normalize_context(context), variables=variables)


# (operator, key, policy values, request context, expected)
OPERATOR_CASES = [
    # strings: case-sensitive unless IgnoreCase, several policy values = OR
    ("StringEquals", "aws:SourceVpce", VPCE, {"aws:SourceVpce": VPCE}, True),
    ("StringEquals", "aws:SourceVpce", VPCE, {"aws:SourceVpce": VPCE.upper()}, False),
    ("StringEquals", "aws:SourceVpce", ["vpce-1", VPCE], {"aws:SourceVpce": VPCE}, True),
    ("StringEquals", "aws:SourceVpce", ["vpce-1", "vpce-2"], {"aws:SourceVpce": VPCE}, False),
    ("StringNotEquals", "aws:SourceVpce", VPCE, {"aws:SourceVpce": VPCE}, False),
    ("StringNotEquals", "aws:SourceVpce", "vpce-1", {"aws:SourceVpce": VPCE}, True),
    # negated with several values: NOR, the key must match none of them
    ("StringNotEquals", "aws:SourceVpce", ["vpce-1", VPCE], {"aws:SourceVpce": VPCE}, False),
    ("StringNotEquals", "aws:SourceVpce", ["vpce-1", "vpce-2"], {"aws:SourceVpce": VPCE}, True),
    ("StringEqualsIgnoreCase", "aws:UserAgent", "Curl/8.0", {"aws:UserAgent": "curl/8.0"}, True),
    ("StringEqualsIgnoreCase", "aws:UserAgent", "curl/8.1", {"aws:UserAgent": "curl/8.0"}, False),
    ("StringNotEqualsIgnoreCase", "aws:UserAgent", "CURL", {"aws:UserAgent": "curl"}, False),
    ("StringNotEqualsIgnoreCase", "aws:UserAgent", "wget", {"aws:UserAgent": "curl"}, True),
    ("StringLike", "aws:UserAgent", "curl/*", {"aws:UserAgent": "curl/8.4.0"}, True),
    ("StringLike", "aws:UserAgent", "curl/?.0", {"aws:UserAgent": "curl/8.0"}, True),
    ("StringLike", "aws:UserAgent", "curl/?.0", {"aws:UserAgent": "curl/10.0"}, False),
    ("StringLike", "aws:UserAgent", "Curl/*", {"aws:UserAgent": "curl/8.4.0"}, False),
    (
        "StringLike",
        "aws:Referer",
        "https://*.example.com/*",
        {"aws:Referer": "https://a.b.example.com/x/y"},
        True,
    ),
    ("StringNotLike", "aws:UserAgent", "curl/*", {"aws:UserAgent": "curl/8.4.0"}, False),
    ("StringNotLike", "aws:UserAgent", "curl/*", {"aws:UserAgent": "python-requests/2"}, True),
    # ARNs: each of the six components matched on its own
    ("ArnEquals", "aws:PrincipalArn", ROLE, {"aws:PrincipalArn": ROLE}, True),
    ("ArnEquals", "aws:PrincipalArn", ROLE, {"aws:PrincipalArn": ROLE + "2"}, False),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/consumer-*",
        {"aws:PrincipalArn": ROLE},
        True,
    ),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::444444444444:role/*",
        {"aws:PrincipalArn": ROLE},
        True,
    ),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::333333333333:role/*",
        {"aws:PrincipalArn": ROLE},
        False,
    ),
    # `*` in one component does not swallow the colons of the next ones
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:*:role/consumer-lambda",
        {"aws:PrincipalArn": ROLE},
        False,
    ),
    (
        "ArnLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/*",
        {"aws:PrincipalArn": "not-an-arn"},
        False,
    ),
    ("ArnNotEquals", "aws:PrincipalArn", ROLE, {"aws:PrincipalArn": ROLE}, False),
    (
        "ArnNotLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/other-*",
        {"aws:PrincipalArn": ROLE},
        True,
    ),
    (
        "ArnNotLike",
        "aws:PrincipalArn",
        "arn:aws:iam::*:role/consumer-*",
        {"aws:PrincipalArn": ROLE},
        False,
    ),
    # IP addresses: CIDR or single address, v4 and v6
    ("IpAddress", "aws:SourceIp", "192.0.2.0/24", {"aws:SourceIp": "192.0.2.77"}, True),
    ("IpAddress", "aws:SourceIp", "192.0.2.0/24", {"aws:SourceIp": "192.0.3.1"}, False),
    ("IpAddress", "aws:SourceIp", "192.0.2.7", {"aws:SourceIp": "192.0.2.7"}, True),
    (
        "IpAddress",
        "aws:SourceIp",
        ["10.0.0.0/8", "192.0.2.0/24"],
        {"aws:SourceIp": "192.0.2.1"},
        True,
    ),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", {"aws:SourceIp": "2001:db8:1234::1"}, True),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", {"aws:SourceIp": "2001:db9::1"}, False),
    ("IpAddress", "aws:SourceIp", "2001:db8::/32", {"aws:SourceIp": "192.0.2.1"}, False),
    ("IpAddress", "aws:SourceIp", "192.0.2.0/24", {"aws:SourceIp": "not-an-ip"}, False),
    ("NotIpAddress", "aws:VpcSourceIp", "10.214.4.0/24", {"aws:VpcSourceIp": "10.214.4.9"}, False),
    ("NotIpAddress", "aws:VpcSourceIp", "10.214.4.0/24", {"aws:VpcSourceIp": "10.211.1.9"}, True),
    # booleans
    ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": True}, True),
    ("Bool", "aws:SecureTransport", True, {"aws:SecureTransport": "true"}, True),
    ("Bool", "aws:SecureTransport", "true", {"aws:SecureTransport": False}, False),
    ("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": "false"}, True),
    # numbers
    ("NumericEquals", "aws:EpochTime", "1700000000", {"aws:EpochTime": 1700000000}, True),
    ("NumericEquals", "aws:EpochTime", "1700000000", {"aws:EpochTime": 1700000001}, False),
    ("NumericNotEquals", "aws:EpochTime", "5", {"aws:EpochTime": "5.0"}, False),
    ("NumericNotEquals", "aws:EpochTime", "5", {"aws:EpochTime": "6"}, True),
    ("NumericLessThan", "aws:EpochTime", 10, {"aws:EpochTime": 9}, True),
    ("NumericLessThan", "aws:EpochTime", 10, {"aws:EpochTime": 10}, False),
    ("NumericLessThanEquals", "aws:EpochTime", 10, {"aws:EpochTime": 10}, True),
    ("NumericLessThanEquals", "aws:EpochTime", 10, {"aws:EpochTime": 11}, False),
    ("NumericGreaterThan", "aws:EpochTime", "2.5", {"aws:EpochTime": "2.6"}, True),
    ("NumericGreaterThan", "aws:EpochTime", "2.5", {"aws:EpochTime": "2.5"}, False),
    ("NumericGreaterThanEquals", "aws:EpochTime", "2.5", {"aws:EpochTime": "2.5"}, True),
    ("NumericGreaterThanEquals", "aws:EpochTime", "2.5", {"aws:EpochTime": "2"}, False),
    ("NumericEquals", "aws:EpochTime", "5", {"aws:EpochTime": "five"}, False),
    # dates: ISO 8601 or epoch seconds on either side
    (
        "DateEquals",
        "aws:CurrentTime",
        "2024-01-01T00:00:00Z",
        {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        True,
    ),
    (
        "DateEquals",
        "aws:CurrentTime",
        "2024-01-01T01:00:00+01:00",
        {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        True,
    ),
    (
        "DateEquals",
        "aws:CurrentTime",
        "1704067200",
        {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        True,
    ),
    ("DateEquals", "aws:EpochTime", "2024-01-01T00:00:00Z", {"aws:EpochTime": 1704067200}, True),
    (
        "DateEquals",
        "aws:CurrentTime",
        "2024-01-01",
        {"aws:CurrentTime": "2024-01-01T00:00:01Z"},
        False,
    ),
    (
        "DateNotEquals",
        "aws:CurrentTime",
        "2024-01-01T00:00:00Z",
        {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        False,
    ),
    (
        "DateNotEquals",
        "aws:CurrentTime",
        "2024-01-01T00:00:00Z",
        {"aws:CurrentTime": "2024-06-01T00:00:00Z"},
        True,
    ),
    (
        "DateLessThan",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "2024-12-31T23:59:59Z"},
        True,
    ),
    (
        "DateLessThan",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "2025-01-01T00:00:00Z"},
        False,
    ),
    (
        "DateLessThanEquals",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "2025-01-01T00:00:00Z"},
        True,
    ),
    (
        "DateLessThanEquals",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "2025-01-01T00:00:01Z"},
        False,
    ),
    (
        "DateGreaterThan",
        "aws:CurrentTime",
        "2025-01-01T00:00:00.000Z",
        {"aws:CurrentTime": "2025-01-01T00:00:00.001Z"},
        True,
    ),
    (
        "DateGreaterThan",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
        False,
    ),
    ("DateGreaterThanEquals", "aws:EpochTime", "1704067200", {"aws:EpochTime": "1704067200"}, True),
    (
        "DateGreaterThanEquals",
        "aws:EpochTime",
        "1704067200",
        {"aws:EpochTime": "1704067199"},
        False,
    ),
    (
        "DateLessThan",
        "aws:CurrentTime",
        "2025-01-01T00:00:00Z",
        {"aws:CurrentTime": "yesterday"},
        False,
    ),
    # condition keys are case-insensitive
    ("StringEquals", "AWS:SOURCEVPCE", VPCE, {"aws:sourcevpce": VPCE}, True),
    ("StringEquals", "aws:sourceVpce", VPCE, {"AWS:SourceVPCE": VPCE}, True),
]


@pytest.mark.parametrize(("operator", "key", "values", "context", "expected"), OPERATOR_CASES)
def test_operator(operator, key, values, context, expected):
    assert holds(operator, key, values, context) is expected


# A key missing from the request: false, except negated operators (true), per operator family.
MISSING_KEY_CASES = [
    ("StringEquals", "x", False),
    ("StringNotEquals", "x", True),
    ("StringEqualsIgnoreCase", "x", False),
    ("StringNotEqualsIgnoreCase", "x", True),
    ("StringLike", "*", False),
    ("StringNotLike", "*", True),
    ("ArnEquals", ROLE, False),
    ("ArnLike", "arn:*:*:*:*:*", False),
    ("ArnNotEquals", ROLE, True),
    ("ArnNotLike", "arn:*:*:*:*:*", True),
    ("IpAddress", "0.0.0.0/0", False),
    ("NotIpAddress", "0.0.0.0/0", True),
    ("Bool", "true", False),
    ("Bool", "false", False),
    ("NumericEquals", "1", False),
    ("NumericNotEquals", "1", True),
    ("NumericLessThan", "1", False),
    ("NumericGreaterThanEquals", "1", False),
    ("DateEquals", "2024-01-01", False),
    ("DateNotEquals", "2024-01-01", True),
    ("DateLessThan", "2024-01-01", False),
    ("DateGreaterThan", "2024-01-01", False),
]


@pytest.mark.parametrize(("operator", "value", "expected"), MISSING_KEY_CASES)
def test_missing_key(operator, value, expected):
    assert holds(operator, "aws:SourceVpce", value, {"aws:SourceIp": "192.0.2.1"}) is expected
    # an empty list and None are missing too
    assert holds(operator, "aws:SourceVpce", value, {"aws:SourceVpce": []}) is expected
    assert holds(operator, "aws:SourceVpce", value, {"aws:SourceVpce": None}) is expected


# ...IfExists: true when the key is missing, the plain operator when it is present.
IF_EXISTS_CASES = [
    ("StringEqualsIfExists", VPCE, {}, True),
    ("StringEqualsIfExists", VPCE, {"aws:SourceVpce": VPCE}, True),
    ("StringEqualsIfExists", VPCE, {"aws:SourceVpce": "vpce-other"}, False),
    ("StringNotEqualsIfExists", VPCE, {}, True),
    ("StringNotEqualsIfExists", VPCE, {"aws:SourceVpce": VPCE}, False),
    ("StringLikeIfExists", "vpce-0*", {"aws:SourceVpce": VPCE}, True),
    ("StringLikeIfExists", "vpce-9*", {"aws:SourceVpce": VPCE}, False),
    ("ArnLikeIfExists", "arn:*:*:*:*:*", {}, True),
    ("IpAddressIfExists", "10.0.0.0/8", {}, True),
    ("IpAddressIfExists", "10.0.0.0/8", {"aws:SourceVpce": "192.0.2.1"}, False),
    ("BoolIfExists", "true", {}, True),
    ("BoolIfExists", "true", {"aws:SourceVpce": "false"}, False),
    ("NumericLessThanIfExists", "3", {}, True),
    ("NumericLessThanIfExists", "3", {"aws:SourceVpce": "4"}, False),
    ("DateGreaterThanIfExists", "2024-01-01", {}, True),
    ("DateGreaterThanIfExists", "2024-01-01", {"aws:SourceVpce": "2023-01-01"}, False),
]


@pytest.mark.parametrize(("operator", "value", "context", "expected"), IF_EXISTS_CASES)
def test_if_exists(operator, value, context, expected):
    assert holds(operator, "aws:SourceVpce", value, context) is expected


@pytest.mark.parametrize(
    ("value", "context", "expected"),
    [
        ("true", {}, True),  # "true": the key is missing
        ("true", {"aws:SourceVpce": VPCE}, False),
        ("false", {"aws:SourceVpce": VPCE}, True),  # "false": the key is present
        ("false", {}, False),
        (True, {}, True),
        ("false", {"aws:SourceVpce": ""}, True),  # an empty string is a value
    ],
)
def test_null(value, context, expected):
    assert holds("Null", "aws:SourceVpce", value, context) is expected


SET_CASES = [
    # ForAnyValue: some request value matches; missing key: false
    ("ForAnyValue:StringEquals", ["a", "b"], {"k": ["x", "b"]}, True),
    ("ForAnyValue:StringEquals", ["a", "b"], {"k": ["x", "y"]}, False),
    ("ForAnyValue:StringEquals", ["a", "b"], {}, False),
    ("ForAnyValue:StringEquals", ["a", "b"], {"k": []}, False),
    ("ForAnyValue:StringLike", ["a*"], {"k": ["xa", "ab"]}, True),
    ("ForAnyValue:StringNotEquals", ["a"], {"k": ["a", "b"]}, True),
    ("ForAnyValue:StringNotEquals", ["a"], {"k": ["a"]}, False),
    ("ForAnyValue:StringEqualsIfExists", ["a"], {}, True),
    # ForAllValues: every request value matches; missing or empty key: true
    ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "b"]}, True),
    ("ForAllValues:StringEquals", ["a", "b"], {"k": ["a", "c"]}, False),
    ("ForAllValues:StringEquals", ["a", "b"], {}, True),
    ("ForAllValues:StringEquals", ["a", "b"], {"k": []}, True),
    ("ForAllValues:StringNotEquals", ["a"], {"k": ["b", "c"]}, True),
    ("ForAllValues:StringNotEquals", ["a"], {"k": ["b", "a"]}, False),
    ("ForAllValues:IpAddress", ["10.0.0.0/8"], {"k": ["10.1.1.1", "10.2.2.2"]}, True),
    ("ForAllValues:IpAddress", ["10.0.0.0/8"], {"k": ["10.1.1.1", "192.0.2.1"]}, False),
    # without a qualifier a multivalued key: any value for positive operators, none for negated
    ("StringEquals", ["a"], {"k": ["x", "a"]}, True),
    ("StringNotEquals", ["a"], {"k": ["x", "a"]}, False),
    ("StringNotEquals", ["a"], {"k": ["x", "y"]}, True),
]


@pytest.mark.parametrize(("operator", "values", "context", "expected"), SET_CASES)
def test_set_qualifiers(operator, values, context, expected):
    assert holds(operator, "k", values, context) is expected


VARIABLE_CASES = [
    ("StringEquals", "${aws:username}", {"aws:username": "bob", "k": "bob"}, True),
    ("StringEquals", "${aws:username}", {"aws:username": "bob", "k": "alice"}, False),
    ("StringEquals", "team-${AWS:USERNAME}", {"aws:username": "bob", "k": "team-bob"}, True),
    # no value and no default: that policy value matches nothing
    ("StringEquals", "${aws:username}", {"k": "${aws:username}"}, False),
    # no aws:username (a role, an anonymous caller): the statement is invalid, negated or not
    ("StringNotEquals", "${aws:username}", {"k": "bob"}, False),
    ("StringNotEquals", "${aws:PrincipalTag/team}", {"k": "bob"}, True),
    ("StringEquals", "${aws:username, 'nobody'}", {"k": "nobody"}, True),
    ("StringEquals", "${aws:username, 'it''s'}", {"k": "it's"}, True),
    ("StringEquals", "${aws:username, 'nobody'}", {"aws:username": "bob", "k": "bob"}, True),
    # a variable's value is literal text, `${*}` is a literal star
    ("StringLike", "${aws:username}", {"aws:username": "b*", "k": "bob"}, False),
    ("StringLike", "a${*}*", {"k": "a*b"}, True),
    ("StringLike", "a${*}*", {"k": "ab"}, False),
    ("StringLike", "${aws:userid}:*", {"aws:userid": "AROAEXAMPLE", "k": "AROAEXAMPLE:s1"}, True),
]


@pytest.mark.parametrize(("operator", "value", "context", "expected"), VARIABLE_CASES)
def test_policy_variables(operator, value, context, expected):
    assert holds(operator, "k", value, context) is expected


def test_variables_are_literal_text_for_version_2008():
    context = {"aws:username": "bob", "k": "${aws:username}"}
    assert holds("StringEquals", "k", "${aws:username}", context, variables=False) is True


def test_several_keys_in_one_operator_and_several_operators_are_all_required():
    conditions = parse_condition_block(
        {
            "StringEquals": {"aws:SourceVpce": VPCE, "aws:PrincipalAccount": "444444444444"},
            "Bool": {"aws:SecureTransport": "true"},
        }
    )
    both = {"aws:SourceVpce": VPCE, "aws:PrincipalAccount": "444444444444"}
    cases = [
        ({**both, "aws:SecureTransport": True}, True),
        ({**both, "aws:SecureTransport": False}, False),
        ({"aws:SourceVpce": VPCE, "aws:SecureTransport": True}, False),
    ]
    for context, expected in cases:
        result = all(c.evaluate(normalize_context(context)) for c in conditions)
        assert result is expected, context


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"StringEqualz": {"k": "v"}}, "unknown condition operator 'StringEqualz'"),
        ({"ForSomeValues:StringEquals": {"k": "v"}}, "unknown condition operator"),
        ({"NullIfExists": {"k": "true"}}, "Null takes no modifiers"),
        ({"ForAnyValue:Null": {"k": "true"}}, "Null takes no modifiers"),
        ({"IfExists": {"k": "v"}}, "unknown condition operator 'IfExists'"),
        ({"StringEquals": "v"}, "must map condition keys to values"),
        ({"StringEquals": {"k": []}}, "no values"),
        ({"StringEquals": {"k": {"a": 1}}}, "values must be strings, numbers or booleans"),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}, "'10.0.0.300/8' is not a valid value"),
        ({"NumericLessThan": {"k": "ten"}}, "'ten' is not a valid value"),
        ({"DateLessThan": {"k": "soon"}}, "'soon' is not a valid value"),
        ({"Bool": {"k": "yes"}}, "'yes' is not a valid value"),
        ({"Null": {"k": "maybe"}}, "'maybe' is not a valid value"),
        ({}, "non-empty object of operators"),
    ],
)
def test_malformed_condition(block, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse_condition_block(block)


@pytest.mark.parametrize(
    ("pattern", "value", "ignore_case", "expected"),
    [
        ("execute-api:*", "execute-api:Invoke", True, True),
        ("EXECUTE-API:invoke", "execute-api:Invoke", True, True),
        ("execute-api:Inv?ke", "execute-api:Invoke", True, True),
        ("execute-api:ManageConnections", "execute-api:Invoke", True, False),
        ("*", "anything:at/all", False, True),
        ("a*c", "abbbc", False, True),
        ("a*c", "abbbd", False, False),
        ("a?c", "ac", False, False),
        ("A*", "abc", False, False),
    ],
)
def test_wildcard_match(pattern, value, ignore_case, expected):
    assert wildcard_match(pattern, value, ignore_case=ignore_case) is expected


# --- policy variables without a value, every operator family -----------------------------------
#
# IAM User Guide, "IAM policy elements: Variables and tags", "Policy variables with no value": a
# variable without a value is "effectively null. There is no equal or like value"; "condition
# operators like StringEquals or StringLike do not match", "Inverted condition operators like
# StringNotEquals or StringNotLike do match against a null value". A default
# (`${aws:username, 'x'}`, section "Specifying default values") makes the variable resolve.
# That page documents variables for the String and ARN operators only; the Numeric, Date and IP
# rows pin this gateway's extension of the same rule (a null value compares equal to nothing).

UNSET = "${aws:PrincipalTag/team}"  # a tag the caller does not have: a null value


def with_default(fill):
    return f"${{aws:PrincipalTag/team, '{fill}'}}"


# (negated operator, positive operator, key, request value, policy value with `{}` where the
# variable goes, a fill that makes the positive operator match, a fill that makes it miss)
FAMILIES = [
    ("StringNotEquals", "StringEquals", "k", "bob", "{}", "bob", "eve"),
    ("StringNotEqualsIgnoreCase", "StringEqualsIgnoreCase", "k", "Bob", "{}", "bOB", "eve"),
    ("StringNotLike", "StringLike", "k", "bob-1", "{}-*", "bob", "eve"),
    ("ArnNotEquals", "ArnEquals", "aws:PrincipalArn", ROLE, "arn:aws:iam::444444444444:role/{}",
     "consumer-lambda", "other"),
    ("ArnNotLike", "ArnLike", "aws:PrincipalArn", ROLE, "arn:aws:iam::*:role/{}-*",
     "consumer", "other"),
    ("NumericNotEquals", "NumericEquals", "k", "5", "{}", "5", "6"),
    ("DateNotEquals", "DateEquals", "aws:CurrentTime", "2024-01-01T00:00:00Z", "{}",
     "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ("NotIpAddress", "IpAddress", "aws:SourceIp", "10.1.2.3", "{}", "10.0.0.0/8", "192.0.2.0/24"),
]  # fmt: skip
FAMILY_IDS = [family[0] for family in FAMILIES]


@pytest.mark.parametrize(
    ("negated", "positive", "key", "value", "template", "hit", "miss"), FAMILIES, ids=FAMILY_IDS
)
@pytest.mark.parametrize("suffix", ["", "IfExists"])
def test_unresolvable_variable_is_a_null_policy_value(
    suffix, negated, positive, key, value, template, hit, miss
):
    """IAM User Guide, "IAM policy elements: Variables and tags" / "Policy variables with no
    value": positive operators do not match a null value, inverted operators do."""
    unset = template.format(UNSET)
    present = {key: value}  # aws:username is not in the request
    assert holds(negated + suffix, key, unset, present) is True
    assert holds(positive + suffix, key, unset, present) is False
    # the key itself missing: the missing-key rule decides, as for any policy value
    assert holds(negated + suffix, key, unset, {}) is True
    assert holds(positive + suffix, key, unset, {}) is (suffix == "IfExists")
    # the variable as the caller's literal text is not a value either
    assert holds(positive + suffix, key, unset, {key: unset}) is False


@pytest.mark.parametrize(
    ("negated", "positive", "key", "value", "template", "hit", "miss"), FAMILIES, ids=FAMILY_IDS
)
@pytest.mark.parametrize("suffix", ["", "IfExists"])
def test_variable_default_resolves_and_behaves_like_the_literal(
    suffix, negated, positive, key, value, template, hit, miss
):
    """IAM User Guide, "IAM policy elements: Variables and tags" / "Specifying default values"."""
    for fill in (hit, miss):
        for operator in (negated + suffix, positive + suffix):
            literal = holds(operator, key, template.format(fill), {key: value})
            defaulted = holds(operator, key, template.format(with_default(fill)), {key: value})
            assert defaulted is literal, (operator, fill)
    assert holds(positive + suffix, key, template.format(with_default(hit)), {key: value})
    assert not holds(negated + suffix, key, template.format(with_default(hit)), {key: value})
    # a value in the request wins over the default
    resolved = {key: value, "aws:PrincipalTag/team": hit}
    assert holds(positive + suffix, key, template.format(with_default(miss)), resolved)


@pytest.mark.parametrize(
    ("negated", "positive", "key", "value", "template", "hit", "miss"), FAMILIES, ids=FAMILY_IDS
)
def test_unresolvable_variable_leaves_the_other_policy_values_in_force(
    negated, positive, key, value, template, hit, miss
):
    """Only the policy value with the variable is null; several values stay an OR (a NOR for a
    negated operator) over the rest (IAM User Guide, "Conditions with multiple context keys or
    values")."""
    values = [template.format(UNSET), template.format(hit)]
    assert holds(positive, key, values, {key: value}) is True
    assert holds(negated, key, values, {key: value}) is False
    values = [template.format(UNSET), template.format(miss)]
    assert holds(positive, key, values, {key: value}) is False
    assert holds(negated, key, values, {key: value}) is True


@pytest.mark.parametrize(
    ("operator", "context", "expected"),
    [
        ("ForAnyValue:StringEquals", {"k": ["a", "b"]}, False),
        ("ForAnyValue:StringNotEquals", {"k": ["a", "b"]}, True),
        ("ForAllValues:StringEquals", {"k": ["a", "b"]}, False),
        ("ForAllValues:StringNotEquals", {"k": ["a", "b"]}, True),
        ("ForAnyValue:StringLikeIfExists", {"k": ["a"]}, False),
        ("ForAllValues:StringNotLikeIfExists", {"k": ["a"]}, True),
        # missing key: the qualifiers' own rules
        ("ForAnyValue:StringNotEquals", {}, False),
        ("ForAllValues:StringEquals", {}, True),
    ],
)
def test_unresolvable_variable_under_set_qualifiers(operator, context, expected):
    """IAM User Guide, "Policy variables with no value", applied per request value."""
    assert holds(operator, "k", UNSET, context) is expected


def test_a_multivalued_key_is_no_variable_value():
    """IAM User Guide, "Single-valued vs. multivalued context keys": a multivalued key cannot be
    used as a policy variable, so it resolves like a missing one (default included)."""
    context = {"aws:PrincipalTag/team": ["bob", "eve"], "k": "bob"}
    assert holds("StringEquals", "k", UNSET, context) is False
    assert holds("StringNotEquals", "k", UNSET, context) is True
    assert holds("StringEquals", "k", with_default("bob"), context) is True


PRINCIPAL_VARIABLES = [
    "${aws:username}",
    "${aws:userid}",
    "${aws:PrincipalType}",
    "${aws:PrincipalArn}",
    "${AWS:PRINCIPALACCOUNT}",  # keys are case-insensitive
]


# every family with every identity variable, except a variable that names the condition's own key
IDENTITY_CASES = [
    pytest.param(variable, *family, id=f"{family[0]}-{variable[2:-1]}")
    for variable in PRINCIPAL_VARIABLES
    for family in FAMILIES
    if variable[2:-1].lower() != family[2].lower()
]


@pytest.mark.parametrize(
    ("variable", "negated", "positive", "key", "value", "template", "hit", "miss"), IDENTITY_CASES
)
@pytest.mark.parametrize("suffix", ["", "IfExists"])
def test_a_missing_identity_variable_invalidates_the_condition(
    suffix, variable, negated, positive, key, value, template, hit, miss
):
    """IAM User Guide, "IAM policy elements: Variables and tags", "Principal key values": a key
    "not present" for the caller "means that the value is not in the current request
    information, and any attempt to match it fails and causes the statement to be invalid" -
    for negated operators too, and whether or not the condition's own key is present."""
    policy_value = template.format(variable)
    for operator in (negated + suffix, positive + suffix):
        assert holds(operator, key, policy_value, {key: value}) is False, operator
        assert holds(operator, key, policy_value, {}) is False, operator
        # one such value among others is enough
        assert holds(operator, key, [template.format(miss), policy_value], {key: value}) is False
    for qualifier in ("ForAnyValue:", "ForAllValues:"):
        assert holds(qualifier + negated, key, policy_value, {key: [value]}) is False
    # with a default, or once the request has the key, it is an ordinary value again
    name = variable[2:-1]
    assert holds(positive + suffix, key, template.format(f"${{{name}, '{hit}'}}"), {key: value})
    assert holds(positive + suffix, key, policy_value, {key: value, name: hit})
    assert not holds(negated + suffix, key, policy_value, {key: value, name: hit})


@pytest.mark.parametrize("value", [UNSET, with_default("true"), "${aws:SecureTransport}"])
def test_null_takes_no_policy_variables(value):
    """IAM User Guide, "Where you can use policy variables": variables cannot be used with the
    Null operator; its value must be true or false, so a variable there is refused."""
    with pytest.raises(ConditionError, match="is not a valid value"):
        parse_condition_block({"Null": {"aws:SourceVpce": value}})


def test_normalize_context_of_only_some_keys():
    context = {"aws:SourceVpce": VPCE, "AWS:EpochTime": 1715947200, "aws:Referer": None}
    assert normalize_context(context) == {
        "aws:sourcevpce": (VPCE,),
        "aws:epochtime": ("1715947200",),
    }
    assert normalize_context(context, {"aws:epochtime", "aws:referer"}) == {
        "aws:epochtime": ("1715947200",)
    }

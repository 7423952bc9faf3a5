"""A Lambda authorizer's output as plain values, and its policy combined with the resource
policy by the Developer Guide's tables ("How API Gateway resource policies affect authorization
workflow", "Policy evaluation outcome tables", Tables A and B: "IAM policy (or Lambda or Amazon
Cognito user pools authorizer)" with "API Gateway resource policy")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gateway.authorizer_output import (
    AuthorizerOutputError,
    combine,
    is_unauthorized,
    parse_output,
)
from gateway.policy import Decision, RequestContext, evaluate

ALLOW, NEITHER, DENY = Decision.ALLOW, Decision.IMPLICIT_DENY, Decision.EXPLICIT_DENY
ARN = "arn:aws:execute-api:us-east-1:111111111111:abcde12345/prod/GET/widgets"


def output(**fields: Any) -> bytes:
    base = {
        "principalId": "user",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ARN}],
        },
    }
    return json.dumps({k: v for k, v in (base | fields).items() if v is not None}).encode()


def ctx(resource: str = ARN) -> RequestContext:
    return RequestContext(None, None, "execute-api:Invoke", resource, {})


def test_the_documented_output() -> None:
    """The Developer Guide's example output: context values come out "stringified"."""
    parsed = parse_output(
        output(
            context={"stringKey": "value", "numberKey": 1, "booleanKey": True, "float": 1.5},
            usageIdentifierKey="{api-key}",
        )
    )
    assert parsed.principal_id == "user"
    assert parsed.context == {
        "stringKey": "value",
        "numberKey": "1",
        "booleanKey": "true",
        "float": "1.5",
    }
    assert parsed.context_variables() == {**parsed.context, "principalId": "user"}
    assert parsed.usage_identifier_key == "{api-key}"
    assert evaluate(parsed.policy, ctx(), require_principal=False) is ALLOW
    assert evaluate(parsed.policy, ctx(ARN + "/x"), require_principal=False) is NEITHER


def test_wildcards_and_deny_in_the_returned_policy() -> None:
    policy = parse_output(
        output(
            policyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:*", "Effect": "Allow",
                     "Resource": "arn:aws:execute-api:us-east-1:111111111111:abcde12345/*"},
                    {"Action": "execute-api:Invoke", "Effect": "Deny",
                     "Resource": "arn:aws:execute-api:*:*:abcde12345/prod/DELETE/*"},
                ],
            }
        )
    ).policy  # fmt: skip
    assert evaluate(policy, ctx(), require_principal=False) is ALLOW
    delete = ARN.replace("GET/widgets", "DELETE/widgets/1")
    assert evaluate(policy, ctx(delete), require_principal=False) is DENY


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"nope", "not JSON"),
        (b"[]", "not a JSON object"),
        (output(principalId=None), "no principalId"),
        (output(policyDocument=None), "no policyDocument"),
        (output(policyDocument={"Statement": []}), "policyDocument:"),
        (output(policyDocument={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": ARN,
             "Principal": "*"}]}), "not allowed in an identity policy"),
        (output(context={"a": {"b": 1}}), "context.a: dict values are not allowed"),
        (output(context={"a": [1]}), "context.a: list values are not allowed"),
        (output(context=[1]), "context must be an object"),
    ],
)  # fmt: skip
def test_what_is_not_an_authorizers_output(payload: bytes, message: str) -> None:
    with pytest.raises(AuthorizerOutputError, match=message):
        parse_output(payload)


@pytest.mark.parametrize(
    "payload, unauthorized",
    [
        (b'{"errorMessage": "Unauthorized", "errorType": "Exception"}', True),
        (b'{"errorMessage": "Unauthorized: expired"}', False),
        (b'{"errorMessage": "unauthorized"}', False),
        (b"not json", False),
    ],
)
def test_only_exactly_unauthorized_is_401(payload: bytes, unauthorized: bool) -> None:
    assert is_unauthorized(payload) is unauthorized


TABLE_A = [  # Account A calls API owned by account A
    (ALLOW, ALLOW, ALLOW),
    (ALLOW, NEITHER, ALLOW),
    (ALLOW, DENY, DENY),
    (NEITHER, ALLOW, ALLOW),
    (NEITHER, NEITHER, NEITHER),
    (NEITHER, DENY, DENY),
    (DENY, ALLOW, DENY),
    (DENY, NEITHER, DENY),
    (DENY, DENY, DENY),
]
TABLE_B = [  # Account B calls API owned by account A
    (ALLOW, ALLOW, ALLOW),
    (ALLOW, NEITHER, NEITHER),
    (ALLOW, DENY, DENY),
    (NEITHER, ALLOW, NEITHER),
    (NEITHER, NEITHER, NEITHER),
    (NEITHER, DENY, DENY),
    (DENY, ALLOW, DENY),
    (DENY, NEITHER, DENY),
    (DENY, DENY, DENY),
]


@pytest.mark.parametrize("authorizer, resource, result", TABLE_A)
def test_table_a_same_account(authorizer: Decision, resource: Decision, result: Decision) -> None:
    assert combine(authorizer, resource, cross_account=False) is result


@pytest.mark.parametrize("authorizer, resource, result", TABLE_B)
def test_table_b_cross_account(authorizer: Decision, resource: Decision, result: Decision) -> None:
    assert combine(authorizer, resource, cross_account=True) is result


def test_no_resource_policy_is_neither() -> None:
    assert combine(ALLOW, None, cross_account=False) is ALLOW
    assert combine(NEITHER, None, cross_account=False) is NEITHER
    assert combine(ALLOW, None, cross_account=True) is NEITHER

"""The policy tools' explanation of a decision (gateway.explain): every element is reported as
the evaluator decided it, with words that say why."""

import pytest
from gateway.conditions import normalize_context, parse_condition_block
from gateway.explain import describe_condition, explain_statement
from gateway.policy import RequestContext, outcome, parse_policy

from .test_conditions import (
    IF_EXISTS_CASES,
    MISSING_KEY_CASES,
    OPERATOR_CASES,
    SET_CASES,
    VARIABLE_CASES,
)
from .test_policy import (
    ACCOUNT_ALLOW_LIST,
    ARN_PREFIX,
    CONSUMER_ROLE,
    GET_ONLY_FROM_CONSUMER,
    SAMPLE_CASES,
    SOURCE_IP_DENY_LIST,
    SOURCE_VPCE_ALLOW_LIST,
    request,
)

SESSION = "arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer-lambda"

# Every table of the condition operators' tests, as (operator, key, values, context).
CONDITION_GRID = [
    *((op, key, values, context) for op, key, values, context, _ in OPERATOR_CASES),
    *((op, "aws:SourceVpce", v, {"aws:SourceIp": "192.0.2.1"}) for op, v, _ in MISSING_KEY_CASES),
    *((op, "aws:SourceVpce", v, context) for op, v, context, _ in IF_EXISTS_CASES),
    *((op, "k", values, context) for op, values, context, _ in SET_CASES),
    *((op, "k", value, context) for op, value, context, _ in VARIABLE_CASES),
    ("Null", "aws:SourceVpce", "true", {}),
    ("Null", "aws:SourceVpce", "false", {}),
]


@pytest.mark.parametrize(("operator", "key", "values", "context"), CONDITION_GRID)
@pytest.mark.parametrize("variables", [True, False], ids=["2012-10-17", "2008-10-17"])
def test_the_words_describe_what_the_evaluator_decided(operator, key, values, context, variables):
    (condition,) = parse_condition_block({operator: {key: values}})
    context = normalize_context(context)
    described, why = describe_condition(condition, context, variables=variables)
    assert described is condition.evaluate(context, variables=variables)
    assert why


DOCUMENTS = [
    SOURCE_VPCE_ALLOW_LIST,
    ACCOUNT_ALLOW_LIST,
    SOURCE_IP_DENY_LIST,
    GET_ONLY_FROM_CONSUMER,
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("ctx", sorted({id(c[2]): c[2] for c in SAMPLE_CASES}.values(), key=str))
def test_a_statement_applies_in_the_explanation_exactly_when_it_does_for_the_evaluator(
    document, ctx
):
    """AWS's documented sample policies (API Gateway Developer Guide, "API Gateway resource policy
    examples") against every request of the sample tests."""
    policy = parse_policy(document)
    applying = {s.index for s in outcome(policy, ctx).applying}
    explained = {
        s.index
        for s in policy.statements
        if explain_statement(s, ctx, require_principal=True, variables=True).applies
    }
    assert explained == applying


def statement(**fields):
    return parse_policy({"Version": "2012-10-17", "Statement": [fields]}).statements[0]


def test_principal_words_say_which_entry_names_the_caller():
    ctx = RequestContext(
        SESSION, "444444444444", "execute-api:Invoke", f"{ARN_PREFIX}/prod/GET/x", {}
    )
    allow = statement(
        Effect="Allow", Principal={"AWS": CONSUMER_ROLE}, Action="execute-api:Invoke", Resource="*"
    )
    result = explain_statement(allow, ctx, require_principal=True, variables=True)
    assert result.principal.holds
    assert result.principal.why == f"Principal names the caller: {CONSUMER_ROLE} (role)"


def test_not_principal_words_name_what_is_missing():
    """IAM User Guide, NotPrincipal: a role session is excepted only when the account, the role
    and the session are all listed; listing just the role still denies the session."""
    deny = statement(
        Effect="Deny",
        NotPrincipal={"AWS": ["444444444444", CONSUMER_ROLE]},
        Action="execute-api:Invoke",
        Resource="*",
    )
    ctx = RequestContext(
        SESSION, "444444444444", "execute-api:Invoke", f"{ARN_PREFIX}/prod/GET/x", {}
    )
    result = explain_statement(deny, ctx, require_principal=True, variables=True)
    assert result.principal.holds  # not excepted: the Deny's principal element holds
    assert result.principal.why.endswith(
        "but not the caller's caller: the caller is not excepted (IAM checks the account, the"
        " role and the session)"
    )


def test_an_anonymous_caller_is_named_only_by_a_star():
    allow = statement(
        Effect="Allow", Principal={"AWS": "444444444444"}, Action="execute-api:Invoke", Resource="*"
    )
    result = explain_statement(
        allow, request(principal=None), require_principal=True, variables=True
    )
    assert not result.principal.holds
    assert "named only by '*'" in result.principal.why


def test_condition_words():
    deny = statement(
        Effect="Deny",
        Principal="*",
        Action="execute-api:Invoke",
        Resource="*",
        Condition={"StringNotEquals": {"aws:sourcevpce": "vpce-04444444444444444"}},
    )
    ctx = request(aws_SourceVpce="vpce-01111111111111111")
    (condition,) = explain_statement(deny, ctx, require_principal=True, variables=True).conditions
    assert (condition.key, condition.holds) == ("aws:SourceVpce", True)
    assert condition.why == (
        "aws:SourceVpce: vpce-01111111111111111 matches none of vpce-04444444444444444"
    )

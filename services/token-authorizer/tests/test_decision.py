"""The decision as plain values: the documented TOKEN event in, the authorizer's output out."""

import pytest
from token_authorizer.decision import BadEvent, TokenEvent, Unauthorized, decide, stage_arn

from .conftest import TOKEN, load_event


def test_the_secret_allows_every_method_of_the_stage():
    answer = decide(TokenEvent.parse(load_event("token.json")), TOKEN, "caller")

    assert answer == {
        "principalId": "caller",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:111111111111:widgetsap1/prod/*",
                }
            ],
        },
        "context": {"authorizedBy": "shared-secret"},
    }


@pytest.mark.parametrize("token", ["", "wrong", TOKEN + "x", TOKEN[:-1], TOKEN.upper()])
def test_any_other_token_is_unauthorized(token):
    event = TokenEvent.parse(load_event("token.json") | {"authorizationToken": token})
    with pytest.raises(Unauthorized) as raised:
        decide(event, TOKEN, "caller")
    assert str(raised.value) == "Unauthorized"  # the message API Gateway turns into 401


@pytest.mark.parametrize(
    "event",
    [
        None,
        {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:111111111111:a/p/GET/"},
        {"type": "TOKEN", "authorizationToken": 1, "methodArn": "x"},
        {"type": "TOKEN", "authorizationToken": "t", "methodArn": "arn:aws:s3:::bucket"},
    ],
    ids=["none", "request", "token-not-text", "not-a-method-arn"],
)
def test_what_is_not_a_token_event(event):
    with pytest.raises(BadEvent):
        TokenEvent.parse(event)


ARN = "arn:aws:execute-api:{}:{}:abc/{}"


@pytest.mark.parametrize(
    "method_arn, stage",
    [
        (ARN.format("us-east-1", "111111111111", "prod/GET/"),
         ARN.format("us-east-1", "111111111111", "prod/*")),
        (ARN.format("eu-west-1", "222222222222", "v1/POST/a/b"),
         ARN.format("eu-west-1", "222222222222", "v1/*")),
    ],
)  # fmt: skip
def test_stage_arn(method_arn, stage):
    assert stage_arn(method_arn) == stage

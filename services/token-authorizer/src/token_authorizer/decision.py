"""The decision, as plain values: a TOKEN authorizer event and the secret in, the authorizer's
answer out (API Gateway Developer Guide, "Input to an Amazon API Gateway Lambda authorizer" and
"Output from an Amazon API Gateway Lambda authorizer")."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

# arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{path}
_METHOD_ARN = re.compile(r"^(arn:aws[a-z-]*:execute-api:[^:]+:\d{12}:[^/]+/[^/]+)/[^/]+(/.*)?$")


class Unauthorized(Exception):
    """API Gateway answers 401 {"message":"Unauthorized"} when the function fails with exactly
    this message (the Lambda authorizer blueprints: `raise Exception('Unauthorized')`)."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


class BadEvent(ValueError):
    """Not a TOKEN authorizer event; API Gateway answers a failing authorizer with 500."""


@dataclass(frozen=True)
class TokenEvent:
    token: str
    method_arn: str

    @classmethod
    def parse(cls, event: Any) -> TokenEvent:
        if not isinstance(event, dict) or event.get("type") != "TOKEN":
            raise BadEvent("expected a TOKEN authorizer event")
        token, method_arn = event.get("authorizationToken"), event.get("methodArn")
        if not isinstance(token, str) or not isinstance(method_arn, str):
            raise BadEvent("authorizationToken and methodArn must be strings")
        if _METHOD_ARN.fullmatch(method_arn) is None:
            raise BadEvent(f"methodArn {method_arn!r} is not an execute-api method ARN")
        return cls(token, method_arn)


def stage_arn(method_arn: str) -> str:
    """Every method of the stage: the result is cached by token (authorizerResultTtlInSeconds)
    and the cached policy is judged against each later method, so it names them all."""
    match = _METHOD_ARN.fullmatch(method_arn)
    if match is None:
        raise BadEvent(f"methodArn {method_arn!r} is not an execute-api method ARN")
    return f"{match[1]}/*"


def decide(event: TokenEvent, secret: str, principal_id: str) -> dict[str, Any]:
    """Allow every method of the stage to a caller whose token is the secret; Unauthorized
    otherwise. Compared in constant time."""
    if not hmac.compare_digest(event.token.encode(), secret.encode()):
        raise Unauthorized()
    return {
        "principalId": principal_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": stage_arn(event.method_arn),
                }
            ],
        },
        # $context.authorizer.authorizedBy in mappings; requestContext.authorizer for Lambda
        "context": {"authorizedBy": "shared-secret"},
    }

"""A Lambda authorizer's answer, as plain values: its output parsed (API Gateway Developer Guide,
"Output from an Amazon API Gateway Lambda authorizer"), and its policy combined with the API's
resource policy ("How API Gateway resource policies affect authorization workflow").

The output must hold `principalId` and `policyDocument` (an IAM policy, judged here with the
gateway's own policy evaluator as an identity policy of the caller), and may hold `context`:
string, number or boolean values, "all stringified" for `$context.authorizer.<key>`; "you cannot
set a JSON object or array as a valid value of any key". Anything else is an authorizer
configuration error (500). A function that fails with the message `Unauthorized` means 401.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.policy import Decision, Policy, PolicyError, parse_policy

UNAUTHORIZED = "Unauthorized"


class AuthorizerOutputError(ValueError):
    """Not an authorizer's output; the message says what is wrong (for the access log)."""


@dataclass(frozen=True)
class AuthorizerOutput:
    principal_id: str
    policy: Policy
    context: Mapping[str, str]  # stringified
    usage_identifier_key: str | None = None

    def context_variables(self) -> dict[str, str]:
        """$context.authorizer.*: the principal and the context's keys."""
        return {**self.context, "principalId": self.principal_id}


@dataclass(frozen=True)
class Authorized:
    """What a Lambda authorizer left for the rest of the request: its output (cached or not) and
    how long the call took (0 from the cache)."""

    output: AuthorizerOutput
    latency_ms: int

    def request_context(self) -> dict[str, Any]:
        """requestContext.authorizer of a Lambda proxy event (REST APIs)."""
        return {**self.output.context_variables(), "integrationLatency": self.latency_ms}


def _stringify(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return json.dumps(value)
    raise AuthorizerOutputError(
        f"context.{key}: {type(value).__name__} values are not allowed (string, number, boolean)"
    )


def parse_output(payload: bytes) -> AuthorizerOutput:
    try:
        output = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthorizerOutputError(f"the authorizer's output is not JSON: {exc}") from exc
    if not isinstance(output, dict):
        raise AuthorizerOutputError("the authorizer's output is not a JSON object")
    principal = output.get("principalId")
    if not isinstance(principal, str | int | float) or isinstance(principal, bool):
        raise AuthorizerOutputError("the authorizer's output has no principalId")
    document = output.get("policyDocument")
    if document is None:
        raise AuthorizerOutputError("the authorizer's output has no policyDocument")
    try:
        policy = parse_policy(document, resource_policy=False)
    except PolicyError as exc:
        raise AuthorizerOutputError(f"policyDocument: {exc}") from exc
    context = output.get("context") or {}
    if not isinstance(context, dict):
        raise AuthorizerOutputError("context must be an object")
    usage_key = output.get("usageIdentifierKey")
    return AuthorizerOutput(
        principal_id=principal if isinstance(principal, str) else json.dumps(principal),
        policy=policy,
        context={str(k): _stringify(str(k), v) for k, v in context.items()},
        usage_identifier_key=usage_key if isinstance(usage_key, str) else None,
    )


def is_unauthorized(payload: bytes) -> bool:
    """A function error whose errorMessage is exactly `Unauthorized`."""
    try:
        error = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(error, dict) and error.get("errorMessage") == UNAUTHORIZED


def combine(authorizer: Decision, resource: Decision | None, *, cross_account: bool) -> Decision:
    """The authorizer's (or an IAM policy's) decision with the resource policy's (None: the API
    has none, "neither allow nor deny"), by the Developer Guide's tables: an explicit deny in
    either wins; within one account (Table A) an allow in either suffices; for a caller of another
    account (Table B) both must allow."""
    decisions = (authorizer, resource or Decision.IMPLICIT_DENY)
    if Decision.EXPLICIT_DENY in decisions:
        return Decision.EXPLICIT_DENY
    if cross_account:
        granted = decisions == (Decision.ALLOW, Decision.ALLOW)
    else:
        granted = Decision.ALLOW in decisions
    return Decision.ALLOW if granted else Decision.IMPLICIT_DENY

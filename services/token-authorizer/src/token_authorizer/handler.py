"""The Lambda handler, `token_authorizer.handler.handler`.

The authorizer is built when the runtime imports this module, Lambda's init phase: the secret is
read then (a missing one fails the init, and API Gateway answers 500 with
AuthorizerConfigurationException) and again whenever it changes.
"""

from __future__ import annotations

from typing import Any

from token_authorizer.authorizer import TokenAuthorizer

AUTHORIZER = TokenAuthorizer.from_env()


def handler(event: Any, context: Any) -> dict[str, Any]:
    return AUTHORIZER(event, context)

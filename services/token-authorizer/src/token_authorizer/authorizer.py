"""The authorizer: the secret source and the decision, with one log line per invocation."""

from __future__ import annotations

import hashlib
from typing import Any

from token_authorizer.decision import TokenEvent, Unauthorized, decide
from token_authorizer.logs import log_event
from token_authorizer.secret import FileSecret, SecretsManagerSecret, SecretSource
from token_authorizer.settings import Settings


def secret_source(settings: Settings) -> SecretSource:
    """A file locally, Secrets Manager in AWS: the same code, a different source by setting."""
    if settings.secret_file is not None:
        return FileSecret(settings.secret_file)
    import boto3  # in AWS only: the function role's credentials reach Secrets Manager

    return SecretsManagerSecret(
        str(settings.secret_id), boto3.client("secretsmanager"), settings.refresh_s
    )


def fingerprint(secret: str) -> str:
    """Enough to see in the logs that the secret changed, nothing to guess it from."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class TokenAuthorizer:
    def __init__(self, source: SecretSource, principal_id: str) -> None:
        self.source = source
        self.principal_id = principal_id
        self._fingerprint: str | None = None
        self.secret()  # read at start: a missing secret fails the function's init

    @classmethod
    def from_env(cls) -> TokenAuthorizer:
        settings = Settings.from_env()
        return cls(secret_source(settings), settings.principal_id)

    def secret(self) -> str:
        secret = self.source.current()
        if (now := fingerprint(secret)) != self._fingerprint:
            log_event("secret_loaded", source=self.source.description, fingerprint=now)
            self._fingerprint = now
        return secret

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        request = TokenEvent.parse(event)
        request_id = getattr(context, "aws_request_id", None)
        try:
            answer = decide(request, self.secret(), self.principal_id)
        except Unauthorized:
            log_event("unauthorized", aws_request_id=request_id, method_arn=request.method_arn)
            raise
        log_event(
            "allowed",
            aws_request_id=request_id,
            method_arn=request.method_arn,
            principal_id=answer["principalId"],
        )
        return answer

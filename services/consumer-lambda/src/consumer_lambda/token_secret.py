"""The shared secret the widgets function sends as its token, read on every invocation, as the
sample's ConsumerFunction calls GetSecretValue on each: a rotated secret is sent from the next
call on, and the function holds no copy of it between calls.

Locally the secret is a mounted file (`TOKEN_SECRET_FILE`, the compose stack's
`secrets/authorizer-token`); in AWS a Secrets Manager secret (`TOKEN_SECRET_ID`, its ARN), read
through boto3 with the function role's credentials, as the TOKEN authorizer reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class TokenError(RuntimeError):
    """The secret cannot be read, or is empty."""


def _secrets_manager() -> Any:
    import boto3  # in AWS only: the function role's credentials reach Secrets Manager

    return boto3.client("secretsmanager")


@dataclass(frozen=True)
class TokenSecret:
    """Exactly one of `file` and `secret_id`."""

    file: Path | None
    secret_id: str | None

    @property
    def description(self) -> str:
        return f"file {self.file}" if self.file else f"Secrets Manager secret {self.secret_id}"

    def read(self, client: Callable[[], Any] = _secrets_manager) -> str:
        try:
            if self.file is not None:
                text = self.file.read_text(encoding="utf-8")
            else:
                text = client().get_secret_value(SecretId=self.secret_id).get("SecretString")
        except OSError as exc:
            raise TokenError(f"cannot read {self.description}: {exc.strerror or exc}") from exc
        except Exception as exc:  # botocore's ClientError and connection errors alike
            raise TokenError(f"cannot read {self.description}: {exc}") from exc
        token = (text or "").strip()
        if not token:
            raise TokenError(f"{self.description} is empty")
        return token

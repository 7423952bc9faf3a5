"""The function's settings, read from the environment when it starts.

| variable | meaning | default |
| --- | --- | --- |
| `TOKEN_SECRET_FILE` | a file holding the shared secret (locally: `secrets/authorizer-token`) | |
| `TOKEN_SECRET_ID` | a Secrets Manager secret id or ARN (in AWS) | |
| `TOKEN_SECRET_REFRESH_SECONDS` | how long a fetched Secrets Manager value is used | `300` |
| `PRINCIPAL_ID` | the `principalId` a caller with the right token gets | `shared-secret-caller` |

Exactly one of `TOKEN_SECRET_FILE` and `TOKEN_SECRET_ID`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REFRESH_S = 300.0
DEFAULT_PRINCIPAL = "shared-secret-caller"


class ConfigError(ValueError):
    """The environment lacks a setting or holds a bad value."""


@dataclass(frozen=True)
class Settings:
    secret_file: Path | None
    secret_id: str | None
    refresh_s: float
    principal_id: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            return env.get(name, "").strip() or None

        secret_file, secret_id = value("TOKEN_SECRET_FILE"), value("TOKEN_SECRET_ID")
        if (secret_file is None) == (secret_id is None):
            raise ConfigError("set exactly one of TOKEN_SECRET_FILE and TOKEN_SECRET_ID")
        raw_refresh = value("TOKEN_SECRET_REFRESH_SECONDS")
        try:
            refresh_s = DEFAULT_REFRESH_S if raw_refresh is None else float(raw_refresh)
        except ValueError:
            refresh_s = -1.0
        if refresh_s < 0:
            raise ConfigError(
                f"TOKEN_SECRET_REFRESH_SECONDS must be a number >= 0, got {raw_refresh!r}"
            )
        return cls(
            secret_file=Path(secret_file) if secret_file else None,
            secret_id=secret_id,
            refresh_s=refresh_s,
            principal_id=value("PRINCIPAL_ID") or DEFAULT_PRINCIPAL,
        )

"""The function's settings, read from the environment on every invocation.

Lambda hands a function its credentials and region as environment variables (`AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`); the partner API is configuration:

| variable | meaning | default |
| --- | --- | --- |
| `PARTNER_API_URL` | base URL of the API stage, e.g. `http://vpce-consumer:8080/prod` | required |
| `PARTNER_API_ID` | sent as `x-apigw-api-id` (selects the private API) | not sent |
| `PARTNER_API_TIMEOUT` | seconds to wait for the API (connect and read) | `10` |
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_TIMEOUT_S = 10.0


class ConfigError(ValueError):
    """The environment lacks a setting or holds a bad value."""


def positive_seconds(name: str, raw: str | None) -> float:
    """A timeout setting's value: `DEFAULT_TIMEOUT_S` when unset, else a positive number."""
    try:
        seconds = DEFAULT_TIMEOUT_S if raw is None else float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ConfigError(f"{name} must be a positive number, got {raw!r}")
    return seconds


@dataclass(frozen=True)
class Settings:
    api_url: str
    api_id: str | None
    region: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    timeout_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            raw = env.get(name, "").strip()
            return raw or None

        region = value("AWS_REGION") or value("AWS_DEFAULT_REGION")
        required = {
            "PARTNER_API_URL": value("PARTNER_API_URL"),
            "AWS_ACCESS_KEY_ID": value("AWS_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": value("AWS_SECRET_ACCESS_KEY"),
            "AWS_REGION": region,
        }
        missing = [name for name, found in required.items() if found is None]
        if missing:
            raise ConfigError(f"Missing environment variables: {', '.join(missing)}")

        api_url = required["PARTNER_API_URL"] or ""
        if not api_url.startswith(("http://", "https://")):
            raise ConfigError(f"PARTNER_API_URL must be an http(s) URL, got {api_url!r}")

        timeout_s = positive_seconds("PARTNER_API_TIMEOUT", value("PARTNER_API_TIMEOUT"))

        return cls(
            api_url=api_url.rstrip("/"),
            api_id=value("PARTNER_API_ID"),
            region=region or "",
            access_key_id=required["AWS_ACCESS_KEY_ID"] or "",
            secret_access_key=required["AWS_SECRET_ACCESS_KEY"] or "",
            session_token=value("AWS_SESSION_TOKEN"),
            timeout_s=timeout_s,
        )

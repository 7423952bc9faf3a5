"""The cross-account patterns post's consumer Lambda of pattern 1 (the sample's ConsumerFunction),
`consumer_lambda.widgets.handler`: in the front door's VPC of 444444444444, it calls the producer's
private `widgets` API through that VPC's execute-api endpoint with the shared secret as its token
(`Authorization: <secret>`), and answers the API's status and decoded body, whatever the event:

    {"statusCode": 200, "body": {"id": "1", "value": "4.99"}}
    {"statusCode": 401, "body": {"message": "Unauthorized"}}        the token refused

Where the sample's function lets axios throw on a refusal (a function error), this one answers
the API's refusal as its own, as the partner function does (handler.py). The body is decoded, not
a JSON string: the function is invoked directly, not behind a proxy integration. An unreadable
secret or missing settings are 500, an unreachable API 502, a slow one 504, each with
`{"message": ...}`.

Settings (read per invocation from the environment):

- `WIDGETS_API_URL` (required): `GET /widgets` through the endpoint, e.g.
  `http://vpce-frontdoor:8080/prod/widgets`;
- `WIDGETS_API_ID`: sent as `x-apigw-api-id`, which selects the private API behind an endpoint
  without private DNS (not sent when unset);
- `WIDGETS_API_TIMEOUT`: seconds to wait for the API, default 10;
- `TOKEN_SECRET_FILE` or `TOKEN_SECRET_ID`, exactly one: where the token is (token_secret.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from consumer_lambda.logs import log_call
from consumer_lambda.partner import API_ID_HEADER, send
from consumer_lambda.settings import ConfigError, positive_seconds
from consumer_lambda.token_secret import TokenError, TokenSecret

# Reused across warm invocations, so the connection to the VPC endpoint is kept alive.
SESSION = requests.Session()


@dataclass(frozen=True)
class WidgetsSettings:
    url: str
    api_id: str | None
    timeout_s: float
    token: TokenSecret

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WidgetsSettings:
        env = os.environ if environ is None else environ

        def value(name: str) -> str | None:
            return env.get(name, "").strip() or None

        url = value("WIDGETS_API_URL")
        if url is None or not url.startswith(("http://", "https://")):
            raise ConfigError(f"WIDGETS_API_URL must be an http(s) URL, got {url!r}")
        secret_file, secret_id = value("TOKEN_SECRET_FILE"), value("TOKEN_SECRET_ID")
        if (secret_file is None) == (secret_id is None):
            raise ConfigError("set exactly one of TOKEN_SECRET_FILE and TOKEN_SECRET_ID")
        return cls(
            url=url,
            api_id=value("WIDGETS_API_ID"),
            timeout_s=positive_seconds("WIDGETS_API_TIMEOUT", value("WIDGETS_API_TIMEOUT")),
            token=TokenSecret(Path(secret_file) if secret_file else None, secret_id),
        )


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        settings = WidgetsSettings.from_env()
        token = settings.token.read()
    except (ConfigError, TokenError) as exc:
        return {"statusCode": 500, "body": {"message": str(exc)}}
    headers = {"Accept": "application/json", "Authorization": token}
    if settings.api_id:
        headers[API_ID_HEADER] = settings.api_id
    response = send(
        SESSION, "GET", settings.url, api="widgets API", headers=headers, timeout=settings.timeout_s
    )
    log_call("GET", urlsplit(settings.url).path, response, getattr(context, "aws_request_id", None))
    return {"statusCode": response.status, "body": response.body}

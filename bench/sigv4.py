"""SigV4 for httpx requests with botocore's signer, as the consumer Lambda's role signs them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gateway.config import load_config

SERVICE = "execute-api"
CONSUMER_ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"
# Only these are signed: the gateway sees exactly what the client sent, but signing fewer headers
# keeps the signature independent of httpx's defaults.
SIGNED_HEADERS = ("host", "x-apigw-api-id", "content-type")


@dataclass(frozen=True)
class Identity:
    access_key_id: str
    secret_access_key: str
    session_token: str | None
    region: str


def consumer_identity(config_path: Path, principal_arn: str = CONSUMER_ROLE) -> Identity:
    """The role's keys and session token (AWS's example keys), read as the gateway reads them."""
    config = load_config(config_path, environ={})  # the file's defaults, as `make run` uses them
    for entry in config.identities:
        if entry.principal_arn == principal_arn:
            return Identity(
                access_key_id=entry.access_key_id,
                secret_access_key=entry.secret_access_key,
                session_token=entry.session_token,
                region=config.region,
            )
    raise LookupError(f"no identity {principal_arn} in {config_path}")


class SigV4Signer:
    """Adds `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` to an httpx request."""

    def __init__(self, identity: Identity) -> None:
        credentials = Credentials(
            identity.access_key_id, identity.secret_access_key, identity.session_token
        )
        self._auth = SigV4Auth(credentials, SERVICE, identity.region)

    def sign(self, request: httpx.Request) -> httpx.Request:
        headers = {k: v for k, v in request.headers.items() if k.lower() in SIGNED_HEADERS}
        aws_request = AWSRequest(
            method=request.method, url=str(request.url), data=request.content, headers=headers
        )
        self._auth.add_auth(aws_request)
        for key in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token"):
            if key in aws_request.headers:
                request.headers[key] = aws_request.headers[key]
        return request

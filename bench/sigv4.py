"""SigV4 with botocore's signer, as the consumer Lambda's role signs its requests."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gateway.config import load_config

SERVICE = "execute-api"
CONSUMER_ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"
# Only these are signed: the gateway sees exactly what the client sent, but signing fewer headers
# keeps the signature independent of the client's other headers.
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
    """The `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` headers of a request."""

    def __init__(self, identity: Identity) -> None:
        credentials = Credentials(
            identity.access_key_id, identity.secret_access_key, identity.session_token
        )
        self._auth = SigV4Auth(credentials, SERVICE, identity.region)

    def headers(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes = b""
    ) -> dict[str, str]:
        """The headers to add to a request (signing `SIGNED_HEADERS` of `headers` and Host)."""
        signed = {k: v for k, v in headers.items() if k.lower() in SIGNED_HEADERS}
        aws_request = AWSRequest(method=method, url=url, data=body, headers=signed)
        self._auth.add_auth(aws_request)
        return {
            key: aws_request.headers[key]
            for key in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
            if key in aws_request.headers
        }


class SignedSource:
    """Request bytes signed afresh every second (X-Amz-Date has a resolution of one second, so a
    client that signs every request sends these same bytes); `build(headers)` makes them."""

    def __init__(
        self,
        signer: SigV4Signer,
        build: Callable[[Mapping[str, str]], bytes],
        method: str,
        url: str,
        headers: Mapping[str, str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._signer = signer
        self._build = build
        self._method = method
        self._url = url
        self._headers = dict(headers)
        self._clock = clock
        self._second: int | None = None
        self._request = b""

    def __call__(self) -> bytes:
        second = int(self._clock())
        if second != self._second:
            added = self._signer.headers(self._method, self._url, self._headers)
            self._request = self._build({**self._headers, **added})
            self._second = second
        return self._request

"""The request pipeline in process: the gateway's ASGI app driven by `httpx.ASGITransport` with a
chosen caller address, a fixed clock, and an echo transport standing for the providers (it
answers every upstream request with what it received, as JSON). One test module per stage."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import botocore.auth
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gateway.app import GatewayApp

from gateway.config import DEFAULT_CONFIG_PATH, GatewayConfig, load_config

from ..conftest import MTLS_TOKEN as MTLS_TOKEN
from ..conftest import token_for as token_for

TEST_CONFIG = Path(__file__).resolve().parents[1] / "data" / "gateway-test.yaml"
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)

# Callers, by where their connections come from (the shipped configuration's loopback VPCs).
OUTSIDE = ("127.0.0.1", 50000)
CONSUMER_VPC = ("127.0.4.10", 50000)
PROXY_VPC = ("127.0.1.10", 50000)

PARTNER_HOST = "partnerap1.execute-api.us-east-1.amazonaws.com"
MTLS_HOST = "mtlsapi001.execute-api.us-east-1.amazonaws.com"
# A caller of the mtls API: its host and the TOKEN authorizer's token (the `gateway` fixture's
# authorizer has MTLS_TOKEN as its secret).
MTLS_CALLER = {"Host": MTLS_HOST, "Authorization": MTLS_TOKEN}
# The consumer role's temporary credentials (gateway/config/gateway.yaml: AWS's example keys).
CONSUMER = Credentials(
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEXAMPLE/local-consumer-lambda-session",
)
CONSUMER_SESSION = "arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer-lambda"
MASKED_ARN = "arn:aws:execute-api:us-east-1:********1111"


def echo(request: httpx.Request) -> httpx.Response:
    """The provider: what it received, as JSON."""
    body = request.read()
    seen = {
        "method": request.method,
        "url": str(request.url),
        "path": request.url.raw_path.decode("ascii"),
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
        "body_length": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    payload = json.dumps(seen).encode()
    headers = {
        "Content-Type": "application/json",
        "Content-Length": str(len(payload)),
        "Date": "Tue, 01 Dec 2026 12:00:00 GMT",
        "Server": "echo",
    }
    # stream=: a response as a transport hands it over, not read yet
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(payload))


@dataclass
class Gateway:
    """The app and what it logged."""

    app: GatewayApp
    log: list[dict[str, Any]] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        *,
        client: tuple[str, int] = OUTSIDE,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=client)  # type: ignore[arg-type]
            async with httpx.AsyncClient(
                transport=transport, base_url="http://gateway.local"
            ) as http:
                return await http.request(method, path, headers=headers, content=content)

        return asyncio.run(send())

    def last_log(self) -> dict[str, Any]:
        return self.log[-1]


def build_gateway(config: GatewayConfig, transport: httpx.AsyncBaseTransport) -> Gateway:
    log: list[dict[str, Any]] = []
    app = GatewayApp(config, clock=lambda: NOW, access_log=log.append, transport=transport)
    return Gateway(app, log)


def shipped_config(token_authorizer: str | None = None, **overrides: Any) -> GatewayConfig:
    """gateway/config/gateway.yaml with its defaults (no environment), as `make run` serves it;
    with `token_authorizer`, the TOKEN authorizer's invoke URL (the mtls API's authorizer)."""
    environ = {} if token_authorizer is None else {"TOKEN_AUTHORIZER_URL": token_authorizer}
    config = load_config(DEFAULT_CONFIG_PATH, environ=environ)
    return config.model_copy(update=overrides) if overrides else config


def test_config(token_authorizer: str) -> GatewayConfig:
    """The tests' configuration: the shipped APIs plus echo APIs with throttling and policies."""
    hosts = {
        name: "provider.local:8080"
        for name in ("DOG_NAMES_HOST", "TODO_HOST", "FLAKY_HOST", "ECHO_HOST")
    }
    return load_config(TEST_CONFIG, environ={**hosts, "TOKEN_AUTHORIZER_URL": token_authorizer})


@pytest.fixture
def gateway(token_authorizer: str) -> Gateway:
    """The shipped configuration in front of the echo provider, the mtls API's authorizer the
    real function with MTLS_TOKEN as its secret."""
    return build_gateway(shipped_config(token_authorizer), httpx.MockTransport(echo))


@pytest.fixture
def test_gateway(token_authorizer: str) -> Gateway:
    return build_gateway(test_config(token_authorizer), httpx.MockTransport(echo))


def seen_upstream(response: httpx.Response) -> dict[str, Any]:
    """What the echo provider received, header names lower-cased."""
    assert response.status_code == 200, response.text
    seen = response.json()
    seen["headers"] = {k.lower(): v for k, v in seen["headers"]}
    return seen


def sign(
    method: str,
    path: str,
    *,
    host: str = PARTNER_HOST,
    credentials: Credentials = CONSUMER,
    body: bytes = b"",
    at: datetime = NOW,
) -> dict[str, str]:
    """The headers botocore's SigV4 signer adds at `at` for `method path` on `host`."""
    request = AWSRequest(method=method, url=f"http://{host}{path}", data=body)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
        SigV4Auth(credentials, "execute-api", "us-east-1").add_auth(request)
    return {"Host": host, **dict(request.headers.items())}


def deny_body(principal: str, method: str, resource: str, *, explicit: bool) -> dict[str, str]:
    message = (
        f"User: {principal} is not authorized to perform: execute-api:Invoke"
        f" on resource: {MASKED_ARN}:{resource.replace('{M}', method)}"
    )
    return {"Message": message + (" with an explicit deny" if explicit else "")}

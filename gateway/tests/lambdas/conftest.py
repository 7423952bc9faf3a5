"""Real function processes for the gateway's Lambda tests, started once per session on free
loopback ports: `lambda_rie` with the real awslambdaric running the test handlers
(gateway/tests/lambda_functions.py) and the widgets API's own functions (services/widgets-lambda,
services/token-authorizer). The gateway runs in process (its ASGI app, a clock the tests move)
and calls them through boto3's Lambda client, as it would call Lambda."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from certgen.secret import ensure_token_secret, read_token
from devstack.ports import free_port, free_ports
from devstack.stack import TOKEN_AUTHORIZER, WIDGETS, FunctionSpec, Service, spawn_function
from gateway.app import GatewayApp
from gateway.lambda_client import LambdaInvoker

from gateway.config import GatewayConfig, load_config

from ..pipeline.conftest import NOW, OUTSIDE, echo

TESTS = Path(__file__).resolve().parents[1]
LAMBDA_CONFIG = TESTS / "data" / "lambda-test.yaml"
ACCOUNT = "111111111111"

ECHO = FunctionSpec("echo", "lambda_functions.proxy", "echo", ACCOUNT, timeout_s=5)
# Its own process: a sleeping invocation holds its runtime (one at a time, as one Lambda
# instance), and must not hold up the other tests' calls.
SLOW = FunctionSpec("slow", "lambda_functions.proxy", "slow", ACCOUNT, timeout_s=3)
TEST_AUTHORIZER = FunctionSpec(
    "test-authorizer", "lambda_functions.authorizer", "test-authorizer", ACCOUNT, timeout_s=5
)
URL_VARIABLES = {
    ECHO: "ECHO_FUNCTION_URL",
    SLOW: "SLOW_FUNCTION_URL",
    TEST_AUTHORIZER: "TEST_AUTHORIZER_URL",
    WIDGETS: "WIDGETS_FUNCTION_URL",
    TOKEN_AUTHORIZER: "TOKEN_AUTHORIZER_URL",
}


@dataclass
class Functions:
    services: dict[str, Service]
    urls: dict[str, str]  # the gateway configuration's variables -> invoke URLs
    authorizer_log: Path  # one JSON line per invocation of the test authorizer
    token_secret: Path  # the widgets API's shared secret (TOKEN_SECRET_FILE)
    invoker: LambdaInvoker  # one boto3 client per endpoint for the whole session

    def authorizer_events(self, token: str | None = None) -> list[dict[str, Any]]:
        events = [json.loads(line) for line in self.authorizer_log.read_text().splitlines()]
        if token is None:
            return events
        return [
            e
            for e in events
            if token in (e.get("authorizationToken"), (e.get("headers") or {}).get("x-user"))
        ]

    @property
    def token(self) -> str:
        return read_token(self.token_secret)


@pytest.fixture(scope="session")
def functions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Functions]:
    tmp = tmp_path_factory.mktemp("functions")
    log = tmp / "authorizer-events.jsonl"
    log.touch()
    secret = tmp / "secrets" / "authorizer-token"
    ensure_token_secret(secret)
    base = {**os.environ, "AWS_REGION": "us-east-1"}
    tests_env = {**base, "PYTHONPATH": str(TESTS), "AUTHORIZER_LOG": str(log)}
    environments = {
        ECHO: tests_env,
        SLOW: tests_env,
        TEST_AUTHORIZER: tests_env,
        WIDGETS: base,
        TOKEN_AUTHORIZER: {**base, "TOKEN_SECRET_FILE": str(secret)},
    }
    ports = free_ports(len(environments))
    started: dict[str, Service] = {}
    invoker = LambdaInvoker(region="us-east-1")
    try:
        for (spec, env), port in zip(environments.items(), ports, strict=True):
            started[spec.name] = spawn_function(
                spec, port, env=env, log_path=tmp / f"{spec.name}.log"
            )
        for service in started.values():
            service.wait_ready()
        urls = {URL_VARIABLES[spec]: started[spec.name].base_url for spec in environments}
        yield Functions(started, urls, log, secret, invoker)
    finally:
        invoker.close()
        for service in started.values():
            service.process.terminate()  # all at once: each stops its runtime on SIGTERM
        for service in started.values():
            service.stop()


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class LambdaGateway:
    """The gateway in process in front of the function processes; the providers are the echo
    transport of the pipeline tests."""

    app: GatewayApp
    clock: Clock
    log: list[dict[str, Any]] = field(default_factory=list)

    def call(
        self,
        method: str,
        path: str,
        *,
        api: str = "lambdarest",
        client: tuple[str, int] = OUTSIDE,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        return asyncio.run(self.send(method, path, api=api, client=client, headers=headers,
                                     content=content))  # fmt: skip

    async def send(
        self,
        method: str,
        path: str,
        *,
        api: str = "lambdarest",
        client: tuple[str, int] = OUTSIDE,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app, client=client)  # type: ignore[arg-type]
        host = f"{api}.execute-api.us-east-1.amazonaws.com"
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{host}") as http:
            return await http.request(
                method, path, headers={"Host": host, **(headers or {})}, content=content
            )

    def last_log(self) -> dict[str, Any]:
        return self.log[-1]


def lambda_config(functions: Functions) -> GatewayConfig:
    nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    return load_config(LAMBDA_CONFIG, environ={**functions.urls, "NOWHERE_URL": nowhere})


@pytest.fixture
def gateway(functions: Functions) -> LambdaGateway:
    """A gateway of its own per test (so an empty authorizer cache), sharing the session's
    boto3 clients."""
    clock = Clock()
    log: list[dict[str, Any]] = []
    app = GatewayApp(
        lambda_config(functions),
        clock=clock,
        access_log=log.append,
        transport=httpx.MockTransport(echo),
    )
    app.pipeline.lambdas.invoker = functions.invoker
    return LambdaGateway(app, clock, log)


def proxy_event(response: httpx.Response) -> dict[str, Any]:
    """The event the echo function received (its answer's body)."""
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def script(**what: Any) -> dict[str, Any]:
    """A request to the echo function that tells it what to do (see lambda_functions.proxy)."""
    return {"headers": {"x-script": "1"}, "content": json.dumps(what).encode()}

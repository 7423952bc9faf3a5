"""Calling a function through Lambda's Invoke API, as API Gateway does: boto3's `lambda` client
with the function's local endpoint (`lambda_functions` in the configuration), so the same path
works against anything that speaks the Invoke API (`lambda_rie`, or Lambda itself).

boto3 blocks, so every call runs in a thread pool of its own and the event loop only waits for
it, bounded by the caller's timeout: a slow function delays nobody else. A call that times out
keeps its thread until the endpoint answers (the emulator ends a function at its own timeout);
the pool's size bounds how many can be waiting at once.

boto3 is imported on the first call (in a pool thread): a gateway that never calls a function
does not carry it (about 25 MB).

The credentials only sign the request (SigV4, as every Invoke call is signed); the emulator does
not check them. They are fixed here, so no environment, profile or instance metadata is read.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

MAX_WORKERS = 64  # calls waiting on functions at once
MAX_READ_TIMEOUT_S = 31.0  # past every integration's and authorizer's own timeout
CONNECT_TIMEOUT_S = 2.0
# Not secrets: what signs calls to the local Invoke API.
LOCAL_ACCESS_KEY = "AKIDLOCALGATEWAY0000"
LOCAL_SECRET_KEY = "local-gateway-signs-lambda-invoke-calls"  # noqa: S105

ClientFactory = Callable[[str], Any]  # endpoint -> a boto3 lambda client


class LambdaTimeout(Exception):
    """No answer within the timeout."""


class LambdaUnavailable(Exception):
    """The Invoke API refused the call or could not be reached; the message says why."""


@dataclass(frozen=True)
class InvokeResult:
    payload: bytes
    function_error: str | None  # X-Amz-Function-Error: "Unhandled" when the function failed
    latency_ms: int


class LambdaInvoker:
    def __init__(
        self,
        *,
        region: str,
        max_workers: int = MAX_WORKERS,
        client_factory: ClientFactory | None = None,
    ) -> None:
        self.region = region
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="lambda-invoke")
        self._max_workers = max_workers
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._client_factory = client_factory or self._boto3_client
        self._session: Any = None  # boto3's Session, made with the first client

    def _boto3_client(self, endpoint: str) -> Any:
        import boto3
        from botocore.config import Config

        if self._session is None:
            self._session = boto3.session.Session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_SECRET_KEY,
                region_name=self.region,
            )
        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=MAX_READ_TIMEOUT_S,
            retries={"max_attempts": 1, "mode": "standard"},  # API Gateway does not retry
            max_pool_connections=self._max_workers,
            tcp_keepalive=True,
        )
        return self._session.client("lambda", endpoint_url=endpoint, config=config)

    def _client(self, endpoint: str) -> Any:
        # botocore clients are thread-safe; creating one (and the session) is not
        with self._lock:
            client = self._clients.get(endpoint)
            if client is None:
                client = self._clients[endpoint] = self._client_factory(endpoint)
            return client

    def _invoke(self, endpoint: str, function_arn: str, payload: bytes) -> InvokeResult:
        from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

        started = time.perf_counter()
        try:
            response = self._client(endpoint).invoke(
                FunctionName=function_arn, InvocationType="RequestResponse", Payload=payload
            )
            body = response["Payload"].read()
        except ReadTimeoutError as exc:
            raise LambdaTimeout(str(exc)) from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise LambdaUnavailable(
                f"Invoke answered {error.get('Code', 'an error')}: {error.get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise LambdaUnavailable(f"Invoke failed: {exc}") from exc
        latency = round((time.perf_counter() - started) * 1000)
        return InvokeResult(body, response.get("FunctionError"), latency)

    async def invoke(
        self, *, endpoint: str, function_arn: str, payload: bytes, timeout_s: float
    ) -> InvokeResult:
        """The function's answer; LambdaTimeout after `timeout_s`, LambdaUnavailable when the
        Invoke API refuses the call or cannot be reached."""
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(self._executor, self._invoke, endpoint, function_arn, payload)
        try:
            return await asyncio.wait_for(call, timeout_s)
        except TimeoutError as exc:
            raise LambdaTimeout(f"no answer within {timeout_s:g} s") from exc

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            close = getattr(client, "close", None)
            if close is not None:
                close()

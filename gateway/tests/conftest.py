"""Real servers for the gateway tests: the providers and the gateway as subprocesses (devstack's
launcher), the mtls API's TOKEN authorizer (services/token-authorizer under lambda_rie, with a test
secret), an echo server in a thread. Everything listens on loopback; readiness is polled, never
slept for."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_port, free_ports
from devstack.processes import stop_process
from devstack.ready import wait_until_ready as wait_until_ready  # for tests polling a server
from devstack.stack import DOG_NAMES, TOKEN_AUTHORIZER, running_stack, spawn, spawn_function

TESTS = Path(__file__).resolve().parent
TEST_CONFIG = TESTS / "data" / "gateway-test.yaml"
SLOW_SECONDS = 3.0  # the echo server's /slow answer; integrations time out after 1 s
SET_COOKIES = ("session=caller-a; Path=/; HttpOnly", "theme=dark, light")  # /set-cookie
# /raw-header/<i>: header values that are not ASCII: UTF-8, and bytes that are not UTF-8
RAW_HEADERS = ("café €".encode(), "café".encode() + b" \xff")
STREAM_CHUNKS, STREAM_INTERVAL = 40, 0.1  # /stream: 4 s of body in 64 KiB chunks
STREAMS_SENT: list[int] = []  # chunks each /stream answer wrote before it ended
# The mtls API's shared secret in these tests (43 URL-safe characters, as certgen makes them, so
# identityValidationExpression lets it through to the function); the caller's Authorization.
MTLS_TOKEN = "gateway-tests-shared-secret-0123456789abcde"
MTLS_DOCUMENT_APIS = ("mtlsapi001", "flakyrest1")  # api/mtls.yaml, with its TOKEN authorizer


def token_for(api_id: str) -> dict[str, str]:
    """The Authorization header a caller of `api_id` sends: the token for the APIs of the mtls
    document, nothing for the others."""
    return {"Authorization": MTLS_TOKEN} if api_id in MTLS_DOCUMENT_APIS else {}


def start_dog_names(port: int, log: Path) -> subprocess.Popen[bytes]:
    """Dog Names on `port`, ready, its output appended to `log` (the flaky provider's)."""
    return spawn(DOG_NAMES, port, log_path=log).wait_ready().process


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_process(process)


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with what it received, as JSON; /slow... answers late."""

    protocol_version = "HTTP/1.1"

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size)
                self.rfile.readline()  # CRLF after the chunk
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _echo(self) -> None:
        body = self._read_body()
        if self.path.startswith("/slow"):
            time.sleep(SLOW_SECONDS)
        if self.path.startswith("/stream"):
            self._stream()
            return
        if self.path.startswith("/set-cookie"):
            self.send_response(200)
            for cookie in SET_COOKIES:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/raw-header"):
            self.send_response(200)
            # BaseHTTPRequestHandler writes header values as latin-1: these are the raw bytes.
            raw = RAW_HEADERS[int(self.path.rsplit("/", 1)[1])]
            self.send_header("X-Raw", raw.decode("latin-1"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps(
            {
                "method": self.command,
                "path": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": len(body),
            }
        ).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the gateway gave up waiting: that is what /slow is for

    def _stream(self) -> None:
        """STREAM_CHUNKS chunks of 64 KiB, one every STREAM_INTERVAL seconds, chunked; records
        how many chunks went out before the gateway stopped reading."""
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = 0
        try:
            for _ in range(STREAM_CHUNKS):
                self.wfile.write(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
                self.wfile.flush()
                sent += 1
                time.sleep(STREAM_INTERVAL)
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            STREAMS_SENT.append(sent)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _echo

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def token_authorizer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real TOKEN authorizer function (services/token-authorizer) as `make run` starts it,
    its secret MTLS_TOKEN; its invoke URL (the configurations' TOKEN_AUTHORIZER_URL)."""
    tmp = tmp_path_factory.mktemp("token-authorizer")
    secret = tmp / "authorizer-token"
    secret.write_text(MTLS_TOKEN + "\n")
    env = {**os.environ, "AWS_REGION": "us-east-1", "TOKEN_SECRET_FILE": str(secret)}
    service = spawn_function(
        TOKEN_AUTHORIZER, free_port(), env=env, log_path=tmp / "authorizer.log"
    ).wait_ready()
    try:
        yield service.base_url
    finally:
        service.stop()


@dataclass
class Stack:
    gateway_url: str
    dog_names_host: str
    todo_host: str
    flaky_port: int
    log_dir: Path
    gateway_log: Path

    def access_log(self) -> list[dict[str, object]]:
        lines = self.gateway_log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, echo_server: str, token_authorizer: str
) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("stack")
    dog_port, todo_port, gateway_port, flaky_port = free_ports(4)
    with running_stack(
        log_dir=logs,  # dog-names.log, todo.log, gateway.log (the gateway's access log)
        dog_names_port=dog_port,
        todo_port=todo_port,
        gateway_port=gateway_port,
        todo_db=logs / "todo.db",
        todo_workers=2,
        gateway_config=TEST_CONFIG,
        gateway_env={
            "FLAKY_HOST": f"127.0.0.1:{flaky_port}",
            "ECHO_HOST": echo_server,
            "TOKEN_AUTHORIZER_URL": token_authorizer,
        },
    ) as running:
        yield Stack(
            gateway_url=running.gateway.base_url,
            dog_names_host=running.dog_names.address,
            todo_host=running.todo.address,
            flaky_port=flaky_port,
            log_dir=logs,
            gateway_log=logs / "gateway.log",
        )


def client_from(source_address: str, **kwargs: object) -> httpx.Client:
    """A client whose connections leave from `source_address` (a VPC's loopback subnet)."""
    transport = httpx.HTTPTransport(local_address=source_address)
    return httpx.Client(transport=transport, timeout=10.0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def outside() -> Iterator[httpx.Client]:
    """A caller outside every VPC (plain 127.0.0.1)."""
    with client_from("127.0.0.1") as client:
        yield client


@pytest.fixture
def consumer_vpc() -> Iterator[httpx.Client]:
    with client_from("127.0.4.10") as client:
        yield client


@pytest.fixture
def proxy_vpc() -> Iterator[httpx.Client]:
    with client_from("127.0.1.10") as client:
        yield client


def raw_exchange(stack: Stack, request: bytes, *, timeout: float = 5.0) -> bytes:
    """Send `request` as written (Connection: close) and read the answer to the end."""
    port = int(stack.gateway_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        answer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    return answer


def split_answer(answer: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = [tuple(line.split(b": ", 1)) for line in lines[1:]]
    return int(lines[0].split()[1]), headers, body  # type: ignore[return-value]

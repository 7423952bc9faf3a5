"""Fixtures: a canned partner API on loopback, the function's environment, a Lambda context."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"

# AWS's documented example credentials (docs/architecture.md), and a session token.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLETOKEN//0123456789"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    client_port: int


@dataclass
class Canned:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang_up: bool = False  # close the connection without an answer


@dataclass
class PartnerStub:
    """A real HTTP server that answers `(method, path)` with canned answers and records requests."""

    server: ThreadingHTTPServer
    routes: dict[tuple[str, str], Canned] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def answer(self, method: str, path: str, status: int, body: Any = None, **kw: Any) -> None:
        raw = (
            body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        )
        self.routes[(method, path)] = Canned(status, raw, **kw)


def _make_handler(stub_ref: list[PartnerStub]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            stub = stub_ref[0]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            stub.received.append(
                Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    self.client_address[1],
                )
            )
            canned = stub.routes.get((self.command, self.path.split("?", 1)[0]))
            if canned is None:
                canned = Canned(403, b'{"message":"Missing Authentication Token"}')
            if canned.delay_s:
                stub.release.wait(canned.delay_s)
            if canned.hang_up:
                self.close_connection = True
                return
            self.send_response(canned.status)
            self.send_header("Content-Type", canned.content_type)
            self.send_header("Content-Length", str(len(canned.body)))
            for name, value in canned.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(canned.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    return Handler


@pytest.fixture
def partner() -> Iterator[PartnerStub]:
    stub_ref: list[PartnerStub] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(stub_ref))
    server.daemon_threads = True
    server.block_on_close = False
    stub = PartnerStub(server)
    stub_ref.append(stub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield stub
    finally:
        stub.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def partner_env(monkeypatch: pytest.MonkeyPatch, partner: PartnerStub) -> PartnerStub:
    """The environment Lambda gives the function, pointed at the stub's `/prod` stage."""
    for name in ("AWS_DEFAULT_REGION", "PARTNER_API_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PARTNER_API_URL", f"{partner.url}/prod")
    monkeypatch.setenv("PARTNER_API_ID", "partnerap1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return partner


@dataclass
class FakeContext:
    """The part of awslambdaric's LambdaContext the handler reads."""

    aws_request_id: str = "8f5e0a52-5d3c-4c1b-9d5e-0a5b4e3c2d1f"
    function_name: str = "consumer-lambda"
    timeout_s: float = 30.0
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self._started)) * 1000))


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def event() -> Any:
    """`event("post_todo.json")`: a recorded event from tests/events/."""
    return load_event


@pytest.fixture
def credentials() -> dict[str, str]:
    return {"access_key": ACCESS_KEY, "secret_key": SECRET_KEY, "token": SESSION_TOKEN}

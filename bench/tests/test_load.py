"""The load client against a small threaded HTTP/1.1 server on loopback: what it counts, not how
fast anything is (no timing is asserted beyond what the schedule itself fixes)."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.http1 import Endpoint, fixed, http_request
from bench.load import Load, run_load


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"Name":"Rex","Gender":"male"}'
        status = 200 if self.path == "/dogs" else 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.send_header("Location", "/todo/abc")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")  # as gunicorn's sync workers
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Endpoint("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_http_request_bytes() -> None:
    assert http_request("POST", "/todo", "h:1", {"Content-Type": "application/json"}, b"{}") == (
        b"POST /todo HTTP/1.1\r\nHost: h:1\r\nUser-Agent: bench\r\nAccept: */*\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )


def test_closed_loop_on_kept_alive_connections(endpoint: Endpoint) -> None:
    source = fixed(http_request("GET", "/dogs", endpoint.authority))
    result = run_load(
        "t",
        endpoint=endpoint,
        source=source,
        load=Load("closed", 2),
        expected_status=200,
        seconds=0.3,
        warmup=0.05,
    )
    assert result.errors == 0 and result.first_error is None
    assert result.requests > 0 and result.acknowledged >= result.requests
    assert result.p50_ms <= result.p99_ms <= result.max_ms


def test_unexpected_statuses_are_errors(endpoint: Endpoint) -> None:
    source = fixed(http_request("GET", "/nope", endpoint.authority))
    result = run_load(
        "t",
        endpoint=endpoint,
        source=source,
        load=Load("closed", 1),
        expected_status=200,
        seconds=0.1,
        warmup=0.0,
    )
    assert result.acknowledged == 0
    assert result.errors > 0 and result.first_error == "status 404"


def test_new_connection_per_request_and_locations(endpoint: Endpoint) -> None:
    source = fixed(http_request("POST", "/todo", endpoint.authority, body=b"{}", close=True))
    result = run_load(
        "t",
        endpoint=endpoint,
        source=source,
        load=Load("closed", 2, fresh_connections=True),
        expected_status=201,
        seconds=0.2,
        warmup=0.0,
        capture_locations=True,
    )
    assert result.errors == 0
    assert result.acknowledged > 0
    assert result.locations == [b"/todo/abc"] * result.acknowledged


def test_open_loop_sends_what_the_schedule_says(endpoint: Endpoint) -> None:
    source = fixed(http_request("GET", "/dogs", endpoint.authority))
    result = run_load(
        "t",
        endpoint=endpoint,
        source=source,
        load=Load("open", 4, rate=200.0),
        expected_status=200,
        seconds=0.5,
        warmup=0.1,
    )
    # due inside the 0.5 s window at 200/s: 100 requests, whatever the machine's speed
    assert result.requests in (100, 101)
    assert result.errors == 0 and result.unfinished == 0

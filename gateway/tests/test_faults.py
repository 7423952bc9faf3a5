"""The running gateway (`python -m gateway`) when its integrations misbehave or carry a lot:
a provider frozen past the integration timeout and resumed, big bodies both ways, and bounded
loads that must not open a connection per request. Real processes on loopback: two Dog Names
(one of them gets SIGSTOP) and a bulk server in this process that counts its connections;
bounded loads, each test a few seconds."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_ports
from devstack.stack import DOG_NAMES, GATEWAY, Service, spawn

TESTS = Path(__file__).resolve().parent
FAULTS_CONFIG = TESTS / "data" / "faults.yaml"
TIMEOUT_S = 2.0  # the integrations' timeoutInMillis (data/faults-rest.yaml)
HEALTH_LIMIT_S = 0.050
NINE_MB = 9 * 1024 * 1024
FIFTY_MB = 50 * 1024 * 1024
BLOCK = bytes(range(256)) * 1024  # 256 KiB of the download's repeating pattern
REFUSAL = b'{"message":"Request body is too large"}'


# --- the bulk server ---------------------------------------------------------------------------


class _BulkHandler(BaseHTTPRequestHandler):
    """/small: 2 bytes; /download/<n>: n bytes of BLOCK's pattern; POST /upload: the sha256 and
    length of the body it read; POST /refuse: 413 without reading the body."""

    protocol_version = "HTTP/1.1"
    server: _BulkServer

    def do_GET(self) -> None:
        if self.path.startswith("/download/"):
            size = int(self.path.rsplit("/", 1)[1])
            self._head(size)
            for offset in range(0, size, len(BLOCK)):
                self.wfile.write(BLOCK[: min(len(BLOCK), size - offset)])
            return
        self._head(2)
        self.wfile.write(b"ok")

    def do_POST(self) -> None:
        if self.path == "/refuse":  # at once, from the head, and closed with the body unread
            self.close_connection = True
            self._head(len(REFUSAL), 413)
            self.wfile.write(REFUSAL)
            return
        remaining = int(self.headers["Content-Length"])
        digest, length = hashlib.sha256(), 0
        while remaining:
            chunk = self.rfile.read(min(remaining, 1024 * 1024))
            digest.update(chunk)
            length += len(chunk)
            remaining -= len(chunk)
        answer = f"{digest.hexdigest()} {length}".encode()
        self._head(len(answer))
        self.wfile.write(answer)

    def _head(self, length: int, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _BulkServer(ThreadingHTTPServer):
    daemon_threads = True
    accepted = 0

    def get_request(self) -> tuple[socket.socket, object]:
        request = super().get_request()
        self.accepted += 1
        return request


# --- the stack -----------------------------------------------------------------------------------


@dataclass
class Faults:
    gateway: Service
    frozen: Service  # Dog Names behind frozenapi1: the one that gets SIGSTOP
    steady: Service  # Dog Names behind steadyapi1
    bulk: _BulkServer  # behind bulkapi001

    @property
    def url(self) -> str:
        return self.gateway.base_url

    @property
    def pid(self) -> int:
        return self.gateway.process.pid


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    logs = tmp_path_factory.mktemp("faults")
    bulk = _BulkServer(("127.0.0.1", 0), _BulkHandler)
    threading.Thread(target=bulk.serve_forever, daemon=True).start()
    gateway_port, frozen_port, steady_port = free_ports(3)
    started: list[Service] = []
    try:
        for name, port in (("frozen", frozen_port), ("steady", steady_port)):
            started.append(spawn(DOG_NAMES, port, log_path=logs / f"{name}.log"))
        for service in started:
            service.wait_ready()
        frozen, steady = started
        env = {
            **os.environ,
            "GATEWAY_CONFIG": str(FAULTS_CONFIG),
            "FROZEN_HOST": frozen.address,
            "STEADY_HOST": steady.address,
            "BULK_HOST": f"127.0.0.1:{bulk.server_address[1]}",
        }
        gateway = spawn(GATEWAY, gateway_port, env=env, log_path=logs / "gateway.log")
        started.append(gateway)
        gateway.wait_ready()
        yield Faults(gateway, frozen, steady, bulk)
    finally:
        for service in reversed(started):
            os.killpg(service.process.pid, signal.SIGCONT)  # a failed test may leave it frozen
            service.stop()
        bulk.shutdown()
        bulk.server_close()


# --- probes that run beside a test ---------------------------------------------------------------


class HealthProbe(threading.Thread):
    """GET /__gateway/health every 10 ms on one keep-alive connection; each answer's time."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.times: list[float] = []
        self.failures: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        request = b"GET /__gateway/health HTTP/1.1\r\nHost: gateway\r\n\r\n"
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
            while not self.done.is_set():
                started = time.perf_counter()
                sock.sendall(request)
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):
                    data = sock.recv(4096)
                    if not data:
                        self.failures.append("connection closed")
                        return
                    answer += data
                self.times.append(time.perf_counter() - started)
                if not answer.startswith(b"HTTP/1.1 200 "):
                    self.failures.append(answer.decode(errors="replace"))
                self.done.wait(0.010)


class PeakRss(threading.Thread):
    """The largest VmRSS of a process while it runs, sampled every 5 ms (KiB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.before = rss_kib(pid)
        self.peak = self.before
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.done.wait(0.005)

    def growth_mib(self) -> float:
        self.done.set()
        self.join()
        return (self.peak - self.before) / 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


# --- a provider frozen past the timeout ---------------------------------------------------------

FREEZE_S = 2.5  # longer than the timeout: requests time out, others wait on the frozen provider
AFTER_S = 1.5  # load after the resume: the first second may still meet the backlog, then 200s
# Requests per second to each API. The frozen one's keep more requests waiting than a pool of
# 100 connections shared by every integration (httpx's default) holds: one integration must not
# make another one wait.
RATES = {"frozenapi1": 60.0, "steadyapi1": 20.0}


@dataclass
class Sent:
    api: str
    started: float  # monotonic
    elapsed: float
    status: int
    body: bytes


async def _one(port: int, api: str, sent: list[Sent]) -> None:
    """One GET on a connection of its own, read to the close: a caller whose own cost does not
    grow with the number of requests in flight (an httpx client's pool does, and at a hundred
    waiting requests it, not the gateway, would be what is slow)."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET /test/dogs HTTP/1.1\r\nHost: gateway\r\nx-apigw-api-id: "
            + api.encode()
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = await reader.read(-1)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head else 0  # 0: no answer at all
    sent.append(Sent(api, started, time.monotonic() - started, status, body))


async def _load(port: int, api: str, until: float, sent: list[Sent]) -> None:
    """RATES[api] requests per second, each on its own, whatever the earlier ones wait for."""
    tasks = []
    next_at = time.monotonic()
    while next_at < until:
        tasks.append(asyncio.ensure_future(_one(port, api, sent)))
        next_at += 1 / RATES[api]
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    await asyncio.gather(*tasks)


def test_a_frozen_provider_costs_only_its_own_requests(faults: Faults) -> None:
    """Dog Names behind `frozenapi1` gets SIGSTOP for longer than the integration timeout, under
    a steady load on it and on `steadyapi1`: every answer within the timeout + 1 s, the frozen
    one's 504s (no 502, no 429: the callers stay under the stage's limit), the other API and the
    gateway's health as fast as ever, and 200s again within a second of SIGCONT."""
    probe = HealthProbe(faults.gateway.port)
    sent: list[Sent] = []
    frozen_pid = faults.frozen.process.pid

    async def scenario() -> tuple[float, float]:
        port = faults.gateway.port
        for api in RATES:  # warm: connections in the gateway's pools
            for _ in range(3):
                await _one(port, api, [])
        probe.start()
        frozen_at = time.monotonic()
        os.killpg(frozen_pid, signal.SIGSTOP)
        try:
            end = frozen_at + FREEZE_S + AFTER_S
            loads = asyncio.gather(*(_load(port, api, end, sent) for api in RATES))
            await asyncio.sleep(FREEZE_S)
        finally:
            os.killpg(frozen_pid, signal.SIGCONT)
        resumed_at = time.monotonic()
        await loads
        return frozen_at, resumed_at

    try:
        frozen_at, resumed_at = asyncio.run(scenario())
    finally:
        probe.done.set()
        probe.join()

    frozen = [s for s in sent if s.api == "frozenapi1"]
    steady = [s for s in sent if s.api == "steadyapi1"]
    assert len(frozen) >= RATES["frozenapi1"] * (FREEZE_S + AFTER_S) * 0.9
    assert max(s.elapsed for s in sent) < TIMEOUT_S + 1.0
    assert {s.status for s in frozen} <= {200, 504}
    timed_out = [s for s in frozen if s.status == 504]
    assert len(timed_out) >= RATES["frozenapi1"] * (FREEZE_S - TIMEOUT_S)
    assert {s.body for s in timed_out} == {b'{"message": "Endpoint request timed out"}'}
    assert all(TIMEOUT_S <= s.elapsed for s in timed_out)
    recovered = [s for s in frozen if s.started >= resumed_at + 1.0]
    assert recovered and all(s.status == 200 for s in recovered), [
        (round(s.started - resumed_at, 2), s.status) for s in frozen if s.started >= resumed_at
    ]
    assert all(s.status == 200 for s in steady)
    assert max(s.elapsed for s in steady) < 0.1  # measured: under 5 ms (a shared pool: 0.4 s)
    assert not probe.failures
    assert len(probe.times) >= 100
    assert max(probe.times) < HEALTH_LIMIT_S, sorted(probe.times)[-5:]
    assert frozen_at < resumed_at


# --- big bodies ------------------------------------------------------------------------------


def test_a_9_mb_upload_arrives_byte_identical(faults: Faults) -> None:
    """The gateway holds the body whole (API Gateway reads it before calling the integration):
    its RSS grows by about the body's size twice at most (the received pieces and the joined
    body), then the body goes out as it is, without another copy."""
    body = os.urandom(NINE_MB)
    peak = PeakRss(faults.pid)
    peak.start()
    with httpx.Client(timeout=30, trust_env=False) as client:
        response = client.post(
            faults.url + "/test/upload", content=body, headers={"x-apigw-api-id": "bulkapi001"}
        )
    growth = peak.growth_mib()
    assert response.status_code == 200, response.text
    assert response.text == f"{hashlib.sha256(body).hexdigest()} {NINE_MB}"
    assert growth < 2.5 * NINE_MB / 2**20, f"RSS grew by {growth:.1f} MiB"


def test_a_providers_early_413_reaches_the_caller(faults: Faults) -> None:
    """The provider answers from the head and closes without reading the 9 MB: its answer, not
    the gateway's 502, even though the connection is reset while the body is still going out."""
    with httpx.Client(timeout=30, trust_env=False) as client:
        for _ in range(3):
            response = client.post(
                faults.url + "/test/refuse",
                content=b"x" * NINE_MB,
                headers={"x-apigw-api-id": "bulkapi001"},
            )
            assert (response.status_code, response.content) == (413, REFUSAL)


def test_a_50_mb_download_streams_byte_identical_in_bounded_memory(faults: Faults) -> None:
    """The body streams: the gateway's RSS grows by what waits between the provider and the
    caller (the client reads on only once the caller took what it had: READ_HIGH_WATER,
    512 KiB, plus a read), not by the body's size."""
    peak = PeakRss(faults.pid)
    peak.start()
    digest, length = hashlib.sha256(), 0
    headers = {"x-apigw-api-id": "bulkapi001"}
    with (
        httpx.Client(timeout=30, trust_env=False) as client,
        client.stream("GET", f"{faults.url}/test/download/{FIFTY_MB}", headers=headers) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_raw():
            digest.update(chunk)
            length += len(chunk)
    growth = peak.growth_mib()
    expected = hashlib.sha256()
    for offset in range(0, FIFTY_MB, len(BLOCK)):
        expected.update(BLOCK[: min(len(BLOCK), FIFTY_MB - offset)])
    assert (length, digest.hexdigest()) == (FIFTY_MB, expected.hexdigest())
    assert growth < 8, f"RSS grew by {growth:.1f} MiB"


# --- connection reuse ------------------------------------------------------------------------


def test_upstream_connections_are_reused_under_load(faults: Faults) -> None:
    """500 requests from 8 callers at once, each on its own keep-alive connection: the provider
    accepts at most one connection per concurrent caller, not one per request."""
    accepted_before = faults.bulk.accepted
    statuses: list[int] = []

    def caller(count: int) -> None:
        with httpx.Client(timeout=10, trust_env=False) as client:
            for _ in range(count):
                response = client.get(
                    faults.url + "/test/small", headers={"x-apigw-api-id": "bulkapi001"}
                )
                statuses.append(response.status_code)

    threads = [threading.Thread(target=caller, args=(500 // 8 + (i < 500 % 8),)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses.count(200) == len(statuses) == 500
    assert faults.bulk.accepted - accepted_before <= 8

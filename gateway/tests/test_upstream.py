"""The integrations' HTTP/1.1 client (`gateway.upstream`, `gateway.http11`) against small raw
servers on loopback, in the same event loop: uvloop's (the gateway's) and asyncio's own. Real
sockets; the servers count what they accept and see."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import trustme
import uvloop
from gateway.http11 import READ_HIGH_WATER, Response, split_url
from gateway.upstream import HTTP11Transport

TEST_TIMEOUT_S = 30.0
NINE_MB = 9 * 1024 * 1024
FIFTY_MB = 50 * 1024 * 1024

Run = Callable[[Callable[[], Awaitable[Any]]], Any]


@pytest.fixture(params=["uvloop", "asyncio"])
def run(request: pytest.FixtureRequest) -> Run:
    """Runs a test's coroutine to its end (at most TEST_TIMEOUT_S) in a new loop of the kind."""
    factory = uvloop.new_event_loop if request.param == "uvloop" else asyncio.new_event_loop

    def runner(main: Callable[[], Awaitable[Any]]) -> Any:
        async def bounded() -> Any:
            return await asyncio.wait_for(main(), TEST_TIMEOUT_S)

        with asyncio.Runner(loop_factory=factory) as loop:
            return loop.run(bounded())

    return runner


# --- the servers -------------------------------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


@dataclass
class Server:
    """A raw HTTP server on 127.0.0.1: `handler` gets each connection."""

    handler: Handler
    accepts: int = 0
    closed: int = 0  # connections that ended
    peers: list[str] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)  # the heads it read
    _server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepts += 1
        self.peers.append(writer.get_extra_info("peername")[0])
        try:
            await self.handler(reader, writer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed += 1
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
        """The next request's head and body (by Content-Length); None at the end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        self.requests.append(head)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return head, await reader.readexactly(length) if length else b""


def answer(body: bytes = b"hello", status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n%s" % (status, len(body), extra, body)


async def keep_alive(reader: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
    """Answers every request on the connection with its path."""
    while (request := await s.read_request(reader)) is not None:
        w.write(answer(request[0].split(b" ")[1]))


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def body_of(response: Response) -> bytes:
    chunks = []
    while not response.at_end:
        chunks.append(await response.read())
    return b"".join(chunks)


async def get(
    transport: HTTP11Transport, url: str, method: str = "GET", body: bytes = b"", **kw: Any
) -> tuple[int, bytes]:
    response = await transport.request(method, url, [], body, timeout=kw.pop("timeout", 5), **kw)
    return response.status, await body_of(response)


# --- keep-alive ------------------------------------------------------------------------------


def test_keep_alive_connections_are_reused(run: Run) -> None:
    async def main() -> None:
        async with Server(keep_alive) as server:
            transport = HTTP11Transport()
            for i in range(20):
                assert await get(transport, f"{server.url}/{i}") == (200, f"/{i}".encode())
            assert server.accepts == 1
            assert transport.idle_connections() == 1
            await transport.aclose()

    run(main)


def test_busy_connections_are_not_capped_and_idle_ones_are(run: Run) -> None:
    """Five at once: five connections (no one waits for another's); two stay idle."""

    async def main() -> None:
        arrived = asyncio.Event()

        async def all_at_once(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while (request := await s.read_request(r)) is not None:
                if len(s.requests) == 5:
                    arrived.set()
                await arrived.wait()
                w.write(answer(request[0].split(b" ")[1]))

        async with Server(all_at_once) as server:
            transport = HTTP11Transport(max_idle_per_origin=2)
            answers = await asyncio.gather(*(get(transport, f"{server.url}/{i}") for i in range(5)))
            assert answers == [(200, f"/{i}".encode()) for i in range(5)]
            assert server.accepts == 5
            assert transport.idle_connections() == 2
            await until(lambda: server.closed == 3)
            await transport.aclose()

    run(main)


def test_a_server_closing_an_idle_connection_is_noticed(run: Run) -> None:
    async def main() -> None:
        async def one_each(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            if await s.read_request(r) is not None:
                w.write(answer())  # keep-alive by HTTP/1.1's default, then closed while idle
                await w.drain()

        async with Server(one_each) as server:
            transport = HTTP11Transport()
            assert await get(transport, server.url) == (200, b"hello")
            await until(lambda: transport.idle_connections() == 0)
            assert await get(transport, server.url) == (200, b"hello")
            assert (server.accepts, len(server.requests)) == (2, 2)  # nothing sent in vain

    run(main)


@pytest.mark.parametrize("method, body", [("GET", b""), ("POST", b"x" * 100_000)])
def test_a_stale_connection_is_retried_once_on_a_fresh_one(
    run: Run, method: str, body: bytes
) -> None:
    """The server's keep-alive close races the next request: it reads it and closes without a
    byte of an answer. The caller gets the answer from a fresh connection, not an error."""

    async def main() -> None:
        async def race(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            request = await s.read_request(r)
            if request is not None:
                w.write(answer(str(len(request[1])).encode()))
                await s.read_request(r)  # the next one on this connection: closed unanswered

        async with Server(race) as server:
            transport = HTTP11Transport()
            expected = (200, str(len(body)).encode())
            assert await get(transport, server.url, method, body) == expected
            assert await get(transport, server.url, method, body) == expected
            assert (server.accepts, len(server.requests)) == (2, 3)

    run(main)


def test_a_fresh_connection_is_not_retried(run: Run) -> None:
    async def main() -> None:
        async def hang_up(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)

        async with Server(hang_up) as server:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                await get(HTTP11Transport(), server.url)
            assert (server.accepts, len(server.requests)) == (1, 1)

    run(main)


def test_no_retry_once_an_answer_has_begun(run: Run) -> None:
    async def main() -> None:
        async def half(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)
            w.write(answer())
            await s.read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\n")  # and no more

        async with Server(half) as server:
            transport = HTTP11Transport()
            assert await get(transport, server.url) == (200, b"hello")
            with pytest.raises(httpx.RemoteProtocolError):
                await get(transport, server.url)
            assert (server.accepts, len(server.requests)) == (1, 2)

    run(main)


# --- framing ---------------------------------------------------------------------------------


def test_a_chunked_body_streams_as_it_arrives(run: Run) -> None:
    async def main() -> None:
        first_read = asyncio.Event()

        async def chunked(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while await s.read_request(r) is not None:
                w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
                await first_read.wait()
                w.write(b"6\r\nsecond\r\n0\r\n\r\n")

        async with Server(chunked) as server:
            transport = HTTP11Transport()
            response = await transport.request("GET", server.url, [], timeout=5)
            assert await response.read() == b"first"  # before the server sent the rest
            first_read.set()
            assert await body_of(response) == b"second"
            assert await get(transport, server.url) == (200, b"firstsecond")
            assert server.accepts == 1

    run(main)


@pytest.mark.parametrize("version", [b"HTTP/1.1", b"HTTP/1.0"])
def test_a_body_that_ends_with_the_connection(run: Run, version: bytes) -> None:
    async def main() -> None:
        async def to_the_end(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)
            w.write(version + b" 200 OK\r\nConnection: close\r\n\r\n" + b"x" * 300_000)

        async with Server(to_the_end) as server:
            transport = HTTP11Transport()
            assert await get(transport, server.url) == (200, b"x" * 300_000)
            assert transport.idle_connections() == 0

    run(main)


def test_responses_without_a_body(run: Run) -> None:
    """HEAD (whatever its Content-Length says), 204 and 304: no body, and the connection goes on."""

    async def main() -> None:
        async def bodyless(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while (request := await s.read_request(r)) is not None:
                if request[0].startswith(b"HEAD"):
                    w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
                elif b"/304" in request[0]:
                    w.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n")
                elif b"/204" in request[0]:
                    w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                else:
                    w.write(answer())

        async with Server(bodyless) as server:
            transport = HTTP11Transport()
            assert await get(transport, server.url, "HEAD") == (200, b"")
            assert await get(transport, server.url + "/304") == (304, b"")
            assert await get(transport, server.url + "/204") == (204, b"")
            assert await get(transport, server.url) == (200, b"hello")
            assert server.accepts == 1

    run(main)


def test_an_interim_answer_is_skipped(run: Run) -> None:
    async def main() -> None:
        async def interim(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while await s.read_request(r) is not None:
                w.write(
                    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                )
                w.write(answer(extra=b"X-Final: yes\r\n"))

        async with Server(interim) as server:
            transport = HTTP11Transport()
            response = await transport.request("GET", server.url, [], timeout=5)
            assert (response.status, response.headers) == (
                200,
                [(b"Content-Length", b"5"), (b"X-Final", b"yes")],
            )
            assert await body_of(response) == b"hello"
            assert await get(transport, server.url) == (200, b"hello")
            assert server.accepts == 1

    run(main)


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"NOT HTTP\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n",
    ],
    ids=["two-lengths", "garbage", "head-over-64k"],
)
def test_a_malformed_response_is_a_protocol_error(run: Run, head: bytes) -> None:
    async def main() -> None:
        async def broken(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)
            w.write(head)
            await r.read()  # until the client closes

        async with Server(broken) as server:
            transport = HTTP11Transport()
            with pytest.raises(httpx.RemoteProtocolError):
                await get(transport, server.url)
            await until(lambda: server.closed == 1)
            assert transport.idle_connections() == 0

    run(main)


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"])
def test_a_header_cannot_add_lines(run: Run, value: str) -> None:
    async def main() -> None:
        async with Server(keep_alive) as server:
            with pytest.raises(httpx.LocalProtocolError):
                await HTTP11Transport().request("GET", server.url, [("X", value)], timeout=5)
            assert server.accepts == 0

    run(main)


def test_the_request_goes_out_as_given(run: Run) -> None:
    async def main() -> None:
        async with Server(keep_alive) as server:
            transport = HTTP11Transport()
            headers = [("X-Raw", "caf\udcc3\udca9"), ("x-dup", "1"), ("x-dup", "2")]
            response = await transport.request(
                "POST", server.url + "/p%20q?a=1", headers, b"abc", timeout=5
            )
            await body_of(response)
            host = server.url.removeprefix("http://").encode()
            assert server.requests == [
                b"POST /p%20q?a=1 HTTP/1.1\r\nHost: " + host + b"\r\nX-Raw: caf\xc3\xa9\r\n"
                b"x-dup: 1\r\nx-dup: 2\r\nContent-Length: 3\r\n\r\n"
            ]

    run(main)


def test_a_host_header_given_is_the_one_sent(run: Run) -> None:
    """A REST API's VPC link: the connection goes to the link, Host names the uri's host."""

    async def main() -> None:
        async with Server(keep_alive) as server:
            response = await HTTP11Transport().request(
                "GET", server.url + "/x", [("Host", "nlb.example")], timeout=5
            )
            await body_of(response)
            assert server.requests == [b"GET /x HTTP/1.1\r\nHost: nlb.example\r\n\r\n"]

    run(main)


@pytest.mark.parametrize(
    "url, origin, host, target",
    [
        ("http://10.0.0.1:8080/a/b?c=d", ("http", "10.0.0.1", 8080), "10.0.0.1:8080", "/a/b?c=d"),
        ("http://h/", ("http", "h", 80), "h", "/"),
        ("http://h:80/x", ("http", "h", 80), "h", "/x"),
        ("HTTPS://h:443?q=1", ("https", "h", 443), "h", "/?q=1"),
        ("https://h:8443", ("https", "h", 8443), "h:8443", "/"),
        ("http://[::1]:81/x#frag", ("http", "::1", 81), "[::1]:81", "/x"),
        ("http://user:pw@h:1/x", ("http", "h", 1), "h:1", "/x"),
    ],
)
def test_split_url(url: str, origin: tuple[str, str, int], host: str, target: str) -> None:
    assert split_url(url) == (origin, host, target)


@pytest.mark.parametrize("url", ["ftp://h/", "h:80/x", "http:///x", "http://h:port/"])
def test_split_url_refuses(url: str) -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        split_url(url)


def test_https(run: Run) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)

    async def main() -> None:
        accepted = []

        async def tls(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            accepted.append(1)
            while True:
                try:
                    await r.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    break
                w.write(answer(b"secret"))
            w.close()

        server = await asyncio.start_server(tls, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        transport = HTTP11Transport(ssl_context=client_context)
        for _ in range(2):
            assert await get(transport, f"https://localhost:{port}/") == (200, b"secret")
        assert accepted == [1]
        with pytest.raises(httpx.ConnectError):  # the system's trust: not this CA
            await get(HTTP11Transport(), f"https://localhost:{port}/")
        await transport.aclose()
        server.close()

    run(main)


# --- full duplex -----------------------------------------------------------------------------


def test_an_early_answer_while_the_body_is_sent_reaches_the_caller(run: Run) -> None:
    """A provider that refuses a 9 MB body from its head, answers 413 and closes without reading
    the rest (the kernel resets the connection): the 413 is what the caller gets."""

    async def main() -> None:
        received: list[int] = []

        async def refuse(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await r.readuntil(b"\r\n\r\n")
            received.append(len(r._buffer))  # type: ignore[attr-defined]  # what it has read
            w.write(answer(b'{"message":"too large"}', b"413 Payload Too Large"))
            await w.drain()

        async with Server(refuse) as server:
            transport = HTTP11Transport()
            for _ in range(3):
                assert await get(transport, server.url, "POST", b"x" * NINE_MB) == (
                    413,
                    b'{"message":"too large"}',
                )
            assert server.accepts == 3
            assert max(received) < NINE_MB  # it never read the body

    run(main)


# --- timeouts --------------------------------------------------------------------------------


def test_no_head_in_time_is_a_timeout_and_the_connection_is_closed(run: Run) -> None:
    async def main() -> None:
        answering = False

        async def silent(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while (request := await s.read_request(r)) is not None:
                if answering:
                    w.write(answer(request[0].split(b" ")[1]))

        async with Server(silent) as server:
            transport = HTTP11Transport()
            for reused in (False, True):
                if reused:  # a connection from the pool times out alike
                    answering = True
                    assert await get(transport, server.url + "/warm") == (200, b"/warm")
                    answering = False
                started = time.monotonic()
                with pytest.raises(httpx.ReadTimeout):
                    await get(transport, server.url, timeout=0.3)
                assert 0.29 <= time.monotonic() - started < 0.6  # uvloop: a clock of whole ms
                await until(lambda: server.closed == server.accepts)  # closed, not pooled
            answering = True
            assert await get(transport, server.url + "/x") == (200, b"/x")
            assert server.accepts == 3

    run(main)


def test_a_body_that_stops_arriving_times_out(run: Run) -> None:
    async def main() -> None:
        async def stall(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
            await r.read()

        async with Server(stall) as server:
            transport = HTTP11Transport()
            response = await transport.request("GET", server.url, [], timeout=5, read_timeout=0.3)
            assert await response.read() == b"ab"
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await response.read()
            assert 0.29 <= time.monotonic() - started < 0.6  # uvloop: a clock of whole ms
            await until(lambda: server.closed == 1)

    run(main)


def test_a_refused_connection_fails_at_once(run: Run) -> None:
    async def main() -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]  # bound, not listening: refused
            started = time.monotonic()
            with pytest.raises(httpx.ConnectError):
                await get(HTTP11Transport(), f"http://127.0.0.1:{port}/")
            assert time.monotonic() - started < 0.5

    run(main)


# --- where connections leave from, and big bodies ----------------------------------------------


def test_connections_leave_from_the_local_address(run: Run) -> None:
    async def main() -> None:
        async with Server(keep_alive) as server:
            assert await get(HTTP11Transport("127.0.4.10"), server.url) == (200, b"/")
            assert await get(HTTP11Transport(), server.url) == (200, b"/")
            assert server.peers == ["127.0.4.10", "127.0.0.1"]

    run(main)


def _pattern(size: int) -> Iterator[bytes]:
    block = bytes(range(256)) * 1024  # 256 KiB
    for offset in range(0, size, len(block)):
        yield block[: min(len(block), size - offset)]


def test_a_50_mb_download_streams_with_bounded_memory(run: Run) -> None:
    """The server writes as fast as it may; while the caller does not read, it may not write
    on: what it got out is the client's READ_HIGH_WATER plus the kernel's socket buffers."""

    async def main() -> None:
        written = [0]

        async def download(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            await s.read_request(r)
            w.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % FIFTY_MB)
            for block in _pattern(FIFTY_MB):
                w.write(block)
                written[0] += len(block)
                await w.drain()

        async with Server(download) as server:
            transport = HTTP11Transport()
            response = await transport.request("GET", server.url, [], timeout=5)
            digest = hashlib.sha256(await response.read())
            await asyncio.sleep(0.5)  # a caller that does not read
            stalled = written[0]
            await asyncio.sleep(0.2)
            assert written[0] == stalled  # the server is held back
            buffered = response.buffered
            while not response.at_end:
                digest.update(await response.read())
            expected = hashlib.sha256(b"".join(_pattern(FIFTY_MB))).hexdigest()
            assert digest.hexdigest() == expected
            assert buffered <= READ_HIGH_WATER + 256 * 1024
            assert stalled < 24 * 1024 * 1024, f"{stalled} bytes out while nobody read"
            assert transport.idle_connections() == 1

    run(main)


# --- httpx's interface -------------------------------------------------------------------------


def test_through_httpx(run: Run) -> None:
    async def main() -> None:
        async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter, s: Server) -> None:
            while (request := await s.read_request(r)) is not None:
                w.write(answer(hashlib.sha256(request[1]).hexdigest().encode()))

        async with Server(echo) as server:
            async with httpx.AsyncClient(transport=HTTP11Transport(), timeout=5) as client:
                body = b"y" * 200_000

                async def streamed_body() -> AsyncIterator[bytes]:  # sent chunked by httpx
                    yield body[:5]
                    yield body[5:]

                response = await client.post(server.url, content=streamed_body())
                assert (response.status_code, response.text) == (
                    200,
                    hashlib.sha256(body).hexdigest(),
                )
                async with client.stream("GET", server.url) as streamed:
                    assert await streamed.aread() == hashlib.sha256(b"").hexdigest().encode()
            assert server.accepts == 1
            assert b"transfer-encoding" not in server.requests[0].lower()

    run(main)

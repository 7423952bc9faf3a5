"""HTTP/1.1 on one connection to an integration: the request's bytes, and the response parsed
as it arrives (httptools, llhttp: time linear in the head) with its body buffered for the reader,
reading paused while READ_HIGH_WATER bytes wait. The connection writes the whole request at once
and reads at the same time: an answer that comes before the request is all out (an early 413) is
the response, and a reset after it does not take back what arrived. `gateway.upstream` keeps the
idle connections and decides when to connect."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol, cast

import httptools
import httpx

MAX_RESPONSE_HEAD_BYTES = 64 * 1024  # a larger head is a broken integration (NGINX: 4-8 KiB)
READ_HIGH_WATER = 512 * 1024  # body bytes waiting for the reader before reading pauses
ONE_WRITE_BODY = 64 * 1024  # a body up to this size goes out in the same write as the head

Origin = tuple[str, str, int]  # scheme, host, port
DEFAULT_PORTS = {"http": 80, "https": 443}


class IdlePool(Protocol):
    """Where a connection goes between requests."""

    def put_idle(self, conn: Connection) -> None:
        """A connection that may carry another request."""

    def discard_idle(self, conn: Connection) -> None:
        """A connection that ended: no longer one to take."""


def split_url(url: str) -> tuple[Origin, str, str]:
    """The origin of an absolute http(s) URL, its Host header value and its request target."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        raise httpx.UnsupportedProtocol(f"not an http(s) URL: {url!r}")
    cut = len(rest)
    for mark in "/?#":
        at = rest.find(mark, 0, cut)
        if at >= 0:
            cut = at
    netloc, target = rest[:cut].rpartition("@")[2], rest[cut:]
    if "#" in target:
        target = target.split("#", 1)[0]
    if not target.startswith("/"):
        target = "/" + target
    if netloc.startswith("["):  # [IPv6]:port
        end = netloc.find("]")
        host, port_text = netloc[1:end], netloc[end + 2 :]
    else:
        host, _, port_text = netloc.partition(":")
    if not host:
        raise httpx.UnsupportedProtocol(f"no host in {url!r}")
    default = DEFAULT_PORTS[scheme]
    try:
        port = int(port_text) if port_text else default
    except ValueError:
        raise httpx.UnsupportedProtocol(f"bad port in {url!r}") from None
    host_header = netloc if port != default else netloc.rsplit(":", 1)[0] if port_text else netloc
    return (scheme, host, port), host_header, target


def request_head(
    method: str, target: str, host: str, headers: Sequence[tuple[str, str]], body_length: int
) -> bytes:
    """The request line and headers as sent, with Host (first, unless given) and Content-Length
    (unless given, for a body). Text holds the wire's bytes (UTF-8, others as surrogates)."""
    has_host = has_length = False
    for name, _ in headers:
        size = len(name)
        if size == 4 and name.lower() == "host":
            has_host = True
        elif size == 14 and name.lower() == "content-length":
            has_length = True
    lines = [f"{method} {target} HTTP/1.1\r\n"]
    if not has_host:
        lines.append(f"Host: {host}\r\n")
    lines += [f"{name}: {value}\r\n" for name, value in headers]
    if body_length and not has_length:
        lines.append(f"Content-Length: {body_length}\r\n")
    lines.append("\r\n")
    text = "".join(lines)
    # Every line ends in exactly one CRLF: a CR, LF or NUL inside a value would let it add
    # headers or a request of its own.
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or "\0" in text:
        raise httpx.LocalProtocolError("a request header holds CR, LF or NUL")
    return text.encode("utf-8", "surrogateescape")


class _HeadTooLong(Exception):
    message = "the integration's response head is too long"


class Response:
    """One response as its connection delivers it: status and headers once the head is in, the
    body buffered until read (reading from the connection pauses above READ_HIGH_WATER). Also
    the callbacks of its httptools parser (one parser per response)."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_conn",
        "_error",
        "_framed",
        "_head_bytes",
        "_head_only",
        "_interim",
        "_loop",
        "_parser",
        "_read_timeout",
        "_waiter",
        "complete",
        "extra_bytes",
        "head",
        "headers",
        "headers_done",
        "keep_alive",
        "received_any",
        "remaining",
        "status",
    )

    def __init__(self, conn: Connection, *, head_only: bool, read_timeout: float | None) -> None:
        loop = conn.loop
        self._loop = loop
        self._conn: Connection | None = conn
        self._head_only = head_only
        self._read_timeout = read_timeout
        self._parser: httptools.HttpResponseParser | None = httptools.HttpResponseParser(self)
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._framed = False  # Content-Length or chunked: a close before the end cuts it short
        self._interim = False  # in a 1xx response (100 Continue, 103 Early Hints)
        self._head_bytes = 0
        self.head: asyncio.Future[None] = loop.create_future()  # done when the head is in
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False  # the whole body has arrived
        self.keep_alive = False
        self.received_any = False  # a byte of the response arrived
        self.extra_bytes = False  # bytes after the response's end: the connection is not reused
        self.remaining = -1  # Content-Length bytes still to come (-1: framed by the parser)

    # --- the consumer's side ----------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return bool(self._chunks) or self.complete or self._error is not None

    @property
    def at_end(self) -> bool:
        return self.complete and not self._chunks

    @property
    def buffered(self) -> int:
        """Body bytes that arrived and wait for read()."""
        return self._buffered

    async def read(self) -> bytes:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self.complete:
                return b""
            waiter = self._waiter = self._loop.create_future()
            timer = None
            if self._read_timeout is not None:
                timer = self._loop.call_later(self._read_timeout, self._read_timed_out, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        self._chunks = []
        self._buffered = 0
        conn = self._conn
        if conn is not None and conn.paused:
            conn.resume_reading()
        return data

    def fail(self, exc: BaseException) -> None:
        """Stop (the caller went away): the pending read and every later one raise `exc`."""
        self._error = exc
        self._chunks = []
        self._buffered = 0
        self._wake()
        self.abandon()

    async def aclose(self) -> None:
        self.abandon()

    def abandon(self) -> None:
        """Nobody reads on: a connection still carrying this response is closed."""
        if not self.head.done():
            self.head.cancel()
        self._parser = None
        conn = self._conn
        if conn is not None:
            self._conn = None
            conn.drop(self)

    def time_out_head(self) -> None:
        if not self.head.done():
            self._lost(httpx.ReadTimeout("no response head from the integration in time"))
            self.abandon()

    def _read_timed_out(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self._lost(httpx.ReadTimeout("no body bytes from the integration in time"))
            self.abandon()

    # --- the connection's side ----------------------------------------------------------------

    def _take(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        conn = self._conn
        if self._buffered > READ_HIGH_WATER and conn is not None and not conn.paused:
            conn.pause_reading()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _finish(self) -> None:
        self.complete = True
        parser = self._parser
        if parser is not None:
            self.keep_alive = parser.should_keep_alive()
            self._parser = None  # a parser and its callbacks' object refer to each other
        self._wake()

    def _lost(self, exc: BaseException) -> None:
        """The response cannot be completed: the head's waiter or the body's reader gets `exc`."""
        if self.complete or self._error is not None:
            return
        self._error = exc
        self._parser = None
        if not self.head.done():
            self.head.set_exception(exc)
        self._wake()

    def feed(self, data: bytes) -> None:
        """Bytes from the connection."""
        self.received_any = True
        remaining = self.remaining
        if remaining > 0:  # a Content-Length body after its first bytes: counted, not parsed
            if len(data) < remaining:
                self.remaining = remaining - len(data)
                self._take(data)
                return
            self.remaining = 0
            self.extra_bytes = len(data) > remaining
            self._take(data if len(data) == remaining else data[:remaining])
            self._finish()
            return
        parser = self._parser
        if parser is None:  # after the end (a HEAD response), or after an error
            self.extra_bytes = True
            return
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._lost(httpx.RemoteProtocolError("the integration switched protocols"))
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _HeadTooLong):
                self._lost(httpx.RemoteProtocolError(_HeadTooLong.message))
            else:
                self._lost(httpx.RemoteProtocolError(f"malformed response: {exc}"))
        if not self.headers_done and not self._error:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_RESPONSE_HEAD_BYTES:
                self._lost(httpx.RemoteProtocolError(_HeadTooLong.message))

    def eof(self, exc: BaseException | None) -> None:
        """The connection ended: the end of a body that runs until the close, else a failure."""
        if self.complete or self._error is not None:
            return
        if self.headers_done and not self._framed and exc is None:
            self._finish()
        elif not self.received_any:
            self._lost(
                httpx.ReadError(f"the integration reset the connection: {exc}")
                if exc is not None
                else httpx.RemoteProtocolError("Server disconnected without sending a response.")
            )
        else:
            self._lost(
                httpx.RemoteProtocolError(
                    "the integration closed the connection before the end of its response"
                )
            )

    # --- httptools' callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.headers_done:  # a second response nobody asked for
            self.extra_bytes = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.headers_done:
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.headers_done:
            return
        parser = self._parser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:  # 1xx: an interim answer; the response follows (101 raises Upgrade)
            self._interim = True
            self.headers = []
            return
        self.status = status
        self.headers_done = True
        length, chunked, head_bytes = -1, False, 0
        for name, value in self.headers:
            size = len(name)
            head_bytes += size + len(value)
            if size == 14 and name.lower() == b"content-length":
                length = int(value)  # llhttp has refused anything but one number
            elif size == 17 and name.lower() == b"transfer-encoding":
                chunked = True
        if head_bytes > MAX_RESPONSE_HEAD_BYTES:
            raise _HeadTooLong  # stops the parser; feed() reports it
        if self._head_only or status in (204, 304):
            self.keep_alive = parser.should_keep_alive()
            self.complete = True  # no body, whatever its headers say; llhttp is not told
            self._parser = None
        elif chunked:
            self._framed = True
        elif length >= 0:
            self._framed = True
            self.remaining = length  # the parser frames this read's part, feed() the rest
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self.extra_bytes = True
            return
        if self.remaining > 0:
            self.remaining -= len(body)
        self._take(body)

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
        elif self.complete:
            pass
        else:
            self.remaining = 0
            self._finish()


class Connection(asyncio.Protocol):
    """One TCP connection to an origin: idle (in its origin's list) or carrying one response."""

    def __init__(self, pool: IdlePool, origin: Origin, loop: asyncio.AbstractEventLoop):
        self.pool = pool
        self.origin = origin
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.response: Response | None = None
        self.closed = False
        self.paused = False
        self.idle_since = 0.0

    def send(self, head: bytes, body: bytes, response: Response) -> None:
        transport = self.transport
        assert transport is not None and self.response is None
        self.response = response
        # One write (the body is already whole); asyncio buffers what the socket does not take
        # at once, and the response may arrive meanwhile (an early 413): full duplex.
        if len(body) > ONE_WRITE_BODY:
            transport.write(head)
            transport.write(body)
        else:
            transport.write(head + body if body else head)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()
            self.paused = True

    def resume_reading(self) -> None:
        if self.paused:
            self.paused = False
            if self.transport is not None and not self.closed:
                self.transport.resume_reading()

    def drop(self, response: Response) -> None:
        """The response's reader stopped before its end: the connection cannot be reused."""
        if self.response is response:
            self.response = None
            self.abort()

    def abort(self) -> None:
        """Closed at once, whatever is still to be sent."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        """Closed after what is still to be sent (nothing, when it is idle)."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _settle(self, response: Response) -> None:
        """After bytes came: a complete response frees the connection (kept idle when it may be
        reused: keep-alive, nothing left unsent, nothing after the end), a failed one closes it."""
        if not (response.complete or response._error is not None):
            return
        self.response = None
        response._conn = None
        transport = self.transport
        if transport is None or not response.complete or transport.get_write_buffer_size():
            self.abort()  # an error, or an answer before the whole request went out
        elif response.keep_alive and not response.extra_bytes and not self.closed:
            self.resume_reading()  # to notice the server's close while idle
            self.pool.put_idle(self)
        else:
            self.close()

    # --- asyncio's callbacks ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # idle: nothing was asked (a 408 before closing, say)
            self.abort()
            self.pool.discard_idle(self)
            return
        response.feed(data)
        self._settle(response)

    def eof_received(self) -> bool | None:
        self._ended(None)
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    def _ended(self, exc: Exception | None) -> None:
        self.closed = True
        response = self.response
        if response is None:
            self.pool.discard_idle(self)
            return
        self.response = None
        response._conn = None
        response.eof(exc)

"""The integrations' HTTP/1.1 client, on asyncio protocols (uvloop's in the gateway): one
connection per request in flight, idle keep-alive connections kept for the next, the response
handed on as it arrives. The wire itself (request bytes, response parsing, the body's flow
control) is `gateway.http11`.

Idle connections wait per origin (scheme, host, port; a transport per local address makes that
the origin and the address they leave from) in a LIFO list, at most `max_idle_per_origin` of
them; there is no cap on busy connections, so no integration ever waits for another one's. Each
request is O(1) work: pop an idle connection (or connect), one write of head and body, parse
what comes back.

`HTTP11Transport.request()` is what the proxy calls; `handle_async_request()` is the same client
behind httpx's transport interface. `HttpxResponse` gives the response of any other httpx
transport (a test's `MockTransport` or `ASGITransport`) the shape the proxy relays.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

import httpx

from gateway.http11 import Connection, Origin, Response, request_head, split_url

MAX_IDLE_PER_ORIGIN = 100
KEEPALIVE_EXPIRY_S = 5.0  # uvicorn's own keep-alive timeout: an older idle connection is closed


class StreamedResponse(Protocol):
    """What the proxy relays: the head at once, then the body as it arrives."""

    status: int
    headers: list[tuple[bytes, bytes]]

    @property
    def ready(self) -> bool:
        """Whether read() would answer without waiting."""

    @property
    def at_end(self) -> bool:
        """Whether the whole body has been read."""

    async def read(self) -> bytes:
        """What arrived since the last read (waits for something); b"" only at the end."""

    def fail(self, exc: BaseException) -> None:
        """Stop: a pending and every later read raises `exc`."""

    async def aclose(self) -> None: ...


class HTTP11Transport(httpx.AsyncBaseTransport):
    """The client of the connections that leave from `local_address` (None: the system's
    choice)."""

    def __init__(
        self,
        local_address: str | None = None,
        *,
        max_idle_per_origin: int = MAX_IDLE_PER_ORIGIN,
        keepalive_expiry_s: float = KEEPALIVE_EXPIRY_S,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.local_address = local_address
        self._local_addr = (local_address, 0) if local_address else None
        self.max_idle_per_origin = max_idle_per_origin
        self.keepalive_expiry_s = keepalive_expiry_s
        self._ssl_context = ssl_context
        self._idle: dict[Origin, collections.deque[Connection]] = {}
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        timeout: float | None,
        read_timeout: float | None = None,
    ) -> Response:
        """Send one request; its response once the head is in. `timeout` covers connecting,
        sending and the response head (httpx.ConnectTimeout / ReadTimeout), `read_timeout` each
        wait for more of the body. `url` and `headers` are ASCII or the wire's bytes as text
        (UTF-8, other bytes as surrogates). Failures are httpx.TransportErrors."""
        origin, host, target = split_url(url)
        head = request_head(method, target, host, headers, len(body))
        head_only = method == "HEAD"
        conn = self._take_idle(origin)
        if conn is not None:
            # A timer of the loop's own for the head: asyncio.timeout() asks for the running loop
            # three times, and on Python 3.11 each of those is a getpid() system call.
            loop = conn.loop
            started = loop.time()
            response = await self._exchange(conn, head, body, head_only, read_timeout, timeout)
            if response.headers_done:
                return response
            # The server closed the idle connection as the request went out (its keep-alive
            # timeout): nothing of an answer came, so it never saw the request. Once more on a
            # fresh connection, as every HTTP client does for stale pooled connections (Go's
            # net/http even for a POST, on the same grounds): no caller should get a 502 for
            # that race. Only once, and only then.
            if timeout is not None:
                timeout = max(0.0, timeout - (loop.time() - started))
        connecting = True
        try:
            async with asyncio.timeout(timeout):
                conn = await self._connect(origin)
                connecting = False
                return await self._exchange(conn, head, body, head_only, read_timeout, None)
        except TimeoutError as exc:
            if connecting:
                raise httpx.ConnectTimeout("no connection to the integration in time") from exc
            raise httpx.ReadTimeout("no response head from the integration in time") from exc

    async def _exchange(
        self,
        conn: Connection,
        head: bytes,
        body: bytes,
        head_only: bool,
        read_timeout: float | None,
        head_timeout: float | None,
    ) -> Response:
        """The response on `conn`, once its head is in (within `head_timeout`, else
        httpx.ReadTimeout); for a reused connection that ended before any byte of an answer, the
        response without its head (the caller retries)."""
        reused = conn.idle_since > 0
        response = Response(conn, head_only=head_only, read_timeout=read_timeout)
        conn.send(head, body, response)
        timer = None
        if head_timeout is not None:
            timer = conn.loop.call_later(head_timeout, response.time_out_head)
        try:
            await response.head
        except httpx.TimeoutException:
            raise
        except httpx.TransportError:
            if reused and not response.received_any:
                return response
            raise
        except BaseException:  # timed out, or the caller went away: never pooled again
            response.abandon()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        return response

    async def _connect(self, origin: Origin) -> Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        conn = Connection(self, origin, loop)
        tls = self._tls() if scheme == "https" else None
        try:
            await loop.create_connection(
                lambda: conn,
                host,
                port,
                ssl=tls,
                server_hostname=host if tls is not None else None,
                local_addr=self._local_addr,
            )
        except OSError as exc:
            raise httpx.ConnectError(f"{host}:{port}: {exc}") from exc
        return conn

    def _tls(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        return self._ssl_context

    # --- idle connections ---------------------------------------------------------------------

    def _take_idle(self, origin: Origin) -> Connection | None:
        """The most recently used idle connection to `origin` that is still open (LIFO: the ones
        at the bottom expire, and the server's close of one is noticed while it waits)."""
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.loop.time() - conn.idle_since < self.keepalive_expiry_s:
                return conn
            conn.abort()
        return None

    def put_idle(self, conn: Connection) -> None:
        if self._closed:
            conn.abort()
            return
        idle = self._idle.get(conn.origin)
        if idle is None:
            idle = self._idle[conn.origin] = collections.deque()
        now = conn.loop.time()
        conn.idle_since = now
        idle.append(conn)
        while idle and (
            len(idle) > self.max_idle_per_origin
            or now - idle[0].idle_since >= self.keepalive_expiry_s
        ):
            idle.popleft().close()

    def discard_idle(self, conn: Connection) -> None:
        idle = self._idle.get(conn.origin)
        if idle:
            try:
                idle.remove(conn)  # at most max_idle_per_origin, and only when one closes
            except ValueError:
                pass

    def idle_connections(self) -> int:
        """How many idle connections wait (all origins)."""
        return sum(len(idle) for idle in self._idle.values())

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    # --- httpx's interface --------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """`request` through this client. The timeout extension's `read` (else `connect`) is the
        limit for connecting, sending and the head, `read` again for each wait on the body."""
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        read_timeout = timeouts.get("read")
        head_timeout = read_timeout if read_timeout is not None else timeouts.get("connect")
        body = await request.aread()
        headers = [
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
            for name, value in request.headers.raw
            if name.lower() != b"transfer-encoding"  # the body goes whole, with its length
        ]
        response = await self.request(
            request.method,
            str(request.url),
            headers,
            body,
            timeout=head_timeout,
            read_timeout=read_timeout,
        )
        return httpx.Response(
            response.status,
            headers=response.headers,
            stream=_ResponseStream(response),
            extensions={"http_version": b"HTTP/1.1"},
        )


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        response = self._response
        while not response.at_end:
            data = await response.read()
            if data:
                yield data

    async def aclose(self) -> None:
        await self._response.aclose()


class HttpxResponse:
    """A response of any httpx transport (one a test injects) as a StreamedResponse."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.status = response.status_code
        self.headers = list(response.headers.raw)
        self._chunks = response.aiter_raw()
        self._end = False
        self._error: BaseException | None = None
        self._stop: asyncio.Future[None] | None = None

    @property
    def ready(self) -> bool:
        return False  # unknown: the relay watches the caller while it waits

    @property
    def at_end(self) -> bool:
        return self._end

    async def read(self) -> bytes:
        if self._error is not None:
            raise self._error
        step = asyncio.ensure_future(_next_chunk(self._chunks))
        stop = self._stop = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait((step, stop), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._stop = None
            if not step.done():
                step.cancel()
        if self._error is not None:
            raise self._error
        chunk = step.result()
        if chunk is None:
            self._end = True
            return b""
        return chunk

    def fail(self, exc: BaseException) -> None:
        self._error = exc
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)

    async def aclose(self) -> None:
        await self._response.aclose()


async def _next_chunk(chunks: AsyncIterator[bytes]) -> bytes | None:
    try:
        return await anext(chunks)
    except StopAsyncIteration:
        return None

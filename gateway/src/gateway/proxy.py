"""Send a request to an integration and relay its answer to the caller: through the lean
HTTP/1.1 client of `gateway.upstream` (one per local source address a VPC link names), the
request body in one piece (the pipeline read it whole), the response streamed. No retries of
its own: the caller decides (the client only sends again what a stale keep-alive connection
never delivered). What goes wrong is raised: `IntegrationFailure` / `IntegrationTimeout` before
the response head, `ResponseInterrupted` / `ClientGone` after it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from gateway.errors import ClientGone, IntegrationFailure, IntegrationTimeout, ResponseInterrupted
from gateway.exchange import Exchange, Receive
from gateway.headers import client_response_headers, wire_bytes
from gateway.upstream import HTTP11Transport, HttpxResponse, StreamedResponse


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    url: str  # may hold raw bytes >= 0x80 as surrogates (see headers.wire_text)
    headers: list[tuple[str, str]]
    body: bytes
    timeout_s: float  # connecting, sending and the response head; then each wait for the body
    local_address: str | None = None  # where the connection leaves from (None: any)


# The transport for connections that leave from a local address (None: the system's choice).
TransportFactory = Callable[[str | None], httpx.AsyncBaseTransport]


def network_transport(local_address: str | None) -> httpx.AsyncBaseTransport:
    return HTTP11Transport(local_address)


class Upstream:
    """The clients integrations are called through: one for every integration, and one for each
    local address a VPC link's connections leave from. `transport` stands for every connection
    (tests); `transport_for` makes the transport of each local address (default: the network's,
    bound to that address).

    The network's transport is called directly (`HTTP11Transport.request`); any other httpx
    transport (`MockTransport`, `ASGITransport`) through httpx's interface. Either way requests
    go to the transport itself, not through an `httpx.AsyncClient`: a client shared by every
    caller must keep no state of its own (a client's cookie jar would send one caller's
    Set-Cookie with everyone's later requests; its default headers, Accept-Encoding: gzip and its
    User-Agent, are not the caller's), and the client's cookie handling copies the request's
    headers into a dict one lookup at a time on every response, which takes time quadratic in
    the number of headers (10,000 headers: seconds, with every other request waiting)."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        transport_for: TransportFactory | None = None,
    ) -> None:
        if transport is not None:
            self._transport_for: TransportFactory = lambda _local: transport
        else:
            self._transport_for = transport_for or network_transport
        self._transports: dict[str | None, httpx.AsyncBaseTransport] = {}

    def _transport(self, local_address: str | None) -> httpx.AsyncBaseTransport:
        """The client for connections that leave from `local_address`, made on first use."""
        transport = self._transports.get(local_address)
        if transport is None:
            transport = self._transports[local_address] = self._transport_for(local_address)
        return transport

    async def aclose(self) -> None:
        transports, self._transports = list(self._transports.values()), {}
        for transport in {id(t): t for t in transports}.values():  # a shared one only once
            await transport.aclose()

    async def forward(self, ex: Exchange, upstream: UpstreamRequest) -> None:
        """Send `upstream` and stream the integration's response to the caller of `ex`.

        A backend that answers before it has read the whole body (a 413 of its own, say) is
        answered with that response: the client reads while it writes, and a reset after the
        answer does not take back what had arrived."""
        transport = self._transport(upstream.local_address)
        sent = time.perf_counter()
        response: StreamedResponse
        try:
            if isinstance(transport, HTTP11Transport):
                response = await transport.request(
                    upstream.method,
                    _ascii_url(upstream.url),
                    upstream.headers,
                    upstream.body,
                    timeout=upstream.timeout_s,
                    read_timeout=upstream.timeout_s,
                )
            else:
                response = await _through_httpx(transport, upstream)
        except (TimeoutError, httpx.TimeoutException) as exc:
            ex.integration_latency_ms = _ms_since(sent)
            raise IntegrationTimeout() from exc
        except httpx.TransportError as exc:
            ex.integration_latency_ms = _ms_since(sent)
            raise IntegrationFailure() from exc
        ex.integration_latency_ms = _ms_since(sent)
        try:
            await _relay(ex, response)
        except httpx.TransportError as exc:
            raise ResponseInterrupted(
                f"integration response interrupted: {type(exc).__name__}"
            ) from exc
        finally:
            await response.aclose()


async def _through_httpx(
    transport: httpx.AsyncBaseTransport, upstream: UpstreamRequest
) -> StreamedResponse:
    request = httpx.Request(
        upstream.method,
        _ascii_url(upstream.url),
        headers=[(wire_bytes(name), wire_bytes(value)) for name, value in upstream.headers],
        content=upstream.body,
        extensions={"timeout": httpx.Timeout(upstream.timeout_s).as_dict()},
    )
    async with asyncio.timeout(upstream.timeout_s):
        response = await transport.handle_async_request(request)
    response.request = request
    return HttpxResponse(response)


async def _relay(ex: Exchange, response: StreamedResponse) -> None:
    """Send the integration's response on, each piece as it arrives (the caller's send is
    awaited: a slow caller slows the reading, memory stays bounded). While it waits for the
    integration, a caller that goes away stops the copying at once: nobody is left to read a
    long or endless body. A body that is already in needs no watching."""
    # headers.wire_text / wire_bytes, inline: a call less for each name and value
    raw = [
        (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
        for name, value in response.headers
    ]
    headers = client_response_headers(raw) + ex.ids.response_headers()
    await ex.start_response(
        response.status,
        [
            (name.encode("utf-8", "surrogateescape"), value.encode("utf-8", "surrogateescape"))
            for name, value in headers
        ],
    )
    watcher: asyncio.Future[None] | None = None
    try:
        while True:
            if watcher is None and not response.ready:
                watcher = asyncio.ensure_future(_stop_when_gone(ex.receive, response))
            chunk = await response.read()
            end = response.at_end
            if chunk or end:
                await ex.send_body(chunk, more=not end)
            if end:
                return
    finally:
        if watcher is not None:
            watcher.cancel()


async def _stop_when_gone(receive: Receive, response: StreamedResponse) -> None:
    if await _disconnected(receive):
        response.fail(ClientGone())


async def _disconnected(receive: Receive) -> bool:
    """Wait for the caller to go away (True). After the body, an ASGI server blocks `receive`
    until then; one that keeps handing out request messages cannot be watched (False)."""
    for _ in range(2):  # the first may be an (empty) body message nobody asked for yet
        if (await receive())["type"] == "http.disconnect":
            return True
    return False


# Everything printable in ASCII stays as it is (the path is forwarded still percent-encoded);
# raw bytes >= 0x80 (or a space) become %XX, as they were received.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _ascii_url(url: str) -> str:
    return quote(wire_bytes(url), safe=_URL_SAFE) if not url.isascii() else url


def _ms_since(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)

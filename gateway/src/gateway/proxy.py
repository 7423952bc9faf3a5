"""Send a request to an integration and relay its answer to the caller: one pooled httpx client
(one per local source address a VPC link names), the request body in one piece (the pipeline read
it whole), the response streamed. No retries: the caller decides. What goes wrong is raised:
`IntegrationFailure` / `IntegrationTimeout` before the response head, `ResponseInterrupted` /
`ClientGone` after it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from urllib.parse import quote

import httpx

from gateway.errors import ClientGone, IntegrationFailure, IntegrationTimeout, ResponseInterrupted
from gateway.exchange import Exchange, Receive
from gateway.headers import client_response_headers, wire_bytes, wire_text


@dataclass(frozen=True)
class UpstreamRequest:
    method: str
    url: str  # may hold raw bytes >= 0x80 as surrogates (see headers.wire_text)
    headers: list[tuple[str, str]]
    body: bytes
    timeout_s: float  # for the response head
    local_address: str | None = None  # where the connection leaves from (None: any)


# The transport for connections that leave from a local address (None: the system's choice).
TransportFactory = Callable[[str | None], httpx.AsyncBaseTransport]


def network_transport(local_address: str | None) -> httpx.AsyncBaseTransport:
    # No retries: a refused connection answers at once.
    return httpx.AsyncHTTPTransport(retries=0, local_address=local_address)


class Upstream:
    """The pools integrations are called through: one for every integration, and one for each
    local address a VPC link's connections leave from. `transport` stands for every connection
    (tests); `transport_for` makes the transport of each local address (default: the network's,
    bound to that address)."""

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
        self._clients: dict[str | None, httpx.AsyncClient] = {}

    def _client(self, local_address: str | None) -> httpx.AsyncClient:
        """The pool for connections that leave from `local_address`, made on first use."""
        # A pool is shared by every caller, so it must keep no state of its own: no cookie jar
        # (one caller's Set-Cookie would be sent with everyone's later requests) and none of
        # httpx's default headers (Accept-Encoding: gzip would have the backend compress bodies
        # the caller never asked to be compressed; the User-Agent is the caller's business).
        client = self._clients.get(local_address)
        if client is None:
            client = httpx.AsyncClient(
                transport=self._transport_for(local_address),
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
                follow_redirects=False,
                trust_env=False,
                cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
            )
            for name in list(client.headers):
                del client.headers[name]
            self._clients[local_address] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    async def forward(self, ex: Exchange, upstream: UpstreamRequest) -> None:
        """Send `upstream` and stream the integration's response to the caller of `ex`.

        A backend that answers before it has read the whole body (a 413 of its own, say) is
        answered with that response: httpcore stops writing when the backend closes and reads
        what it sent."""
        client = self._client(upstream.local_address)
        request = client.build_request(
            upstream.method,
            _ascii_url(upstream.url),
            headers=[(wire_bytes(name), wire_bytes(value)) for name, value in upstream.headers],
            content=upstream.body,
            timeout=httpx.Timeout(upstream.timeout_s),
        )
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(upstream.timeout_s):
                response = await client.send(request, stream=True)
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


async def _relay(ex: Exchange, response: httpx.Response) -> None:
    """Send the integration's response on; a caller that goes away stops the copying at once:
    nobody is left to read a long or endless body."""
    raw = [(wire_text(name), wire_text(value)) for name, value in response.headers.raw]
    headers = client_response_headers(raw) + ex.ids.response_headers()
    await ex.start_response(
        response.status_code, [(wire_bytes(n), wire_bytes(v)) for n, v in headers]
    )
    copy = asyncio.ensure_future(_copy_body(ex, response))
    gone = asyncio.ensure_future(_disconnected(ex.receive))
    try:
        await asyncio.wait((copy, gone), return_when=asyncio.FIRST_COMPLETED)
        if gone.done() and not gone.result():
            await copy  # nothing to watch: copy to the end
    finally:
        for task in (copy, gone):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    if copy.cancelled():
        raise ClientGone
    copy.result()  # re-raises what cut the integration's body short


async def _copy_body(ex: Exchange, response: httpx.Response) -> None:
    async for chunk in response.aiter_raw():
        await ex.send_body(chunk, more=True)
    await ex.send_body(b"")


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

"""The http_proxy integration: one pooled httpx client, bodies streamed both ways, API Gateway's
answers when the backend refuses, resets or is too slow (no retries: the caller decides)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

import httpx

from gateway import errors
from gateway.headers import client_response_headers, upstream_request_headers, wire_bytes, wire_text
from gateway.integration import HttpProxyIntegration, IntegrationError, RequestValues, upstream_url

if TYPE_CHECKING:
    from gateway.apis import Api
    from gateway.app import Exchange

Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    pass


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole request body (IAM auth must hash it), refusing more than `limit` bytes."""
    chunks = [chunk async for chunk in BodyStream(receive, limit)]
    return b"".join(chunks)


class BodyStream:
    """The caller's body as it arrives, counted: more than `limit` bytes raises BodyTooLarge and
    leaves `exceeded` set (the upstream may fail first, e.g. by closing the connection)."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self._limit = limit
        self.size = 0
        self.exceeded = False
        self.finished = False  # the last message of the body has been received

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size > self._limit:
                self.exceeded = True
                raise BodyTooLarge
            if not message.get("more_body", False):
                self.finished = True
            if chunk:
                yield chunk
            if self.finished:
                return


class Upstream:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        # One pool for every integration; no retries (a refused connection answers at once).
        # The pool is shared by every caller, so it must keep no state of its own: no cookie jar
        # (one caller's Set-Cookie would be sent with everyone's later requests) and none of
        # httpx's default headers (Accept-Encoding: gzip would have the backend compress bodies
        # the caller never asked to be compressed; the User-Agent is the caller's business).
        self.client = httpx.AsyncClient(
            transport=transport or httpx.AsyncHTTPTransport(retries=0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
            trust_env=False,
            cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        )
        for name in list(self.client.headers):
            del self.client.headers[name]

    async def aclose(self) -> None:
        await self.client.aclose()

    async def forward(
        self,
        ex: Exchange,
        api: Api,
        integration: HttpProxyIntegration,
        path_params: Mapping[str, str],
        body: bytes | None,
        receive: Receive,
        send: Send,
        limit: int,
    ) -> errors.GatewayError | None:
        """Call the integration and stream its answer to the caller; or return the error to send."""
        http_api = api.http_api
        try:
            url, extra_headers = upstream_url(
                integration,
                http_api=http_api,
                stage_variables=api.stage_variables,
                values=RequestValues(
                    path=path_params, query=_query_pairs(ex.raw_query), headers=dict(ex.headers)
                ),
                raw_query=ex.raw_query,
            )
        except IntegrationError:
            return errors.integration_failure(http_api=http_api)
        # Without IAM auth nothing needs the whole body first: it streams as it arrives. A request
        # with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 section 6.3):
        # it must not reach the backend as an empty chunked one.
        if body is None and not _has_body(ex.headers):
            body = b""
        stream = BodyStream(receive, limit) if body is None else None
        content: bytes | AsyncIterator[bytes] = stream.__aiter__() if stream else body or b""
        headers = upstream_request_headers(
            ex.headers,
            request_id=ex.ids.request_id,
            peer_ip=ex.source_ip,
            forward_client_cert=api.forwards_client_cert,
            keep_content_length=not body,  # streamed, or empty: the caller's length is right
            extra=extra_headers,
        )
        timeout_s = integration.timeout_ms / 1000
        request = self.client.build_request(
            integration.upstream_method(ex.method),
            _ascii_url(url),
            headers=[(wire_bytes(name), wire_bytes(value)) for name, value in headers],
            content=content,
            timeout=httpx.Timeout(timeout_s),
        )
        sent = time.perf_counter()
        try:
            async with asyncio.timeout(timeout_s):
                response = await self.client.send(request, stream=True)
        except BodyTooLarge:
            return errors.request_too_large(http_api=http_api, limit=limit)
        except ClientGone:
            ex.status = 499
            ex.error_message = "client closed the request"
            return None
        except (TimeoutError, httpx.TransportError) as exc:
            if stream is not None and stream.exceeded:
                return errors.request_too_large(http_api=http_api, limit=limit)
            ex.integration_latency_ms = _ms_since(sent)
            if isinstance(exc, TimeoutError | httpx.TimeoutException):
                return errors.integration_timeout(http_api=http_api)
            return errors.integration_failure(http_api=http_api)
        ex.integration_latency_ms = _ms_since(sent)
        ex.status = response.status_code
        # Once the caller's whole body is in, the next message can only be its disconnect.
        watch = receive if stream is None or stream.finished else None
        try:
            await self._relay(ex, response, send, watch)
        except httpx.TransportError as exc:
            # The status line is gone already: all that is left is to cut the response short.
            ex.error_message = f"integration response interrupted: {type(exc).__name__}"
        except ClientGone:
            ex.error_message = "client closed the connection during the response"
        finally:
            await response.aclose()
        return None

    async def _relay(
        self, ex: Exchange, response: httpx.Response, send: Send, watch: Receive | None
    ) -> None:
        """Send the integration's response on; a caller that goes away (seen through `watch`)
        stops the copying at once: nobody is left to read a long or endless body."""
        raw = [(wire_text(name), wire_text(value)) for name, value in response.headers.raw]
        headers = client_response_headers(raw) + ex.ids.response_headers()
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(wire_bytes(n), wire_bytes(v)) for n, v in headers],
            }
        )
        copy = asyncio.ensure_future(_copy_body(response, send))
        if watch is None:
            await copy
            return
        gone = asyncio.ensure_future(_disconnected(watch))
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


async def _copy_body(response: httpx.Response, send: Send) -> None:
    async for chunk in response.aiter_raw():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _disconnected(receive: Receive) -> bool:
    """Wait for the caller to go away (True). After the body, an ASGI server blocks `receive`
    until then; one that keeps handing out request messages cannot be watched (False)."""
    for _ in range(2):  # the first may be the (empty) body nobody has asked for yet
        if (await receive())["type"] == "http.disconnect":
            return True
    return False


def _has_body(headers: list[tuple[str, str]]) -> bool:
    for name, value in headers:
        if name == "transfer-encoding" or (name == "content-length" and value.strip() != "0"):
            return True
    return False


# Everything printable in ASCII stays as it is (the path is forwarded still percent-encoded);
# raw bytes >= 0x80 (or a space) become %XX, as they were received.
_URL_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _ascii_url(url: str) -> str:
    return quote(wire_bytes(url), safe=_URL_SAFE) if not url.isascii() else url


def _ms_since(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)

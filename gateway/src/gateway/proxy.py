"""The http_proxy integration: one pooled httpx client, bodies streamed both ways, API Gateway's
answers when the backend refuses, resets or is too slow (no retries: the caller decides)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx

from gateway import errors
from gateway.headers import client_response_headers, upstream_request_headers
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
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


class Upstream:
    def __init__(self, transport: httpx.AsyncBaseTransport | None = None) -> None:
        # One pool for every integration; no retries (a refused connection answers at once).
        self.client = httpx.AsyncClient(
            transport=transport or httpx.AsyncHTTPTransport(retries=0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            follow_redirects=False,
            trust_env=False,
        )

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
        # Without IAM auth nothing needs the whole body first: it streams as it arrives.
        stream = BodyStream(receive, limit) if body is None else None
        content: bytes | AsyncIterator[bytes] = stream.__aiter__() if stream else body or b""
        headers = upstream_request_headers(
            ex.headers,
            request_id=ex.ids.request_id,
            peer_ip=ex.source_ip,
            forward_client_cert=api.forwards_client_cert,
            keep_content_length=body is None,
            extra=extra_headers,
        )
        timeout_s = integration.timeout_ms / 1000
        request = self.client.build_request(
            integration.upstream_method(ex.method),
            url,
            headers=headers,
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
        try:
            await self._relay(ex, response, send)
        except httpx.TransportError as exc:
            # The status line is gone already: all that is left is to cut the response short.
            ex.error_message = f"integration response interrupted: {type(exc).__name__}"
        finally:
            await response.aclose()
        return None

    async def _relay(self, ex: Exchange, response: httpx.Response, send: Send) -> None:
        headers = client_response_headers(list(response.headers.multi_items()))
        headers += ex.ids.response_headers()
        await send(
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in headers],
            }
        )
        async for chunk in response.aiter_raw():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def _ms_since(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)

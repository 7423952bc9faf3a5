"""The gateway as a plain ASGI application: dispatch, the request pipeline, and the one place
where an error becomes API Gateway's response; every request ends as one access-log line."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from gateway.accesslog import AccessLog, write_json_line
from gateway.config import GatewayConfig, load_config
from gateway.errors import ClientGone, GatewayError, ResponseInterrupted
from gateway.exchange import TRACE_HEADER, Exchange, Receive, RequestIds, Scope, Send
from gateway.headers import wire_bytes, wire_text
from gateway.pipeline import Pipeline
from gateway.proxy import TransportFactory

HEALTH_PATH = "/__gateway/health"  # answered by the gateway itself, before any API
HEALTH_BODY = b'{"status":"ok"}'


class GatewayApp:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        access_log: Callable[[dict[str, Any]], None] = write_json_line,
        transport: httpx.AsyncBaseTransport | None = None,
        transport_for: TransportFactory | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.pipeline = Pipeline(
            config, clock=clock, transport=transport, transport_for=transport_for
        )
        self.access_log = AccessLog(access_log)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.pipeline.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ex = self._exchange(scope, receive, send)
        if ex.raw_path == HEALTH_PATH and ex.method in ("GET", "HEAD"):
            # not logged: health checks every few seconds would drown the access log
            await ex.start_response(
                200, [(b"content-type", b"application/json"), (b"content-length", b"15")]
            )
            await ex.send_body(HEALTH_BODY if ex.method == "GET" else b"")
            return
        try:
            await self.pipeline.run(ex)
        except GatewayError as error:
            await respond_error(ex, error)
        except ClientGone:
            if ex.response_started:
                ex.error_message = "client closed the connection during the response"
            else:
                ex.status, ex.error_message = 499, "client closed the request"
        except ResponseInterrupted as interrupted:
            ex.error_message = str(interrupted)  # the caller's response is cut short
        except BaseException:
            ex.status = ex.status or 500
            ex.error_message = ex.error_message or "gateway error"
            raise
        finally:
            self.access_log.record(ex)

    def _exchange(self, scope: Scope, receive: Receive, send: Send) -> Exchange:
        raw_path = wire_text(scope.get("raw_path") or scope["path"].encode())
        # headers.wire_text, inline: a call less for each name and value
        headers = [
            (n.decode("utf-8", "surrogateescape").lower(), v.decode("utf-8", "surrogateescape"))
            for n, v in scope["headers"]
        ]
        client, server = scope.get("client"), scope.get("server")
        trace = next((v.strip() for n, v in headers if n == TRACE_HEADER and v.strip()), None)
        now = self.clock()
        return Exchange(
            method=scope["method"].upper(),
            raw_path=raw_path.split("?", 1)[0] or "/",
            raw_query=wire_text(scope.get("query_string", b"")),
            headers=headers,
            source_ip=client[0] if client else None,
            receive=receive,
            send=send,
            started=time.perf_counter(),
            request_time=now,
            ids=RequestIds.new(trace_id=trace, now=now.timestamp()),
            server_port=server[1] if server and len(server) > 1 else None,
        )


async def respond_error(ex: Exchange, error: GatewayError) -> None:
    """API Gateway's answer for `error`, for the API type of `ex` (REST when none was selected)."""
    answer = error.answer(http_api=ex.ids.http_api)
    ex.error_message = answer.message
    if ex.response_started:  # too late for an answer of our own: the response is cut short
        return
    headers = [("content-type", answer.content_type), *ex.ids.response_headers()]
    if answer.error_type and not ex.ids.http_api:
        headers.append(("x-amzn-ErrorType", answer.error_type))
    headers.append(("content-length", str(len(answer.body))))
    if answer.close:
        headers.append(("connection", "close"))
    await ex.start_response(answer.status, [(wire_bytes(n), wire_bytes(v)) for n, v in headers])
    await ex.send_body(answer.body)


def create_app(config: GatewayConfig | None = None) -> GatewayApp:
    """The ASGI app for `config`, else for the file named by $GATEWAY_CONFIG."""
    return GatewayApp(config or load_config())

"""One JSON access-log line per request on stdout, and the request id that ties it together.

The request id comes from `X-Request-Id`, else `x-amzn-RequestId` (what API Gateway sends), when it
is 1-128 visible ASCII characters; anything else is replaced by a fresh uuid4. It is echoed in the
response as `X-Request-Id`.
"""

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "dog_names.access"
SERVICE = "dog-names"
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


def pick_request_id(*candidates: str | None) -> str:
    """The first acceptable candidate, or a new uuid4."""
    for candidate in candidates:
        if candidate is not None and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stdout is at emit time (so test capture and redirection work)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property  # type: ignore[override]
    def stream(self):  # type: ignore[no-untyped-def]
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_access_logger(level: str = "info") -> logging.Logger:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(h, _StdoutHandler) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    # The access line is informational: it is written unless LOG_LEVEL is above info.
    logger.setLevel(logging.INFO if level in ("info", "debug", "trace") else level.upper())
    logger.propagate = False
    return logger


def access_record(
    *, method: str, path: str, status: int, duration_ms: float, request_id: str, client: str | None
) -> str:
    return json.dumps(
        {
            "timestamp": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "service": SERVICE,
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "client": client,
        },
        ensure_ascii=True,
    )


SERVER_ERROR_BODY = b'{"message":"Internal Server Error"}'


def _server_error_start() -> Message:
    return {
        "type": "http.response.start",
        "status": 500,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(SERVER_ERROR_BODY)).encode()),
        ],
    }


class AccessLogMiddleware:
    """Pure ASGI middleware: sets scope["state"]["request_id"], echoes it, logs one line."""

    def __init__(self, app: ASGIApp, logger_name: str = ACCESS_LOGGER) -> None:
        self.app = app
        self.logger = logging.getLogger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = pick_request_id(headers.get("x-request-id"), headers.get("x-amzn-requestid"))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Starlette's outermost ServerErrorMiddleware would answer outside this middleware,
            # without the request id: answer here, then let the error go on to be logged.
            if not response_started:
                await send_with_request_id(_server_error_start())
                body = b"" if scope["method"] == "HEAD" else SERVER_ERROR_BODY
                await send({"type": "http.response.body", "body": body, "more_body": False})
            raise
        finally:
            client = scope.get("client")
            self.logger.info(
                access_record(
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    request_id=request_id,
                    client=client[0] if client else None,
                )
            )

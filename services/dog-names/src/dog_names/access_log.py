"""One JSON access-log line per request on stdout, and the request id that ties it together.

The request id comes from `X-Request-Id`, else `x-amzn-RequestId` (what API Gateway sends), when it
is 1-128 visible ASCII characters; anything else is replaced by a fresh uuid4. It is echoed in the
response as `X-Request-Id`.

The line is written on every request, so it is made cheaply: formatted directly rather than
through `logging` (a LogRecord, a caller lookup and a formatter cost more than the rest of a
request) and `json.dumps` of a dict; `access_record` gives the same bytes `json.dumps` would.
"""

import re
import sys
import time
import uuid
from json.encoder import encode_basestring_ascii as _json_string  # type: ignore[attr-defined]

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SERVICE = "dog-names"
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")
_REQUEST_ID_BYTES = re.compile(rb"[\x21-\x7e]{1,128}")
# The levels at which the access line is written (it is informational: silent above info).
_WRITING_LEVELS = frozenset({"info", "debug", "trace"})
RawHeaders = list[tuple[bytes, bytes]]


def pick_request_id(*candidates: str | None) -> str:
    """The first acceptable candidate, or a new uuid4."""
    for candidate in candidates:
        if candidate is not None and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


def request_id_of(headers: RawHeaders) -> str:
    """`pick_request_id(X-Request-Id, x-amzn-RequestId)` on ASGI headers (names lower case, as
    ASGI servers give them): the first of each header counts, in one pass over the headers."""
    own = amzn = None
    for name, value in headers:
        if name == b"x-request-id":
            if own is None:
                own = value
        elif name == b"x-amzn-requestid" and amzn is None:
            amzn = value
    for candidate in (own, amzn):
        if candidate is not None and _REQUEST_ID_BYTES.fullmatch(candidate):
            return candidate.decode("ascii")
    return str(uuid.uuid4())


def with_request_id(headers: RawHeaders, request_id: bytes) -> RawHeaders:
    """A copy of `headers` with `x-request-id` set as starlette's MutableHeaders sets it: the
    first one replaced and any others dropped, else appended."""
    out: RawHeaders = []
    replaced = False
    for name, value in headers:
        if name != b"x-request-id":
            out.append((name, value))
        elif not replaced:
            out.append((name, request_id))
            replaced = True
    if not replaced:
        out.append((b"x-request-id", request_id))
    return out


class _UtcClock:
    """`datetime.now(UTC).isoformat(timespec="milliseconds")` with "Z", the date and time of
    day formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def timestamp(self, now_ns: int | None = None) -> str:
        millis = (time.time_ns() if now_ns is None else now_ns) // 1_000_000
        second, milli = divmod(millis, 1000)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{milli:03d}Z"


_CLOCK = _UtcClock()


def access_record(
    *,
    method: str,
    path: str,
    status: int,
    duration_ms: float,
    request_id: str,
    client: str | None,
    timestamp: str | None = None,
) -> str:
    """The access line: exactly `json.dumps({...}, ensure_ascii=True)` of these fields in this
    order (the test suite holds the two to the same bytes)."""
    when = _CLOCK.timestamp() if timestamp is None else timestamp
    peer = "null" if client is None else _json_string(client)
    return (
        f'{{"timestamp": {_json_string(when)}, "service": "{SERVICE}", '
        f'"request_id": {_json_string(request_id)}, "method": {_json_string(method)}, '
        f'"path": {_json_string(path)}, "status": {status:d}, '
        f'"duration_ms": {round(duration_ms, 3)!r}, "client": {peer}}}'
    )


class AccessLog:
    """Writes access lines to whatever sys.stdout is at write time (so test capture and
    redirection work), one write and flush per line, as logging's StreamHandler did."""

    def __init__(self, level: str = "info") -> None:
        self.enabled = level.lower() in _WRITING_LEVELS

    def write(self, line: str) -> None:
        if not self.enabled:
            return
        stream = sys.stdout
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed or broken stdout must not fail requests
            print(f"--- access log: cannot write to stdout: {exc!r}", file=sys.stderr)

    def record(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        """The line for a finished request; `started` is its time.perf_counter()."""
        if not self.enabled:
            return
        duration_ms = (time.perf_counter() - started) * 1000
        client = scope.get("client")
        self.write(
            access_record(
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=duration_ms,
                request_id=request_id,
                client=client[0] if client else None,
            )
        )


SERVER_ERROR_BODY = b'{"message":"Internal Server Error"}'
SERVER_ERROR_HEADERS: RawHeaders = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(SERVER_ERROR_BODY)).encode()),
]


async def send_server_error(scope: Scope, send: Send, request_id: bytes) -> None:
    """The 500 answered when the app fails before it started a response."""
    start: Message = {
        "type": "http.response.start",
        "status": 500,
        "headers": [*SERVER_ERROR_HEADERS, (b"x-request-id", request_id)],
    }
    await send(start)
    body = b"" if scope["method"] == "HEAD" else SERVER_ERROR_BODY
    await send({"type": "http.response.body", "body": body, "more_body": False})


class AccessLogMiddleware:
    """Pure ASGI middleware: sets scope["state"]["request_id"], echoes it, logs one line."""

    def __init__(self, app: ASGIApp, access_log: AccessLog) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope["headers"])
        echoed = request_id.encode("ascii")
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = with_request_id(message.get("headers", []), echoed)
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            # Starlette's outermost ServerErrorMiddleware would answer outside this middleware,
            # without the request id: answer here, then let the error go on to be logged.
            if not response_started:
                status = 500
                await send_server_error(scope, send, echoed)
            raise
        finally:
            self.access_log.record(scope, status, started, request_id)

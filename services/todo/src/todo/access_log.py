"""One JSON access-log line per request on stdout, and the request id that ties it together.

The request id comes from `X-Request-Id`, else `x-amzn-RequestId` (what API Gateway sends), when it
is 1-128 visible ASCII characters; anything else is replaced by a fresh uuid4. It is echoed in the
response as `X-Request-Id` and available to the app as environ["todo.request_id"].

The line is written directly to stdout, not through `logging`: a LogRecord, a caller lookup and
a handler cost more than a quarter of what the service's own Python does for a POST.
"""

import json
import re
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

SERVICE = "todo"
REQUEST_ID_KEY = "todo.request_id"
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


def pick_request_id(*candidates: str | None) -> str:
    """The first acceptable candidate, or a new uuid4."""
    for candidate in candidates:
        if candidate is not None and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


# The levels that silence the access line, as gunicorn's LOG_LEVEL names them (it is written at
# info).
_SILENT_LEVELS = frozenset({"critical", "error", "warning"})


def write_line(line: str) -> None:
    """Writes to whatever sys.stdout is at write time (so test capture and redirection work), one
    write and flush per line, so that lines of workers sharing stdout do not interleave."""
    stream = sys.stdout
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError) as exc:  # a closed or broken stdout must not fail requests
        print(f"--- access log: cannot write to stdout: {exc!r}", file=sys.stderr)


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


def _wsgi_path(environ: "WSGIEnvironment") -> str:
    # PEP 3333 hands the path over as latin-1 decoded bytes; show what the client meant.
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


class AccessLogMiddleware:
    """WSGI middleware around the Flask app: request id in, request id out, one log line."""

    def __init__(self, app: "WSGIApplication", level: str = "info") -> None:
        self.app = app
        self.enabled = str(level).lower() not in _SILENT_LEVELS

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> Iterable[bytes]:
        request_id = pick_request_id(
            environ.get("HTTP_X_REQUEST_ID"), environ.get("HTTP_X_AMZN_REQUESTID")
        )
        environ[REQUEST_ID_KEY] = request_id
        status = 500
        started = time.perf_counter()

        def start_with_request_id(
            status_line: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            nonlocal status
            status = int(status_line.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            headers.append(("X-Request-Id", request_id))
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, start_with_request_id)
        finally:
            if self.enabled:
                write_line(
                    access_record(
                        method=environ.get("REQUEST_METHOD", ""),
                        path=_wsgi_path(environ),
                        status=status,
                        duration_ms=(time.perf_counter() - started) * 1000,
                        request_id=request_id,
                        client=environ.get("REMOTE_ADDR"),
                    )
                )

"""Shared HTTP plumbing on the standard library's threaded server (HTTP/1.1, keep-alive)."""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY_BYTES = 16 * 1024 * 1024
# How much of a body over the limit is read and thrown away so that the client, still sending,
# sees the answer rather than a reset connection; past it the connection is simply closed.
DRAIN_MAX_BYTES = 64 * 1024 * 1024
_DRAIN_CHUNK = 64 * 1024


class BodyError(ValueError):
    """The body cannot be read as framed (a bad Content-Length or chunk size)."""


class BodyTooLarge(Exception):
    """The body is over the handler's limit; `size` is its declared or counted length."""

    def __init__(self, size: int) -> None:
        super().__init__(f"body of {size} bytes is too large")
        self.size = size


class QuietThreadingServer(ThreadingHTTPServer):
    # Handler threads may be parked on the emulator's condition: never join them on close.
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        """A peer that went away (a killed runtime, an impatient client) is not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and `Expect: 100-continue`, as libcurl expects

    def version_string(self) -> str:
        return "lambda-rie"

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the emulator writes its own JSON lines."""

    def body_limit(self) -> int:
        """The largest body this request may have (handlers narrow it per path)."""
        return MAX_BODY_BYTES

    def reject_body(self, size: int) -> None:
        """Answer a request whose body is over `body_limit()`."""
        self.send_json(413, {"message": f"body of {size} bytes is too large"})

    def handle_expect_100(self) -> bool:
        """Refuse a body that is declared too large before the client sends it."""
        length = self._declared_length()
        if length is not None and length > self.body_limit():
            self.close_connection = True
            self.reject_body(length)
            return False
        return super().handle_expect_100()

    def _declared_length(self) -> int | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        try:
            return int(self.headers.get("Content-Length", ""))
        except ValueError:
            return None

    def read_body(self) -> bytes:
        """The body; BodyTooLarge (after draining what is bounded) when over `body_limit()`."""
        limit = self.body_limit()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked(limit)
        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""
        try:
            length = int(raw_length)
        except ValueError:
            raise BodyError("bad Content-Length") from None
        if length < 0:
            raise BodyError("bad Content-Length")
        if length > limit:
            self.close_connection = True
            self._discard(min(length, DRAIN_MAX_BYTES))
            raise BodyTooLarge(length)
        return self.rfile.read(length)

    def _discard(self, count: int) -> None:
        while count > 0:
            got = len(self.rfile.read(min(count, _DRAIN_CHUNK)))
            if not got:
                return
            count -= got

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise BodyError("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                if total > limit:
                    raise BodyTooLarge(total)
                return b"".join(chunks)
            total += size
            if total > DRAIN_MAX_BYTES:
                self.close_connection = True
                raise BodyTooLarge(total)
            if total > limit:
                self.close_connection = True
                chunks = []
                self._discard(size)
            else:
                chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(body).encode(), headers=headers)

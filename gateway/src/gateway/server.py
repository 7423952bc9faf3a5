"""The HTTP/1.1 server side: uvicorn's httptools protocol with API Gateway's limits on the request
head, checked while it arrives, before any of it reaches the ASGI app.

API Gateway's quotas ("Quotas for configuring and running a REST API / an HTTP API"): the total
combined size of the request line and header values is at most 10,240 bytes, and the URL of a
regional API at most 10,240 characters. Its front end answers an over-long body with Netty's text
("HTTP content length exceeded 10485760 bytes.", see `errors.RequestTooLarge`), and callers report
"HTTP header is larger than 10240 bytes." for over-long headers: Netty's decoder limits, which
count the request line on its own and the header lines together (every byte of each line but its
CRLF). So, as there:
- request line over 10,240 bytes: 414, "An HTTP line is larger than 10240 bytes.";
- header lines over 10,240 bytes in all: 431, "HTTP header is larger than 10240 bytes.".
AWS does not document the status codes; these are HTTP's own for the two cases (RFC 9110 15.5.15,
RFC 6585 5), in plain text as the front end's 413.

A head that stops arriving is answered 408 after `HEAD_TIMEOUT_S` (a caller that trickles a
header byte at a time holds nothing else, but it is not kept forever). Everything is linear in
the head's size: a head that has already grown past any legal size is refused without parsing the
rest (httptools and uvicorn join the pieces of a long value or URL by copying).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.accesslog import refused_entry, write_json_line

MAX_REQUEST_LINE_BYTES = 10_240
MAX_HEADER_BYTES = 10_240
HEAD_TIMEOUT_S = 10.0
LINGER_S = 2.0  # how long a refused caller may go on sending before the connection closes
# More unparsed head than any legal one can be (both limits plus the CRLFs of the most header
# lines that fit): refused at once, whatever the parser has not told us yet.
_HEAD_BYTES_CAP = MAX_REQUEST_LINE_BYTES + 3 * MAX_HEADER_BYTES


class HeadRefused(Exception):
    """A request head the front end does not accept: the status and the plain-text answer."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def line_too_long() -> HeadRefused:
    return HeadRefused(
        414, "URI Too Long", f"An HTTP line is larger than {MAX_REQUEST_LINE_BYTES} bytes."
    )


def headers_too_large() -> HeadRefused:
    return HeadRefused(
        431,
        "Request Header Fields Too Large",
        f"HTTP header is larger than {MAX_HEADER_BYTES} bytes.",
    )


def head_timed_out() -> HeadRefused:
    return HeadRefused(408, "Request Timeout", "Request Timeout")


class HeadBudget:
    """What one request head has used of the limits, fed as the parser reports it."""

    def __init__(self) -> None:
        self.line_bytes = 0
        self.header_bytes = 0
        self.unparsed_bytes = 0

    def url(self, method: bytes, url_part: bytes) -> None:
        if not self.line_bytes:  # "METHOD SP url SP HTTP/1.1"
            self.line_bytes = len(method) + len(" ") + len(" HTTP/1.1")
        self.line_bytes += len(url_part)
        if self.line_bytes > MAX_REQUEST_LINE_BYTES:
            raise line_too_long()

    def header(self, name: bytes, value: bytes) -> None:
        self.header_bytes += len(name) + len(": ") + len(value)
        if self.header_bytes > MAX_HEADER_BYTES:
            raise headers_too_large()

    def received(self, size: int) -> None:
        """`size` more bytes of a head the parser has not finished."""
        self.unparsed_bytes += size
        if self.unparsed_bytes > _HEAD_BYTES_CAP:
            raise line_too_long() if self.line_bytes == 0 else headers_too_large()


class GatewayHttpProtocol(HttpToolsProtocol):
    """uvicorn's protocol (`uvicorn.Config(http=GatewayHttpProtocol)`) with the head's limits."""

    head_timeout_s = HEAD_TIMEOUT_S
    _budget: HeadBudget | None = None  # while a head is arriving
    _head_timer: asyncio.TimerHandle | None = None
    _lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # a connection that never sends a request is idle like one between requests
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._budget = HeadBudget()  # its timer starts if the head is not whole in this piece

    def _head_timed_out(self) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            # pipelined behind an answer still going out (a long stream): wait for that first
            self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)
            return
        self._refuse(head_timed_out())

    def on_url(self, url: bytes) -> None:
        if self._budget is not None:
            self._budget.url(self.parser.get_method(), url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._budget is not None:
            self._budget.header(name, value)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_done()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # after a refusal: read and dropped until the caller stops sending
        self._unset_keepalive_if_required()
        try:
            if self._budget is not None:  # a head begun in an earlier piece
                self._budget.received(len(data))
            self.parser.feed_data(data)
            if self._budget is not None and self._head_timer is None:
                # a head still arriving after this piece (nearly every head comes whole in one:
                # no timer to set and cancel for those)
                self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_timed_out)
        except HeadRefused as refused:
            self._refuse(refused)
        except httptools.HttpParserCallbackError as exc:
            # httptools raises what a callback raised as the context of its own error
            if not isinstance(exc.__context__, HeadRefused):
                raise
            self._refuse(exc.__context__)
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:  # as uvicorn's own protocol
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def _head_done(self) -> None:
        self._budget = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, refused: HeadRefused) -> None:
        """Answer as the front end does and close: nothing of this head reaches the app."""
        self._head_done()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # a pipelined head while the answer before it is still going out: an answer of our
            # own now would land inside that one; the connection ends instead
            self.transport.close()
            return
        request_id = str(uuid.uuid4())
        body = refused.message.encode()
        self.transport.write(
            b"".join(
                (
                    f"HTTP/1.1 {refused.status} {refused.reason}\r\n".encode(),
                    b"content-type: text/plain\r\n",
                    f"content-length: {len(body)}\r\n".encode(),
                    f"x-amzn-RequestId: {request_id}\r\n".encode(),
                    b"connection: close\r\n\r\n",
                    body,
                )
            )
        )
        self._linger()
        self.access_line(
            refused_entry(
                request_id=request_id,
                status=refused.status,
                error_message=refused.message,
                source_ip=self.client[0] if self.client else None,
                when=datetime.now(UTC),
            )
        )

    def _linger(self) -> None:
        """Close after the caller has stopped sending (or after `LINGER_S`): closing a socket
        with unread bytes resets the connection, and the caller could lose the answer while it
        is still sending the rest of its head."""
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    @staticmethod
    def access_line(entry: dict[str, Any]) -> None:
        """Where refused heads are logged: the access log the app writes (stdout)."""
        write_json_line(entry)

"""HTTP/1.1 on asyncio for the load client: requests prebuilt as bytes, one request in flight
per connection, answers parsed by httptools (llhttp, as uvicorn's) down to the status, whether the
connection stays open, and the Location header."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httptools

RequestSource = Callable[[], bytes]  # the next request, as bytes on the wire
Answer = tuple[int, bool, bytes | None]  # status, keep-alive, Location
USER_AGENT = "bench"


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    local_address: str | None = None  # the source address of every connection

    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"


def http_request(
    method: str,
    target: str,
    authority: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    close: bool = False,
) -> bytes:
    """An HTTP/1.1 request as bytes, with Host, User-Agent, Accept and (with a body, or for a
    POST/PUT) Content-Length; `close`: `Connection: close`."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {authority}", f"User-Agent: {USER_AGENT}"]
    lines.append("Accept: */*")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def fixed(request: bytes) -> RequestSource:
    """The same request every time."""
    return lambda: request


class ProtocolError(Exception):
    """An answer that is not HTTP/1.1."""


class Connection(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.BaseTransport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[Answer] | None = None
        self.location: bytes | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ProtocolError(f"bad answer: {exc}"))
            self.close()

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 8 and name.lower() == b"location":
            self.location = value

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            parser = self.parser
            waiter.set_result((parser.get_status_code(), parser.should_keep_alive(), self.location))

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._fail(ConnectionError("connection closed before the answer ended"))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def send(self, data: bytes) -> asyncio.Future[Answer]:
        if self.transport is None:
            raise ConnectionError("connection closed")
        self.location = None
        self.waiter = waiter = self.loop.create_future()
        self.transport.write(data)  # type: ignore[attr-defined]
        return waiter

    @property
    def open(self) -> bool:
        return self.transport is not None

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect(endpoint: Endpoint) -> Connection:
    loop = asyncio.get_running_loop()
    local = (endpoint.local_address, 0) if endpoint.local_address else None
    _, connection = await loop.create_connection(
        lambda: Connection(loop), endpoint.host, endpoint.port, local_addr=local
    )
    return connection

"""One request as it moves through the gateway: what the caller sent, what each pipeline stage
found out about it, and what the access log reports. Also the ASGI types and API Gateway's
request ids, which every part of the request path shares."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.apis import Api, Target
    from gateway.authorizer_output import Authorized
    from gateway.policy import Authorization
    from gateway.routing import RouteMatch
    from gateway.sigv4 import Identity
    from gateway.vpce import Attribution

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRACE_HEADER = "x-amzn-trace-id"


@dataclass(frozen=True)
class RequestIds:
    """The ids API Gateway gives every request, echoed in every response."""

    request_id: str
    extended_id: str  # x-amz-apigw-id
    trace_id: str  # X-Amzn-Trace-Id: the caller's, else a new root
    http_api: bool = False

    @classmethod
    def new(cls, *, trace_id: str | None = None, now: float | None = None) -> RequestIds:
        # one draw of randomness for all three (each os.urandom is a system call)
        random = os.urandom(38 if trace_id is None else 26)
        extended = base64.b64encode(random[16:26]).decode("ascii")[:15] + "="
        return cls(uuid4_text(random), extended, trace_id or new_trace_id(now, random[26:]))

    def for_api(self, http_api: bool) -> RequestIds:
        """The same ids, answered in the style of an HTTP API (True) or a REST API."""
        if http_api == self.http_api:
            return self
        return RequestIds(self.request_id, self.extended_id, self.trace_id, http_api)

    def response_headers(self) -> list[tuple[str, str]]:
        if self.http_api:
            ids = [("apigw-requestid", self.extended_id)]
        else:
            ids = [("x-amzn-RequestId", self.request_id), ("x-amz-apigw-id", self.extended_id)]
        return [*ids, ("X-Amzn-Trace-Id", self.trace_id)]


def uuid4_text(random: bytes) -> str:
    """`str(uuid.UUID(bytes=random[:16], version=4))` (what uuid.uuid4() makes from those bytes),
    formatted straight from their hex digits: the version nibble is 4, the variant's two bits 10."""
    digits = random[:16].hex()
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def new_trace_id(now: float | None = None, random: bytes = b"") -> str:
    """An X-Ray trace header for a request that came without one: `Root=1-<8 hex digits of the
    epoch second>-<24 random hex digits>` (X-Ray Developer Guide, "Tracing header"), from 12
    bytes of `random` when given."""
    epoch = int(time.time() if now is None else now)
    return f"Root=1-{epoch:08x}-{(random[:12] if len(random) >= 12 else os.urandom(12)).hex()}"


@dataclass
class Exchange:
    """One request. Created by `app.py` from the ASGI scope, filled in by the pipeline stages
    (each reads what earlier stages wrote), read by the access log."""

    method: str
    raw_path: str  # as received, still percent-encoded, without the query
    raw_query: str
    headers: list[tuple[str, str]]  # names lower-cased, values as received
    source_ip: str | None
    receive: Receive
    send: Send
    started: float  # perf_counter at arrival
    request_time: datetime
    ids: RequestIds
    server_port: int | None = None  # the gateway's port the request came to
    # select_api
    api: Api | None = None
    # attribute_endpoint
    attribution: Attribution | None = None
    # route: the path below the stage (dot segments resolved), the match, and whether the
    # request carries SigV4 (a header or presigned query parameters)
    path: str | None = None
    match: RouteMatch | None = None
    signed: bool = False
    # limit_body
    body: bytes | None = None
    # authorize: the caller, and the policy decision with its rule and deciding statements
    identity: Identity | None = None
    authorization: Authorization | None = None
    authorizer: Authorized | None = None  # authorize_lambda: the Lambda authorizer's output
    # integrate / the answer
    response_started: bool = False
    status: int = 0
    error_message: str | None = None
    integration_latency_ms: int | None = None
    # header(): the first value of each name, made at the first lookup (a request is looked up
    # in about six times: a scan of the list each time would cost more)
    _first_values: dict[str, str] | None = field(default=None, init=False, repr=False)

    def header(self, name: str) -> str | None:
        """The first value of header `name` (lower-case), or None."""
        first = self._first_values
        if first is None:
            first = self._first_values = {}
            for n, v in reversed(self.headers):
                first[n] = v
        return first.get(name)

    @property
    def target(self) -> Target | None:
        return self.match.route.data if self.match is not None else None

    @property
    def resource_path(self) -> str | None:
        return self.match.route.resource_path if self.match is not None else None

    @property
    def caller_arn(self) -> str | None:
        return self.identity.caller_arn if self.identity is not None else None

    async def start_response(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.status = status
        self.response_started = True
        await self.send({"type": "http.response.start", "status": status, "headers": headers})

    async def send_body(self, chunk: bytes, *, more: bool = False) -> None:
        await self.send({"type": "http.response.body", "body": chunk, "more_body": more})

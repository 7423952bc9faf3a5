"""The running gateway against odd callers and odd backends: what the client library must not add,
state that must not leak between callers, paths that must not be resolved behind the policy's
back, bytes that are not ASCII, and callers that go away while the answer streams."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gateway.app import GatewayApp

from gateway.config import DEFAULT_CONFIG_PATH, load_config

from .conftest import (
    RAW_HEADERS,
    SET_COOKIES,
    STREAM_CHUNKS,
    STREAM_INTERVAL,
    STREAMS_SENT,
    Stack,
    raw_exchange,
    split_answer,
)

CONSUMER = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
CONSUMER_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/local-consumer-lambda-session"  # config/gateway.yaml
ARN = "arn:aws:execute-api:us-east-1:********1111"  # as API Gateway masks the account


def echoed(answer: bytes) -> dict[str, Any]:
    status, _, body = split_answer(answer)
    assert status == 200, answer
    seen: dict[str, Any] = httpx.Response(200, content=body).json()
    return seen


def log_entry(stack: Stack, request_id: str, timeout: float = 5.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = [e for e in stack.access_log() if e["requestId"] == request_id]
        if entries:
            assert len(entries) == 1
            return entries[0]
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {request_id}")


# --- what reaches the backend ----------------------------------------------------------------


@pytest.mark.parametrize(
    "request_line, extra, expected",
    [
        ("GET /test/anything HTTP/1.1", b"", {}),
        ("POST /test/anything HTTP/1.1", b"Content-Length: 0\r\n", {"content-length": "0"}),
        ("POST /test/anything HTTP/1.1", b"Content-Length: 3\r\n", {"content-length": "3"}),
    ],
    ids=["get-no-body", "post-empty", "post-body"],
)
def test_backend_gets_the_callers_headers_and_nothing_else(
    stack: Stack, request_line: str, extra: bytes, expected: dict[str, str]
) -> None:
    """No Accept-Encoding: gzip (the caller would get a body it cannot read), no User-Agent, no
    Accept, no Transfer-Encoding: chunked for a request without a body."""
    request = (
        request_line.encode() + b"\r\nHost: caller.example\r\nx-apigw-api-id: echorest01\r\n"
        b"Connection: close\r\n" + extra + b"\r\n"
    )
    body = b"abc" if b"Content-Length: 3" in extra else b""
    seen = echoed(raw_exchange(stack, request + body))
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert set(headers) == {
        "host",
        "x-apigw-api-id",
        "x-forwarded-for",
        "x-request-id",
        "x-amzn-requestid",
        "x-amzn-trace-id",  # the gateway's own trace id (the caller sent none)
        *expected,
    }
    assert {k: headers[k] for k in expected} == expected
    assert seen["body_length"] == len(body)


def test_backend_cookies_stay_with_the_caller_they_were_set_for(
    stack: Stack, outside: httpx.Client
) -> None:
    headers = {"x-apigw-api-id": "echorest01"}
    response = httpx.get(stack.gateway_url + "/test/set-cookie", headers=headers)
    assert response.status_code == 200
    assert response.headers.get_list("set-cookie") == list(SET_COOKIES)
    # Another caller (a fresh client without a cookie jar of its own) must get nothing of it.
    later = httpx.get(stack.gateway_url + "/test/anything", headers=headers)
    assert later.status_code == 200
    names = [k.lower() for k, _ in later.json()["headers"]]
    assert "cookie" not in names


@pytest.mark.parametrize(
    "path, upstream",
    [
        ("/test/a/../b", "/b"),
        ("/test/a/./b/%2E%2e/c", "/a/c"),
        ("/test/a/b/..", "/a"),  # {proxy+} drops the trailing slash
        ("/test/../test/x", "/x"),
    ],
)
def test_dot_segments_are_resolved_before_routing(stack: Stack, path: str, upstream: str) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echorest01\r\n"
    seen = echoed(raw_exchange(stack, request.encode() + b"Connection: close\r\n\r\n"))
    assert seen["path"] == upstream


@pytest.mark.parametrize(
    "path", ["/test/public/../admin/x", "/test/admin/./x", "/test/%2e%2e/test/admin/x"]
)
def test_dot_segments_cannot_walk_past_a_resource_policy(stack: Stack, path: str) -> None:
    """Denied below /admin: a path that the backend would resolve to /admin/x is denied too."""
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echopolicy\r\n"
    answer = raw_exchange(stack, request.encode() + b"Connection: close\r\n\r\n")
    status, headers, body = split_answer(answer)
    assert status == 403
    assert body == (
        b'{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on'
        b" resource: " + ARN.encode() + b':echopolicy/test/GET/admin/x with an explicit deny"}'
    )
    assert (b"x-amzn-errortype", b"AccessDeniedException") in headers


def test_policy_allows_the_rest(stack: Stack) -> None:
    request = b"GET /test/public/x HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echopolicy\r\n"
    seen = echoed(raw_exchange(stack, request + b"Connection: close\r\n\r\n"))
    assert seen["path"] == "/public/x"


# --- bytes that are not ASCII ------------------------------------------------------------------


def test_request_header_bytes_reach_the_backend_unchanged(stack: Stack) -> None:
    value = "café".encode() + b" \xff"
    request = (
        b"GET /test/anything HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echorest01\r\n"
        b"X-Raw: " + value + b"\r\nConnection: close\r\n\r\n"
    )
    seen = echoed(raw_exchange(stack, request))
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert headers["x-raw"].encode("latin-1") == value  # the echo server reads latin-1


@pytest.mark.parametrize("index", range(len(RAW_HEADERS)), ids=["utf-8", "not-utf-8"])
def test_response_header_bytes_reach_the_caller_unchanged(stack: Stack, index: int) -> None:
    request = f"GET /test/raw-header/{index} HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echorest01\r\n"
    answer = raw_exchange(stack, request.encode() + b"Connection: close\r\n\r\n")
    status, headers, _ = split_answer(answer)
    assert status == 200
    assert [v for n, v in headers if n == b"x-raw"] == [RAW_HEADERS[index]]


class _Body(httpx.AsyncByteStream):
    """A body still to be read, as a real backend's is (the gateway relays the raw stream)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data


def test_signed_path_and_query_with_raw_utf8_bytes() -> None:
    """The HTTP parsers in front refuse raw non-ASCII request targets, so this goes to the ASGI
    app itself: the SigV4 canonical request must hash the UTF-8 bytes the client signed (botocore
    signs a raw `é` in the path as `%C3%A9`), and the backend gets them percent-encoded."""
    seen: list[httpx.Request] = []

    def backend(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, stream=_Body('{"id":"café"}'.encode()))

    config = load_config(DEFAULT_CONFIG_PATH, environ={})
    app = GatewayApp(config, transport=httpx.MockTransport(backend), access_log=lambda _: None)
    host = "partnerap1.execute-api.us-east-1.amazonaws.com"
    signing = AWSRequest(
        method="GET", url=f"http://{host}/prod/todo/café?q=%C3%A9", headers={"Host": host}
    )
    SigV4Auth(Credentials(*CONSUMER, CONSUMER_TOKEN), "execute-api", "us-east-1").add_auth(signing)
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/prod/todo/café",
        "raw_path": "/prod/todo/café".encode(),
        "query_string": b"q=%C3%A9",
        "headers": [(k.lower().encode(), v.encode()) for k, v in signing.headers.items()],
        "client": ("127.0.4.10", 40000),
    }
    sent: list[dict[str, Any]] = []

    received: list[str] = []

    async def receive() -> dict[str, Any]:  # as an ASGI server: the body, then blocks
        if received:
            await asyncio.Event().wait()
        received.append("body")
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call() -> None:
        await app(scope, receive, send)
        await app.pipeline.aclose()

    asyncio.run(call())
    assert sent[0]["status"] == 200, sent
    assert b"".join(m.get("body", b"") for m in sent[1:]) == '{"id":"café"}'.encode()
    assert seen[0].url.raw_path == b"/todo/caf%C3%A9?q=%C3%A9"


# --- callers that leave ------------------------------------------------------------------------


def test_caller_leaving_mid_response_stops_the_stream_and_is_logged(stack: Stack) -> None:
    port = int(stack.gateway_url.rsplit(":", 1)[1])
    before = len(STREAMS_SENT)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /test/stream HTTP/1.1\r\nHost: x\r\nx-apigw-api-id: echorest01\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(65536)
    request_id = next(
        line.split(b": ", 1)[1].decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"x-amzn-requestid:")
    )
    entry = log_entry(stack, request_id)
    full_stream = STREAM_CHUNKS * STREAM_INTERVAL
    assert time.monotonic() - started < full_stream / 2
    assert (entry["status"], entry["errorMessage"]) == (
        200,
        "client closed the connection during the response",
    )
    assert isinstance(entry["responseLatency"], int)
    assert entry["responseLatency"] < full_stream * 1000 / 2
    # The backend's answer was abandoned too, not read to its end for nobody.
    deadline = time.monotonic() + full_stream
    while len(STREAMS_SENT) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert STREAMS_SENT[before:] and STREAMS_SENT[before] < STREAM_CHUNKS


def test_streamed_response_arrives_before_the_backend_has_finished(stack: Stack) -> None:
    headers = {"x-apigw-api-id": "echorest01"}
    started = time.monotonic()
    with httpx.stream("GET", stack.gateway_url + "/test/stream", headers=headers) as response:
        chunks = response.iter_raw()
        first = next(chunks)
        first_at = time.monotonic() - started
        total = len(first) + sum(len(chunk) for chunk in chunks)
    assert response.status_code == 200
    assert first_at < STREAM_CHUNKS * STREAM_INTERVAL / 2
    assert total == STREAM_CHUNKS * 0x10000

"""Stage 5, limit_body: the whole body is read before anything is called, at most
max_body_bytes (10 MB: API Gateway's payload quota), then goes on in one piece."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest

from .conftest import PROXY_VPC, Gateway, build_gateway, echo, seen_upstream, shipped_config

LIMIT = 1000  # a small max_body_bytes keeps these fast; the 10 MB default is tested natively


@pytest.fixture
def small() -> Gateway:
    return build_gateway(shipped_config(max_body_bytes=LIMIT), httpx.MockTransport(echo))


async def _chunks(total: int, size: int = 300) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


REST_413 = (b"HTTP content length exceeded 1000 bytes.", "text/plain")
HTTP_413 = (b'{"message":"Request Too Long"}', "application/json")


@pytest.mark.parametrize(
    "api_id, path, client, expected",
    [
        ("globalapi1", "/todo", ("127.0.0.1", 50000), HTTP_413),
        ("mtlsapi001", "/prod/todo", PROXY_VPC, REST_413),
    ],
    ids=["http-api", "rest-api"],
)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_over_the_limit_is_413(
    small: Gateway,
    api_id: str,
    path: str,
    client: tuple[str, int],
    expected: tuple[bytes, str],
    chunked: bool,
) -> None:
    """REST APIs answer from their front end in plain text; HTTP APIs with REQUEST_TOO_LARGE."""
    body = _chunks(LIMIT + 1) if chunked else b"x" * (LIMIT + 1)
    response = small.call(
        "POST", path, headers={"x-apigw-api-id": api_id}, client=client, content=body
    )
    assert response.status_code == 413
    assert (response.content, response.headers["content-type"]) == expected
    assert small.last_log()["status"] == 413


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_within_the_limit_arrives_whole_with_its_length(
    small: Gateway, chunked: bool
) -> None:
    payload = bytes(range(256)) * 3 + b"end"
    content = _single(payload) if chunked else payload
    seen = seen_upstream(small.call("POST", "/todo", content=content))
    assert seen["body_length"] == len(payload)
    assert seen["body_sha256"] == hashlib.sha256(payload).hexdigest()
    assert seen["headers"]["content-length"] == str(len(payload))
    assert "transfer-encoding" not in seen["headers"]


async def _single(payload: bytes) -> AsyncIterator[bytes]:
    yield payload[:100]
    yield payload[100:]


def test_a_request_without_a_body_goes_on_without_one(gateway: Gateway) -> None:
    seen = seen_upstream(gateway.call("GET", "/dogs"))
    assert "content-length" not in seen["headers"]
    assert seen["body_length"] == 0


async def _stalling(first: bytes, pause_s: float) -> AsyncIterator[bytes]:
    yield first
    await asyncio.sleep(pause_s)
    yield b"never waited for"


async def _trickle(pieces: int, every_s: float) -> AsyncIterator[bytes]:
    for _ in range(pieces):
        yield b"x"
        await asyncio.sleep(every_s)


@pytest.mark.parametrize(
    "api_id, path, client, expected",
    [
        (
            "globalapi1",
            "/todo",
            ("127.0.0.1", 50000),
            (b'{"message":"Request Timeout"}', "application/json"),
        ),
        ("mtlsapi001", "/prod/todo", PROXY_VPC, (b"Request Timeout", "text/plain")),
    ],
    ids=["http-api", "rest-api"],
)
def test_a_body_that_stops_arriving_is_408_and_nothing_is_called(
    api_id: str, path: str, client: tuple[str, int], expected: tuple[bytes, str]
) -> None:
    called: list[httpx.Request] = []
    quick = build_gateway(
        shipped_config(body_idle_timeout_seconds=0.2),
        httpx.MockTransport(lambda request: called.append(request) or echo(request)),
    )
    response = quick.call(
        "POST",
        path,
        headers={"x-apigw-api-id": api_id},
        client=client,
        content=_stalling(b"half", pause_s=1.0),
    )
    assert response.status_code == 408
    assert (response.content, response.headers["content-type"]) == expected
    assert response.headers["connection"] == "close"
    assert called == []
    assert quick.last_log()["status"] == 408


def test_a_body_that_trickles_past_the_whole_body_deadline_is_408() -> None:
    """Every piece comes within the idle timeout, but the whole body takes too long."""
    quick = build_gateway(
        shipped_config(body_idle_timeout_seconds=0.5, body_timeout_seconds=0.3),
        httpx.MockTransport(echo),
    )
    response = quick.call("POST", "/todo", content=_trickle(pieces=20, every_s=0.05))
    assert response.status_code == 408

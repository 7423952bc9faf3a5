"""`python -m todo` as a real gunicorn with 4 workers on one SQLite file, or on one DynamoDB table
of the real local server."""

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from .conftest import BACKENDS

# Fewer for DynamoDB: the local server answers each of a POST's two calls in ~10 ms, one at a time.
TOTALS = {"sqlite": 500, "dynamodb": 200}
THREADS = 8


def _post_many(base_url: str, thread: int, count: int) -> list[dict[str, str]]:
    created = []
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        for n in range(count):
            # Alternate form and JSON bodies, as curl and SDK clients send them.
            data = f"thread {thread} item {n}"
            if n % 2:
                response = http.post("/todo", json={"data": data})
            else:
                response = http.post("/todo", data={"data": data})
            assert response.status_code == 201, response.text
            created.append(response.json())
    return created


def _post_concurrently(base_url: str, total: int) -> list[dict[str, str]]:
    shares = [total // THREADS + (1 if t < total % THREADS else 0) for t in range(THREADS)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(_post_many, base_url, t, n) for t, n in enumerate(shares)]
        return [item for future in futures for item in future.result(timeout=120)]


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_concurrent_posts_are_all_stored(gunicorn: Any, backend: str) -> None:
    total = TOTALS[backend]
    gunicorn.start()
    created = _post_concurrently(gunicorn.base_url, total)
    assert len(created) == total

    listed = httpx.get(f"{gunicorn.base_url}/todo", timeout=10.0).json()
    assert len(listed) == total
    assert len({item["id"] for item in listed}) == total
    assert sorted(listed, key=lambda item: item["id"]) == sorted(
        created, key=lambda item: item["id"]
    )
    # Each thread's items are listed in the order that thread created them.
    for thread in range(THREADS):
        prefix = f"thread {thread} item "
        mine = [
            int(item["data"][len(prefix) :]) for item in listed if item["data"].startswith(prefix)
        ]
        assert mine == sorted(mine)

    gunicorn.stop()
    stderr = gunicorn.stderr_path.read_text()
    assert stderr.count("Booting worker with pid") == 4
    # stdout holds only the app's JSON lines (gunicorn's access log is off): one per request.
    lines = [json.loads(line) for line in gunicorn.stdout_path.read_text().splitlines()]
    posts = [line for line in lines if line["method"] == "POST"]
    assert len(posts) == total
    assert {(line["path"], line["status"]) for line in posts} == {("/todo", 201)}


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_acknowledged_items_survive_a_crash(gunicorn: Any) -> None:
    gunicorn.start()
    with httpx.Client(base_url=gunicorn.base_url, timeout=10.0) as http:
        acknowledged = []
        for n in range(20):
            response = http.post("/todo", data={"data": f"item {n}"})
            assert response.status_code == 201
            acknowledged.append(response.json())

    # No graceful shutdown: master and workers are killed at once.
    gunicorn.stop(signal.SIGKILL)
    gunicorn.start()
    with httpx.Client(base_url=gunicorn.base_url, timeout=10.0) as http:
        assert http.get("/todo").json() == acknowledged
        assert http.get(f"/todo/{acknowledged[0]['id']}").json() == acknowledged[0]
        odd = http.get("/todo/..%2f")
        assert odd.status_code == 404
        assert odd.json() == {"message": "Todo ../ doesn't exist"}


def _chunked(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """The body as an iterator: httpx sends it chunked, without a Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default
OVER_LIMIT = "Request body is larger than 65536 bytes"


@pytest.mark.parametrize(
    ("content_type", "body", "status", "answer"),
    [
        # Over the limit by one byte, with `data` first: Werkzeug alone would parse the first
        # 64 KiB and store "keep out".
        (
            "application/x-www-form-urlencoded",
            b"data=keep+out&pad=" + b"x" * (LIMIT - 17),
            413,
            {"message": OVER_LIMIT},
        ),
        (
            "application/json",
            b'{"data": "keep out", "pad": "' + b"x" * LIMIT + b'"}',
            413,
            {"message": OVER_LIMIT},
        ),
        (
            "application/x-www-form-urlencoded",
            b"data=exactly+the+limit&pad=" + b"x" * (LIMIT - 27),
            201,
            {"data": "exactly the limit"},
        ),
        ("application/json", b'{"data": "small"}', 201, {"data": "small"}),
    ],
    ids=["form-over", "json-over", "form-exactly-the-limit", "json-small"],
)
def test_chunked_bodies_are_held_to_the_size_limit(
    gunicorn: Any, content_type: str, body: bytes, status: int, answer: dict[str, str]
) -> None:
    gunicorn.start()
    with httpx.Client(base_url=gunicorn.base_url, timeout=10.0) as http:
        response = http.post(
            "/todo", content=_chunked(body), headers={"Content-Type": content_type}
        )
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.request.headers
        assert response.status_code == status
        got = response.json()
        if status == 201:
            assert got == {"id": got["id"], **answer}
            assert http.get("/todo").json() == [got]
        else:
            assert got == answer
            assert http.get("/todo").json() == []


@pytest.mark.parametrize("size", [2 * 1024 * 1024, 8 * 1024 * 1024], ids=["2MB", "8MB"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_client_still_writing_a_large_body_gets_the_413(
    gunicorn: Any, size: int, chunked: bool
) -> None:
    """The sync worker closes the connection after its answer; were the rest of the body left
    unread, the close would reset the connection and the client, still writing, would lose the
    413 (a connection error instead). The body is read and thrown away first (lingering close,
    RFC 9112 section 9.6): the client gets the answer, and nothing is stored."""
    gunicorn.start()
    body = b"data=" + b"x" * size

    async def post_three_times() -> list[httpx.Response]:
        # The gateway's own client: httpx's async stack, which writes the whole body first.
        async with httpx.AsyncClient(base_url=gunicorn.base_url, timeout=10.0) as http:
            return [
                await http.post(
                    "/todo",
                    content=_async_chunked(body) if chunked else body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                for _ in range(3)
            ]

    for response in asyncio.run(post_three_times()):
        assert response.status_code == 413
        assert response.json() == {"message": OVER_LIMIT}
    assert httpx.get(gunicorn.base_url + "/todo").json() == []


async def _async_chunked(body: bytes, size: int = 65536) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]

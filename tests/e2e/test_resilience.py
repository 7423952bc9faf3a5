"""Provider failures: the API type's failure answer, fast, recovery, and durable ToDo items."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .stack import compose, start_service, wait_healthy, wait_until

pytestmark = pytest.mark.e2e

# SPEC 4: a backend that refuses the connection (or whose name no longer resolves) is answered by
# an HTTP API with 500, by a REST API with 502 (503 and 504 are for timeouts).
HTTP_API_FAILURE = (500, {"message": "Internal Server Error"})
REST_API_FAILURE = (502, {"message": "Internal server error"})
FAILURE_DEADLINE_S = 1.0
RECOVERY_DEADLINE_S = 30.0


@pytest.fixture
def stopped(request: pytest.FixtureRequest) -> Iterator[str]:
    """The provider `request.param`, stopped; started again (and healthy) afterwards."""
    service = request.param
    compose("stop", service)
    try:
        yield service
    finally:
        start_service(service)


@pytest.mark.parametrize(
    ("stopped", "path"),
    [("dog-names", "/dogs"), ("todo", "/todo")],
    indirect=["stopped"],
)
def test_stopped_provider_fails_fast_and_recovers(
    public_api: httpx.Client, mtls_api: httpx.Client, stopped: str, path: str
) -> None:
    for client, failure in ((public_api, HTTP_API_FAILURE), (mtls_api, REST_API_FAILURE)):
        for _ in range(3):
            started = time.monotonic()
            response = client.get(path)
            elapsed = time.monotonic() - started
            assert (response.status_code, response.json()) == failure, response.text
            assert elapsed < FAILURE_DEADLINE_S, f"{client.base_url}{path} took {elapsed:.2f}s"

    compose("start", stopped)
    for client in (public_api, mtls_api):
        wait_until(
            functools.partial(answers_200, client, path),
            f"{client.base_url}{path} to recover after {stopped} started",
            timeout=RECOVERY_DEADLINE_S,
        )


def answers_200(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200


@pytest.mark.parametrize("how", ["restart", "kill"])
def test_todo_restart_keeps_every_acknowledged_item(public_api: httpx.Client, how: str) -> None:
    marker = uuid.uuid4().hex

    def create(i: int) -> dict[str, str]:
        response = public_api.post("/todo", json={"data": f"durable {marker} {i}"})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    # Concurrent writes land on several gunicorn workers sharing the SQLite file.
    with ThreadPoolExecutor(max_workers=4) as pool:
        acknowledged = list(pool.map(create, range(20)))

    if how == "restart":
        compose("restart", "todo")
    else:  # SIGKILL: no graceful shutdown, an acknowledged write must already be on disk
        compose("kill", "todo")
        compose("start", "todo")
    wait_healthy("todo")
    wait_until(lambda: public_api.get("/todo").status_code == 200, "ToDo to answer again")

    for item in acknowledged:
        response = public_api.get(f"/todo/{item['id']}")
        assert response.status_code == 200, response.text
        assert response.json() == item
    listed = [t for t in public_api.get("/todo").json() if marker in t["data"]]
    assert sorted(listed, key=lambda t: t["id"]) == sorted(acknowledged, key=lambda t: t["id"])

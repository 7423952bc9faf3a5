"""Smoke test: `python -m dog_names` served by a real uvicorn process."""

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from devstack.ports import free_port
from dog_names import Settings, create_app
from dog_names.names import Dog, Gender, Kennel


def test_uvicorn_serves_health_and_dogs(served_app: Any) -> None:
    with httpx.Client(base_url=served_app.base_url, timeout=5.0) as http:
        health = http.get("/health", headers={"X-Request-Id": "smoke-1"})
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert health.headers["x-request-id"] == "smoke-1"
        assert "server" not in health.headers

        dog = http.get("/dogs/females")
        assert dog.status_code == 200
        assert list(dog.json()) == ["Name", "Gender"]
        assert dog.json()["Gender"] == "female"

        head = http.head("/dogs")
        assert head.status_code == 200
        assert head.content == b""

        missing = http.get("/nope")
        assert missing.status_code == 404
        assert missing.json() == {"message": "Not Found"}

    # Every stdout line is our JSON access line: uvicorn's own access log is off. A line is
    # written once its response is sent, so the last one may still be on its way.
    deadline = time.monotonic() + 5
    while '"path": "/nope"' not in served_app.stdout_path.read_text():
        assert time.monotonic() < deadline, "no access line for GET /nope"
        time.sleep(0.02)  # polling interval
    stdout = served_app.stdout_path.read_text()
    lines = [json.loads(line) for line in stdout.splitlines()]
    smoke = [line for line in lines if line["request_id"] == "smoke-1"]
    assert len(smoke) == 1
    assert smoke[0]["path"] == "/health" and smoke[0]["status"] == 200
    assert [(line["method"], line["path"], line["status"]) for line in lines[-3:]] == [
        ("GET", "/dogs/females", 200),
        ("HEAD", "/dogs", 200),
        ("GET", "/nope", 404),
    ]


class _BrokenKennel(Kennel):
    def random_dog(self, gender: Gender | None = None) -> Dog:
        raise RuntimeError("the kennel is on fire")


@pytest.fixture
def broken_server() -> Iterator[str]:
    """A real uvicorn, in a thread on a free loopback port, serving an app whose picks fail."""
    app = create_app(
        Settings(host="127.0.0.1", port=8080, log_level="info"),
        kennel=_BrokenKennel({"male": ("Max",), "female": ("Luna",)}),
    )
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)  # polling interval, not a readiness guess
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_server_error_is_json_with_the_request_id(
    broken_server: str, capsys: pytest.CaptureFixture[str], method: str
) -> None:
    capsys.readouterr()
    response = httpx.request(
        method, f"{broken_server}/dogs", headers={"X-Request-Id": "fire-1"}, timeout=5.0
    )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "fire-1"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == "35"
    assert response.content == (b"" if method == "HEAD" else b'{"message":"Internal Server Error"}')
    # The access line is written once the response is sent: wait for it (bounded).
    out = capsys.readouterr().out
    deadline = time.monotonic() + 5
    while '"fire-1"' not in out and time.monotonic() < deadline:
        time.sleep(0.02)  # polling interval
        out += capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["request_id"], line["method"], line["status"]) for line in lines] == [
        ("fire-1", method, 500)
    ]

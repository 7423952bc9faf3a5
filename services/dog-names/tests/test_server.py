"""Smoke test: `python -m dog_names` served by a real uvicorn process."""

import json
from typing import Any

import httpx


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

    # Every stdout line is our JSON access line: uvicorn's own access log is off.
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

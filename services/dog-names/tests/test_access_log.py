"""Request id (taken, validated, echoed) and the one JSON access-log line per request."""

import json
import uuid
from datetime import datetime

import pytest
from dog_names.access_log import pick_request_id
from fastapi.testclient import TestClient

LOG_KEYS = {
    "timestamp",
    "service",
    "request_id",
    "method",
    "path",
    "status",
    "duration_ms",
    "client",
}


def _is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4
    except ValueError:
        return False


def _log_lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Request-Id": "abc-123"}, "abc-123"),
        ({"x-amzn-RequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}, None),
        ({"X-Request-Id": "mine", "x-amzn-RequestId": "theirs"}, "mine"),
        ({"X-Request-Id": "x" * 128}, "x" * 128),
        ({"X-Request-Id": "Root=1-67891233-abcdef012345678912345678;p=1"}, None),
    ],
)
def test_request_id_is_taken_and_echoed(
    client: TestClient, headers: dict[str, str], expected: str | None
) -> None:
    expected = expected or next(iter(headers.values()))
    response = client.get("/dogs", headers=headers)
    assert response.status_code == 200
    assert response.headers["x-request-id"] == expected


@pytest.mark.parametrize(
    "bad",
    [b"", b"x" * 129, b"has space", b"tab\there", "\u00fcn\u00efcode".encode()],
    ids=["empty", "129-chars", "space", "tab", "non-ascii"],
)
def test_invalid_request_id_is_replaced(client: TestClient, bad: bytes) -> None:
    response = client.get("/health", headers={"X-Request-Id": bad})
    assert response.status_code == 200
    assert _is_uuid4(response.headers["x-request-id"])


def test_invalid_request_id_falls_back_to_amzn_header(client: TestClient) -> None:
    headers = {"X-Request-Id": "x" * 129, "x-amzn-RequestId": "gw-id-1"}
    response = client.get("/health", headers=headers)
    assert response.headers["x-request-id"] == "gw-id-1"


def test_request_id_is_generated_when_absent(client: TestClient) -> None:
    first = client.get("/dogs").headers["x-request-id"]
    second = client.get("/dogs").headers["x-request-id"]
    assert _is_uuid4(first) and _is_uuid4(second)
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/dogs", 200), ("GET", "/nowhere", 404), ("DELETE", "/dogs/males", 405)],
)
def test_one_json_log_line_per_request(
    client: TestClient, capsys: pytest.CaptureFixture[str], method: str, path: str, status: int
) -> None:
    capsys.readouterr()
    response = client.request(method, path, headers={"X-Request-Id": "log-me"})
    assert response.status_code == status
    lines = _log_lines(capsys.readouterr().out)
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == LOG_KEYS
    assert {k: line[k] for k in ("service", "request_id", "method", "path", "status")} == {
        "service": "dog-names",
        "request_id": "log-me",
        "method": method,
        "path": path,
        "status": status,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    timestamp = datetime.fromisoformat(str(line["timestamp"]))
    assert timestamp.utcoffset() is not None and timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_log_line_uses_the_generated_id(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get("/dogs")
    (line,) = _log_lines(capsys.readouterr().out)
    assert line["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [
        (("a", "b"), "a"),
        ((None, "b"), "b"),
        (("bad id", "ok"), "ok"),
        (("~!@#$%^&*",), "~!@#$%^&*"),
    ],
)
def test_pick_request_id(candidates: tuple[str | None, ...], expected: str) -> None:
    assert pick_request_id(*candidates) == expected


def test_pick_request_id_generates() -> None:
    assert _is_uuid4(pick_request_id(None, "\x7f"))

"""Request id (taken, validated, echoed) and the one JSON access-log line per request."""

import json
import uuid
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from todo.access_log import pick_request_id

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


def _log_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.strip()]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Request-Id": "abc-123"}, "abc-123"),
        ({"x-amzn-RequestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"}, None),
        ({"X-Request-Id": "mine", "x-amzn-RequestId": "theirs"}, "mine"),
        ({"X-Request-Id": "x" * 128}, "x" * 128),
    ],
)
def test_request_id_is_taken_and_echoed(
    client: FlaskClient, headers: dict[str, str], expected: str | None
) -> None:
    expected = expected or next(iter(headers.values()))
    response = client.get("/todo", headers=headers)
    assert response.status_code == 200
    assert response.headers["X-Request-Id"] == expected


@pytest.mark.parametrize(
    "bad",
    ["", "x" * 129, "has space", "tab\there", "\u00fcn\u00efcode"],
    ids=["empty", "129-chars", "space", "tab", "non-ascii"],
)
def test_invalid_request_id_is_replaced(client: FlaskClient, bad: str) -> None:
    response = client.get("/health", headers={"X-Request-Id": bad})
    assert response.status_code == 200
    assert _is_uuid4(response.headers["X-Request-Id"])


def test_request_id_is_echoed_on_errors(client: FlaskClient) -> None:
    response = client.post("/todo", headers={"X-Request-Id": "err-1"})
    assert response.status_code == 400
    assert response.headers["X-Request-Id"] == "err-1"


def test_request_id_is_generated_when_absent(client: FlaskClient) -> None:
    first = client.get("/health").headers["X-Request-Id"]
    second = client.get("/health").headers["X-Request-Id"]
    assert _is_uuid4(first) and _is_uuid4(second)
    assert first != second


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/todo", {"data": {"data": "x"}}, 201),
        ("POST", "/todo", {"data": {"data": ""}}, 400),
        ("GET", "/todo/deadbeef", {}, 404),
        ("PUT", "/todo", {}, 405),
        ("GET", "/todo/%C3%BC", {}, 404),
    ],
)
def test_one_json_log_line_per_request(
    client: FlaskClient,
    capsys: pytest.CaptureFixture[str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    capsys.readouterr()
    response = client.open(path, method=method, headers={"X-Request-Id": "log-me"}, **kwargs)
    assert response.status_code == status
    lines = _log_lines(capsys.readouterr().out)
    assert len(lines) == 1
    line = lines[0]
    assert set(line) == LOG_KEYS
    assert {k: line[k] for k in ("service", "request_id", "method", "path", "status")} == {
        "service": "todo",
        "request_id": "log-me",
        "method": method,
        "path": path.replace("%C3%BC", "\u00fc"),
        "status": status,
    }
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    offset = datetime.fromisoformat(line["timestamp"]).utcoffset()
    assert offset is not None and offset.total_seconds() == 0


def test_log_line_uses_the_generated_id(
    client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    response = client.get("/todo")
    (line,) = _log_lines(capsys.readouterr().out)
    assert line["request_id"] == response.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("candidates", "expected"),
    [(("a", "b"), "a"), ((None, "b"), "b"), (("bad id", "ok"), "ok")],
)
def test_pick_request_id(candidates: tuple[str | None, ...], expected: str) -> None:
    assert pick_request_id(*candidates) == expected


def test_pick_request_id_generates() -> None:
    assert _is_uuid4(pick_request_id(None, "\x7f"))

"""The cheap access line and request id are the ones json.dumps, datetime and starlette give."""

import io
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dog_names import Settings, create_app
from dog_names.access_log import (
    _UtcClock,
    access_record,
    pick_request_id,
    request_id_of,
    with_request_id,
)
from fastapi.testclient import TestClient
from starlette.datastructures import Headers, MutableHeaders


@pytest.mark.parametrize(
    ("method", "path", "request_id", "client", "duration_ms"),
    [
        ("GET", "/dogs", "abc-123", "127.0.0.1", 0.1234567),
        ("HEAD", "/dogs/females", 'q"uo\\te', None, 12.0),
        ("DELETE", "/h\u00e9/\u2603/\U0001f436", "~!@#$%^&*()", "::1", 0.0),
        ("OPTIONS", '/"\n\t\x00', str(uuid.uuid4()), "testclient", 1e-07),
        ("GET", "/", "x" * 128, "10.212.2.3", 123456.789),
    ],
)
@pytest.mark.parametrize("status", [200, 404, 500])
def test_access_record_is_json_dumps(
    method: str, path: str, request_id: str, client: str | None, duration_ms: float, status: int
) -> None:
    timestamp = "2025-01-01T12:00:00.000Z"
    expected = json.dumps(
        {
            "timestamp": timestamp,
            "service": "dog-names",
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "client": client,
        },
        ensure_ascii=True,
    )
    line = access_record(
        method=method,
        path=path,
        status=status,
        duration_ms=duration_ms,
        request_id=request_id,
        client=client,
        timestamp=timestamp,
    )
    assert line == expected


@pytest.mark.parametrize(
    "now_ns",
    [
        0,
        999_999,
        1_000_000,
        1_735_732_800_123_456_789,
        1_735_732_799_999_999_999,
        4_102_444_800 * 10**9 + 5,
    ],
)
def test_timestamp_is_datetimes(now_ns: int) -> None:
    clock = _UtcClock()
    clock.timestamp(now_ns - 10**9)  # a cached second before must not leak into this one
    as_datetime = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=now_ns // 1000)
    expected = as_datetime.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    assert clock.timestamp(now_ns) == expected


REQUEST_ID_CASES = [
    [],
    [(b"x-request-id", b"abc")],
    [(b"x-amzn-requestid", b"gw")],
    [(b"x-request-id", b"mine"), (b"x-amzn-requestid", b"theirs")],
    [(b"x-amzn-requestid", b"theirs"), (b"x-request-id", b"mine")],
    [(b"x-request-id", b"bad id"), (b"x-amzn-requestid", b"gw")],
    [(b"x-request-id", b"bad id"), (b"x-request-id", b"good")],  # only the first one counts
    [(b"x-request-id", b""), (b"x-amzn-requestid", b"x" * 129)],
    [(b"x-request-id", "\u00fcn".encode("latin-1")), (b"x-amzn-requestid", b"ok")],
    [(b"host", b"x"), (b"x-request-id", b"x" * 128)],
]


@pytest.mark.parametrize("headers", REQUEST_ID_CASES)
def test_request_id_of_is_pick_request_id(headers: list[tuple[bytes, bytes]]) -> None:
    starlette_headers = Headers(raw=headers)
    expected = pick_request_id(
        starlette_headers.get("x-request-id"), starlette_headers.get("x-amzn-requestid")
    )
    got = request_id_of(headers)
    if _is_uuid(expected):  # no acceptable candidate: each made a fresh one
        assert _is_uuid(got) and got != expected
    else:
        assert got == expected


def _is_uuid(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4 and len(value) == 36
    except ValueError:
        return False


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-length", b"2"), (b"content-type", b"application/json")],
        [(b"x-request-id", b"inner"), (b"content-type", b"text/plain")],
        [(b"x-request-id", b"a"), (b"allow", b"GET"), (b"x-request-id", b"b")],
    ],
)
def test_with_request_id_is_mutable_headers(headers: list[tuple[bytes, bytes]]) -> None:
    message = {"headers": list(headers)}
    MutableHeaders(scope=message)["X-Request-Id"] = "rid"
    assert with_request_id(headers, b"rid") == message["headers"]


def test_no_access_line_above_info(capsys: pytest.CaptureFixture[str]) -> None:
    with TestClient(create_app(Settings(log_level="warning"))) as client:
        capsys.readouterr()
        assert client.get("/dogs").status_code == 200
        assert client.get("/nowhere").status_code == 404
    assert capsys.readouterr().out == ""


def test_a_broken_stdout_does_not_fail_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    closed = io.StringIO()
    closed.close()
    errors = io.StringIO()
    with TestClient(create_app(Settings())) as client:
        monkeypatch.setattr(sys, "stdout", closed)
        monkeypatch.setattr(sys, "stderr", errors)
        statuses = [client.get(path).status_code for path in ("/health", "/nowhere")]
    assert statuses == [200, 404]
    assert errors.getvalue().count("access log: cannot write to stdout") == 2

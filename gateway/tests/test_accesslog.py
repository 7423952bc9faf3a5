"""The access line's text: exactly what json.dumps writes, and `$context.requestTime` in CLF
format, whichever second and time zone it is asked for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from gateway.accesslog import json_line, request_time


@pytest.mark.parametrize(
    "entry",
    [
        {},
        {"requestId": "5c0f4b5e", "status": 200, "vpceId": None, "responseLatency": 0},
        {"path": '/a"b\\c\n', "userAgent": "caf\u00e9 \U0001f415", "raw": "\udcff"},
        {"decidingStatements": ["AllowVpce", "Deny"], "flag": True, "off": False, "n": -3},
        {"ratio": 1.5, "nested": {"a": [1, None]}, "big": 10**30},
    ],
)
def test_json_line_is_what_json_dumps_writes(entry: dict[str, Any]) -> None:
    assert json_line(entry) == json.dumps(entry, separators=(",", ":"))


def test_request_time_is_each_second_and_zone_of_its_own() -> None:
    first = datetime(2026, 12, 2, 1, 20, 59, 999_000, tzinfo=UTC)
    assert request_time(first) == "02/Dec/2026:01:20:59 +0000"
    assert request_time(first.replace(microsecond=1)) == "02/Dec/2026:01:20:59 +0000"
    assert request_time(first + timedelta(milliseconds=1)) == "02/Dec/2026:01:21:00 +0000"
    berlin = timezone(timedelta(hours=1))
    assert request_time(first.astimezone(berlin)) == "02/Dec/2026:02:20:59 +0100"
    assert request_time(first) == "02/Dec/2026:01:20:59 +0000"

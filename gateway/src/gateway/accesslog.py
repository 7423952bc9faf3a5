"""One JSON line per request with API Gateway's `$context` variable names."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from datetime import datetime
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any

from gateway.policy import Rule

if TYPE_CHECKING:
    from gateway.exchange import Exchange

# `policyDecision`: the rule of `gateway.policy.authorization` that decided.
POLICY_DECISIONS = {
    Rule.ALLOWED: "Allow",
    Rule.EXPLICIT_DENY: "ExplicitDeny",
    Rule.NO_ALLOW: "ImplicitDeny",
    Rule.CROSS_ACCOUNT_NEEDS_BOTH: "CrossAccountNeedsBoth",
}


# One encoder for every line: json.dumps with separators builds a new JSONEncoder per call.
_encode = json.JSONEncoder(separators=(",", ":")).encode
_keys: dict[str, str] = {}  # '"key":', for each key seen


def json_line(entry: dict[str, Any]) -> str:
    """`entry` as compact JSON, as json.dumps(entry, separators=(",", ":")) writes it. A line's
    values are nearly all text, whole numbers or null: those are written here, with the json
    module's own string quoting, at half the cost of its encoder; anything else goes to it."""
    parts = []
    for key, value in entry.items():
        name = _keys.get(key)
        if name is None:
            name = _keys[key] = _encode(key) + ":"
        if value is None:
            parts.append(name + "null")
        elif value.__class__ is str:
            parts.append(name + encode_basestring_ascii(value))
        elif value.__class__ is int:
            parts.append(name + int.__repr__(value))
        else:
            parts.append(name + _encode(value))
    return "{" + ",".join(parts) + "}"


def write_json_line(entry: dict[str, Any]) -> None:
    sys.stdout.write(json_line(entry) + "\n")
    sys.stdout.flush()


# Every line has every field, in this order (None where the request never got that far).
FIELDS = (
    "requestId",
    "extendedRequestId",
    "apiId",
    "stage",
    "httpMethod",
    "resourcePath",
    "path",
    "status",
    "integrationLatency",
    "responseLatency",
    "sourceIp",
    "vpceId",
    "principal",
    "errorMessage",
    "policyDecision",
    "decidingStatements",
    "requestTime",
    "userAgent",
    "xrayTraceId",
)


def request_time(when: datetime) -> str:
    """$context.requestTime: CLF format, dd/MMM/yyyy:HH:mm:ss +-hhmm. Formatted once per second
    (and time zone): every request of that second has the same text."""
    global _last_request_time
    second = math.floor(when.timestamp())
    last = _last_request_time
    if last[0] == second and last[1] is when.tzinfo:
        return last[2]
    text = when.strftime("%d/%b/%Y:%H:%M:%S %z")
    _last_request_time = (second, when.tzinfo, text)
    return text


_last_request_time: tuple[int, Any, str] = (-1, None, "")


def refused_entry(
    *,
    request_id: str,
    status: int,
    error_message: str,
    source_ip: str | None,
    when: datetime,
) -> dict[str, Any]:
    """The line of a request refused before its head was whole (`gateway.server`)."""
    entry: dict[str, Any] = dict.fromkeys(FIELDS)
    entry.update(
        requestId=request_id,
        status=status,
        responseLatency=0,
        sourceIp=source_ip,
        errorMessage=error_message,
        requestTime=request_time(when),
    )
    return entry


class AccessLog:
    def __init__(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self._sink = sink

    def record(self, ex: Exchange) -> None:
        api, decided = ex.api, ex.authorization
        self._sink(
            {
                "requestId": ex.ids.request_id,
                "extendedRequestId": ex.ids.extended_id,
                "apiId": api.id if api else None,
                "stage": api.stage if api else None,
                "httpMethod": ex.method,
                "resourcePath": ex.resource_path,
                "path": ex.raw_path,
                "status": ex.status,
                "integrationLatency": ex.integration_latency_ms,
                "responseLatency": round((time.perf_counter() - ex.started) * 1000),
                "sourceIp": ex.source_ip,
                "vpceId": ex.attribution.vpce_id if ex.attribution else None,
                "principal": ex.caller_arn,
                "errorMessage": ex.error_message,
                # not $context variables: the policy decision, never in the response
                "policyDecision": POLICY_DECISIONS[decided.rule] if decided else None,
                "decidingStatements": decided.deciding_statements() if decided else None,
                "requestTime": request_time(ex.request_time),
                "userAgent": ex.header("user-agent"),
                "xrayTraceId": ex.ids.trace_id,
            }
        )

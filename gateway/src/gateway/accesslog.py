"""One JSON line per request with API Gateway's `$context` variable names."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.exchange import Exchange


def write_json_line(entry: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(entry, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class AccessLog:
    def __init__(self, sink: Callable[[dict[str, Any]], None]) -> None:
        self._sink = sink

    def record(self, ex: Exchange) -> None:
        api = ex.api
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
                # $context.requestTime: CLF format, dd/MMM/yyyy:HH:mm:ss +-hhmm
                "requestTime": ex.request_time.strftime("%d/%b/%Y:%H:%M:%S %z"),
                "userAgent": ex.header("user-agent"),
                "xrayTraceId": ex.ids.trace_id,
            }
        )

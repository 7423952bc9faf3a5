"""One JSON line per decision on stdout (never the token); printed, not logged, so awslambdaric
adds no prefix (see consumer_lambda.logs)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

SERVICE = "token-authorizer"


def log_event(event: str, **fields: object) -> None:
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": SERVICE,
        "event": event,
        **fields,
    }
    print(json.dumps(record, ensure_ascii=True, default=str), file=sys.stdout, flush=True)

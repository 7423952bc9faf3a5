"""One JSON line per invocation and per runtime event, on stdout."""

import json
import sys
from datetime import UTC, datetime

SERVICE = "lambda-rie"


def log_event(event: str, **fields: object) -> None:
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": SERVICE,
        "event": event,
        **fields,
    }
    print(json.dumps(record, ensure_ascii=True, default=str), file=sys.stdout, flush=True)

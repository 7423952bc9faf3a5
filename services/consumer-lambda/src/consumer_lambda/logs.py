"""One JSON line per API call, on stdout (CloudWatch Logs on AWS, the container log here).

Printed rather than logged: awslambdaric prefixes records of the `logging` module with its own
text, which would break the one-JSON-object-per-line convention.
"""

import json
import sys
from datetime import UTC, datetime

from consumer_lambda.partner import ApiResponse

SERVICE = "consumer-lambda"


def log_call(method: str, path: str, response: ApiResponse, aws_request_id: str | None) -> None:
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": SERVICE,
        "aws_request_id": aws_request_id,
        "method": method,
        "path": path,
        "status": response.status,
        "duration_ms": response.duration_ms,
        "api_request_id": response.api_request_id,
        "error": response.error,
    }
    print(json.dumps(record, ensure_ascii=True), file=sys.stdout, flush=True)

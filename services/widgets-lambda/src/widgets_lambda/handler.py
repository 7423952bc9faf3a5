"""The Lambda handler behind `GET /widgets`, a Lambda proxy integration (payload format 1.0).

It answers in the proxy integration's output format (API Gateway Developer Guide, "Output format
of a Lambda function for proxy integration"): `statusCode`, `headers` and `body` as a JSON string.
API Gateway routes only `GET /widgets` here; anything else the event names gets 404, a method
other than GET 405, so a misrouted call is visible rather than served.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

SERVICE = "widgets-lambda"
WIDGET = {"id": "1", "value": "4.99"}
JSON_HEADERS = {"Content-Type": "application/json"}


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def answer(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("resource") != "/widgets":
        return respond(404, {"message": "Not Found"})
    if event.get("httpMethod") != "GET":
        return respond(405, {"message": "Method Not Allowed"}, {"Allow": "GET"})
    return respond(200, WIDGET)


def handler(event: Any, context: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise TypeError("expected an API Gateway proxy event (a JSON object)")
    response = answer(event)
    request_context = event.get("requestContext") or {}
    authorizer = request_context.get("authorizer") or {}
    record = {
        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "service": SERVICE,
        "aws_request_id": getattr(context, "aws_request_id", None),
        "api_request_id": request_context.get("requestId"),
        "method": event.get("httpMethod"),
        "resource": event.get("resource"),
        "status": response["statusCode"],
        "principal_id": authorizer.get("principalId"),
    }
    # printed, not logged: awslambdaric would prefix a logging record (see consumer_lambda.logs)
    print(json.dumps(record, ensure_ascii=True), file=sys.stdout, flush=True)
    return response

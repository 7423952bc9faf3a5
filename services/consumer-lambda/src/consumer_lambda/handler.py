"""The Lambda handler: fetch a dog name and the ToDo list through the private partner API.

Event forms (the answer is always `{"statusCode": <int>, "body": <JSON value>}`, body decoded, not a
JSON string: this function is invoked directly, not behind an API Gateway proxy integration):

- `{}` (no `path`, `method`, `body`, `query`, `headers`): `GET /dogs` and `GET /todo`, answered
  `{"statusCode": 200, "body": {"dog": {...}, "todos": [...]}}`; the first failing call's status
  and body otherwise.
- `{"path": "/todo", "method": "POST", "body": {"data": "..."}, "query": {...}, "headers": {...}}`:
  one call; `method` defaults to GET; a `body` object is sent as JSON, a string as is.
  Answered with the API's status and decoded body.

Errors never escape: a bad event is 400, missing settings 500, an unreachable API 502, a slow one
504, each with `{"message": ...}`.
"""

import sys
import traceback
from typing import Any

import requests

from consumer_lambda.logs import log_call
from consumer_lambda.partner import METHODS, ApiResponse, PartnerRequest, call_partner
from consumer_lambda.settings import ConfigError, Settings

# Reused across warm invocations, so the connection to the VPC endpoint is kept alive.
SESSION = requests.Session()

EVENT_KEYS = ("path", "method", "body", "query", "headers")
# Stop waiting for the API this long before Lambda would kill the invocation, to answer 504.
DEADLINE_MARGIN_S = 0.5
MIN_TIMEOUT_S = 0.1


class EventError(ValueError):
    """The event does not describe a call."""


def answer(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "body": body}


def _string_map(event: dict[str, Any], key: str) -> dict[str, str]:
    raw = event.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) for k, v in raw.items()
    ):
        raise EventError(f"'{key}' must be an object of strings")
    return {k: str(v) for k, v in raw.items()}


def parse_event(event: Any) -> PartnerRequest | None:
    """The call the event asks for, or None for the default (dog and ToDo list)."""
    if event is None:
        return None
    if not isinstance(event, dict):
        raise EventError("The event must be a JSON object")
    if not any(key in event for key in EVENT_KEYS):
        return None
    path = event.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise EventError("'path' must be a string that starts with '/'")
    method = event.get("method", "GET")
    if not isinstance(method, str) or method.upper() not in METHODS:
        raise EventError(f"'method' must be one of {', '.join(sorted(METHODS))}")
    return PartnerRequest(
        method=method.upper(),
        path=path,
        query=_string_map(event, "query"),
        headers=_string_map(event, "headers"),
        body=event.get("body"),
    )


def _timeout_for(settings: Settings, context: Any) -> float:
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return settings.timeout_s
    left = float(remaining_ms()) / 1000 - DEADLINE_MARGIN_S
    return max(MIN_TIMEOUT_S, min(settings.timeout_s, left))


def _call(settings: Settings, request: PartnerRequest, context: Any) -> ApiResponse:
    response = call_partner(SESSION, settings, request, timeout_s=_timeout_for(settings, context))
    log_call(request.method, request.path, response, getattr(context, "aws_request_id", None))
    return response


def _handle(event: Any, context: Any) -> dict[str, Any]:
    try:
        request = parse_event(event)
    except EventError as exc:
        return answer(400, {"message": str(exc)})
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        return answer(500, {"message": str(exc)})

    if request is not None:
        response = _call(settings, request, context)
        return answer(response.status, response.body)

    dog = _call(settings, PartnerRequest("GET", "/dogs"), context)
    if not dog.ok:
        return answer(dog.status, dog.body)
    todos = _call(settings, PartnerRequest("GET", "/todo"), context)
    if not todos.ok:
        return answer(todos.status, todos.body)
    return answer(200, {"dog": dog.body, "todos": todos.body})


def handler(event: Any, context: Any) -> dict[str, Any]:
    try:
        return _handle(event, context)
    except Exception as exc:  # the contract is an answer, never a crash
        traceback.print_exc(file=sys.stderr)
        return answer(500, {"message": f"Internal error: {type(exc).__name__}: {exc}"})

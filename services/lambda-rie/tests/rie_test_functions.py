"""Handlers the Runtime API tests run under the real awslambdaric (imported by the runtime)."""

import os
import time
from typing import Any


def dispatch(event: Any, context: Any) -> Any:
    action = event.get("action", "echo") if isinstance(event, dict) else "echo"
    if action == "raise":
        raise ValueError(event.get("message", "boom"))
    if action == "sleep":
        time.sleep(float(event["seconds"]))
    if action == "exit":
        os._exit(int(event["code"]))
    if action == "big":
        return "x" * int(event["length"])  # serialised: the length plus two quotes
    if action == "count":
        return {"pad_length": len(event["pad"])}
    started = time.time()
    if action == "work":
        time.sleep(float(event["seconds"]))
    return {
        "event": event,
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "pid": os.getpid(),
        "started": started,
        "finished": time.time(),
        "handler_env": os.environ.get("_HANDLER"),
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }

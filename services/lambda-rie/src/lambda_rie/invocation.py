"""One invocation: its payload, and the answer the invoker waits for.

Answers follow Lambda's Invoke API for `RequestResponse`: 200 and the function's result; for a
function error 200 with `X-Amz-Function-Error: Unhandled` and the error object (RIE answers 200
with the same body and no header; the header lets a client tell errors apart, as with Lambda).
"""

import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

FUNCTION_ERROR_HEADER = "X-Amz-Function-Error"
JSON = "application/json"


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = JSON
    function_error: str | None = None


def new_trace_id(now: float | None = None) -> str:
    """An X-Ray trace header as Lambda passes one (`Root=1-<epoch hex>-<96-bit hex>;...`)."""
    epoch = int(time.time() if now is None else now)
    return f"Root=1-{epoch:08x}-{secrets.token_hex(12)};Parent={secrets.token_hex(8)};Sampled=0"


@dataclass
class Invocation:
    payload: bytes
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = field(default_factory=new_trace_id)
    client_context: str | None = None
    # Epoch milliseconds by which the function must answer; set when the runtime receives it.
    deadline_ms: int | None = None
    # Monotonic deadline, for the watchdog.
    deadline_mono: float | None = None
    answer: Answer | None = None
    _done: threading.Event = field(default_factory=threading.Event)

    def start(self, timeout_s: float) -> None:
        self.deadline_ms = int((time.time() + timeout_s) * 1000)
        self.deadline_mono = time.monotonic() + timeout_s

    def finish(self, answer: Answer) -> bool:
        """Record the answer; False when it was already answered."""
        if self._done.is_set():
            return False
        self.answer = answer
        self._done.set()
        return True

    def wait(self, timeout: float | None = None) -> Answer | None:
        self._done.wait(timeout)
        return self.answer


def error_answer(body: dict[str, object]) -> Answer:
    return Answer(200, json.dumps(body).encode(), JSON, "Unhandled")


def timeout_answer(request_id: str, timeout_s: float) -> Answer:
    """Lambda's timeout error: `<UTC time> <request id> Task timed out after N.NN seconds`."""
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return error_answer(
        {"errorMessage": f"{stamp} {request_id} Task timed out after {timeout_s:.2f} seconds"}
    )


def exit_answer(request_id: str, returncode: int | None) -> Answer:
    """Lambda's answer when the runtime process dies during an invocation."""
    if returncode is not None and returncode < 0:
        reason = f"signal: {-returncode}"
    else:
        reason = f"exit status {returncode}"
    return error_answer(
        {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
        }
    )

"""The invoke URL and health check, as AWS's Runtime Interface Emulator serves them.

`POST /2015-03-31/functions/<name>/invocations`: the body is handed to the function as is (RIE
does not parse it; awslambdaric answers a body that is not JSON with `Runtime.UnmarshalError`).
`X-Amzn-RequestId` sets the request id, `X-Amzn-Trace-Id` the trace id, `X-Amz-Client-Context`
(base64) the client context, as with RIE.
`GET /health`: 200 `{"status": "ok", ...}` while the server runs.
"""

import base64
import binascii
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from lambda_rie.emulator import Emulator
from lambda_rie.http_util import BodyError, BodyTooLarge, JsonHandler, QuietThreadingServer
from lambda_rie.invocation import FUNCTION_ERROR_HEADER, Invocation, new_trace_id
from lambda_rie.logs import log_event

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")
# Lambda's quota for a synchronous (RequestResponse) invocation's payload: 6 MB.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


class InvokeServer(QuietThreadingServer):
    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._in_flight = 0
        self._idle = threading.Condition()
        super().__init__(address, InvokeHandler)

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Counts an invocation from its arrival until its answer is written."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every invocation that arrived has its answer written (handler threads are
        daemons: without this, stopping the process would drop their connections)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout_s)


class InvokeHandler(JsonHandler):
    @property
    def emulator(self) -> Emulator:
        return cast(InvokeServer, self.server).emulator

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def do_GET(self) -> None:
        if self._path() == "/health":
            self.send_json(200, {"status": "ok", **self.emulator.status()})
        elif INVOKE_PATH.match(self._path()):
            self.send_json(405, {"message": "Method Not Allowed"}, {"Allow": "POST"})
        else:
            self.send_json(404, {"message": "Not Found"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def body_limit(self) -> int:
        return MAX_PAYLOAD_BYTES if INVOKE_PATH.match(self._path()) else 0

    def reject_body(self, size: int) -> None:
        """Lambda's answer to an oversized payload (the function never sees it)."""
        if not INVOKE_PATH.match(self._path()):
            self.send_json(404, {"message": "Not Found"})
            return
        request_id = str(uuid.uuid4())
        message = (
            f"{size} byte payload is too large for the RequestResponse invocation type "
            f"(limit {MAX_PAYLOAD_BYTES} bytes)"
        )
        log_event("invoke_rejected", request_id=request_id, status=413, message=message)
        self.send_json(
            413,
            {"Type": "User", "Message": message},
            {"X-Amzn-RequestId": request_id, "X-Amzn-ErrorType": "RequestEntityTooLargeException"},
        )

    def do_POST(self) -> None:
        if not INVOKE_PATH.match(self._path()):
            self.send_json(404, {"message": "Not Found"})
            self.close_connection = True  # its body, if any, was not read
            return
        started = time.perf_counter()
        try:
            payload = self.read_body()
        except BodyTooLarge as exc:
            self.reject_body(exc.size)
            return
        except BodyError as exc:
            self.send_json(400, {"message": str(exc)})
            self.close_connection = True
            return
        try:
            client_context = base64.b64decode(
                self.headers.get("X-Amz-Client-Context", ""), validate=True
            ).decode()
        except (binascii.Error, UnicodeDecodeError):
            self.send_json(400, {"message": "X-Amz-Client-Context is not base64"})
            return

        invocation = Invocation(payload=payload, client_context=client_context or None)
        request_id = self.headers.get("X-Amzn-RequestId", "")
        if _REQUEST_ID.fullmatch(request_id):
            invocation.request_id = request_id
        invocation.trace_id = self.headers.get("X-Amzn-Trace-Id") or new_trace_id()

        with cast(InvokeServer, self.server).answering():
            answer = self.emulator.invoke(invocation)
            headers = {
                "X-Amzn-RequestId": invocation.request_id,
                "X-Amz-Executed-Version": self.emulator.config.function_version,
            }
            if answer.function_error:
                headers[FUNCTION_ERROR_HEADER] = answer.function_error
            # Logged before the answer is written, so a client that has its answer finds the line.
            log_event(
                "invoke",
                request_id=invocation.request_id,
                status=answer.status,
                function_error=answer.function_error,
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                client=self.client_address[0],
            )
            self.send_bytes(answer.status, answer.body, answer.content_type, headers)

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
import time
from typing import cast

from lambda_rie.emulator import Emulator
from lambda_rie.http_util import BodyError, JsonHandler, QuietThreadingServer
from lambda_rie.invocation import FUNCTION_ERROR_HEADER, Invocation, new_trace_id
from lambda_rie.logs import log_event

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")
_REQUEST_ID = re.compile(r"[\x21-\x7e]{1,128}")


class InvokeServer(QuietThreadingServer):
    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, InvokeHandler)


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

    def do_POST(self) -> None:
        if not INVOKE_PATH.match(self._path()):
            self.send_json(404, {"message": "Not Found"})
            return
        started = time.perf_counter()
        try:
            payload = self.read_body()
        except BodyError as exc:
            self.send_json(413, {"message": str(exc)})
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

        answer = self.emulator.invoke(invocation)
        headers = {
            "X-Amzn-RequestId": invocation.request_id,
            "X-Amz-Executed-Version": self.emulator.config.function_version,
        }
        if answer.function_error:
            headers[FUNCTION_ERROR_HEADER] = answer.function_error
        self.send_bytes(answer.status, answer.body, answer.content_type, headers)
        log_event(
            "invoke",
            request_id=invocation.request_id,
            status=answer.status,
            function_error=answer.function_error,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            client=self.client_address[0],
        )

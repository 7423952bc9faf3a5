"""The Runtime API the runtime (awslambdaric) talks to, as Lambda serves it (version 2018-06-01).

One server per runtime process, on loopback: when a runtime is killed its server goes with it, so
a request of the old process can never take an invocation meant for the new one.
"""

import re
from typing import Protocol, cast

from lambda_rie.config import EmulatorConfig
from lambda_rie.http_util import BodyError, BodyTooLarge, JsonHandler, QuietThreadingServer
from lambda_rie.invocation import JSON, Answer, Invocation, error_answer

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INIT_ERROR = f"{PREFIX}/init/error"
_INVOCATION_POST = re.compile(rf"^{PREFIX}/invocation/(?P<id>[^/]+)/(?P<kind>response|error)$")

ACCEPTED = {"status": "OK"}
INVALID_ID = {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
# Lambda's limit on what a function returns to a synchronous invocation (6 MB + 100 bytes).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


class Invocations(Protocol):
    """What the Runtime API needs of the emulator (`lambda_rie.emulator.Emulator`): the queue of
    invocations for one runtime generation, and where their results go."""

    config: EmulatorConfig

    def next_invocation(self, generation: int) -> Invocation | None: ...

    def post_result(self, generation: int, request_id: str, answer: Answer) -> bool: ...

    def post_init_error(self, generation: int, body: bytes) -> None: ...


class RuntimeApiServer(QuietThreadingServer):
    def __init__(self, address: tuple[str, int], emulator: Invocations, generation: int) -> None:
        self.emulator = emulator
        self.generation = generation
        super().__init__(address, RuntimeApiHandler)


class RuntimeApiHandler(JsonHandler):
    @property
    def _server(self) -> RuntimeApiServer:
        return cast(RuntimeApiServer, self.server)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path != NEXT:
            self.send_json(404, {"errorMessage": "Not found", "errorType": "NotFound"})
            return
        invocation = self._server.emulator.next_invocation(self._server.generation)
        if invocation is None:  # this runtime was replaced or the emulator is stopping
            self.send_json(410, {"errorMessage": "Runtime replaced", "errorType": "Gone"})
            self.close_connection = True
            return
        headers = {
            "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
            "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self._server.emulator.config.function_arn,
            "Lambda-Runtime-Trace-Id": invocation.trace_id,
        }
        if invocation.client_context:
            headers["Lambda-Runtime-Client-Context"] = invocation.client_context
        self.send_bytes(200, invocation.payload, JSON, headers)

    def body_limit(self) -> int:
        if _INVOCATION_POST.match(self.path.split("?", 1)[0]):
            return MAX_RESPONSE_BYTES
        return super().body_limit()

    def reject_body(self, size: int) -> None:
        """As Lambda: the runtime gets 413, the invocation `Function.ResponseSizeTooLarge`."""
        match = _INVOCATION_POST.match(self.path.split("?", 1)[0])
        if match is None:
            self.send_json(413, {"errorMessage": f"body of {size} bytes is too large"})
            return
        limit = MAX_RESPONSE_BYTES
        self._server.emulator.post_result(
            self._server.generation,
            match["id"],
            error_answer(
                {
                    "errorMessage": f"Response payload size ({size} bytes) exceeded maximum "
                    f"allowed payload size ({limit} bytes).",
                    "errorType": "Function.ResponseSizeTooLarge",
                }
            ),
        )
        self.send_json(
            413,
            {
                "errorMessage": f"Exceeded maximum allowed payload size ({limit} bytes).",
                "errorType": "RequestEntityTooLarge",
            },
        )

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        try:
            body = self.read_body()
        except BodyTooLarge as exc:
            self.reject_body(exc.size)
            return
        except BodyError as exc:
            self.send_json(400, {"errorMessage": str(exc), "errorType": "InvalidRequest"})
            self.close_connection = True
            return
        emulator, generation = self._server.emulator, self._server.generation

        if path == INIT_ERROR:
            emulator.post_init_error(generation, body)
            self.send_json(202, ACCEPTED)
            return

        match = _INVOCATION_POST.match(path)
        if match is None:
            self.send_json(404, {"errorMessage": "Not found", "errorType": "NotFound"})
            return
        if match["kind"] == "response":
            answer = Answer(200, body, self.headers.get("Content-Type") or JSON)
        else:
            answer = Answer(200, body, JSON, "Unhandled")
        if emulator.post_result(generation, match["id"], answer):
            self.send_json(202, ACCEPTED)
        else:
            self.send_json(400, INVALID_ID)

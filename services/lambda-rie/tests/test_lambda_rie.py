"""lambda_rie as a subprocess running the real awslambdaric, invoked over HTTP."""

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

TESTS = Path(__file__).parent
INVOKE = "/2015-03-31/functions/function/invocations"
START_TIMEOUT_S = 20


@dataclass
class Rie:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def invoke(self, payload: object = None, data: bytes | None = None, **kw) -> requests.Response:
        body = data if data is not None else json.dumps(payload).encode()
        return requests.post(self.url + INVOKE, data=body, timeout=30, **kw)

    def log_lines(self) -> list[dict]:
        lines = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines


def _start(tmp_path: Path, handler: str, timeout_s: str, extra_env: dict[str, str]) -> Rie:
    log = tmp_path / f"rie-{time.monotonic_ns()}.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(TESTS),
        "HOST": "127.0.0.1",
        "PORT": "0",
        "AWS_LAMBDA_FUNCTION_TIMEOUT": timeout_s,
        "AWS_LAMBDA_FUNCTION_NAME": "consumer-lambda",
        "AWS_REGION": "us-east-1",
        "RIE_ACCOUNT_ID": "444444444444",
        **extra_env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "lambda_rie", handler], env=env, stdout=out, stderr=out
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    address = None
    while address is None:
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"lambda_rie did not start:\n{log.read_text()}"
        for line in log.read_text().splitlines():
            if '"event": "listening"' in line:
                address = json.loads(line)["address"]
        time.sleep(0.02)
    rie = Rie(f"http://{address}", process, log)
    while True:  # the server answers; the runtime may still be starting
        try:
            if requests.get(rie.url + "/health", timeout=1).status_code == 200:
                return rie
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)


def _stop(rie: Rie) -> None:
    rie.process.terminate()
    try:
        rie.process.wait(10)
    except subprocess.TimeoutExpired:
        rie.process.kill()
        rie.process.wait()


@pytest.fixture
def start_rie(tmp_path: Path) -> Iterator[Callable[..., Rie]]:
    started: list[Rie] = []

    def start(
        handler: str = "rie_test_functions.dispatch",
        timeout_s: str = "1",
        extra_env: dict[str, str] | None = None,
    ) -> Rie:
        rie = _start(tmp_path, handler, timeout_s, extra_env or {})
        started.append(rie)
        return rie

    yield start
    for rie in started:
        _stop(rie)


@pytest.fixture
def rie(start_rie) -> Rie:
    return start_rie()


def test_invocation_reaches_the_handler_with_lambda_context(rie):
    response = rie.invoke({"hello": "world"})

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert "X-Amz-Function-Error" not in response.headers
    body = response.json()
    assert body["event"] == {"hello": "world"}
    assert body["request_id"] == response.headers["X-Amzn-RequestId"]
    assert body["function_name"] == "consumer-lambda"
    assert body["function_arn"] == "arn:aws:lambda:us-east-1:444444444444:function:consumer-lambda"
    assert 0 < body["remaining_ms"] <= 1000
    assert body["handler_env"] == "rie_test_functions.dispatch"
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", body["trace_id"]
    )


def test_request_and_trace_ids_from_the_invoker_are_used(rie):
    response = rie.invoke(
        {}, headers={"X-Amzn-RequestId": "req-1234", "X-Amzn-Trace-Id": "Root=1-00000000-abc"}
    )

    body = response.json()
    assert (body["request_id"], body["trace_id"]) == ("req-1234", "Root=1-00000000-abc")
    assert response.headers["X-Amzn-RequestId"] == "req-1234"


def test_concurrent_invokes_are_serialized_and_all_answered(rie):
    def call(n: int) -> requests.Response:
        return rie.invoke({"action": "work", "seconds": 0.1, "n": n})

    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(call, range(5)))

    assert [r.status_code for r in responses] == [200] * 5
    bodies = [r.json() for r in responses]
    assert [b["event"]["n"] for b in bodies] == [0, 1, 2, 3, 4]
    assert len({b["request_id"] for b in bodies}) == 5
    assert len({b["pid"] for b in bodies}) == 1  # one runtime, warm
    spans = sorted((b["started"], b["finished"]) for b in bodies)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def test_function_error_has_lambdas_error_shape(rie):
    pid = rie.invoke({}).json()["pid"]

    response = rie.invoke(
        {"action": "raise", "message": "no dogs today"}, headers={"X-Amzn-RequestId": "req-err"}
    )

    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    body = response.json()
    assert set(body) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (body["errorMessage"], body["errorType"], body["requestId"]) == (
        "no dogs today",
        "ValueError",
        "req-err",
    )
    assert any(
        "rie_test_functions.py" in frame and "in dispatch" in frame for frame in body["stackTrace"]
    )
    # The runtime survives an exception in the handler.
    assert rie.invoke({}).json()["pid"] == pid


def test_timeout_kills_the_runtime_and_the_next_invoke_works(rie):
    before = rie.invoke({}).json()["pid"]
    started = time.monotonic()

    response = rie.invoke(
        {"action": "sleep", "seconds": 30}, headers={"X-Amzn-RequestId": "req-slow"}
    )

    assert time.monotonic() - started < 5
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert set(response.json()) == {"errorMessage"}
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z req-slow Task timed out after 1\.00 seconds",
        response.json()["errorMessage"],
    )
    after = rie.invoke({"n": 2})
    assert after.status_code == 200
    assert after.json()["event"] == {"n": 2}
    assert after.json()["pid"] != before
    assert {
        "event": "invocation_timed_out",
        "request_id": "req-slow",
        "timeout_s": 1.0,
    }.items() <= next(
        x for x in rie.log_lines() if x.get("event") == "invocation_timed_out"
    ).items()


def test_runtime_that_exits_gets_exit_error_and_is_restarted(rie):
    response = rie.invoke({"action": "exit", "code": 3}, headers={"X-Amzn-RequestId": "req-exit"})

    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3",
    }
    assert rie.invoke({"n": 1}).json()["event"] == {"n": 1}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json", "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)"),
        (b"", "Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)"),
        (b'{"a": ', "Unable to unmarshal input: Expecting value: line 1 column 7 (char 6)"),
    ],
)
def test_body_that_is_not_json_is_the_runtimes_unmarshal_error(rie, data, message):
    """As with RIE, the body goes to the runtime untouched and awslambdaric rejects it."""
    response = rie.invoke(data=data, headers={"X-Amzn-RequestId": "req-bad"})

    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json() == {
        "errorMessage": message,
        "errorType": "Runtime.UnmarshalError",
        "requestId": "req-bad",
        "stackTrace": [],
    }


def test_init_error_answers_each_invoke(start_rie):
    rie = start_rie("rie_test_functions.missing")

    for _ in range(2):
        response = rie.invoke({})
        assert response.status_code == 200
        assert response.headers["X-Amz-Function-Error"] == "Unhandled"
        assert response.json() == {
            "errorMessage": "Handler 'missing' missing on module 'rie_test_functions'",
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/health", 200, None),
        ("GET", INVOKE, 405, {"message": "Method Not Allowed"}),
        ("POST", "/2015-03-31/functions/function", 404, {"message": "Not Found"}),
        ("GET", "/", 404, {"message": "Not Found"}),
    ],
)
def test_other_routes(rie, method, path, status, body):
    response = requests.request(method, rie.url + path, timeout=5)

    assert response.status_code == status
    if body is not None:
        assert response.json() == body
    else:
        assert response.json()["status"] == "ok"


def test_every_invoke_is_logged_as_one_json_line(rie):
    rie.invoke({}, headers={"X-Amzn-RequestId": "req-log"})

    [line] = [x for x in rie.log_lines() if x.get("event") == "invoke"]
    assert (line["service"], line["request_id"], line["status"], line["function_error"]) == (
        "lambda-rie",
        "req-log",
        200,
        None,
    )


PAYLOAD_LIMIT = 6 * 1024 * 1024  # Lambda: 6 MB for a synchronous invocation's payload
RESPONSE_LIMIT = PAYLOAD_LIMIT + 100  # and 6 MB + 100 bytes for what the function returns


def _payload_of(size: int) -> bytes:
    """A JSON event of exactly `size` bytes: {"action": "count", "pad": "xxx..."}."""
    empty = len(json.dumps({"action": "count", "pad": ""}).encode())
    return json.dumps({"action": "count", "pad": "x" * (size - empty)}).encode()


def _in_chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 1 << 20):
        yield body[start : start + (1 << 20)]


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_payload_over_the_limit_is_refused_as_lambda_does(rie, chunked):
    body = _payload_of(PAYLOAD_LIMIT + 1)
    response = rie.invoke(data=_in_chunks(body) if chunked else body)  # type: ignore[arg-type]

    assert response.status_code == 413
    assert response.headers["X-Amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert response.json() == {
        "Type": "User",
        "Message": f"{PAYLOAD_LIMIT + 1} byte payload is too large for the RequestResponse "
        f"invocation type (limit {PAYLOAD_LIMIT} bytes)",
    }
    # The function never saw it, and the next invocation is served.
    assert [x["event"] for x in rie.log_lines() if x.get("event", "").startswith("invoke")] == [
        "invoke_rejected"
    ]
    at_limit = rie.invoke(data=_payload_of(PAYLOAD_LIMIT))
    assert at_limit.status_code == 200
    assert at_limit.json() == {"pad_length": PAYLOAD_LIMIT - len(_payload_of(0))}


def test_payload_over_the_limit_with_expect_continue_is_refused_unsent(rie):
    """curl sends `Expect: 100-continue` for large bodies: no 100, the 413 comes at once."""
    host, port = rie.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST {INVOKE} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {PAYLOAD_LIMIT + 1}\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        answer = b""
        while b"}" not in answer:
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(
        f'"{PAYLOAD_LIMIT + 1} byte payload is too large for the RequestResponse invocation type '
        f'(limit {PAYLOAD_LIMIT} bytes)"}}'.encode()
    )


def test_response_over_the_limit_is_function_response_size_too_large(rie):
    at_limit = rie.invoke({"action": "big", "length": RESPONSE_LIMIT - 2})
    assert at_limit.status_code == 200
    assert len(at_limit.content) == RESPONSE_LIMIT
    assert "X-Amz-Function-Error" not in at_limit.headers

    started = time.monotonic()
    over = rie.invoke({"action": "big", "length": RESPONSE_LIMIT - 1})

    assert time.monotonic() - started < 5  # answered at once, not at the function timeout
    assert over.status_code == 200
    assert over.headers["X-Amz-Function-Error"] == "Unhandled"
    assert over.json() == {
        "errorMessage": f"Response payload size ({RESPONSE_LIMIT + 1} bytes) exceeded maximum "
        f"allowed payload size ({RESPONSE_LIMIT} bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    # awslambdaric exits after its response is refused; a fresh runtime serves the next invoke.
    assert rie.invoke({"n": 1}).json()["event"] == {"n": 1}


def test_sigterm_answers_every_queued_invocation_and_stops_the_runtime(start_rie):
    rie = start_rie(timeout_s="30")
    runtime_pid = rie.invoke({}).json()["pid"]

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [
            pool.submit(rie.invoke, {"action": "sleep", "seconds": 20, "n": n}) for n in range(3)
        ]
        deadline = time.monotonic() + 10
        while requests.get(rie.url + "/health", timeout=1).json()["pending"] != 2:
            assert time.monotonic() < deadline, "the invocations did not queue"
            time.sleep(0.02)  # polling interval
        rie.process.send_signal(signal.SIGTERM)
        responses = [future.result(timeout=15) for future in futures]

    assert rie.process.wait(10) == 0
    for response in responses:
        assert response.status_code == 200
        assert response.headers["X-Amz-Function-Error"] == "Unhandled"
        assert response.json() == {
            "errorType": "Runtime.Shutdown",
            "errorMessage": "Emulator stopping",
        }
    assert not Path(f"/proc/{runtime_pid}").exists()  # no orphaned awslambdaric

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from devstack.ports import free_port
from devstack.ready import StartError, wait_until_ready


class _Answer(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(status: int) -> Iterator[str]:
    handler = type("Handler", (_Answer,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ok_url() -> Iterator[str]:
    yield from _serve(200)


@pytest.fixture
def unavailable_url() -> Iterator[str]:
    yield from _serve(503)


def test_returns_once_the_url_answers_200(ok_url: str) -> None:
    wait_until_ready(ok_url, timeout=5)


def test_a_process_that_exits_first_fails_at_once_with_status_and_log(tmp_path: Path) -> None:
    log = tmp_path / "boom.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "print('cannot bind: boom', flush=True); raise SystemExit(3)"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    started = time.monotonic()

    with pytest.raises(StartError) as raised:
        wait_until_ready(f"http://127.0.0.1:{free_port()}/", process, 30, name="boomer", log=log)

    assert time.monotonic() - started < 5
    assert raised.value.summary.startswith("boomer exited with status 3 before http://127.0.0.1:")
    assert "cannot bind: boom" in raised.value.tail
    assert str(log) in str(raised.value)


def test_a_process_killed_by_a_signal_says_which() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), 9)"])

    with pytest.raises(StartError, match="exited with signal SIGKILL"):
        wait_until_ready(f"http://127.0.0.1:{free_port()}/", process, 30)


def test_nothing_listening_times_out() -> None:
    url = f"http://127.0.0.1:{free_port()}/health"

    with pytest.raises(StartError, match=r"did not answer 200 at .* within 0.3 s \(ConnectError"):
        wait_until_ready(url, timeout=0.3, log=lambda: "the tail")


def test_another_status_is_not_ready(unavailable_url: str) -> None:
    with pytest.raises(StartError, match=r"within 0.3 s \(last answer 503\)") as raised:
        wait_until_ready(unavailable_url, timeout=0.3, name="svc", log=lambda: "the tail")

    assert raised.value.tail.endswith("the tail")

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from todo import create_app
from todo.storage import TodoStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "todo.db"


@pytest.fixture
def make_app(db_path: Path) -> Iterator[Callable[..., Flask]]:
    """Builds apps on the test's database (or other settings); closes their stores afterwards."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app({"TESTING": True, "TODO_DB_PATH": str(db_path), **overrides})
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["todo_store"].close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def store(app: Flask) -> TodoStore:
    return app.extensions["todo_store"]  # type: ignore[no-any-return]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """`python -m todo` (gunicorn, several workers) as a real process group on a loopback port."""

    def __init__(self, workdir: Path, db_path: Path, workers: int) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = workdir / "stdout.log"
        self.stderr_path = workdir / "stderr.log"
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "TODO_DB_PATH": str(db_path),
            "LOG_LEVEL": "info",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "todo"],
                env=self.env,
                cwd=self.workdir,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: teardown reaches every worker
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.proc.returncode}: {self.stderr_path.read_text()}"
                )
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # polling interval, not a readiness guess
        raise TimeoutError(f"gunicorn not healthy after {timeout}s")

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # No worker of the group may outlive its master (after a SIGKILL, for instance).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path, tmp_path / "data" / "todo.db", workers=4)
    try:
        yield server
    finally:
        server.stop()

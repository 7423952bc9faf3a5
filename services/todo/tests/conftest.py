import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from devstack.ports import free_port
from devstack.processes import stop_process
from devstack.ready import wait_until_ready
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


class Gunicorn:
    """`python -m todo` (gunicorn, several workers) as a real process group on a loopback port."""

    def __init__(self, workdir: Path, db_path: Path, workers: int) -> None:
        self.workdir = workdir
        self.port = free_port()
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
        url = f"{self.base_url}/health"
        wait_until_ready(url, self.proc, timeout, name="gunicorn", log=self.stderr_path)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """`sig` to the master, SIGKILL to the group after 20 s; afterwards no worker of the
        group outlives its master (after a SIGKILL, for instance)."""
        if self.proc is None:
            return
        stop_process(self.proc, timeout=20, first_signal=sig)
        self.proc = None


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(tmp_path, tmp_path / "data" / "todo.db", workers=4)
    try:
        yield server
    finally:
        server.stop()

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from devstack.ports import free_port
from devstack.processes import stop_process
from devstack.ready import wait_until_ready
from devstack.stack import Service, ServiceSpec, spawn
from flask import Flask
from flask.testing import FlaskClient
from todo import create_app
from todo.storage import TodoStore

# Tests that take the `backend` fixture run on SQLite unless parametrized with
# `pytest.mark.parametrize("backend", BACKENDS, indirect=True)`.
BACKENDS = ("sqlite", "dynamodb")
REGION = "us-east-1"
# The compose stack's DynamoDB-compatible server (tools/dynamodb-local), as a process here.
DYNAMODB = ServiceSpec("dynamodb", "dynamodb_local", "/health")


class LocalDynamoDb:
    """`python -m dynamodb_local` on a free loopback port, with its log in `workdir`; it can be
    stopped, started again on the same port (empty: it keeps tables in memory), and paused."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "dynamodb.log"
        self.service: Service | None = None

    def start(self) -> None:
        env = {**os.environ, "LOG_LEVEL": "warning"}
        self.service = spawn(DYNAMODB, self.port, env=env, log_path=self.log_path).wait_ready()

    def stop(self) -> None:
        if self.service is not None:
            self.resume()  # a stopped process would hold its SIGTERM until the SIGKILL
            self.service.stop()
            self.service = None

    def pause(self) -> None:
        """SIGSTOP: it still accepts connections (the kernel does) but answers nothing."""
        assert self.service is not None
        os.kill(self.service.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.service is not None and self.service.process.poll() is None:
            os.kill(self.service.process.pid, signal.SIGCONT)

    def client(self) -> Any:
        """A boto3 client of its own, to look at the table as DynamoDB has it."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def point_boto3_at(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """boto3 in this process and in servers started from it talks to `endpoint` only, with
    throwaway credentials: nothing a developer has configured can send a test to AWS."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)


def dynamodb_settings(table: str | None = None) -> dict[str, Any]:
    return {
        "TODO_STORAGE": "dynamodb",
        "TODO_TABLE": table or f"todo-{uuid.uuid4().hex[:12]}",
        "AWS_REGION": REGION,
        "TODO_CREATE_TABLE": True,
    }


@pytest.fixture(scope="session")
def dynamodb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalDynamoDb]:
    """One server for the session; every test gets a table of its own on it."""
    server = LocalDynamoDb(tmp_path_factory.mktemp("dynamodb"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_dynamodb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalDynamoDb]:
    """A server for this test alone (to stop or pause it), boto3 pointed at it."""
    server = LocalDynamoDb(tmp_path)
    server.start()
    point_boto3_at(monkeypatch, server.endpoint)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def store_settings(backend: str, request: pytest.FixtureRequest, db_path: Path) -> dict[str, Any]:
    """The test's store: SQLite on tmp_path, or a new table on the session's DynamoDB server."""
    if backend == "sqlite":
        return {"TODO_DB_PATH": str(db_path)}
    server: LocalDynamoDb = request.getfixturevalue("dynamodb_server")
    point_boto3_at(request.getfixturevalue("monkeypatch"), server.endpoint)
    return dynamodb_settings()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "todo.db"


@pytest.fixture
def make_app(store_settings: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Builds apps on the test's store (or other settings); closes their stores afterwards."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app({"TESTING": True, **store_settings, **overrides})
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


@pytest.fixture
def drop_storage(
    backend: str, store_settings: dict[str, Any], request: pytest.FixtureRequest
) -> Callable[[], str]:
    """Removes what the store keeps its items in, behind its back; returns the reason its health
    check then gives."""

    def drop() -> str:
        if backend == "sqlite":
            with sqlite3.connect(store_settings["TODO_DB_PATH"]) as conn:
                conn.execute("DROP TABLE todos")
            return "no such table: todos"
        server: LocalDynamoDb = request.getfixturevalue("dynamodb_server")
        table = store_settings["TODO_TABLE"]
        server.client().delete_table(TableName=table)
        return f"DynamoDB table {table!r} not found at {server.endpoint}"

    return drop


class Gunicorn:
    """`python -m todo` (gunicorn, several workers) as a real process group on a loopback port."""

    def __init__(
        self,
        workdir: Path,
        db_path: Path,
        workers: int,
        settings: dict[str, Any] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
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
            **{key: _env_value(value) for key, value in (settings or {}).items()},
        }
        self.prefix = prefix  # a command that runs `python -m todo`, e.g. in its own namespace
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        with self.stdout_path.open("ab") as out, self.stderr_path.open("ab") as err:
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "todo"],
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


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@pytest.fixture
def gunicorn(tmp_path: Path, store_settings: dict[str, Any]) -> Iterator[Gunicorn]:
    """`python -m todo` with 4 workers on the test's store (SQLite: tmp_path/data/todo.db)."""
    settings = {key: value for key, value in store_settings.items() if key != "TODO_DB_PATH"}
    server = Gunicorn(tmp_path, tmp_path / "data" / "todo.db", workers=4, settings=settings)
    try:
        yield server
    finally:
        server.stop()

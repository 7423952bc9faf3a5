"""`/health` on SQLite tells the truth: it fails, and says why, when the disk is (nearly) full or
the file system is read-only; a database that cannot be opened read-write stops the service at
start. A full disk and a read-only mount are real ones: a tmpfs or a read-only bind mount in a
mount namespace of the server's own (`unshare`, unprivileged where user namespaces are allowed)."""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from todo import create_app

from .conftest import Gunicorn

MIB = 1024 * 1024


def _require_private_mounts() -> None:
    """A test that needs its own mount namespace fails in CI when it cannot have one (a missing
    capability must not pass unnoticed there); elsewhere it is skipped with the reason."""
    result = subprocess.run(
        ["unshare", "--map-root-user", "--mount", "true"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode == 0:
        return
    reason = f"unshare --map-root-user --mount fails here: {result.stderr.strip()}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(f"{reason} (run as root, or allow unprivileged user namespaces)")


def _in_own_mount(script: str, directory: Path) -> tuple[str, ...]:
    """A command prefix: `script` (with $0 = directory) in a new mount namespace, then exec."""
    return (
        "unshare",
        "--map-root-user",
        "--mount",
        "--",
        "sh",
        "-c",
        f'{script} && exec "$@"',
        str(directory),
    )


def test_health_writes_no_item(client: FlaskClient, app: Flask, db_path: Path) -> None:
    client.post("/todo", data={"data": "x"})
    before = client.get("/todo").get_json()
    for _ in range(3):
        assert client.get("/health").get_json() == {"status": "ok"}
    assert client.get("/todo").get_json() == before
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM health").fetchone() == (1,)


def test_health_fails_below_the_free_space_floor(make_app: object, db_path: Path) -> None:
    floor = 2**62  # more than any disk has
    app = make_app(TODO_MIN_FREE_BYTES=floor)  # type: ignore[operator]
    client = app.test_client()
    response = client.get("/health")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["message"] == "Storage unavailable"
    assert re.fullmatch(
        rf"only [0-9]+ bytes free on the file system of {re.escape(str(db_path.parent))} "
        rf"\(TODO_MIN_FREE_BYTES is {floor}\)",
        body["reason"],
    ), body["reason"]
    # Writes still work: the floor takes the node out of service before they fail.
    assert client.post("/todo", data={"data": "x"}).status_code == 201


def test_on_a_full_disk_health_fails_before_writes_do(tmp_path: Path) -> None:
    _require_private_mounts()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = Gunicorn(
        tmp_path,
        data_dir / "todo.db",
        workers=2,
        prefix=_in_own_mount('mount -t tmpfs -o size=3m tmpfs "$0"', data_dir),
    )
    server.start()
    try:
        acknowledged = []
        first_unhealthy = first_refused = None
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            for n in range(2000):  # 3 MiB fill up long before this
                response = http.post("/todo", data={"data": f"{n:04d}" + "x" * 996})
                if response.status_code == 201:
                    acknowledged.append(response.json())
                else:
                    assert (response.status_code, response.json()) == (
                        503,
                        {"message": "Storage unavailable"},
                    )
                    assert response.headers["Retry-After"] == "1"
                    first_refused = n
                    break
                health = http.get("/health")
                if first_unhealthy is None and health.status_code != 200:
                    first_unhealthy = n
                    assert health.status_code == 503
                    reason = health.json()["reason"]
                    assert re.fullmatch(
                        rf"only [0-9]+ bytes free on the file system of {re.escape(str(data_dir))}"
                        rf" \(TODO_MIN_FREE_BYTES is {MIB}\)",
                        reason,
                    ), reason
            assert first_refused is not None, "the disk never filled up"
            assert first_unhealthy is not None and first_unhealthy < first_refused
            assert http.get("/health").status_code == 503
            # Reads still work, and the refused write left nothing behind.
            assert http.get("/todo").json() == acknowledged
    finally:
        server.stop()


@pytest.mark.parametrize("existing", [True, False], ids=["existing-db", "new-db"])
def test_read_only_file_system_stops_the_service_at_start(tmp_path: Path, existing: bool) -> None:
    _require_private_mounts()
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if existing:
        app = create_app({"TODO_DB_PATH": str(data_dir / "todo.db")})
        app.test_client().post("/todo", data={"data": "kept"})
        app.extensions["todo_store"].close()
    server = Gunicorn(
        tmp_path,
        data_dir / "todo.db",
        workers=1,
        prefix=_in_own_mount('mount --bind "$0" "$0" && mount -o remount,bind,ro "$0"', data_dir),
    )
    result = subprocess.run(
        [*server.prefix, sys.executable, "-m", "todo"],
        env=server.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert (
        f"todo cannot start: cannot open {data_dir / 'todo.db'} read-write: "
        f"{data_dir} is on a read-only file system"
    ) in result.stderr, result.stderr

"""Every SQLite write is on disk before the store returns it, and so before the API answers:
an fdatasync of the WAL file after the commit, once the write lock is free (storage/sqlite.py)."""

import errno
import fcntl
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from todo.storage.sqlite import SqliteTodoStore


def _lock_is_free(store: SqliteTodoStore) -> bool:
    """Whether another open file description of the lock file can take it now."""
    fd = os.open(store.write_lock.path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # drops the lock, if it was taken
    return True


def _count(db_path: Path, sql: str) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


WRITES: dict[str, tuple[Callable[[SqliteTodoStore], Any], str, int]] = {
    # the write, and what a reader of the file sees once it is committed
    "add": (lambda store: store.add("synced"), "SELECT count(*) FROM todos", 1),
    "delete": (
        lambda store: store.delete(store.list()[0].id),
        "SELECT count(*) FROM todos",
        0,
    ),
    "health": (lambda store: store.ping(), "SELECT count(*) FROM health", 1),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_each_write_syncs_the_wal_after_its_commit_and_outside_the_lock(
    store: SqliteTodoStore, db_path: Path, monkeypatch: pytest.MonkeyPatch, write: str
) -> None:
    call, committed_sql, committed_count = WRITES[write]
    if write == "delete":
        store.add("to delete")
    wal = Path(f"{db_path}-wal")
    real_fdatasync = os.fdatasync
    syncs: list[dict[str, Any]] = []

    def recorded(fd: int) -> None:
        syncs.append(
            {
                "file": os.fstat(fd).st_ino == wal.stat().st_ino,
                "committed": _count(db_path, committed_sql) == committed_count,
                "lock_free": _lock_is_free(store),
            }
        )
        real_fdatasync(fd)

    monkeypatch.setattr(os, "fdatasync", recorded)
    call(store)
    # before the call returned: one sync, of the WAL the store writes, after the commit
    assert syncs == [{"file": True, "committed": True, "lock_free": True}]


def test_a_failed_sync_answers_503_and_fails_health(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, db_path: Path
) -> None:
    def failing(fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fdatasync", failing)
    response = client.post("/todo", json={"data": "x"})
    assert response.status_code == 503
    assert response.get_json() == {"message": "Storage unavailable"}
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["reason"] == f"cannot sync {db_path}-wal: Input/output error"


def test_the_synced_file_stays_the_wal_while_other_connections_come_and_go(
    store: SqliteTodoStore, db_path: Path
) -> None:
    store.add("first")
    wal = Path(f"{db_path}-wal")
    synced = store._wal_fd
    assert synced is not None
    for n in range(3):  # a second process's connection, closing after a write and checkpoint
        other = sqlite3.connect(db_path)
        other.execute("INSERT INTO todos (id, data) VALUES (?, ?)", (f"0000000{n}", "other"))
        other.commit()
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        other.close()
        store.add(f"after {n}")
        assert os.fstat(synced).st_ino == wal.stat().st_ino
        assert os.fstat(synced).st_nlink == 1
    assert len(store.list()) == 7


def test_the_directory_is_synced_once_so_the_new_wal_file_keeps_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fsync(2), NOTES: syncing a file does not put its directory entry on disk; SQLite syncs the
    # directory at its own first sync of the WAL, which synchronous=NORMAL puts off.
    db_path = tmp_path / "fresh" / "todo.db"
    db_path.parent.mkdir()
    directory = db_path.parent.stat().st_ino
    real_fsync = os.fsync
    directory_syncs: list[int] = []

    def recorded(fd: int) -> None:
        if os.fstat(fd).st_ino == directory:
            directory_syncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recorded)
    store = SqliteTodoStore(db_path)
    try:
        store.add("first")
        assert len(directory_syncs) == 1
        store.add("second")
        store.ping()
        assert len(directory_syncs) == 1
    finally:
        store.close()

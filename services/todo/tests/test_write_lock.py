"""The writers' queue of the SQLite store (storage/write_lock.py): writers of several processes
and threads take turns on an flock beside the database, so SQLite's own lock is never found taken
(its busy handler never sleeps), and a fork gets a lock of its own."""

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask
from todo.storage import StorageError
from todo.storage.sqlite import SqliteTodoStore
from todo.storage.write_lock import WriteLock, lock_path_for

PROCESSES = 6
WRITES_EACH = 150

# A writer that would fail at once, with "database is locked", if SQLite's lock were ever taken
# when it wants it: busy_timeout 0 on its connections. It starts when it reads a line.
WRITER = textwrap.dedent(
    """
    import json, sys
    from todo.storage import StorageError
    from todo.storage.sqlite import SqliteTodoStore

    class Impatient(SqliteTodoStore):
        def _open(self):
            conn = super()._open()
            conn.execute("PRAGMA busy_timeout = 0")
            return conn

    path, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = Impatient(path)
    print("ready", flush=True)
    sys.stdin.readline()
    ids, errors = [], []
    for n in range(count):
        try:
            ids.append(store.add(f"{name} {n}").id)
        except StorageError as exc:
            errors.append(str(exc))
    store.close()
    print(json.dumps({"ids": ids, "errors": errors}), flush=True)
    """
)


class ImpatientStore(SqliteTodoStore):
    """busy_timeout 0: SQLite answers "database is locked" instead of waiting for its lock."""

    def _open(self):  # type: ignore[no-untyped-def]
        conn = super()._open()
        conn.execute("PRAGMA busy_timeout = 0")
        return conn


@pytest.fixture
def impatient_store(db_path: Path) -> Iterator[SqliteTodoStore]:
    store = ImpatientStore(db_path)
    yield store
    store.close()


def _listed_ids(db_path: Path) -> list[str]:
    store = SqliteTodoStore(db_path)
    try:
        return [todo.id for todo in store.list()]
    finally:
        store.close()


def test_the_lock_file_is_beside_the_database(db_path: Path) -> None:
    store = SqliteTodoStore(db_path)
    try:
        assert store.write_lock.path == lock_path_for(db_path) == db_path.parent / "todo.db-lock"
        assert store.write_lock.path.is_file()
    finally:
        store.close()


def test_writers_of_many_processes_never_meet_sqlites_lock(db_path: Path) -> None:
    SqliteTodoStore(db_path).close()  # the schema, before the writers race for it
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db_path), str(WRITES_EACH), f"p{n}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        for writer in writers:  # all at once
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        results = [json.loads(writer.communicate(timeout=120)[0]) for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()
    assert [result["errors"] for result in results] == [[]] * PROCESSES
    acknowledged = [todo_id for result in results for todo_id in result["ids"]]
    assert len(acknowledged) == PROCESSES * WRITES_EACH
    listed = _listed_ids(db_path)
    assert sorted(listed) == sorted(acknowledged)
    # Each process's items are listed in the order it wrote them.
    for result in results:
        mine = [todo_id for todo_id in listed if todo_id in set(result["ids"])]
        assert mine == result["ids"]


def test_writers_of_many_threads_never_meet_sqlites_lock(
    impatient_store: SqliteTodoStore, db_path: Path
) -> None:
    def write(thread: int) -> list[str]:
        return [impatient_store.add(f"t{thread} {n}").id for n in range(50)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        acknowledged = [todo_id for ids in pool.map(write, range(8)) for todo_id in ids]
    assert len(acknowledged) == 400
    assert sorted(_listed_ids(db_path)) == sorted(acknowledged)


def _acquire_in_child(lock: WriteLock) -> tuple[int, int]:
    """Forks a child that takes `lock` (the parent's object, as a gunicorn worker inherits the
    master's store), writes one byte to a pipe once it holds it, and exits. Returns the child's
    pid and the pipe's read end."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  # the child
        try:
            os.close(read_end)
            with lock.held():
                os.write(write_end, b"x")
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, read_end


def _readable_within(fd: int, seconds: float) -> bool:
    return bool(select.select([fd], [], [], seconds)[0])


def test_a_forked_child_waits_for_its_parents_lock(tmp_path: Path) -> None:
    lock = WriteLock(tmp_path / "x.db-lock")
    lock.acquire()  # the parent holds it while it forks: the child inherits the descriptor
    pid, done = _acquire_in_child(lock)
    try:
        # An inherited descriptor would share the parent's lock and get it at once.
        assert not _readable_within(done, 0.3), "the child took a lock its parent holds"
        lock.release()
        assert _readable_within(done, 10)
    finally:
        os.close(done)
        os.kill(pid, signal.SIGKILL)  # a child stuck on the lock must not hang the run
        os.waitpid(pid, 0)
        lock.close()


def test_the_lock_is_shared_by_the_threads_of_a_process_one_at_a_time(tmp_path: Path) -> None:
    lock = WriteLock(tmp_path / "x.db-lock")
    inside = 0
    most = 0
    guard = threading.Lock()

    def enter() -> None:
        nonlocal inside, most
        for _ in range(200):
            with lock.held():
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=enter) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lock.close()
    assert most == 1


def test_a_lock_file_that_cannot_be_created_stops_the_store_at_start(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    lock_path_for(db_path).mkdir()  # something that is not a file where the lock file goes
    with pytest.raises(StorageError) as raised:
        SqliteTodoStore(db_path)
    assert str(raised.value) == (
        f"cannot open {db_path} read-write: cannot create {lock_path_for(db_path)}: Is a directory"
    )


def test_a_lock_file_gone_bad_fails_writes_and_health_not_reads(make_app: object) -> None:
    app: Flask = make_app()  # type: ignore[operator]
    client = app.test_client()
    kept = client.post("/todo", data={"data": "kept"}).get_json()
    store = app.extensions["todo_store"]
    store.close()  # the next write opens the lock file again
    store.write_lock.path.unlink()
    store.write_lock.path.mkdir()

    response = client.post("/todo", data={"data": "refused"})
    assert (response.status_code, response.get_json()) == (503, {"message": "Storage unavailable"})
    assert response.headers["Retry-After"] == "1"
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json() == {
        "status": "unavailable",
        "message": "Storage unavailable",
        "reason": f"cannot lock {store.write_lock.path}: Is a directory",
    }
    assert client.get("/todo").get_json() == [kept]

"""SQLite backend: one file, shared safely by several gunicorn worker processes.

- WAL journal: readers never block the writer, nor the writer them.
- Writers queue for an flock on `<database>-lock` (storage/write_lock.py) around each write's
  transaction: the kernel wakes the next one as soon as a commit is done, where SQLite's busy
  handler would sleep for up to 100 ms at a time. busy_timeout stays set for SQLite's own lock,
  which a process that does not queue (the sqlite3 shell) may hold.
- Every write is synced before it returns, and so before the API acknowledges it, but outside
  the writers' queue: synchronous=NORMAL (a commit appends to the WAL without syncing it), then,
  once the lock is let go, an fdatasync of the WAL file, which puts that commit on disk with every
  one before it. The next writer commits while this one syncs, and the syncs of several writers
  overlap (one flush can carry several commits): with FULL the queue held every writer for its
  own sync. The price: a reader may see an item up to one fdatasync before its POST is answered.
  Why this is as durable as FULL for every answered write: services/todo/README.md (SQLite).
- One connection per thread and process, opened lazily; a connection never crosses a fork.
- `seq` (AUTOINCREMENT) gives the stable oldest-first order and the pages' cursor; `id` is the
  public 8-hex-digit id.
- Health is a real write, of a one-row `health` table (never an item), plus the free space of the
  file system: a full or read-only disk takes the node out of a load balancer before, or as soon
  as, writes start failing, and the answer says which it is.
"""

import builtins
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from todo.storage import ID_ATTEMPTS, Page, StorageError, Todo, new_id
from todo.storage.write_lock import WriteLock, lock_path_for

SCHEMA = """
CREATE TABLE IF NOT EXISTS todos (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    data       TEXT    NOT NULL,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
HEALTH_SCHEMA = """
CREATE TABLE IF NOT EXISTS health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at TEXT    NOT NULL
)
"""
# The write a health check makes: one row, rewritten each time, committed and synced like an item.
HEALTH_WRITE = """
INSERT INTO health (id, checked_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
"""


class SqliteTodoStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout_ms: int = 5000,
        min_free_bytes: int = 1024 * 1024,
    ) -> None:
        self.path = Path(path).expanduser().resolve()
        self.busy_timeout_ms = busy_timeout_ms
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = os.getpid()
        self._connections: list[sqlite3.Connection] = []
        self._wal_path = self.path.with_name(self.path.name + "-wal")
        # This process's descriptor of the WAL, for its syncs. SQLite takes no POSIX lock on the
        # WAL file (its locks are on the database and the -shm file), so closing it frees none.
        self._wal_fd: int | None = None
        # Connections opened before a fork belong to the parent: never used, closed or freed here.
        self._inherited: list[sqlite3.Connection] = []
        self.write_lock = WriteLock(lock_path_for(self.path))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create the directory of {self.path}: {exc}") from exc
        self._create_schema()

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: every statement commits on its own (autocommit).
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,  # only ever used by its thread; close() may run elsewhere
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
        # Commits are synced by _sync_wal, after the write lock is let go; checkpoints still sync
        # the WAL before they copy it and the database after.
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            with self._lock:
                if os.getpid() != self._pid:
                    self._inherited.extend(self._connections)
                    self._connections = []
                    if self._wal_fd is not None:
                        os.close(self._wal_fd)  # the parent's; this process opens its own
                        self._wal_fd = None
                    self._local = threading.local()
                    self._pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _create_schema(self) -> None:
        """Creates the tables and makes one write: a file that opens but cannot be written (a
        read-only mount, a file owned by someone else) stops the service at start, not at the
        first POST."""
        try:
            self.write_lock.open()
        except OSError as exc:
            why = self._unwritable() or f"cannot create {self.write_lock.path}: {exc.strerror}"
            raise StorageError(f"cannot open {self.path} read-write: {why}") from exc
        try:
            with self._writing():
                conn = self._conn()
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StorageError(f"{self.path}: cannot use WAL journal mode (got {mode!r})")
                conn.execute(SCHEMA)
                conn.execute(HEALTH_SCHEMA)
                conn.execute(HEALTH_WRITE)
            self._sync_wal()
        except sqlite3.Error as exc:
            reason = self._unwritable()
            if reason is not None:
                raise StorageError(f"cannot open {self.path} read-write: {reason}") from exc
            raise StorageError(f"{self.path}: {exc}") from exc

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Holds the write lock for the block, or raises StorageError saying why it cannot."""
        try:
            self.write_lock.acquire()
        except OSError as exc:
            raise StorageError(f"cannot lock {self.write_lock.path}: {exc.strerror}") from exc
        try:
            yield
        finally:
            self.write_lock.release()

    def _write(self, sql: str, parameters: tuple[str, ...] = ()) -> sqlite3.Cursor:
        """One statement, a transaction of its own, run while holding the write lock, then
        synced: on disk when it returns. SQLite's errors pass through; a failed sync is a
        StorageError."""
        with self._writing():
            cursor = self._conn().execute(sql, parameters)
        self._sync_wal()
        return cursor

    def _sync_wal(self) -> None:
        """fdatasync of the WAL file: every commit made before the call is then on disk.

        The directory is synced once, when the descriptor is opened: SQLite makes the WAL file
        when the first connection opens the database, and syncs the directory (so that the file's
        name survives a crash, which fdatasync of the file does not promise) only at its own first
        sync of the WAL, which synchronous=NORMAL puts off to the first checkpoint.

        The descriptor is this process's own, opened after its first commit, through a
        connection of this process that stays open as long as the descriptor does (close()
        closes both). SQLite removes the WAL file only when the last connection to the database
        closes, so the file it names is the one SQLite appends to until then.
        """
        try:
            if self._wal_fd is None:
                with self._lock:
                    if self._wal_fd is None:
                        self._wal_fd = os.open(self._wal_path, os.O_RDONLY | os.O_CLOEXEC)
                        _sync_directory(self._wal_path.parent)
            os.fdatasync(self._wal_fd)
        except OSError as exc:
            raise StorageError(f"cannot sync {self._wal_path}: {exc.strerror}") from exc

    def _unwritable(self) -> str | None:
        """Why the database cannot be written, as far as the file system tells; None if it can."""
        directory = self.path.parent
        try:
            status = os.statvfs(directory)
        except OSError as exc:
            return f"cannot inspect {directory}: {exc.strerror}"
        if status.f_flag & os.ST_RDONLY:
            return f"{directory} is on a read-only file system"
        for target in (self.path, directory):
            if target.exists() and not os.access(target, os.W_OK):
                return f"{target} is not writable by uid {os.getuid()}"
        return None

    def _low_space(self) -> str | None:
        """Why a write may not fit; None while at least min_free_bytes are free."""
        try:
            status = os.statvfs(self.path.parent)
        except OSError as exc:
            return f"cannot inspect {self.path.parent}: {exc.strerror}"
        free = status.f_bavail * status.f_frsize
        if free < self.min_free_bytes:
            return (
                f"only {free} bytes free on the file system of {self.path.parent} "
                f"(TODO_MIN_FREE_BYTES is {self.min_free_bytes})"
            )
        return None

    def add(self, data: str) -> Todo:
        for _ in range(ID_ATTEMPTS):
            todo = Todo(id=new_id(), data=data)
            try:
                self._write("INSERT INTO todos (id, data) VALUES (?, ?)", (todo.id, todo.data))
            except sqlite3.IntegrityError:
                continue  # the id is taken: draw another
            except sqlite3.Error as exc:
                raise StorageError(str(exc)) from exc
            return todo
        raise StorageError(f"no free id after {ID_ATTEMPTS} attempts")

    def get(self, todo_id: str) -> Todo | None:
        try:
            row = (
                self._conn()
                .execute("SELECT id, data FROM todos WHERE id = ?", (todo_id,))
                .fetchone()
            )
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return Todo(id=row[0], data=row[1]) if row else None

    def delete(self, todo_id: str) -> bool:
        try:
            cursor = self._write("DELETE FROM todos WHERE id = ?", (todo_id,))
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return cursor.rowcount == 1

    def ping(self) -> None:
        reason = self._unwritable() or self._low_space()
        if reason is not None:
            raise StorageError(reason)
        try:
            self._conn().execute("SELECT count(*) FROM todos WHERE seq < 0").fetchone()
            self._write(HEALTH_WRITE)
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    def close(self) -> None:
        """Closes this process's connections; call it when no request is in flight."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
            wal_fd, self._wal_fd = self._wal_fd, None
        if wal_fd is not None:
            os.close(wal_fd)
        for conn in connections:
            conn.close()
        self.write_lock.close()

    def list(self) -> builtins.list[Todo]:
        try:
            rows = self._conn().execute("SELECT id, data FROM todos ORDER BY seq").fetchall()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return [Todo(id=row[0], data=row[1]) for row in rows]

    def page(self, limit: int, after: int | None) -> Page:
        # One row more than asked tells whether another page follows.
        try:
            rows = (
                self._conn()
                .execute(
                    "SELECT seq, id, data FROM todos WHERE seq > ? ORDER BY seq LIMIT ?",
                    (after or 0, limit + 1),
                )
                .fetchall()
            )
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        shown = rows[:limit]
        next_after = shown[-1][0] if len(rows) > limit else None
        return Page([Todo(id=row[1], data=row[2]) for row in shown], next_after)


def _sync_directory(directory: Path) -> None:
    """fsync of a directory: the names made in it are on disk (see fsync(2), NOTES)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

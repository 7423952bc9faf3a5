"""SQLite backend: one file, shared safely by several gunicorn worker processes.

- WAL journal: readers never block the writer, and one writer at a time waits (busy_timeout)
  instead of failing while another worker commits.
- synchronous=FULL: with WAL this syncs the log on every commit, so a row is on disk before
  `add` returns, and before the API acknowledges it.
- One connection per thread and process, opened lazily; a connection never crosses a fork.
- `seq` (AUTOINCREMENT) gives the stable oldest-first order; `id` is the public 8-hex-digit id.
"""

import builtins
import os
import secrets
import sqlite3
import threading
from pathlib import Path

from todo.storage import StorageError, Todo

SCHEMA = """
CREATE TABLE IF NOT EXISTS todos (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    data       TEXT    NOT NULL,
    created_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
ID_ATTEMPTS = 8  # 8 hex digits: a collision is rare, eight in a row is a broken generator


def new_id() -> str:
    return secrets.token_hex(4)


class SqliteTodoStore:
    def __init__(self, path: str | os.PathLike[str], busy_timeout_ms: int = 5000) -> None:
        self.path = Path(path).expanduser().resolve()
        self.busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._local = threading.local()
        self._pid = os.getpid()
        self._connections: list[sqlite3.Connection] = []
        # Connections opened before a fork belong to the parent: never used, closed or freed here.
        self._inherited: list[sqlite3.Connection] = []
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
        conn.execute("PRAGMA synchronous = FULL")
        return conn

    def _conn(self) -> sqlite3.Connection:
        if os.getpid() != self._pid:
            with self._lock:
                if os.getpid() != self._pid:
                    self._inherited.extend(self._connections)
                    self._connections = []
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
        try:
            conn = self._conn()
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(f"{self.path}: cannot use WAL journal mode (got {mode!r})")
            conn.execute(SCHEMA)
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: {exc}") from exc

    def add(self, data: str) -> Todo:
        for _ in range(ID_ATTEMPTS):
            todo = Todo(id=new_id(), data=data)
            try:
                self._conn().execute(
                    "INSERT INTO todos (id, data) VALUES (?, ?)", (todo.id, todo.data)
                )
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
            cursor = self._conn().execute("DELETE FROM todos WHERE id = ?", (todo_id,))
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return cursor.rowcount == 1

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT count(*) FROM todos WHERE seq < 0").fetchone()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    def close(self) -> None:
        """Closes this process's connections; call it when no request is in flight."""
        with self._lock:
            connections, self._connections = self._connections, []
            self._local = threading.local()
        for conn in connections:
            conn.close()

    def list(self) -> builtins.list[Todo]:
        try:
            rows = self._conn().execute("SELECT id, data FROM todos ORDER BY seq").fetchall()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return [Todo(id=row[0], data=row[1]) for row in rows]

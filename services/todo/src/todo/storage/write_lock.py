"""The writers' queue of the SQLite file: an flock(2) on a lock file beside the database.

SQLite's own write lock is polled: a writer that finds it taken sleeps in the busy handler, for
1, 2, 5, 10, ... up to 100 ms at a time, and tries again. Under load the workers spend most of
their time asleep while the lock is free (650-950 writes/s with 4 workers, p99 about 100 ms). An
flock is waited for in the kernel, which wakes the waiters as soon as the holder lets go. Every
write of the store takes it around its transaction, so writers queue in the kernel and find
SQLite's lock free when their turn comes: the busy handler has nothing to wait for.

- Robust: the kernel drops the lock of a process that dies holding it (SIGKILL, OOM, gunicorn's
  worker timeout).
- An flock belongs to an open file description, so each process opens the file itself, after
  any fork (a descriptor inherited from the gunicorn master would share the master's lock), and
  the threads of one process take a threading.Lock before it (made anew in a forked child, which
  may have inherited it taken).
- No timeout of its own: flock(2) has none, and waiting for it in another thread, to be able to
  give up, cost a thread hand-over per contended write (more CPU than the whole SQLite commit).
  A holder holds it for one statement, which SQLite's busy_timeout bounds; a holder that stops
  (SIGSTOP, a hung disk) holds up the writers behind it, and `/health`, until gunicorn's worker
  timeout restarts them.
- Advisory: a process that does not take it (the sqlite3 shell, a test) still meets SQLite's own
  lock, for which busy_timeout stays set.
"""

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# As SQLite creates the database and its -wal and -shm files (before the umask).
LOCK_FILE_MODE = 0o644


def lock_path_for(db_path: Path) -> Path:
    """The lock file of a database: beside it, named like SQLite's own `-wal` and `-shm`."""
    return db_path.with_name(db_path.name + "-lock")


class WriteLock:
    """`with lock.held():` (or acquire() ... release()) runs a block while no other process or
    thread holding the same lock file does. OSError when the lock file cannot be opened (nor
    created) or locked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._threads = threading.Lock()
        self._pid: int | None = None
        self._fd: int | None = None
        alive = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _after_fork(alive))

    def open(self) -> None:
        """Opens (and creates) the lock file for this process now, rather than at the first
        write, so that a directory where it cannot be created fails at start."""
        with self._threads:
            self._process_fd()

    def _process_fd(self) -> int:
        if self._pid != os.getpid():
            self._drop_inherited()
        if self._fd is None:
            # Read-only is enough for flock; O_CREAT makes the file on first use.
            self._fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, LOCK_FILE_MODE)
        return self._fd

    def _forked(self) -> None:
        self._threads = threading.Lock()
        self._drop_inherited()

    def _drop_inherited(self) -> None:
        """In a forked child, closes its copy of the parent's descriptor: that leaves the
        parent's lock alone, and keeps the child from holding it alive after the parent closes
        its own."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._pid = os.getpid()

    def acquire(self) -> None:
        self._threads.acquire()
        try:
            # Sleeps in the kernel until the holder lets go.
            fcntl.flock(self._process_fd(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            assert self._fd is not None  # close() waits for the holder
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        """Closes this process's descriptor (opened again by the next write); call it when no
        write is in flight."""
        with self._threads:
            if self._pid != os.getpid():
                self._drop_inherited()
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _after_fork(alive: "weakref.ReferenceType[WriteLock]") -> None:
    lock = alive()
    if lock is not None:
        lock._forked()

"""Servers as child processes, each in its own process group: a stop reaches every worker it
forked, and Ctrl-C in a terminal reaches only the launcher, which stops them in order. Output
goes to a log file, or through a pipe to a stream, each line prefixed with the server's name."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, TextIO

from devstack.ready import TAIL_LINES

STOP_TIMEOUT_S = 10.0


class Echo:
    """A stream several servers' output shares: whole lines, `name | line`. A stream that breaks
    (the reader went away) is dropped; the servers keep running."""

    def __init__(self, stream: TextIO, width: int = 9) -> None:
        self.stream: TextIO | None = stream
        self.width = width
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self._lock:
            if self.stream is None:
                return
            try:
                self.stream.write(f"{name:<{self.width}} | {text}\n")
                self.stream.flush()
            except (OSError, ValueError):
                self.stream = None


class Relay:
    """Copies a child's output, line by line, to its log file and/or an Echo, and keeps the last
    lines for error messages. It reads until every process holding the pipe has closed it."""

    def __init__(
        self, name: str, source: IO[bytes], log_path: Path | None, echo: Echo | None
    ) -> None:
        self.name = name
        self._source = source
        self._log_path = log_path
        self._echo = echo
        self._tail: collections.deque[str] = collections.deque(maxlen=200)
        self._thread = threading.Thread(target=self._run, name=f"relay-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        log = self._log_path.open("ab") if self._log_path is not None else None
        try:
            for raw in iter(self._source.readline, b""):
                if log is not None:
                    log.write(raw)
                    log.flush()
                text = raw.decode(errors="replace").rstrip("\r\n")
                self._tail.append(text)
                if self._echo is not None:
                    self._echo.line(self.name, text)
        finally:
            self._source.close()
            if log is not None:
                log.close()

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(list(self._tail)[-lines:])

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


def start_process(
    argv: Sequence[str],
    *,
    name: str,
    env: Mapping[str, str],
    cwd: Path | None = None,
    log_path: Path | None = None,
    echo: Echo | None = None,
) -> tuple[subprocess.Popen[bytes], Relay | None]:
    """`argv` in a new session (its own process group), stdin closed. With only `log_path` its
    output goes straight into that file (appended); with `echo` it is relayed (and also written
    to `log_path` when given); with neither it shares this process's stdout and stderr."""
    stdout: int | IO[bytes] | None = None
    log = None
    if echo is not None:
        stdout = subprocess.PIPE
    elif log_path is not None:
        stdout = log = log_path.open("ab")
    try:
        process = subprocess.Popen(  # noqa: S603  # the caller's fixed argv
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            start_new_session=True,
        )
    finally:
        if log is not None:
            log.close()
    relay = None
    if process.stdout is not None:
        relay = Relay(name, process.stdout, log_path, echo)
    return process, relay


def _kill_group(pid: int) -> None:
    """SIGKILL to whatever is left of the process group `pid` leads (nothing when it has none)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_process(
    process: subprocess.Popen[bytes],
    timeout: float = STOP_TIMEOUT_S,
    first_signal: signal.Signals = signal.SIGTERM,
) -> None:
    """`first_signal` to the process (a master such as gunicorn's then stops its workers in
    order), SIGKILL to its whole process group when it has not exited after `timeout` s. After
    that no process of the group it leads is left (a worker a killed master left behind)."""
    if process.poll() is None:
        if first_signal == signal.SIGKILL:
            _kill_group(process.pid)  # no stop in order to wait for: all of it at once
        try:
            process.send_signal(first_signal)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            process.kill()
            process.wait(timeout=timeout)
    _kill_group(process.pid)


def kill_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGKILL to the process and its group now (for a second Ctrl-C: no more waiting)."""
    _kill_group(process.pid)
    if process.poll() is None:
        process.kill()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass

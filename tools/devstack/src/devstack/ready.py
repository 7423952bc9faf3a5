"""Wait until a server answers 200, by polling it; fail at once, with its exit status and the end
of its log, when its process dies first."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

POLL_INTERVAL_S = 0.05  # between two attempts; readiness itself is never guessed
TAIL_LINES = 20


class StartError(RuntimeError):
    """A server that did not come up. `summary` is one line naming it; str() adds its log tail."""

    def __init__(self, summary: str, tail: str = "") -> None:
        self.summary = summary
        self.tail = tail
        super().__init__(f"{summary}\n{tail}" if tail else summary)


def tail_of(path: Path, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a log file ("" when there is none)."""
    try:
        with path.open("rb") as log:
            size = log.seek(0, 2)
            log.seek(max(0, size - 64 * 1024))
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def describe_exit(returncode: int) -> str:
    """`status 3`, or `signal SIGKILL` for a process a signal ended."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"status {returncode}"


def _command(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    if isinstance(args, str | bytes | os.PathLike):
        return os.fsdecode(args)
    return " ".join(os.fsdecode(arg) for arg in args)


def wait_until_ready(
    url: str,
    process: subprocess.Popen[bytes] | None = None,
    timeout: float = 30.0,
    *,
    name: str | None = None,
    log: Path | Callable[[], str] | None = None,
) -> None:
    """Poll `url` until it answers 200. StartError, naming `name` (else the process's command)
    and ending with the tail of `log` (a file, or a function giving the text), when `process`
    exits first or `timeout` seconds pass."""
    who = name or (_command(process) if process is not None else url)

    def fail(summary: str) -> StartError:
        tail = log() if callable(log) else tail_of(log) if log is not None else ""
        if tail:
            where = f" of {log}" if isinstance(log, Path) else ""
            tail = f"--- last lines{where} ---\n{tail}"
        return StartError(summary, tail)

    def died() -> StartError | None:
        if process is None or process.poll() is None:
            return None
        return fail(f"{who} exited with {describe_exit(process.returncode)} before {url} answered")

    deadline = time.monotonic() + timeout
    last = "no answer yet"
    # No proxy from the environment: these are local servers.
    with httpx.Client(trust_env=False) as client:
        while True:
            if error := died():
                raise error
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise fail(f"{who} did not answer 200 at {url} within {timeout:g} s ({last})")
            try:
                status = client.get(url, timeout=min(1.0, remaining)).status_code
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if status == 200:
                    # A 200 from whoever else holds the port does not count when ours is dead.
                    if error := died():
                        raise error
                    return
                last = f"last answer {status}"
            if process is None:
                time.sleep(POLL_INTERVAL_S)
            else:
                try:  # returns as soon as the process exits
                    process.wait(timeout=POLL_INTERVAL_S)
                except subprocess.TimeoutExpired:
                    pass

"""Start Dog Names, ToDo and the gateway natively on free loopback ports, as `make run` does
(devstack's launcher), with the stage throttling lifted."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devstack.stack import Stack
from devstack.stack import running_stack as devstack_running_stack

__all__ = ["GATEWAY_CONFIG", "Stack", "memory_kib", "running_stack"]

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_CONFIG = ROOT / "gateway" / "config" / "gateway.yaml"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


@contextmanager
def running_stack() -> Iterator[Stack]:
    """The three processes, ready, their logs and ToDo's database in a temporary directory;
    stopped (gateway first) however the block ends."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as tmp,
        devstack_running_stack(
            log_dir=Path(tmp),
            gateway_config=GATEWAY_CONFIG,
            cwd=ROOT,
            ready_timeout=READY_TIMEOUT_S,
            stop_timeout=STOP_TIMEOUT_S,
        ) as stack,
    ):
        yield stack


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in KiB, from /proc."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values

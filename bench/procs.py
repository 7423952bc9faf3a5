"""Processes as the bench sees them in /proc: a server's whole process tree (gunicorn's workers,
NGINX's worker, any worker a server forks), its CPU time, its memory, and CPU pinning."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return kids
    for task in tasks:
        try:
            kids += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return kids


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it, parents first."""
    tree, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        if current in tree:
            continue
        tree.append(current)
        todo += _children(current)
    return tree


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process (all its threads) so far, from /proc/<pid>/stat;
    None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    # after the command name: state is field 3, utime 14 and stime 15 (proc(5))
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_snapshot(roots: Mapping[str, int]) -> dict[str, dict[int, float]]:
    """Per label, the CPU seconds of every process in the tree of its root pid."""
    snapshot: dict[str, dict[int, float]] = {}
    for label, root in roots.items():
        times = {}
        for pid in process_tree(root):
            seconds = cpu_seconds(pid)
            if seconds is not None:
                times[pid] = seconds
        snapshot[label] = times
    return snapshot


def cpu_used(
    before: Mapping[str, Mapping[int, float]], after: Mapping[str, Mapping[int, float]]
) -> dict[str, float]:
    """Per label, the CPU seconds its tree used between two snapshots (a process that appeared
    in between counts whole; one that exited in between is lost: servers here do not churn)."""
    return {
        label: sum(seconds - before.get(label, {}).get(pid, 0.0) for pid, seconds in times.items())
        for label, times in after.items()
    }


def pin(pid: int, cpus: Iterable[int]) -> None:
    """What `taskset -a -p` does, for the whole tree: every thread of every process of `pid`'s
    tree may run only on `cpus` (threads and processes created later inherit it)."""
    allowed = set(cpus)
    for member in process_tree(pid):
        try:
            tasks = [int(t.name) for t in Path(f"/proc/{member}/task").iterdir()]
        except OSError:
            continue
        for tid in tasks:
            try:
                os.sched_setaffinity(tid, allowed)
            except (ProcessLookupError, PermissionError):
                continue


def pin_self(cpus: Iterable[int]) -> None:
    """Pin this process (every thread of it)."""
    allowed = set(cpus)
    for task in Path("/proc/self/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), allowed)
        except ProcessLookupError:
            continue


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) in KiB, summed over the process tree (for
    one process: its own; for several, the sum of their peaks bounds the tree's peak)."""
    totals = {"VmRSS": 0, "VmHWM": 0, "processes": 0}
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        totals["processes"] += 1
        for line in lines:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                totals[key] += int(rest.split()[0])
    return totals

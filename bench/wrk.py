"""wrk (Debian's `wrk` package), for closed-loop runs that the Python client cannot drive: at 64
connections a bare ASGI app answers faster than one Python process can ask, and the p99 measured
would be the client's. One wrk thread, on the client's CPU (it inherits this process's
pinning); its own warm-up run first; a Lua `done` hook prints the numbers as JSON."""

from __future__ import annotations

import json
import math
import resource
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bench import procs
from bench.load import Load, RunResult
from bench.stalls import StallWatch

REPORT_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,'
    .. '"timeout":%d,"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"max_us":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""
TIMEOUT_S = 10


def find_wrk() -> str | None:
    return shutil.which("wrk")


def _wrk(binary: str, script: Path, url: str, connections: int, seconds: float) -> dict[str, float]:
    argv = [
        binary,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, math.ceil(seconds))}s",
        f"--timeout={TIMEOUT_S}s",
        "-s",
        str(script),
        url,
    ]
    try:
        done = subprocess.run(  # noqa: S603  # a fixed argv
            argv, capture_output=True, text=True, timeout=seconds + TIMEOUT_S + 10, check=False
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"wrk did not finish: {' '.join(argv)}") from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    report: dict[str, float] = json.loads(lines[-1])
    return report


def run_wrk(
    name: str,
    *,
    binary: str,
    url: str,
    load: Load,
    seconds: float,
    warmup: float,
    watch: Mapping[str, int],
) -> RunResult:
    """A closed-loop run of `seconds` (wrk counts whole seconds: rounded up) after a warm-up run;
    the watched servers' CPU is read around the timed run."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(REPORT_SCRIPT)
        if warmup > 0:
            _wrk(binary, script, url, load.concurrency, warmup)
        before = procs.cpu_snapshot(watch)
        client_before = _children_cpu()
        with StallWatch() as stalls:
            report = _wrk(binary, script, url, load.concurrency, seconds)
        client_cpu = _children_cpu() - client_before
        after = procs.cpu_snapshot(watch)
    used = procs.cpu_used(before, after)
    count = int(report["requests"])
    duration = report["duration_us"] / 1e6
    errors = int(sum(report[k] for k in ("connect", "read", "write", "status", "timeout")))
    return RunResult(
        name=name,
        load=load.describe() + " (wrk)",
        concurrency=load.concurrency,
        rate=None,
        seconds=round(duration, 3),
        requests=count,
        errors=errors,
        unfinished=0,
        acknowledged=count - int(report["status"]),
        rps=round(count / duration, 1) if duration > 0 else 0.0,
        p50_ms=round(report["p50_us"] / 1000, 3),
        p90_ms=round(report["p90_us"] / 1000, 3),
        p99_ms=round(report["p99_us"] / 1000, 3),
        max_ms=round(report["max_us"] / 1000, 3),
        backlog=0,
        cpu_ms_per_request={
            label: round(used[label] * 1000 / count, 4) if count else None for label in watch
        },
        first_error=None if not errors else f"wrk: {errors} errors ({report})",
        client="wrk",
        client_cpu_share=round(client_cpu / duration, 3) if duration > 0 else None,
        stall_ms=round(stalls.longest_ms, 1),
    )


def _children_cpu() -> float:
    """CPU seconds of this process's waited-for children (wrk, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

"""A bounded closed-loop load generator: N requests over C threads, each with its own connection."""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import httpx

RequestFactory = Callable[[httpx.Client, int], httpx.Request]
ClientFactory = Callable[[], httpx.Client]


@dataclass(frozen=True)
class LoadResult:
    name: str
    concurrency: int
    requests: int  # measured requests completed (answered or failed)
    errors: int  # transport errors and unexpected statuses
    capped: bool  # the wall-clock cap ended the run before every request was sent
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms_per_request: float | None  # CPU time of `server_pid` per timed request
    first_error: str | None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    # after the command name: state is field 3, utime 14 and stime 15 (proc(5))
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    """p50, p90, p99 (inclusive method: no value outside the samples)."""
    if not samples_ms:
        return (float("nan"),) * 3
    if len(samples_ms) == 1:
        return (samples_ms[0],) * 3
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[89], cuts[98]


def run_load(
    name: str,
    *,
    make_client: ClientFactory,
    make_request: RequestFactory,
    expected_status: int,
    concurrency: int,
    requests: int,
    warmup: int,
    max_seconds: float,
    server_pid: int | None = None,
) -> LoadResult:
    """Send about `warmup` untimed requests (at least one per thread), then `requests` timed ones.

    The timed ones stop early when `max_seconds` (counted from the warm-up) has passed.

    Each thread sends its next request when its previous one is answered (closed loop), so the
    latencies are what one keep-alive connection sees at this concurrency.
    """
    lock = threading.Lock()
    remaining = {"measured": requests}
    warmup_each = max(1, -(-warmup // concurrency))  # every connection is open before timing
    latencies: list[float] = []
    errors: list[str] = []
    failures: list[str] = []
    start = threading.Barrier(concurrency + 1)
    finished = threading.Barrier(concurrency + 1)
    deadline = [float("inf")]

    def take(phase: str) -> int | None:
        with lock:
            left = remaining[phase]
            if left <= 0:
                return None
            remaining[phase] = left - 1
            return left

    def one(client: httpx.Client, seq: int) -> tuple[float, str | None]:
        request = make_request(client, seq)  # built (and signed) outside the timed part
        began = time.perf_counter()
        try:
            response = client.send(request)
            response.read()
        except httpx.HTTPError as exc:
            return (time.perf_counter() - began) * 1000, f"{type(exc).__name__}: {exc}"
        elapsed = (time.perf_counter() - began) * 1000
        if response.status_code != expected_status:
            return elapsed, f"status {response.status_code}: {response.text[:200]}"
        return elapsed, None

    def worker() -> None:
        try:
            measure()
        except BaseException as exc:  # a broken worker must not leave the others waiting
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
            start.abort()
            finished.abort()

    def measure() -> None:
        with make_client() as client:
            for n in range(warmup_each):
                if time.monotonic() >= deadline[0]:
                    break
                one(client, -1 - n)
            start.wait()
            own: list[float] = []
            own_errors: list[str] = []
            while time.monotonic() < deadline[0] and (seq := take("measured")) is not None:
                ms, error = one(client, seq)
                own.append(ms)
                if error is not None:
                    own_errors.append(error)
            with lock:
                latencies.extend(own)
                errors.extend(own_errors)
            finished.wait()

    deadline[0] = time.monotonic() + max_seconds  # the warm-up counts against the cap too
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    try:
        start.wait()
        began = time.perf_counter()
        cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
        finished.wait()
        seconds = time.perf_counter() - began
        cpu_after = cpu_seconds(server_pid) if server_pid else 0.0
    except threading.BrokenBarrierError:
        raise RuntimeError(f"{name}: a load thread failed: {failures[:1]}") from None
    except BaseException:  # Ctrl-C: every thread stops after its current request
        deadline[0] = 0.0
        start.abort()
        finished.abort()
        raise
    for thread in threads:
        thread.join()

    p50, p90, p99 = percentiles(latencies)
    return LoadResult(
        name=name,
        concurrency=concurrency,
        requests=len(latencies),
        errors=len(errors),
        capped=len(latencies) < requests,
        seconds=round(seconds, 3),
        rps=round(len(latencies) / seconds, 1) if seconds > 0 else 0.0,
        p50_ms=round(p50, 3),
        p90_ms=round(p90, 3),
        p99_ms=round(p99, 3),
        max_ms=round(max(latencies, default=float("nan")), 3),
        server_cpu_ms_per_request=(
            round((cpu_after - cpu_before) * 1000 / len(latencies), 3)
            if server_pid and latencies
            else None
        ),
        first_error=errors[0] if errors else None,
    )

"""The load client, the same for every scenario: HTTP/1.1 on asyncio (uvloop when installed) with
httptools' response parser, one request in flight per connection, requests prebuilt as bytes.

Two ways to load a server, each with untimed warm-up first and a timed window after it:

- closed loop: `concurrency` connections, each sending its next request when its previous one is
  answered (`fresh_connections`: a new connection for every request, for servers that close
  them). A request is timed from just before it is sent (or connected) to its last byte, and
  counted when it ends inside the window.
- open loop: requests scheduled at a fixed rate, whatever the answers, each sent on the next idle
  connection of a pool of `concurrency`. A request is timed from the moment the scheduler released
  it (at most about 1 ms after it was due: the event loop's timers have a resolution of 1 ms, and
  the scheduler never waits for an answer), so the time it then waits for a free connection
  counts: a server that falls behind shows in the latency instead of slowing the offered rate (no
  coordinated omission). It is counted when it was due inside the window.

During the window the CPU time of the watched servers' process trees is read from /proc
(utime + stime); divided by the requests of the window it is their CPU per request.
"""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bench import procs
from bench.http1 import Connection, Endpoint, ProtocolError, RequestSource, connect
from bench.stalls import StallWatch
from bench.stats import percentiles

try:
    import uvloop

    LOOP_FACTORY: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    CLIENT_LOOP = "uvloop"
except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
    LOOP_FACTORY = None
    CLIENT_LOOP = "asyncio"

GRACE_S = 10.0  # after the window: how long requests still in flight may take
TIMER_RESOLUTION_S = 0.001
CLIENT_BUSY = 0.9  # a client this busy (CPU time / window) may be what limits the run


@dataclass(frozen=True)
class Load:
    mode: Literal["closed", "open"]
    concurrency: int  # closed: connections, each with one request in flight; open: the pool
    rate: float | None = None  # open loop: requests per second
    fresh_connections: bool = False  # a new connection for every request

    def describe(self) -> str:
        if self.mode == "open":
            return f"open loop {self.rate:.0f} req/s"
        return f"c={self.concurrency}" + (", new connection each" if self.fresh_connections else "")


@dataclass
class RunResult:
    name: str
    load: str
    concurrency: int
    rate: float | None  # offered req/s (open loop)
    seconds: float  # the timed window
    requests: int  # timed requests (answered or failed)
    errors: int  # whole run, warm-up included: unexpected statuses and transport errors
    unfinished: int  # still unanswered GRACE_S after the window (counted in errors too)
    acknowledged: int  # whole run: answers with the expected status
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    backlog: int  # open loop: most requests ever waiting for a connection in the client
    cpu_ms_per_request: dict[str, float | None]  # per watched server: CPU time / timed request
    first_error: str | None
    client: str = "bench.load"
    # the client's CPU time / the window: near 1.0 the client, not the server, sets the pace
    client_cpu_share: float | None = None
    stall_ms: float = 0.0  # the longest the bench process was not running (bench/stalls.py)
    locations: list[bytes] = field(default_factory=list, repr=False)  # with capture_locations

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["locations"]
        return data


FAILURES = (OSError, ProtocolError)  # ConnectionError is an OSError


class _Recorder:
    def __init__(self, expected_status: int, capture_locations: bool) -> None:
        self.expected = expected_status
        self.capture = capture_locations
        self.window_start = math.inf
        self.window_end = math.inf
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error: str | None = None
        self.acknowledged = 0
        self.locations: list[bytes] = []
        self.stopping = False

    def fail(self, message: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = message

    def answered(self, status: int, location: bytes | None) -> None:
        if status == self.expected:
            self.acknowledged += 1
            if self.capture and location is not None:
                self.locations.append(location)
        else:
            self.fail(f"status {status}")


async def _closed_worker(
    rec: _Recorder, endpoint: Endpoint, source: RequestSource, fresh: bool
) -> None:
    clock = time.perf_counter
    connection: Connection | None = None
    try:
        while not rec.stopping:
            data = source()
            began = clock()
            try:
                if connection is None or not connection.open:
                    connection = await connect(endpoint)
                status, keep_alive, location = await connection.send(data)
            except FAILURES as exc:
                ended = clock()
                rec.fail(f"{type(exc).__name__}: {exc}")
                if rec.window_start <= ended <= rec.window_end:
                    rec.latencies.append((ended - began) * 1000)
                if connection is not None:
                    connection.close()
                    connection = None
                await asyncio.sleep(0.001)  # a refused connection must not spin
                continue
            ended = clock()
            rec.answered(status, location)
            if rec.window_start <= ended <= rec.window_end:
                rec.latencies.append((ended - began) * 1000)
            if fresh or not keep_alive:
                connection.close()
                connection = None
    finally:
        if connection is not None:
            connection.close()


async def _open_worker(
    rec: _Recorder,
    endpoint: Endpoint,
    source: RequestSource,
    fresh: bool,
    due: asyncio.Queue[tuple[float, float] | None],
    connection: Connection | None,
) -> None:
    clock = time.perf_counter
    try:
        while (item := await due.get()) is not None:
            scheduled, released = item
            try:
                if connection is None or not connection.open:
                    connection = await connect(endpoint)
                status, keep_alive, location = await connection.send(source())
            except FAILURES as exc:
                rec.fail(f"{type(exc).__name__}: {exc}")
                ok = False
                if connection is not None:
                    connection.close()
                    connection = None
            else:
                ok = True
                rec.answered(status, location)
            ended = clock()
            if rec.window_start <= scheduled < rec.window_end:
                rec.latencies.append((ended - released) * 1000)
            if ok and connection is not None and (fresh or not keep_alive):
                connection.close()
                connection = None
    finally:
        if connection is not None:
            connection.close()


async def _window(rec: _Recorder, watch: Mapping[str, int], marks: dict[str, Any]) -> None:
    """Reads the watched servers' CPU times at the window's start and end."""
    clock = time.perf_counter
    await asyncio.sleep(max(0.0, rec.window_start - clock()))
    marks["cpu_before"] = procs.cpu_snapshot(watch)
    marks["client_before"] = time.process_time()
    marks["start"] = clock()
    await asyncio.sleep(max(0.0, rec.window_end - clock()))
    marks["cpu_after"] = procs.cpu_snapshot(watch)
    marks["client_after"] = time.process_time()
    marks["end"] = clock()


async def _finish(tasks: list[asyncio.Task[None]], timeout: float) -> int:
    """Waits for the tasks; cancels those still running after `timeout`; how many were."""
    if not tasks:
        return 0
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(pending)


async def _run_closed(
    rec: _Recorder,
    endpoint: Endpoint,
    source: RequestSource,
    load: Load,
    warmup: float,
    seconds: float,
    watch: Mapping[str, int],
    marks: dict[str, Any],
) -> tuple[int, int]:
    rec.window_start = time.perf_counter() + warmup
    rec.window_end = rec.window_start + seconds
    workers = [
        asyncio.create_task(_closed_worker(rec, endpoint, source, load.fresh_connections))
        for _ in range(load.concurrency)
    ]
    await _window(rec, watch, marks)
    rec.stopping = True
    unfinished = await _finish(workers, GRACE_S)
    return unfinished, 0


async def _run_open(
    rec: _Recorder,
    endpoint: Endpoint,
    source: RequestSource,
    load: Load,
    warmup: float,
    seconds: float,
    watch: Mapping[str, int],
    marks: dict[str, Any],
) -> tuple[int, int]:
    assert load.rate is not None and load.rate > 0
    clock = time.perf_counter
    due: asyncio.Queue[tuple[float, float] | None] = asyncio.Queue()
    # every connection of the pool is open before the first request is due
    pool: list[Connection | None] = []
    if not load.fresh_connections:
        opened = await asyncio.gather(
            *(connect(endpoint) for _ in range(load.concurrency)), return_exceptions=True
        )
        for item in opened:
            if isinstance(item, BaseException):
                rec.fail(f"{type(item).__name__}: {item}")
                pool.append(None)
            else:
                pool.append(item)
    else:
        pool = [None] * load.concurrency
    workers = [
        asyncio.create_task(
            _open_worker(rec, endpoint, source, load.fresh_connections, due, connection)
        )
        for connection in pool
    ]
    start = clock()
    rec.window_start = start + warmup
    rec.window_end = rec.window_start + seconds
    window = asyncio.create_task(_window(rec, watch, marks))
    interval = 1.0 / load.rate
    sent = 0
    backlog = 0
    while True:
        next_due = start + sent * interval
        if next_due >= rec.window_end:
            break
        now = clock()
        if next_due > now:
            # at least the timers' resolution: a shorter sleep returns at once (uvloop), and
            # the scheduler would spin
            await asyncio.sleep(max(next_due - now, TIMER_RESOLUTION_S))
            continue
        while next_due <= now and next_due < rec.window_end:
            due.put_nowait((next_due, now))
            sent += 1
            next_due = start + sent * interval
        backlog = max(backlog, due.qsize())
    await window
    for _ in workers:
        due.put_nowait(None)
    left_behind = await _finish(workers, GRACE_S)
    unfinished = left_behind + sum(1 for _ in range(due.qsize()) if due.get_nowait() is not None)
    return unfinished, backlog


def run_load(
    name: str,
    *,
    endpoint: Endpoint,
    source: RequestSource,
    load: Load,
    expected_status: int,
    seconds: float,
    warmup: float,
    watch: Mapping[str, int] | None = None,
    capture_locations: bool = False,
) -> RunResult:
    """One run: `warmup` seconds untimed, then a window of `seconds`; `watch` names the servers
    (label: root pid) whose CPU time is measured during the window."""
    rec = _Recorder(expected_status, capture_locations)
    marks: dict[str, Any] = {}
    watched = dict(watch or {})
    runner: Callable[..., Coroutine[Any, Any, tuple[int, int]]] = (
        _run_open if load.mode == "open" else _run_closed
    )
    gc.collect()
    gc.disable()  # no collector pauses inside the window; every run allocates little
    try:
        with StallWatch() as stalls, asyncio.Runner(loop_factory=LOOP_FACTORY) as loop:
            unfinished, backlog = loop.run(
                runner(rec, endpoint, source, load, warmup, seconds, watched, marks)
            )
    finally:
        gc.enable()
    window = marks["end"] - marks["start"]
    used = procs.cpu_used(marks["cpu_before"], marks["cpu_after"])
    count = len(rec.latencies)
    p50, p90, p99 = percentiles(rec.latencies)
    for _ in range(unfinished):
        rec.fail(f"no answer within {GRACE_S:g} s after the window")
    return RunResult(
        name=name,
        load=load.describe(),
        concurrency=load.concurrency,
        rate=load.rate,
        seconds=round(window, 3),
        requests=count,
        errors=rec.errors,
        unfinished=unfinished,
        acknowledged=rec.acknowledged,
        rps=round(count / window, 1) if window > 0 else 0.0,
        p50_ms=round(p50, 3),
        p90_ms=round(p90, 3),
        p99_ms=round(p99, 3),
        max_ms=round(max(rec.latencies, default=math.nan), 3),
        backlog=backlog,
        cpu_ms_per_request={
            label: round(used[label] * 1000 / count, 4) if count else None for label in watched
        },
        first_error=rec.first_error,
        client_cpu_share=(
            round((marks["client_after"] - marks["client_before"]) / window, 3) if window else None
        ),
        stall_ms=round(stalls.longest_ms, 1),
        locations=rec.locations,
    )

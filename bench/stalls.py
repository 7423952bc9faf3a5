"""Whether the machine stalled the bench during a run: a thread that asks to sleep 5 ms at a time
and records the longest it overslept. A client that did not run for 100 ms or more was not
getting a CPU (other jobs, the hypervisor): that run says nothing about the servers."""

from __future__ import annotations

import threading
import time
from types import TracebackType

TICK_S = 0.005
STALL_LIMIT_MS = 100.0  # a client that did not run this long: the machine stalled the run


class StallWatch:
    """`with StallWatch() as watch: ...`; then `watch.longest_ms`."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watch", daemon=True)

    def _run(self) -> None:
        clock = time.perf_counter
        last = clock()
        while not self._stop.wait(TICK_S):
            now = clock()
            self.longest_ms = max(self.longest_ms, (now - last - TICK_S) * 1000)
            last = now

    def __enter__(self) -> StallWatch:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

"""Speed and memory targets: each a number taken from the results and a limit it must respect.

The limits come from runs on a 2-core machine with headroom (bench/README.md has the numbers);
they are there to catch regressions of several times, not to rank machines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Results = dict[str, Any]


@dataclass(frozen=True)
class Target:
    name: str
    unit: str
    limit: float
    at_most: bool  # True: value <= limit passes; False: value >= limit passes
    value: Callable[[Results], float]

    def check(self, results: Results) -> dict[str, Any]:
        value = float(self.value(results))
        ok = not math.isnan(value) and (
            value <= self.limit if self.at_most else value >= self.limit
        )
        return {
            "name": self.name,
            "value": round(value, 3),
            "limit": self.limit,
            "unit": self.unit,
            "rule": "<=" if self.at_most else ">=",
            "passed": ok,
        }


def _scenario(results: Results, name: str, key: str) -> float:
    return float(results["scenarios"][name][key])


def _overhead(results: Results, key: str, concurrency: int) -> float:
    return _scenario(results, f"dogs-global-c{concurrency}", key) - _scenario(
        results, f"dogs-direct-c{concurrency}", key
    )


def _failed_requests(results: Results) -> float:
    """Errors plus requests never sent because the wall-clock cap ended a scenario."""
    planned = results["config"]["requests"]
    return sum(s["errors"] + max(0, planned - s["requests"]) for s in results["scenarios"].values())


MIB = 1024.0


def _cpu(results: Results, name: str) -> float:
    value = results["scenarios"][name]["server_cpu_ms_per_request"]
    return float("nan") if value is None else float(value)


def _rss_growth_mib(results: Results) -> float:
    memory = results["memory"]
    return float(memory["after"]["VmRSS"] - memory["before"]["VmRSS"]) / MIB


# (name, unit, limit, at_most, value): measured values and the reasoning are in bench/README.md.
TARGETS = (
    Target("every request answered as expected", "requests", 0, True, _failed_requests),
    Target(
        "global overhead p50, GET /dogs, c=1", "ms", 4.0, True, lambda r: _overhead(r, "p50_ms", 1)
    ),
    Target(
        "global overhead p99, GET /dogs, c=1", "ms", 10.0, True, lambda r: _overhead(r, "p99_ms", 1)
    ),
    Target(
        "global GET /dogs req/s, c=16",
        "req/s",
        120,
        False,
        lambda r: _scenario(r, "dogs-global-c16", "rps"),
    ),
    Target(
        "gateway CPU per global request, c=1", "ms", 4.0, True, lambda r: _cpu(r, "dogs-global-c1")
    ),
    Target(
        "partner SigV4 p99, c=1",
        "ms",
        20.0,
        True,
        lambda r: _scenario(r, "partner-sigv4-c1", "p99_ms"),
    ),
    Target(
        "partner SigV4 req/s, c=16",
        "req/s",
        100,
        False,
        lambda r: _scenario(r, "partner-sigv4-c16", "rps"),
    ),
    Target(
        "gateway CPU per partner request, c=1",
        "ms",
        5.0,
        True,
        lambda r: _cpu(r, "partner-sigv4-c1"),
    ),
    Target(
        "ToDo POST p99, c=8", "ms", 250.0, True, lambda r: _scenario(r, "todo-post-c8", "p99_ms")
    ),
    Target(
        "ToDo POST req/s, c=8", "req/s", 100, False, lambda r: _scenario(r, "todo-post-c8", "rps")
    ),
    Target(
        "gateway peak RSS (VmHWM)", "MiB", 100, True, lambda r: r["memory"]["after"]["VmHWM"] / MIB
    ),
    Target("gateway RSS growth during load", "MiB", 20, True, _rss_growth_mib),
)


def check_all(results: Results) -> list[dict[str, Any]]:
    return [target.check(results) for target in TARGETS]

"""The cost targets of issue 15 ([datapath]) and the memory and error checks, each a value per
round compared with a limit. A side-by-side target's value is the ratio (or difference) of two
scenarios measured in the same round; the verdict is on the median over the rounds, and the
spread (min-max over the rounds) is reported with it. bench/README.md has the table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.stats import NAN, Summary, per_round_differences, per_round_ratios

Results = dict[str, Any]
MIB = 1024.0


@dataclass(frozen=True)
class Measured:
    values: list[float]  # per round (or per measurement): what is compared with the limit
    shown: str | None = None  # the "measured" column, when not the value itself: "A vs B"
    detail: str = ""  # more, for the reader
    note: str | None = None  # why it could not be measured


@dataclass(frozen=True)
class Target:
    name: str
    rule: str  # "<=" or ">="
    limit: float
    unit: str  # "x": a ratio of two scenarios
    measure: Callable[[Results], Measured]

    def check(self, results: Results) -> dict[str, Any]:
        try:
            measured = self.measure(results)
        except KeyError as exc:  # a scenario that did not run
            measured = Measured([], note=f"not measured: {exc.args[0]} did not run")
        summary = Summary.of(measured.values)
        value = summary.median
        passed = value == value and (
            value <= self.limit if self.rule == "<=" else value >= self.limit
        )
        return {
            "name": self.name,
            "rule": self.rule,
            "limit": self.limit,
            "unit": self.unit,
            "value": _round(value),
            "low": _round(summary.low),
            "high": _round(summary.high),
            "values": [_round(v) for v in measured.values],
            "measured": measured.shown,
            "detail": measured.detail,
            "note": measured.note,
            "passed": bool(passed),
        }


def _round(value: float) -> float | None:
    return None if value != value else round(value, 4)


def rounds(results: Results, scenario: str, key: str) -> list[float]:
    """A scenario's value per round: a run's key ("p99_ms", "rps") or "cpu:<server>"."""
    runs = results["scenarios"][scenario]["rounds"]
    values = []
    for run in runs:
        if key.startswith("cpu:"):
            value = run["cpu_ms_per_request"].get(key[4:])
        else:
            value = run[key]
        values.append(NAN if value is None else float(value))
    return values


def _median(values: list[float]) -> float:
    return Summary.of(values).median


def _ratio(a: str, a_key: str, b: str, b_key: str, unit: str = "ms") -> Any:
    def measure(results: Results) -> Measured:
        va, vb = rounds(results, a, a_key), rounds(results, b, b_key)
        shown = f"{_median(va):.3f} vs {_median(vb):.3f} {unit}"
        return Measured(per_round_ratios(va, vb), shown, f"{a} / {b}")

    return measure


def _nginx(measure: Callable[[Results], Measured]) -> Callable[[Results], Measured]:
    def guarded(results: Results) -> Measured:
        if not results.get("nginx", {}).get("installed"):
            return Measured([], note="not measured: NGINX is not installed (apt-get install nginx)")
        return measure(results)

    return guarded


def _added_p99(results: Results) -> Measured:
    a = rounds(results, "dogs-global-half", "p99_ms")
    b = rounds(results, "dogs-direct-half", "p99_ms")
    rate = results["half_load"]["rate"]
    shown = f"{_median(a):.2f} - {_median(b):.2f} ms"
    detail = f"p99 via the gateway - p99 direct, open loop at {rate:.0f} req/s"
    return Measured(per_round_differences(a, b), shown, detail)


def _value(scenario: str, key: str) -> Callable[[Results], Measured]:
    def measure(results: Results) -> Measured:
        return Measured(rounds(results, scenario, key))

    return measure


def _failed_requests(results: Results) -> Measured:
    total = sum(
        run["errors"] for scenario in results["scenarios"].values() for run in scenario["rounds"]
    )
    runs = sum(len(s["rounds"]) for s in results["scenarios"].values())
    return Measured([float(total)], detail=f"in {runs} runs" if total else "")


def _todo_missing(results: Results) -> Measured:
    check = results["todo_check"]
    detail = (
        f"{check['acknowledged']} acknowledged, {check['found']} more items listed,"
        f" {check['sample_found']}/{check['sample']} sampled ids found"
    )
    return Measured([float(check["missing"])], detail=detail)


def _cold_start(service: str) -> Callable[[Results], Measured]:
    def measure(results: Results) -> Measured:
        entry = results["cold_start"][service]
        values = [NAN if v is None else float(v) for v in entry["seconds"]]
        note = entry["errors"][0] if entry["errors"] else None
        detail = "spawn to 200: " + " ".join("-" if v != v else f"{v:.3f}" for v in values)
        return Measured(values, detail=detail + " s", note=note)

    return measure


def _peak_rss(results: Results) -> Measured:
    memory = results["memory"]
    value = memory["after"]["VmHWM"] / MIB
    return Measured([value], detail=f"VmHWM, {memory['after']['processes']} process(es)")


def _rss_growth(results: Results) -> Measured:
    memory = results["memory"]
    before, after = memory["before"]["VmRSS"] / MIB, memory["after"]["VmRSS"] / MIB
    return Measured([after - before], detail=f"VmRSS {before:.1f} -> {after:.1f} MiB")


TARGETS = (
    Target("every request answered as expected", "<=", 0, "requests", _failed_requests),
    Target(
        "gateway CPU/request / NGINX's, c=1",
        "<=",
        3.0,
        "x",
        _nginx(_ratio("dogs-global-c1", "cpu:gateway", "nginx-c1", "cpu:nginx")),
    ),
    Target(
        "gateway CPU/request / NGINX's, half load",
        "<=",
        3.0,
        "x",
        _nginx(_ratio("dogs-global-half", "cpu:gateway", "nginx-half", "cpu:nginx")),
    ),
    Target(
        "partner SigV4 CPU/request / global's, c=1",
        "<=",
        1.3,
        "x",
        _ratio("partner-sigv4-c1", "cpu:gateway", "dogs-global-c1", "cpu:gateway"),
    ),
    Target("gateway added p99 at half load", "<=", 5.0, "ms", _added_p99),
    Target(
        "Dog Names CPU/request / bare ASGI's, c=1",
        "<=",
        2.0,
        "x",
        _ratio("dogs-direct-c1", "cpu:dog-names", "floor-asgi-c1", "cpu:floor-asgi"),
    ),
    Target(
        "Dog Names p99 / bare ASGI's, c=64",
        "<=",
        2.0,
        "x",
        _ratio("dogs-direct-c64", "p99_ms", "floor-asgi-c64", "p99_ms"),
    ),
    Target("ToDo durable writes/s, c=32", ">=", 1500, "req/s", _value("todo-post-c32", "rps")),
    Target("ToDo POST p99, c=32", "<=", 20.0, "ms", _value("todo-post-c32", "p99_ms")),
    Target("ToDo acknowledged writes missing", "<=", 0, "items", _todo_missing),
    Target("cold start to first 200, Dog Names", "<=", 0.5, "s", _cold_start("dog-names")),
    Target("cold start to first 200, ToDo", "<=", 0.5, "s", _cold_start("todo")),
    Target("cold start to first 200, gateway", "<=", 0.5, "s", _cold_start("gateway")),
    Target("gateway peak RSS", "<=", 100, "MiB", _peak_rss),
    Target("gateway RSS growth during the load", "<=", 20, "MiB", _rss_growth),
)


def check_all(results: Results) -> list[dict[str, Any]]:
    return [target.check(results) for target in TARGETS]

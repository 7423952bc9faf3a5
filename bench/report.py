"""The compact tables `python -m bench` prints."""

from __future__ import annotations

from typing import Any

from bench.load import CLIENT_BUSY
from bench.stalls import STALL_LIMIT_MS
from bench.stats import Summary
from bench.targets import rounds

KIB_PER_MIB = 1024.0


def _spread(values: list[float], digits: int = 2) -> str:
    s = Summary.of(values)
    if s.median != s.median:
        return "-"
    return f"{s.median:.{digits}f} [{s.low:.{digits}f}-{s.high:.{digits}f}]"


def print_scenarios(results: dict[str, Any]) -> None:
    scenarios: dict[str, dict[str, Any]] = results["scenarios"]
    if not scenarios:
        return
    print(
        "\nper scenario: median [min-max] over the rounds; latencies in ms; cpu = CPU time of each"
        " server's process tree per request, in ms"
    )
    print(
        f"{'scenario':<18} {'load':<24} {'err':>4} {'req/s':>20} {'p50':>7} {'p99':>20}"
        "  cpu/request"
    )
    for name, s in scenarios.items():
        errors = sum(run["errors"] for run in s["rounds"])
        servers = s["rounds"][0]["cpu_ms_per_request"].keys() if s["rounds"] else []
        cpu = ", ".join(
            f"{server} {Summary.of(rounds(results, name, f'cpu:{server}')).median:.3f}"
            for server in servers
        )
        print(
            f"{name:<18} {s['rounds'][0]['load']:<24} {errors:>4} "
            f"{_spread(rounds(results, name, 'rps'), 0):>20} "
            f"{Summary.of(rounds(results, name, 'p50_ms')).median:>7.2f} "
            f"{_spread(rounds(results, name, 'p99_ms')):>20}  {cpu}"
        )
        shares = [run.get("client_cpu_share") or 0.0 for run in s["rounds"]]
        if max(shares, default=0.0) > CLIENT_BUSY:
            print(
                f"{'':<18} the client ({s['rounds'][0]['client']}) was up to"
                f" {max(shares):.0%} busy: it may be what limits this scenario"
            )
        stalls = [run.get("stall_ms", 0.0) for run in s["rounds"]]
        if max(stalls, default=0.0) >= STALL_LIMIT_MS:
            print(
                f"{'':<18} the machine stalled the client up to {max(stalls):.0f} ms in a round"
                " (other jobs?): its numbers are unreliable"
            )
        retried = sum(len(run.get("stalled_attempts_ms", [])) for run in s["rounds"])
        if retried:
            print(f"{'':<18} {retried} run(s) measured again: the machine stalled the client")
        first = next((run["first_error"] for run in s["rounds"] if run["first_error"]), None)
        if first:
            print(f"{'':<18} first error: {first}")
    for name, why in results.get("skipped", {}).items():
        print(f"{name:<18} not run: {why}")


def print_also(results: dict[str, Any]) -> None:
    """Numbers that are no target but help read them."""
    scenarios = results["scenarios"]
    lines = []

    def median(name: str, key: str) -> float:
        return Summary.of(rounds(results, name, key)).median

    if "dogs-global-c1" in scenarios and "dogs-direct-c1" in scenarios:
        lines.append(
            "gateway added latency, c=1: "
            f"p50 {median('dogs-global-c1', 'p50_ms') - median('dogs-direct-c1', 'p50_ms'):.2f} ms,"
            f" p99 {median('dogs-global-c1', 'p99_ms') - median('dogs-direct-c1', 'p99_ms'):.2f} ms"
        )
    if "half_load" in results:
        half = results["half_load"]
        lines.append(
            f"gateway maximum (dogs-global-c16): {half['max_rps']:.0f} req/s;"
            f" half load: {half['rate']:.0f} req/s"
        )
    if "nginx-half" in scenarios and "dogs-direct-half" in scenarios:
        added = median("nginx-half", "p99_ms") - median("dogs-direct-half", "p99_ms")
        lines.append(f"NGINX added p99 at the same half load: {added:.2f} ms")
    if "dogs-direct-c64" in scenarios and "floor-asgi-c64" in scenarios:
        lines.append(
            f"req/s at c=64: Dog Names {median('dogs-direct-c64', 'rps'):.0f},"
            f" bare ASGI {median('floor-asgi-c64', 'rps'):.0f}"
        )
    if lines:
        print("\nalso measured")
        for line in lines:
            print(f"  {line}")


def print_memory(results: dict[str, Any]) -> None:
    memory = results.get("memory")
    if not memory:
        return
    before, after = memory["before"], memory["after"]
    print(
        f"\ngateway memory (pid {memory['pid']}): VmRSS {before['VmRSS'] / KIB_PER_MIB:.1f} MiB "
        f"before, {after['VmRSS'] / KIB_PER_MIB:.1f} MiB after; "
        f"peak VmHWM {after['VmHWM'] / KIB_PER_MIB:.1f} MiB"
    )


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit in ("requests", "items", "req/s"):
        return f"{value:.0f}"
    return f"{value:.3f}" if unit == "s" else f"{value:.2f}"


def _with_unit(value: float | None, unit: str) -> str:
    text = _number(value, unit)
    return text if unit == "x" or value is None else f"{text} {unit}"


def _limit(check: dict[str, Any]) -> str:
    unit = check["unit"]
    return f"{check['rule']} {check['limit']:g}" + ("x" if unit == "x" else f" {unit}")


def print_targets(checks: list[dict[str, Any]]) -> None:
    """target / measured / ratio with the spread. A side-by-side target shows both medians and
    their ratio (median over the rounds of A / B in the same round); an absolute one its value
    and value / limit. The spread is the min-max over the rounds of what is checked."""
    print(
        "\ntargets: the median over the rounds is checked; spread = its min-max over the rounds;"
        "\nratio = A / B for a side-by-side target, measured / limit for an absolute one"
    )
    print(f"{'target':<42} {'limit':>11} {'measured':>22} {'ratio':>7} {'spread':>19}  result")
    for check in checks:
        unit, value, limit = check["unit"], check["value"], check["limit"]
        if unit == "x":
            measured = check["measured"] or "-"
            ratio = _number(value, unit)
        else:
            measured = _with_unit(value, unit)
            ratio = "-" if value is None or not limit else f"{value / limit:.2f}"
        spread = (
            "-"
            if check["low"] is None or len(check["values"]) < 2
            else f"{_number(check['low'], unit)}-{_with_unit(check['high'], unit)}"
        )
        verdict = "PASS" if check["passed"] else "FAIL"
        print(
            f"{check['name']:<42} {_limit(check):>11} "
            f"{measured:>22} {ratio:>7} {spread:>19}  {verdict}"
        )
        extra = check["note"] or (check["detail"] if unit != "x" else "")
        if unit != "x" and check["measured"]:
            extra = f"{check['measured']}; {extra}" if extra else check["measured"]
        if extra:
            print(f"{'':<44}{extra}")

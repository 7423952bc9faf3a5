"""The compact tables `python -m bench` prints."""

from __future__ import annotations

from typing import Any

KIB_PER_MIB = 1024.0


def print_scenarios(results: dict[str, Any]) -> None:
    scenarios: dict[str, dict[str, Any]] = results["scenarios"]
    print("\nlatencies in ms; gw cpu = CPU time the gateway process used per request, in ms")
    print(
        f"{'scenario':<18} {'what':<36} {'n':>5} {'err':>4} {'req/s':>7} "
        f"{'p50':>7} {'p90':>7} {'p99':>7} {'max':>7} {'gw cpu':>7}"
    )
    for name, s in scenarios.items():
        capped = " capped" if s["capped"] else ""
        cpu_ms = s["server_cpu_ms_per_request"]
        cpu = "-" if cpu_ms is None else f"{cpu_ms:.2f}"
        print(
            f"{name:<18} {s['what']:<36} {s['requests']:>5} {s['errors']:>4} {s['rps']:>7.0f} "
            f"{s['p50_ms']:>7.2f} {s['p90_ms']:>7.2f} {s['p99_ms']:>7.2f} "
            f"{s['max_ms']:>7.2f} {cpu:>7}{capped}"
        )
        if s["first_error"]:
            print(f"{'':<18} first error: {s['first_error']}")

    rows = [
        (f"global - direct, c={c}", f"dogs-global-c{c}", f"dogs-direct-c{c}") for c in (1, 16)
    ] + [(f"partner - global, c={c}", f"partner-sigv4-c{c}", f"dogs-global-c{c}") for c in (1, 16)]
    deltas = [
        (label, scenarios[a], scenarios[b])
        for label, a, b in rows
        if a in scenarios and b in scenarios
    ]
    if deltas:
        print(f"\n{'added latency':<24} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7}")
        for label, a, b in deltas:
            print(
                f"{label:<24} {a['p50_ms'] - b['p50_ms']:>7.2f} "
                f"{a['p90_ms'] - b['p90_ms']:>7.2f} {a['p99_ms'] - b['p99_ms']:>7.2f}"
            )


def print_memory(results: dict[str, Any]) -> None:
    memory = results["memory"]
    before, after = memory["before"], memory["after"]
    print(
        f"\ngateway memory (pid {memory['pid']}): VmRSS {before['VmRSS'] / KIB_PER_MIB:.1f} MiB "
        f"before, {after['VmRSS'] / KIB_PER_MIB:.1f} MiB after; "
        f"peak VmHWM {after['VmHWM'] / KIB_PER_MIB:.1f} MiB"
    )


def print_targets(checks: list[dict[str, Any]]) -> None:
    print(f"\n{'target':<40} {'value':>10} {'limit':>14}  result")
    for check in checks:
        limit = f"{check['rule']} {check['limit']:g} {check['unit']}"
        verdict = "PASS" if check["passed"] else "FAIL"
        print(f"{check['name']:<40} {check['value']:>10.2f} {limit:>14}  {verdict}")

"""`python -m bench`: start the stack natively, load it, print a table, check the targets.

Exit status: 0 every target met, 1 a target missed, 2 the stack could not be started or loaded,
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from bench.load import run_load
from bench.report import print_memory, print_scenarios, print_targets
from bench.scenarios import build_scenarios
from bench.sigv4 import SigV4Signer, consumer_identity
from bench.stack import GATEWAY_CONFIG, memory_kib, running_stack
from bench.targets import check_all

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per scenario")
    parser.add_argument(
        "--max-seconds", type=float, default=60.0, help="wall-clock cap per scenario"
    )
    parser.add_argument("--only", default="", help="comma-separated scenario names to run")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument(
        "--report-only", action="store_true", help="print the targets but always exit 0"
    )
    args = parser.parse_args(argv)
    if args.requests < 2 or args.warmup < 0 or args.max_seconds <= 0:
        parser.error("--requests must be >= 2, --warmup >= 0, --max-seconds > 0")
    return args


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # runs the `finally` that stops the servers


def run(args: argparse.Namespace) -> dict[str, Any]:
    signer = SigV4Signer(consumer_identity(GATEWAY_CONFIG))
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "requests": args.requests,
            "warmup": args.warmup,
            "max_seconds": args.max_seconds,
        },
        "scenarios": {},
    }
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    with running_stack() as stack:
        gateway_pid = stack.gateway.process.pid
        memory: dict[str, Any] = {"pid": gateway_pid, "before": memory_kib(gateway_pid)}
        for scenario in build_scenarios(stack, signer):
            if only and scenario.name not in only:
                continue
            print(f"  {scenario.name} ...", end="", flush=True, file=sys.stderr)
            result = run_load(
                scenario.name,
                make_client=scenario.make_client,
                make_request=scenario.make_request,
                expected_status=scenario.expected_status,
                concurrency=scenario.concurrency,
                requests=args.requests,
                warmup=args.warmup,
                max_seconds=args.max_seconds,
                server_pid=gateway_pid if scenario.via_gateway else None,
            )
            print(f" {result.rps:.0f} req/s", file=sys.stderr)
            results["scenarios"][scenario.name] = {"what": scenario.what, **result.as_dict()}
        memory["after"] = memory_kib(gateway_pid)
        results["memory"] = memory
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    began = time.monotonic()
    try:
        results = run(args)
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, LookupError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2

    checks = [] if args.only else check_all(results)
    results["targets"] = checks
    results["passed"] = all(check["passed"] for check in checks)
    results["seconds"] = round(time.monotonic() - began, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")

    print_scenarios(results)
    print_memory(results)
    if checks:
        print_targets(checks)
    print(f"\nresults: {args.output} ({results['seconds']}s)")
    if args.only:
        print("targets not checked: --only runs a subset")
    return 0 if results["passed"] or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())

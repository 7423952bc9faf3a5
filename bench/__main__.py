"""`python -m bench`: start the servers natively, measure every cost target side by side, print
`target / measured / ratio` with the spread over the rounds, check the targets.

Exit status: 0 every target met, 1 a target missed, 2 the servers could not be started or loaded,
130/143 interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

import httpx

from bench.report import print_also, print_memory, print_scenarios, print_targets
from bench.runner import COLD_START, SCENARIO_NAMES, run
from bench.targets import check_all

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"
MIN_ROUNDS = 3  # fewer: the targets are not checked


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="timed window of each run (default 2)"
    )
    parser.add_argument(
        "--warmup", type=float, default=0.3, help="untimed seconds before each window"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each phase (>= 3)")
    parser.add_argument(
        "--cold-starts", type=int, default=3, help="cold starts per service (median of them)"
    )
    parser.add_argument(
        "--only",
        default="",
        help=f"comma-separated scenarios to run (targets not checked): "
        f"{', '.join(SCENARIO_NAMES)}, {COLD_START}",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results file")
    parser.add_argument(
        "--report-only", action="store_true", help="print the targets but always exit 0"
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="times a run is measured again when the machine stalled the client (default 2)",
    )
    parser.add_argument("--no-pin", action="store_true", help="no CPU pinning")
    parser.add_argument(
        "--no-wrk", action="store_true", help="the Python client for the c=64 runs too"
    )
    parser.add_argument(
        "--nginx-access-log",
        choices=("on", "off"),
        default="on",
        help="NGINX writes one access line per request, as the gateway does (default on)",
    )
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.rounds < 1 or args.cold_starts < 1:
        parser.error("--seconds must be > 0, --warmup >= 0, --rounds and --cold-starts >= 1")
    if args.retries < 0:
        parser.error("--retries must be >= 0")
    args.only_set = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = args.only_set - {*SCENARIO_NAMES, COLD_START}
    if unknown:
        parser.error(
            f"--only: no scenario {', '.join(sorted(unknown))}"
            f" (there are {', '.join(SCENARIO_NAMES)}, {COLD_START})"
        )
    return args


def _terminate(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # runs the `finally` that stops the servers


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    began = time.monotonic()
    try:
        results = run(args)
    except KeyboardInterrupt:
        print("\nbench: interrupted; servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, LookupError, httpx.HTTPError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2

    checked = not args.only_set and args.rounds >= MIN_ROUNDS
    checks = check_all(results) if checked else []
    results["targets"] = checks
    results["passed"] = all(check["passed"] for check in checks)
    results["seconds"] = round(time.monotonic() - began, 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")

    print_scenarios(results)
    print_also(results)
    print_memory(results)
    if checks:
        print_targets(checks)
    print(f"\nresults: {args.output} ({results['seconds']}s)")
    if args.only_set:
        print("targets not checked: --only runs a subset")
    elif not checked:
        print(f"targets not checked: fewer than {MIN_ROUNDS} rounds")
    return 0 if results["passed"] or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())

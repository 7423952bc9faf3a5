"""One bench run: start the servers, run the phases round after round with the servers pinned
where the scenario says, check ToDo's acknowledged writes, time the cold starts; the results as a
dict (bench/results/latest.json)."""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from devstack.ports import free_port
from devstack.ready import StartError
from devstack.stack import DOG_NAMES, GATEWAY, TODO

from bench import coldstart, procs
from bench.load import CLIENT_BUSY, CLIENT_LOOP, RunResult, run_load
from bench.scenarios import HALF_LOAD_FROM, PHASES, PLACEMENTS, Scenario, build_scenarios
from bench.sigv4 import SigV4Signer, consumer_identity
from bench.stack import GATEWAY_CONFIG, ROOT, BenchStack, running_bench_stack
from bench.stalls import STALL_LIMIT_MS
from bench.stats import Summary
from bench.targets import rounds
from bench.wrk import find_wrk, run_wrk

COLD_START = "cold-start"
SCENARIO_NAMES = [name for phase in PHASES for name in phase.scenarios]
OPEN_LOOP_FACTOR = 1.5  # an open-loop window is this many times --seconds: more samples for p99
TODO_SAMPLE = 50  # acknowledged ids read back one by one after the ToDo runs
MIN_HALF_RATE = 10.0


@dataclass(frozen=True)
class Layout:
    """Where the client and the servers run: the client (this process) on the first allowed
    CPU, the server under test on the second, as PLACEMENTS says (taskset's sched_setaffinity)."""

    cpus: tuple[int, ...]
    enabled: bool

    @property
    def active(self) -> bool:
        return self.enabled and len(self.cpus) >= 2

    def cpu_set(self, where: str) -> set[int]:
        if where == "client":
            return {self.cpus[0]}
        if where == "server":
            return {self.cpus[1]}
        return set(self.cpus)

    def pin_client(self) -> None:
        if self.active:
            procs.pin_self(self.cpu_set("client"))

    def unpin(self) -> None:
        if self.active:
            procs.pin_self(self.cpus)

    def place(self, placement: str, pids: dict[str, int]) -> None:
        if not self.active:
            return
        for server, where in PLACEMENTS[placement].items():
            if server in pids:
                procs.pin(pids[server], self.cpu_set(where))

    def describe(self) -> dict[str, Any]:
        if not self.active:
            why = "--no-pin" if not self.enabled else f"only CPU {list(self.cpus)} allowed"
            return {"pinned": False, "why": why}
        return {
            "pinned": True,
            "client_cpu": self.cpus[0],
            "server_cpu": self.cpus[1],
            "placements": {
                name: {server: sorted(self.cpu_set(where)) for server, where in places.items()}
                for name, places in PLACEMENTS.items()
            },
        }


def _progress(text: str, end: str = "\n") -> None:
    print(text, end=end, flush=True, file=sys.stderr)


def _todo_items(base_url: str) -> int:
    with httpx.Client(trust_env=False, timeout=60.0) as client:
        response = client.get(base_url + "/todo")
        response.raise_for_status()
        return len(response.json())


def _todo_found(base_url: str, locations: list[bytes]) -> int:
    found = 0
    with httpx.Client(base_url=base_url, trust_env=False, timeout=10.0) as client:
        for location in locations:
            path = httpx.URL(location.decode("latin-1")).path
            found += client.get(path).status_code == 200
    return found


class Bench:
    def __init__(self, args: argparse.Namespace, bench: BenchStack, layout: Layout) -> None:
        self.args = args
        self.bench = bench
        self.layout = layout
        stack = bench.stack
        self.pids = {
            "gateway": stack.gateway.process.pid,
            "dog-names": stack.dog_names.process.pid,
            "todo": stack.todo.process.pid,
            "floor-asgi": bench.floor.process.pid,
        }
        if bench.nginx is not None:
            self.pids["nginx"] = bench.nginx.process.pid
        self.scenarios = build_scenarios(bench, SigV4Signer(consumer_identity(GATEWAY_CONFIG)))
        self.wrk = None if args.no_wrk else find_wrk()

    def run_one(self, scenario: Scenario, label: str) -> dict[str, Any]:
        """One run; again (up to --retries times) when the machine stalled the client."""
        self.layout.place(scenario.placement, self.pids)
        client = " with wrk" if self.wrk and scenario.wrk_path else ""
        _progress(f"  {label} {scenario.name} ({scenario.load.describe()}{client}) ...", end="")
        stalled: list[float] = []
        while True:
            result = self.measure(scenario)
            if result.stall_ms < STALL_LIMIT_MS or len(stalled) >= self.args.retries:
                break
            stalled.append(result.stall_ms)
            _progress(f" stalled {result.stall_ms:.0f} ms (machine busy), again ...", end="")
        cpu = " ".join(
            f"{server} {value:.3f}"
            for server, value in result.cpu_ms_per_request.items()
            if value is not None
        )
        notes = f", {result.errors} errors" if result.errors else ""
        share = result.client_cpu_share
        if share is not None and share > CLIENT_BUSY:
            notes += f", client {share:.0%} busy"
        if result.stall_ms >= STALL_LIMIT_MS:
            notes += f", client stalled {result.stall_ms:.0f} ms"
        _progress(f" {result.rps:.0f} req/s, p99 {result.p99_ms:.2f} ms, cpu ms/req {cpu}{notes}")
        run = result.as_dict()
        run["stalled_attempts_ms"] = stalled  # runs measured again: the machine stalled them
        run["locations"] = result.locations  # dropped before the JSON is written
        return run

    def measure(self, scenario: Scenario) -> RunResult:
        seconds = self.args.seconds * (OPEN_LOOP_FACTOR if scenario.load.mode == "open" else 1)
        watch = {server: self.pids[server] for server in scenario.watch}
        if self.wrk is not None and scenario.wrk_path is not None:
            return run_wrk(
                scenario.name,
                binary=self.wrk,
                url=f"http://{scenario.endpoint.authority}{scenario.wrk_path}",
                load=scenario.load,
                seconds=seconds,
                warmup=self.args.warmup,
                watch=watch,
            )
        return run_load(
            scenario.name,
            endpoint=scenario.endpoint,
            source=scenario.source,
            load=scenario.load,
            expected_status=scenario.expected_status,
            seconds=seconds,
            warmup=self.args.warmup,
            watch=watch,
            capture_locations=scenario.capture_locations,
        )

    def run_phases(self, results: dict[str, Any], wanted: set[str]) -> None:
        for phase in PHASES:
            names = [name for name in phase.scenarios if name in wanted]
            for name in names:
                if name not in self.scenarios:
                    results["skipped"][name] = "NGINX is not installed (apt-get install nginx)"
            names = [name for name in names if name in self.scenarios]
            if not names:
                continue
            if phase.name == "half":
                max_rps = Summary.of(rounds(results, HALF_LOAD_FROM, "rps")).median
                rate = max(MIN_HALF_RATE, max_rps / 2) if max_rps == max_rps else MIN_HALF_RATE
                results["half_load"] = {"from": HALF_LOAD_FROM, "max_rps": max_rps, "rate": rate}
            if phase.name == "todo":
                todo_before = _todo_items(self.bench.stack.todo.base_url)
            _progress(f"{phase.name}: {phase.what}")
            for r in range(self.args.rounds):
                order = names if r % 2 == 0 else names[::-1]
                for name in order:
                    scenario = self.scenarios[name]
                    if scenario.load.mode == "open":
                        scenario = replace(
                            scenario, load=replace(scenario.load, rate=results["half_load"]["rate"])
                        )
                    label = f"[{phase.name} {r + 1}/{self.args.rounds}]"
                    run = self.run_one(scenario, label)
                    entry = results["scenarios"].setdefault(
                        name,
                        {
                            "what": scenario.what,
                            "server": scenario.server,
                            "load": scenario.load.describe(),
                            "placement": scenario.placement,
                            "rounds": [],
                        },
                    )
                    entry["rounds"].append(run)
            if phase.name == "todo":
                results["todo_check"] = self.check_todo(results, todo_before)

    def check_todo(self, results: dict[str, Any], before: int) -> dict[str, Any]:
        """Every acknowledged write is there: the list grew by at least the number of 201s, and
        a sample of the acknowledged ids (their Location) reads back 200."""
        runs = results["scenarios"]["todo-post-c32"]["rounds"]
        acknowledged = sum(run["acknowledged"] for run in runs)
        locations = [location for run in runs for location in run["locations"]]
        base_url = self.bench.stack.todo.base_url
        found = _todo_items(base_url) - before
        sample = random.sample(locations, min(TODO_SAMPLE, len(locations)))
        sample_found = _todo_found(base_url, sample)
        missing = max(0, acknowledged - found) + (len(sample) - sample_found)
        if len(locations) < acknowledged:  # a 201 without Location cannot be read back
            missing += acknowledged - len(locations)
        return {
            "acknowledged": acknowledged,
            "items_before": before,
            "found": found,
            "sample": len(sample),
            "sample_found": sample_found,
            "missing": missing,
        }

    def cold_starts(self, results: dict[str, Any]) -> None:
        stack = self.bench.stack
        base = dict(os.environ)
        specs = {"dog-names": DOG_NAMES, "todo": TODO, "gateway": GATEWAY}
        entries: dict[str, dict[str, Any]] = {name: {"seconds": [], "errors": []} for name in specs}
        _progress(
            f"cold start: spawn to the first 200 on the health path, {self.args.cold_starts}x"
        )
        for i in range(self.args.cold_starts):
            for name, spec in specs.items():
                env = dict(base)
                if name == "todo":
                    env["TODO_DB_PATH"] = str(self.bench.tmp / f"cold-todo-{i}.db")
                if name == "gateway":
                    env.update(
                        GATEWAY_CONFIG=str(GATEWAY_CONFIG),
                        DOG_NAMES_HOST=stack.dog_names.address,
                        TODO_HOST=stack.todo.address,
                        FRONTDOOR_PORT=str(free_port()),
                    )
                log = self.bench.tmp / f"cold-{name}-{i}.log"
                try:
                    seconds: float | None = coldstart.time_to_first_200(spec, env, log, ROOT)
                except StartError as exc:
                    seconds = None
                    entries[name]["errors"].append(exc.summary)
                entries[name]["seconds"].append(seconds)
                shown = "failed" if seconds is None else f"{seconds:.3f} s"
                _progress(f"  [cold {i + 1}/{self.args.cold_starts}] {name}: {shown}")
        results["cold_start"] = entries


def run(args: argparse.Namespace) -> dict[str, Any]:
    layout = Layout(tuple(sorted(os.sched_getaffinity(0))), enabled=not args.no_pin)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "config": {
            "seconds": args.seconds,
            "open_loop_seconds": args.seconds * OPEN_LOOP_FACTOR,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "cold_starts": args.cold_starts,
            "retries": args.retries,
            "client": f"bench.load ({CLIENT_LOOP}, httptools)",
            "pinning": layout.describe(),
        },
        "scenarios": {},
        "skipped": {},
    }
    wanted = set(SCENARIO_NAMES) if not args.only_set else set(args.only_set)
    if wanted & set(PHASES[2].scenarios):  # the half-load rate comes from the gateway's maximum
        wanted.add(HALF_LOAD_FROM)
    with running_bench_stack(nginx_access_log=args.nginx_access_log == "on") as stack:
        results["nginx"] = {
            "installed": stack.nginx is not None,
            "access_log": args.nginx_access_log,
            "config": (stack.tmp / "nginx.conf").read_text() if stack.nginx else None,
        }
        if stack.nginx is None:
            _progress("bench: NGINX is not installed (apt-get install nginx): its targets FAIL")
        bench = Bench(args, stack, layout)
        results["config"]["wrk"] = bench.wrk
        if bench.wrk is None:
            _progress(
                "bench: wrk is not installed (apt-get install wrk) or --no-wrk: the c=64 runs use"
                " the Python client, which may be slower than the servers (see client busy)"
            )
        gateway_pid = bench.pids["gateway"]
        memory: dict[str, Any] = {"pid": gateway_pid, "before": procs.memory_kib(gateway_pid)}
        layout.pin_client()
        try:
            bench.run_phases(results, wanted)
        finally:
            layout.unpin()  # servers started from here on (cold starts) inherit every CPU
        memory["after"] = procs.memory_kib(gateway_pid)
        results["memory"] = memory
        if not args.only_set or COLD_START in args.only_set:
            bench.cold_starts(results)
    for scenario in results["scenarios"].values():
        for run_ in scenario["rounds"]:
            run_.pop("locations", None)
    return results

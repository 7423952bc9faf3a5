"""The aws-like stack (`make up PROFILE=aws-like`): ToDo as two instances on one DynamoDB table
behind a load balancer standing for the NLB, the gateway's VPC link pointing at it.

What the PrivateLink post's deployment promises and nothing in the default stack can show: every
instance serves what any of them stored; when one dies under load, acknowledged writes are all
still there, only the requests it had in flight fail, and the load balancer stops sending to it
within seconds; started again, it takes traffic again. Traffic goes only to the published port;
the instances are read from inside their containers (`docker exec`), as an operator would.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from .stack import PUBLIC_API, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.aws_like]

PROJECT = "private-apis"
# The HTTP API's answer when the integration's connection breaks (SPEC 4).
IN_FLIGHT_FAILURE = (500, {"message": "Internal Server Error"})
WRITERS = 4
WRITE_INTERVAL_S = 0.1  # per writer: about 40 writes a second in all
MAX_WRITES = 400
WARM_UP_WRITES = 20
AFTER_KILL_S = 7.0
# What "within a few seconds" means here: the NLB stand-in checks every second, two failures
# take a target out, and a stopped container leaves Docker's DNS at once.
TAKEN_OUT_WITHIN_S = 5.0
BACK_IN_SERVICE_WITHIN_S = 30.0

# HAProxy's log lines for a target going out of service (by DNS, or by its health checks).
TAKEN_OUT = re.compile(r"Server targets/(?P<slot>\S+) is (?:going DOWN for maintenance|DOWN)\b")


def _docker(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stderr}"
    return result.stdout


def service_containers(service: str) -> list[str]:
    """Names of the service's containers, running or not (by compose's labels, so it works with
    or without COMPOSE_FILE naming the override file)."""
    out = _docker(
        "ps", "--all", "--format", "{{.Names}}",
        "--filter", f"label=com.docker.compose.project={PROJECT}",
        "--filter", f"label=com.docker.compose.service={service}",
    )  # fmt: skip
    return sorted(out.split())


def in_replica(container: str, paths: list[str]) -> list[tuple[int, Any]]:
    """GET each path from inside `container`, on the instance's own port (not through the NLB)."""
    script = (
        "import json, sys, urllib.error, urllib.request\n"
        "out = []\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        with urllib.request.urlopen('http://127.0.0.1:8080' + path, timeout=5) as r:\n"
        "            out.append([r.status, json.loads(r.read())])\n"
        "    except urllib.error.HTTPError as exc:\n"
        "        out.append([exc.code, json.loads(exc.read())])\n"
        "print(json.dumps(out))\n"
    )
    out = _docker("exec", container, "python3", "-c", script, *paths)
    return [(status, body) for status, body in json.loads(out)]


def health_of(container: str) -> str:
    return _docker("inspect", "--format", "{{.State.Health.Status}}", container).strip()


def logs_since(container: str, since: float) -> list[tuple[float, str]]:
    """(time, line) of the container's log lines (stdout and stderr) from `since` on."""
    result = subprocess.run(
        ["docker", "logs", "--timestamps", "--since", f"{since:.3f}", container],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = []
    for raw in (result.stdout + result.stderr).splitlines():
        stamp, _, text = raw.partition(" ")
        # RFC 3339 with nanoseconds: fromisoformat takes microseconds.
        whole, _, fraction = stamp.rstrip("Z").partition(".")
        moment = datetime.fromisoformat(f"{whole}.{fraction[:6].ljust(6, '0')}+00:00")
        lines.append((moment.timestamp(), text))
    return sorted(lines)


def balanced_requests_since(container: str, since: float) -> int:
    """ToDo requests the instance logged (its JSON access lines) that came through the load
    balancer: neither its health checks nor what `in_replica` asked from inside."""
    count = 0
    for _, text in logs_since(container, since):
        if text.startswith("{"):
            entry = json.loads(text)
            if entry.get("path", "").startswith("/todo") and entry.get("client") != "127.0.0.1":
                count += 1
    return count


@pytest.fixture(scope="module")
def replicas(public_api: httpx.Client) -> list[str]:
    found = service_containers("todo")
    if len(found) != 2 or not service_containers("todo-nlb"):
        pytest.fail(
            f"these tests need the aws-like stack (make up PROFILE=aws-like): found todo "
            f"containers {found} and load balancer {service_containers('todo-nlb')}"
        )
    for name in found:
        assert health_of(name) == "healthy", name
    return found


def test_items_written_through_the_api_are_readable_from_both_replicas(
    public_api: httpx.Client, replicas: list[str]
) -> None:
    marker = uuid.uuid4().hex
    created = []
    for n in range(10):
        response = public_api.post("/todo", json={"data": f"replicated {marker} {n}"})
        assert response.status_code == 201, response.text
        created.append(response.json())

    paths = [f"/todo/{item['id']}" for item in created] + ["/todo"]
    for replica in replicas:
        *items, (status, listed) = in_replica(replica, paths)
        assert items == [(200, item) for item in created], replica
        assert status == 200
        assert [item for item in listed if marker in item["data"]] == created, replica


def test_the_load_balancer_checks_each_replica_on_health(replicas: list[str]) -> None:
    """HTTP checks of /health, from the load balancer itself (the container's own HEALTHCHECK
    asks from 127.0.0.1), pass on both instances."""
    [balancer] = service_containers("todo-nlb")
    started = float(
        datetime.fromisoformat(
            _docker("inspect", "--format", "{{.State.StartedAt}}", balancer).strip()[:26] + "+00:00"
        ).timestamp()
    )

    def checked_by_balancer(replica: str) -> bool:
        for _, text in logs_since(replica, started):
            if text.startswith("{"):
                entry = json.loads(text)
                if entry.get("path") == "/health" and entry.get("client") != "127.0.0.1":
                    return entry.get("status") == 200
        return False

    for replica in replicas:
        wait_until(lambda r=replica: checked_by_balancer(r), f"a health check of {replica}")
    passed = {
        match.group(1)
        for _, text in logs_since(balancer, started)
        if (
            match := re.search(r"server targets/(\S+) succeeded, reason: Layer7 check passed", text)
        )
    }
    assert len(passed) == 2, passed


@dataclass
class Write:
    started: float
    ended: float
    status: int | str
    body: Any


class WriteLoad:
    """WRITERS threads posting through the public API, one write every WRITE_INTERVAL_S each,
    MAX_WRITES at most in all, until stopped."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.writes: list[Write] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(WRITERS)
        ]

    def _run(self, writer: int) -> None:
        with httpx.Client(base_url=PUBLIC_API, timeout=30) as http:
            for n in range(MAX_WRITES // WRITERS):
                if self._stop.is_set():
                    return
                started = time.time()
                try:
                    response = http.post("/todo", json={"data": f"{self.marker} {writer} {n}"})
                    status, body = response.status_code, response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    status, body = "error", repr(exc)
                with self._lock:
                    self.writes.append(Write(started, time.time(), status, body))
                # A steady pace, not as fast as possible: the load stays bounded in time too.
                self._stop.wait(max(0.0, WRITE_INTERVAL_S - (time.time() - started)))

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def acknowledged(self) -> list[dict[str, str]]:
        with self._lock:
            return [w.body for w in self.writes if w.status == 201]

    def stop(self) -> list[Write]:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        return sorted(self.writes, key=lambda w: w.started)


def test_a_killed_replica_is_taken_out_and_comes_back(
    public_api: httpx.Client, replicas: list[str]
) -> None:
    victim, survivor = replicas
    [balancer] = service_containers("todo-nlb")
    load = WriteLoad(f"load {uuid.uuid4().hex}")
    load.start()
    try:
        wait_until(
            lambda: len(load.acknowledged()) >= WARM_UP_WRITES, "the write load to get going"
        )
        assert balanced_requests_since(victim, time.time() - 60) > 0, "the victim had no traffic"
        killed_at = time.time()
        _docker("kill", victim)  # SIGKILL: no graceful shutdown, in-flight requests are cut
        killed = time.time()
        time.sleep(AFTER_KILL_S)  # the load runs on meanwhile
    finally:
        writes = load.stop()

    assert len(writes) <= MAX_WRITES
    failed = [w for w in writes if w.status != 201]
    for w in failed:
        # Only requests in flight when the instance died may fail, and only as the gateway
        # answers a broken integration connection.
        assert w.started <= killed and w.ended >= killed_at, w
        assert (w.status, w.body) == IN_FLIGHT_FAILURE, w
    assert len(failed) <= WRITERS
    after_kill = [w for w in writes if w.started > killed]
    assert len(after_kill) >= 10 * WRITERS, "too little load after the kill to show anything"

    # The load balancer took it out of service within seconds of the kill.
    taken_out = [
        moment
        for moment, text in logs_since(balancer, killed_at - 1)
        if TAKEN_OUT.search(text) and moment >= killed_at
    ]
    assert taken_out, "the load balancer never took the killed instance out"
    assert taken_out[0] - killed_at < TAKEN_OUT_WITHIN_S, taken_out[0] - killed_at

    # Every acknowledged write is there, on the surviving instance and through the API.
    acknowledged = [w.body for w in writes if w.status == 201]
    listed = {item["id"]: item for item in public_api.get("/todo").json()}
    assert [listed.get(item["id"]) for item in acknowledged] == acknowledged
    direct = in_replica(survivor, [f"/todo/{item['id']}" for item in acknowledged])
    assert direct == [(200, item) for item in acknowledged]

    # Started again, it takes traffic again, and serves what was written while it was down.
    _docker("start", victim)
    restarted = time.time()
    wait_until(
        lambda: health_of(victim) == "healthy",
        f"{victim} to be healthy again",
        timeout=BACK_IN_SERVICE_WITHIN_S,
    )

    def victim_serves() -> bool:
        for _ in range(4):
            assert public_api.get("/todo?limit=1").status_code == 200
        return balanced_requests_since(victim, restarted) > 0

    wait_until(victim_serves, f"{victim} to take traffic again", timeout=BACK_IN_SERVICE_WITHIN_S)
    sample = acknowledged[-5:]
    assert in_replica(victim, [f"/todo/{item['id']}" for item in sample]) == [
        (200, item) for item in sample
    ]

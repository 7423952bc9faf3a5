"""`python -m devstack` (`make run`) as a subprocess: serves, and stops everything on a signal or
when one of its servers dies."""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_ports

from .conftest import group_gone, still_running

BANNER = re.compile(
    r"^devstack: (?P<name>[a-z-]+) +http://127\.0\.0\.1:(?P<port>\d+)  pid (?P<pid>\d+)$"
)


@dataclass
class Run:
    process: subprocess.Popen[bytes]
    output: Path
    env: dict[str, str]

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 60.0) -> str:
        """The output once it holds `needle` (polled: it comes from another process)."""
        deadline = time.monotonic() + timeout
        while needle not in (text := self.text()):
            assert self.process.poll() is None or needle in self.text(), text
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{text}"
            time.sleep(0.05)
        return text

    def pids(self) -> dict[str, int]:
        found = (BANNER.match(line) for line in self.text().splitlines())
        return {m["name"]: int(m["pid"]) for m in found if m}

    def ports(self) -> dict[str, int]:
        found = (BANNER.match(line) for line in self.text().splitlines())
        return {m["name"]: int(m["port"]) for m in found if m}

    def frontdoor_port(self) -> int:
        match = FRONT_DOOR.search(self.text())
        assert match is not None, self.text()
        return int(match["port"])


Start = Callable[..., Run]  # start(*args, **env): `python -m devstack *args` with more env
FRONT_DOOR = re.compile(r"^devstack: front door http://127\.0\.0\.1:(?P<port>\d+)  ", re.MULTILINE)
PORT_VARIABLES = (
    "GATEWAY_PORT",
    "FRONTDOOR_PORT",
    "DOG_NAMES_PORT",
    "TODO_PORT",
    "WIDGETS_PORT",
    "AUTHORIZER_PORT",
)
ANY_PORTS = dict.fromkeys(PORT_VARIABLES, "0")


@pytest.fixture
def start(tmp_path: Path, marked_env: dict[str, str]) -> Iterator[Start]:
    runs: list[Run] = []

    def run(*args: str, **env: str) -> Run:
        output = tmp_path / f"devstack-{len(runs)}.out"
        # devstack leaves an ignored SIGINT ignored (a background job of a script); a pytest
        # that runs as one must not hand that down, so not SIG_IGN while the child starts.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            with output.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "devstack", *args],
                    cwd=tmp_path,
                    env={**marked_env, **env},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a signal for it alone, as Ctrl-C in a terminal
                )
        finally:
            signal.signal(signal.SIGINT, previous)
        runs.append(Run(process, output, marked_env))
        return runs[-1]

    yield run
    for run_ in runs:  # a failed test must not leave the stack behind
        if run_.process.poll() is None:
            run_.process.send_signal(signal.SIGINT)
            run_.process.wait(timeout=60)
    assert still_running(marked_env) == []


def test_serves_on_the_ports_from_the_environment_and_stops_on_sigint(
    start: Start, tmp_path: Path
) -> None:
    gateway_port, frontdoor_port, dog_port, todo_port, widgets_port, authorizer_port = free_ports(6)
    run = start(
        GATEWAY_PORT=str(gateway_port),
        FRONTDOOR_PORT=str(frontdoor_port),
        DOG_NAMES_PORT=str(dog_port),
        TODO_PORT=str(todo_port),
        WIDGETS_PORT=str(widgets_port),
        AUTHORIZER_PORT=str(authorizer_port),
    )
    run.wait_for("Ctrl-C stops all")

    assert run.ports() == {
        "dog-names": dog_port,
        "todo": todo_port,
        "widgets": widgets_port,
        "authorizer": authorizer_port,
        "gateway": gateway_port,
    }
    dog = httpx.get(f"http://127.0.0.1:{gateway_port}/dogs", timeout=10)
    todo = httpx.post(f"http://127.0.0.1:{gateway_port}/todo", data={"data": "milk"}, timeout=10)
    assert dog.status_code == 200 and set(dog.json()) == {"Name", "Gender"}
    assert todo.status_code == 201
    assert (tmp_path / "data" / "todo.db").exists()  # data/todo.db below the working directory
    # the README's curls of the front door, the token made in secrets/authorizer-token
    secret = tmp_path / "secrets" / "authorizer-token"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    token = secret.read_text().strip()
    assert run.frontdoor_port() == frontdoor_port
    frontdoor = f"http://127.0.0.1:{frontdoor_port}/prod/"
    with_token = httpx.get(frontdoor, headers={"Authorization": token}, timeout=10)
    without = httpx.get(frontdoor, timeout=10)
    assert (with_token.status_code, with_token.json()) == (200, {"id": "1", "value": "4.99"})
    assert (without.status_code, without.content) == (401, b'{"message":"Unauthorized"}')
    # the private API itself, from the host: no VPC endpoint, Forbidden whatever the token
    widgets = f"http://127.0.0.1:{gateway_port}/prod/widgets"
    direct = httpx.get(
        widgets, headers={"x-apigw-api-id": "widgetsap1", "Authorization": token}, timeout=10
    )
    assert (direct.status_code, direct.content) == (403, b'{"message":"Forbidden"}')
    pids = run.pids()

    run.process.send_signal(signal.SIGINT)

    assert run.process.wait(timeout=60) == 128 + signal.SIGINT
    text = run.text()
    assert "devstack: SIGINT: stopping gateway, authorizer, widgets, todo, dog-names" in text
    assert text.rstrip().endswith("devstack: all stopped")
    assert re.search(r"^gateway +\| .*Shutting down", text, re.MULTILINE)  # stopped, not killed
    assert all(group_gone(pid) for pid in pids.values())
    assert still_running(run.env) == []


def test_ports_and_db_from_the_options(start: Start, tmp_path: Path) -> None:
    gateway_port, frontdoor_port, dog_port, todo_port, widgets_port, authorizer_port = free_ports(6)
    run = start(
        "--gateway-port",
        str(gateway_port),
        "--frontdoor-port",
        str(frontdoor_port),
        "--dog-names-port",
        str(dog_port),
        "--todo-port",
        str(todo_port),
        "--widgets-port",
        str(widgets_port),
        "--authorizer-port",
        str(authorizer_port),
        "--db",
        "elsewhere/todo.db",
        "--token-secret",
        "elsewhere/token",
        GATEWAY_PORT="1",
    )
    run.wait_for("Ctrl-C stops all")

    assert run.ports() == {
        "dog-names": dog_port,
        "todo": todo_port,
        "widgets": widgets_port,
        "authorizer": authorizer_port,
        "gateway": gateway_port,
    }
    assert run.frontdoor_port() == frontdoor_port
    assert (tmp_path / "elsewhere" / "todo.db").exists()
    assert (tmp_path / "elsewhere" / "token").exists()
    run.process.send_signal(signal.SIGTERM)
    assert run.process.wait(timeout=60) == 128 + signal.SIGTERM


def test_a_server_that_dies_stops_the_others(start: Start) -> None:
    run = start(**ANY_PORTS)
    run.wait_for("Ctrl-C stops all")
    pids = run.pids()

    os.killpg(pids["dog-names"], signal.SIGKILL)

    assert run.process.wait(timeout=60) == 1
    assert (
        "devstack: dog-names exited with signal SIGKILL:"
        " stopping gateway, authorizer, widgets, todo, dog-names"
    ) in run.text()
    assert all(group_gone(pid) for pid in pids.values())
    assert still_running(run.env) == []


def test_a_port_in_use_is_one_clear_line(start: Start) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = start(**(ANY_PORTS | {"GATEWAY_PORT": str(port)}))

        assert run.process.wait(timeout=60) == 1

    assert run.text() == (
        f"devstack: gateway cannot start: 127.0.0.1:{port} is already in use;"
        " nothing is left running\n"
    )


def test_a_bad_port_is_a_usage_error(start: Start) -> None:
    run = start(TODO_PORT="eighty")

    assert run.process.wait(timeout=60) == 2
    assert (
        "argument --todo-port: 'eighty' is not a port, 0-65535 (from the option or $TODO_PORT)"
        in run.text()
    )

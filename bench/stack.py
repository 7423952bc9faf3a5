"""Start Dog Names, ToDo and the gateway natively on free loopback ports, as `make run` does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_CONFIG = ROOT / "gateway" / "config" / "gateway.yaml"
LOOPBACK = "127.0.0.1"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

# Throttling would shape the numbers instead of the code: the bench lifts the stage limits far
# above what one machine can send (the token buckets are still consulted on every request).
UNTHROTTLED = {
    f"{api}_{knob}": "1000000"
    for api in ("GLOBAL", "PARTNER", "MTLS")
    for knob in ("RATE", "BURST")
}


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free unless someone grabs it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    name: str
    port: int
    health_path: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    workdir: Path
    services: dict[str, Service] = field(default_factory=dict)

    @property
    def dog_names(self) -> Service:
        return self.services["dog-names"]

    @property
    def todo(self) -> Service:
        return self.services["todo"]

    @property
    def gateway(self) -> Service:
        return self.services["gateway"]


def _start(stack: Stack, name: str, module: str, env: dict[str, str], health_path: str) -> Service:
    port = free_port()
    log_path = stack.workdir / f"{name}.log"
    full_env = {**os.environ, **env, "HOST": LOOPBACK, "PORT": str(port)}
    with log_path.open("wb") as log:
        # Own session: Ctrl-C in the terminal reaches only the bench, which stops these in order.
        process = subprocess.Popen(  # noqa: S603  # fixed argv: this interpreter and a module
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(name, port, health_path, process, log_path)
    stack.services[name] = service
    return service


def _wait_ready(service: Service, deadline: float) -> None:
    url = service.base_url + service.health_path
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"{service.name} exited with status {service.process.returncode}:\n"
                    + service.log_tail()
                )
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(
        f"{service.name} not ready at {url} in {READY_TIMEOUT_S}s:\n" + service.log_tail()
    )


def _stop(service: Service) -> None:
    process = service.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # The process group is the one this process started (gunicorn's workers included).
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def running_stack() -> Iterator[Stack]:
    """The three processes, ready; stopped (gateway first) however the block ends."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        stack = Stack(Path(tmp))
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            dog_names = _start(stack, "dog-names", "dog_names", {}, "/health")
            todo = _start(
                stack, "todo", "todo", {"TODO_DB_PATH": str(stack.workdir / "todo.db")}, "/health"
            )
            _wait_ready(dog_names, deadline)
            _wait_ready(todo, deadline)
            gateway_env = {
                **UNTHROTTLED,
                "GATEWAY_CONFIG": str(GATEWAY_CONFIG),
                "DOG_NAMES_HOST": f"{LOOPBACK}:{dog_names.port}",
                "TODO_HOST": f"{LOOPBACK}:{todo.port}",
            }
            gateway = _start(stack, "gateway", "gateway", gateway_env, "/__gateway/health")
            _wait_ready(gateway, time.monotonic() + READY_TIMEOUT_S)
            yield stack
        finally:
            for service in reversed(list(stack.services.values())):
                _stop(service)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in KiB, from /proc."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values

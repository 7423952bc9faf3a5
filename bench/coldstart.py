"""Cold start: the time from spawning a server's process (`python -m <module>` on a free port, as
devstack starts it) to the first 200 on its health path, polled every few milliseconds with a
plain socket. Each measurement starts a new process and stops it afterwards."""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from pathlib import Path

from devstack.ports import LOOPBACK, free_port
from devstack.ready import StartError
from devstack.stack import ServiceSpec, spawn

POLL_INTERVAL_S = 0.005
TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0


def _status(host: str, port: int, path: str, timeout: float) -> int | None:
    """The status of GET `path`, or None when nothing answers (yet)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode()
            )
            head = b""
            while b"\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return None
                head += chunk
    except OSError:
        return None
    parts = head.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def time_to_first_200(
    spec: ServiceSpec,
    env: Mapping[str, str],
    log_path: Path,
    cwd: Path,
    timeout: float = TIMEOUT_S,
) -> float:
    """Seconds from spawning `spec` to its first 200; StartError when it dies or times out."""
    port = free_port()
    began = time.perf_counter()
    service = spawn(spec, port, env=env, log_path=log_path, cwd=cwd)
    try:
        while True:
            elapsed = time.perf_counter() - began
            left = timeout - elapsed
            if left <= 0:
                raise StartError(f"{spec.name}: no 200 on {spec.health_path} within {timeout:g} s")
            if _status(LOOPBACK, port, spec.health_path, min(1.0, left)) == 200:
                return time.perf_counter() - began
            if service.process.poll() is not None:
                raise StartError(
                    f"{spec.name} exited with status {service.process.returncode}"
                    f" before answering (log: {log_path})"
                )
            time.sleep(POLL_INTERVAL_S)
    finally:
        service.stop(STOP_TIMEOUT_S)

"""Ports on this machine: one the kernel hands out now, and whether a given one is taken."""

from __future__ import annotations

import contextlib
import errno
import socket

LOOPBACK = "127.0.0.1"


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[str, int]]:
    family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    return family, (str(sockaddr[0]), int(sockaddr[1]))


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port the kernel just handed out on `host` (free unless someone takes it meanwhile)."""
    family, address = _address(host, 0)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind(address)
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = LOOPBACK) -> list[int]:
    """`count` different free ports (all held at once while they are chosen)."""
    family, address = _address(host, 0)
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            sock = held.enter_context(socket.socket(family, socket.SOCK_STREAM))
            sock.bind(address)
            ports.append(int(sock.getsockname()[1]))
        return ports


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """Whether a server could listen on host:port now. SO_REUSEADDR as uvicorn and gunicorn set
    it: connections of a server that just stopped (TIME_WAIT) do not count, a listener does."""
    family, address = _address(host, port)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True

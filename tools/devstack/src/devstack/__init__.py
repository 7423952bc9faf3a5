"""The native stack on loopback for `make run`, tests and benchmarks: free ports (`ports`),
readiness polling (`ready`), the servers as process groups (`processes`) and the launcher
(`stack.running_stack`); `python -m devstack` runs it in the foreground."""

from devstack.ports import free_port, free_ports, port_is_free
from devstack.ready import StartError, wait_until_ready
from devstack.stack import Service, Stack, running_stack

__all__ = [
    "Service",
    "Stack",
    "StartError",
    "free_port",
    "free_ports",
    "port_is_free",
    "running_stack",
    "wait_until_ready",
]

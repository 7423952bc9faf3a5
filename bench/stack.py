"""The servers of a bench run, natively on free loopback ports of 127.0.0.1, in one temporary
directory (logs, ToDo's database, NGINX's files):

- Dog Names, ToDo and the gateway, as `make run` starts them (devstack's launcher, the gateway
  with gateway/config/gateway.yaml);
- `nginx`: NGINX as a plain reverse proxy in front of the same Dog Names (bench/nginx.py), when
  it is installed;
- `floor-asgi`: the bare ASGI app (bench/floors.py) serving the bytes of one `GET /dogs` answer.

Everything started is stopped however the block ends (NGINX and the floor first, then the gateway,
ToDo and Dog Names).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from devstack.ports import LOOPBACK, free_port
from devstack.processes import start_process
from devstack.stack import Service, ServiceSpec, Stack, spawn
from devstack.stack import running_stack as devstack_running_stack

from bench import floors
from bench.nginx import NginxConfig, find_nginx

__all__ = ["GATEWAY_CONFIG", "ROOT", "BenchStack", "running_bench_stack"]

ROOT = Path(__file__).resolve().parent.parent
GATEWAY_CONFIG = ROOT / "gateway" / "config" / "gateway.yaml"
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
FLOOR = ServiceSpec("floor-asgi", "bench.floors", "/health")


@dataclass
class BenchStack:
    tmp: Path
    stack: Stack
    floor: Service
    nginx: Service | None  # None: NGINX is not installed
    dogs_body: bytes  # the `GET /dogs` answer the floor serves
    dogs_content_type: str

    @property
    def todo_db(self) -> Path:
        return self.tmp / "todo.db"  # devstack's default: todo.db in its log directory


def _fetch_dogs(base_url: str) -> tuple[bytes, str]:
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        response = client.get(base_url + "/dogs")
        response.raise_for_status()
        return response.content, response.headers.get("content-type", "application/json")


@contextmanager
def running_bench_stack(*, nginx_access_log: bool = True) -> Iterator[BenchStack]:
    with ExitStack() as cleanup:
        tmp = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        stack = cleanup.enter_context(
            devstack_running_stack(
                log_dir=tmp,
                gateway_config=GATEWAY_CONFIG,
                cwd=ROOT,
                ready_timeout=READY_TIMEOUT_S,
                stop_timeout=STOP_TIMEOUT_S,
            )
        )
        body, content_type = _fetch_dogs(stack.dog_names.base_url)
        body_file = tmp / "floor-body"
        body_file.write_bytes(body)
        floor_env = {
            **os.environ,
            floors.BODY_FILE: str(body_file),
            floors.CONTENT_TYPE: content_type,
        }
        floor = spawn(FLOOR, free_port(), env=floor_env, log_path=tmp / "floor-asgi.log", cwd=ROOT)
        cleanup.callback(floor.stop, STOP_TIMEOUT_S)
        floor.wait_ready(READY_TIMEOUT_S, STOP_TIMEOUT_S)

        nginx: Service | None = None
        binary = find_nginx()
        if binary is not None:
            config = NginxConfig(
                tmp, free_port(), stack.dog_names.address, access_log=nginx_access_log
            )
            config.write()
            log_path = tmp / "nginx.log"
            process, _ = start_process(
                config.argv(binary), name="nginx", env=os.environ, cwd=tmp, log_path=log_path
            )
            nginx = Service("nginx", LOOPBACK, config.listen_port, "/health", process, log_path)
            cleanup.callback(nginx.stop, STOP_TIMEOUT_S)
            nginx.wait_ready(READY_TIMEOUT_S, STOP_TIMEOUT_S)
        yield BenchStack(tmp, stack, floor, nginx, body, content_type)

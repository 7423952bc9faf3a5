"""The native stack: Dog Names, ToDo and the gateway as processes on loopback, as `make run`, the
gateway tests and the bench run it; with `functions=True` also the Lambda functions behind the
widgets API (each `lambda_rie` with the real awslambdaric as its child, as in their images). The
gateway also serves the front door's own port (FRONTDOOR_PORT, the `frontdoor` API's).

    with running_stack(log_dir=tmp) as stack:
        httpx.get(stack.gateway.base_url + "/dogs")

Each server is `python -m <module>` of this interpreter with HOST/PORT, in its own process group,
ready when its health URL answers 200; the providers (and functions) start together, the gateway
once they are ready. However the block ends, they stop in reverse order: SIGTERM to each, SIGKILL
to its whole group after `stop_timeout`. A server that does not come up is a StartError naming it,
with its log tail, and nothing started is left running.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from certgen.secret import ensure_token_secret

from devstack.ports import LOOPBACK, free_ports, port_is_free
from devstack.processes import (
    STOP_TIMEOUT_S,
    Echo,
    Relay,
    kill_process,
    start_process,
    stop_process,
)
from devstack.ready import TAIL_LINES, StartError, tail_of, wait_until_ready

READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # in messages and log file names
    module: str  # `python -m <module>`
    health_path: str  # answers 200 once the server is ready


DOG_NAMES = ServiceSpec("dog-names", "dog_names", "/health")
TODO = ServiceSpec("todo", "todo", "/health")
GATEWAY = ServiceSpec("gateway", "gateway", "/__gateway/health")


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function run as Lambda runs it: `python -m lambda_rie` serves its invoke URL and
    runs the real awslambdaric with `handler` as its child, with the environment Lambda gives it."""

    name: str  # in messages and log file names
    handler: str  # module.function
    function_name: str  # AWS_LAMBDA_FUNCTION_NAME: the last part of its ARN
    account: str
    timeout_s: int = 10

    @property
    def service(self) -> ServiceSpec:
        return ServiceSpec(self.name, "lambda_rie", "/health")

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        return {
            **base,
            "_HANDLER": self.handler,
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(self.timeout_s),
            "RIE_ACCOUNT_ID": self.account,
        }


# The functions of the widgets API (api/widgets.yaml), in the producer account.
WIDGETS = FunctionSpec("widgets", "widgets_lambda.handler.handler", "widgets", "111111111111")
TOKEN_AUTHORIZER = FunctionSpec(
    "authorizer", "token_authorizer.handler.handler", "token-authorizer", "111111111111", 5
)
FUNCTIONS = (WIDGETS, TOKEN_AUTHORIZER)
# How the gateway's configuration names each function's endpoint (gateway/config/gateway.yaml).
FUNCTION_URL_VARIABLES = {WIDGETS: "WIDGETS_FUNCTION_URL", TOKEN_AUTHORIZER: "TOKEN_AUTHORIZER_URL"}


@dataclass
class Service:
    """One running server: where it listens, its process (the group leader), its log."""

    name: str
    host: str
    port: int
    health_path: str
    process: subprocess.Popen[bytes]
    log_path: Path | None = None  # None: its output is only relayed (see running_stack's echo)
    relay: Relay | None = None

    @property
    def address(self) -> str:
        """host:port, as the gateway's DOG_NAMES_HOST / TODO_HOST take it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.address}"

    @property
    def health_url(self) -> str:
        return self.base_url + self.health_path

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        if self.relay is not None:
            return self.relay.tail(lines)
        return tail_of(self.log_path, lines) if self.log_path is not None else ""

    def wait_ready(
        self, timeout: float = READY_TIMEOUT_S, stop_timeout: float = STOP_TIMEOUT_S
    ) -> Service:
        """Itself once its health URL answers 200; a StartError (naming it, with its log tail)
        when it dies or times out first, and then it is stopped."""
        log = self.log_path if self.relay is None else self.log_tail
        try:
            wait_until_ready(self.health_url, self.process, timeout, name=self.name, log=log)
        except BaseException:
            self.stop(stop_timeout)
            raise
        return self

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        stop_process(self.process, timeout)
        if self.relay is not None:
            self.relay.join(timeout)

    def kill(self) -> None:
        kill_process(self.process)


def spawn(
    spec: ServiceSpec,
    port: int,
    *,
    host: str = LOOPBACK,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    echo: Echo | None = None,
    cwd: Path | None = None,
) -> Service:
    """Start `spec` on host:port (env: `env`, default os.environ, plus HOST and PORT); not ready
    before its wait_ready(). StartError when something already listens there."""
    if not port_is_free(port, host):
        raise StartError(f"{spec.name} cannot start: {host}:{port} is already in use")
    full_env = {**(os.environ if env is None else env), "HOST": host, "PORT": str(port)}
    process, relay = start_process(
        [sys.executable, "-m", spec.module],
        name=spec.name,
        env=full_env,
        cwd=cwd,
        log_path=log_path,
        echo=echo,
    )
    return Service(spec.name, host, port, spec.health_path, process, log_path, relay)


def spawn_function(
    spec: FunctionSpec,
    port: int,
    *,
    host: str = LOOPBACK,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    echo: Echo | None = None,
    cwd: Path | None = None,
) -> Service:
    """The function `spec` on host:port (its invoke URL), not ready before its wait_ready()."""
    return spawn(
        spec.service,
        port,
        host=host,
        env=spec.environment(os.environ if env is None else env),
        log_path=log_path,
        echo=echo,
        cwd=cwd,
    )


@dataclass
class Stack:
    """The running servers by name, in start order; the gateway's front-door port."""

    log_dir: Path | None
    services: dict[str, Service] = field(default_factory=dict)
    frontdoor_port: int | None = None

    @property
    def frontdoor_url(self) -> str:
        """The front door's base URL: the gateway's host, the front door's own port."""
        gateway = self.gateway
        host = f"[{gateway.host}]" if ":" in gateway.host else gateway.host
        return f"http://{host}:{self.frontdoor_port}"

    @property
    def dog_names(self) -> Service:
        return self.services[DOG_NAMES.name]

    @property
    def todo(self) -> Service:
        return self.services[TODO.name]

    @property
    def gateway(self) -> Service:
        return self.services[GATEWAY.name]

    @property
    def widgets(self) -> Service:
        return self.services[WIDGETS.name]

    @property
    def authorizer(self) -> Service:
        return self.services[TOKEN_AUTHORIZER.name]

    def wait_any(self) -> Service:
        """Block until one of the servers exits (a signal handler's exception still comes
        through); that server."""
        exited: queue.Queue[Service] = queue.Queue()
        for service in self.services.values():

            def watch(service: Service = service) -> None:
                service.process.wait()
                exited.put(service)

            threading.Thread(target=watch, name=f"watch-{service.name}", daemon=True).start()
        return exited.get()


def _stop_all(services: Sequence[Service], timeout: float) -> None:
    """Last started first. Interrupted (a second Ctrl-C), the rest are killed at once."""
    try:
        for service in reversed(services):
            service.stop(timeout)
    except BaseException:
        for service in services:
            service.kill()
        raise


@contextmanager
def running_stack(
    *,
    log_dir: Path | None = None,
    echo: TextIO | None = None,
    host: str = LOOPBACK,
    gateway_port: int | None = None,
    dog_names_port: int | None = None,
    todo_port: int | None = None,
    todo_db: Path | None = None,
    todo_workers: int | None = None,
    gateway_config: Path | None = None,
    gateway_env: Mapping[str, str] | None = None,
    frontdoor_port: int | None = None,
    functions: bool = False,
    widgets_port: int | None = None,
    authorizer_port: int | None = None,
    token_secret: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    ready_timeout: float = READY_TIMEOUT_S,
    stop_timeout: float = STOP_TIMEOUT_S,
) -> Iterator[Stack]:
    """Dog Names, ToDo (and with `functions` the widgets API's two functions), then the gateway in
    front of them, ready; stopped when the block ends.

    log_dir: each server's output goes to <log_dir>/<name>.log (appended).
    echo: each server's output is (also) relayed to this stream, lines prefixed with its name.
        With neither, the logs go to a temporary directory removed afterwards.
    *_port: fixed ports (StartError when one is taken); None: a free one.
    todo_db: ToDo's TODO_DB_PATH (default: todo.db in log_dir or a temporary directory).
    todo_workers: ToDo's WEB_CONCURRENCY (None: the environment's, else gunicorn_conf's).
    gateway_config: GATEWAY_CONFIG (None: the environment's, else the gateway's default).
    gateway_env: more environment for the gateway (HOST, PORT, FRONTDOOR_PORT, DOG_NAMES_HOST,
        TODO_HOST and GATEWAY_CONFIG are set by the launcher).
    frontdoor_port: the gateway's second port, the front door's (FRONTDOOR_PORT; None: a free
        one, so that a gateway with the default configuration never collides on 8088).
    functions: also the widgets function and the TOKEN authorizer (`WIDGETS`, `TOKEN_AUTHORIZER`),
        on widgets_port/authorizer_port (None: free ones); the gateway gets their invoke URLs
        (WIDGETS_FUNCTION_URL, TOKEN_AUTHORIZER_URL).
    token_secret: the authorizer's shared secret (TOKEN_SECRET_FILE), made with a new random token
        when missing (default: secrets/authorizer-token in log_dir or a temporary directory).
    env: the base environment of every server (default os.environ).
    """
    with ExitStack() as cleanup:
        if log_dir is None:
            workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="devstack-")))
        else:
            workdir = log_dir
        files = workdir if log_dir is not None or echo is None else None
        echoed = Echo(echo) if echo is not None else None
        base = dict(os.environ if env is None else env)

        wanted: dict[ServiceSpec, int | None] = {DOG_NAMES: dog_names_port, TODO: todo_port}
        if functions:
            wanted[WIDGETS.service] = widgets_port
            wanted[TOKEN_AUTHORIZER.service] = authorizer_port
        wanted[GATEWAY] = gateway_port
        for spec, port in wanted.items():
            if port is not None and not port_is_free(port, host):
                raise StartError(f"{spec.name} cannot start: {host}:{port} is already in use")
        if frontdoor_port is not None and not port_is_free(frontdoor_port, host):
            raise StartError(
                f"gateway cannot start: {host}:{frontdoor_port} (the front door's port)"
                " is already in use"
            )
        fixed = {port for port in (*wanted.values(), frontdoor_port) if port is not None}
        count = len(wanted) + 1
        free = iter(p for p in free_ports(count + len(fixed), host) if p not in fixed)
        ports = {spec: next(free) if port is None else port for spec, port in wanted.items()}

        stack = Stack(files, frontdoor_port=frontdoor_port or next(free))

        def start(spec: ServiceSpec, service_env: dict[str, str]) -> Service:
            log_path = files / f"{spec.name}.log" if files is not None else None
            service = spawn(
                spec,
                ports[spec],
                host=host,
                env=service_env,
                log_path=log_path,
                echo=echoed,
                cwd=cwd,
            )
            stack.services[spec.name] = service
            return service

        try:
            todo_env = {**base, "TODO_DB_PATH": str(todo_db or workdir / "todo.db")}
            if todo_workers is not None:
                todo_env["WEB_CONCURRENCY"] = str(todo_workers)
            backends = [start(DOG_NAMES, base), start(TODO, todo_env)]
            function_urls = {}
            if functions:
                secret = token_secret or workdir / "secrets" / "authorizer-token"
                ensure_token_secret(secret)
                authorizer_env = {**base, "TOKEN_SECRET_FILE": str(secret.resolve())}
                for function, function_env in (
                    (WIDGETS, base),
                    (TOKEN_AUTHORIZER, authorizer_env),
                ):
                    service = start(function.service, function.environment(function_env))
                    backends.append(service)
                    function_urls[FUNCTION_URL_VARIABLES[function]] = service.base_url
            for service in backends:
                service.wait_ready(ready_timeout, stop_timeout)
            gateway = {
                **base,
                **(gateway_env or {}),
                **function_urls,
                "DOG_NAMES_HOST": stack.dog_names.address,
                "TODO_HOST": stack.todo.address,
                "FRONTDOOR_PORT": str(stack.frontdoor_port),
            }
            if gateway_config is not None:
                gateway["GATEWAY_CONFIG"] = str(gateway_config)
            start(GATEWAY, gateway).wait_ready(ready_timeout, stop_timeout)
            yield stack
        finally:
            _stop_all(list(stack.services.values()), stop_timeout)

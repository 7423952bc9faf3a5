"""What the bench runs: scenarios (an endpoint, a request, a load, the servers whose CPU is read,
where everything runs), grouped in phases. Within a phase the scenarios alternate, round after
round (the order reversed every other round: A B C, C B A, A B C), so that each comparison is
made side by side under the same conditions of the machine."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace

from bench.http1 import Endpoint, RequestSource, fixed, http_request
from bench.load import Load
from bench.sigv4 import SignedSource, SigV4Signer
from bench.stack import BenchStack

PARTNER_API_ID = "partnerap1"
CONSUMER_VPC_ADDRESS = "127.0.4.10"  # in the consumer VPC's endpoint subnet (127.0.4.0/24)

# Where the servers run, per placement (bench/README.md, "Pinning"): "client" the client's CPU,
# "server" the other one, "all" every CPU.
PLACEMENTS: dict[str, dict[str, str]] = {
    # the proxy under test (gateway or NGINX) alone on the server CPU; Dog Names behind it with
    # the client, as on another machine
    "proxy": {
        "gateway": "server",
        "nginx": "server",
        "dog-names": "client",
        "floor-asgi": "server",
        "todo": "all",
    },
    # Dog Names (or the bare app) under test alone on the server CPU
    "server": {
        "gateway": "server",
        "nginx": "server",
        "dog-names": "server",
        "floor-asgi": "server",
        "todo": "all",
    },
    # ToDo's four workers on every CPU
    "todo": {
        "gateway": "server",
        "nginx": "server",
        "dog-names": "server",
        "floor-asgi": "server",
        "todo": "all",
    },
}


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    server: str  # the server the client sends to
    endpoint: Endpoint
    source: RequestSource
    load: Load  # an open loop's rate is set when the phase runs (half the gateway's maximum)
    expected_status: int
    watch: tuple[str, ...]  # servers whose CPU time is read
    placement: str
    capture_locations: bool = False
    wrk_path: str | None = None  # run with wrk (GET of this path) when it is installed


@dataclass(frozen=True)
class Phase:
    name: str
    what: str
    scenarios: tuple[str, ...]


PHASES = (
    Phase(
        "c1",
        "one connection, closed loop: CPU per request",
        ("dogs-global-c1", "nginx-c1", "partner-sigv4-c1", "dogs-direct-c1", "floor-asgi-c1"),
    ),
    Phase("c16", "16 connections, closed loop: the gateway's maximum", ("dogs-global-c16",)),
    Phase(
        "half",
        "open loop at half the gateway's maximum",
        ("dogs-global-half", "dogs-direct-half", "nginx-half"),
    ),
    Phase("c64", "64 connections, closed loop", ("dogs-direct-c64", "floor-asgi-c64")),
    Phase("todo", "durable writes, a new connection per request", ("todo-post-c32",)),
)
HALF_LOAD_FROM = "dogs-global-c16"  # the half-load rate is half its median req/s
OPEN_LOOP_POOL = 32
WHAT = {
    "gateway": "GET /dogs via the global API",
    "nginx": "GET /dogs via NGINX proxy_pass",
    "dog-names": "GET /dogs, Dog Names directly",
    "floor-asgi": "GET /dogs, bare ASGI app",
}


def todo_post_source(authority: str) -> RequestSource:
    """POST /todo with a new item every time ({"data": "bench item <n>"})."""
    counter = itertools.count()

    def make() -> bytes:
        body = json.dumps({"data": f"bench item {next(counter)}"}).encode()
        return http_request(
            "POST",
            "/todo",
            authority,
            {"Content-Type": "application/json"},
            body,
            close=True,
        )

    return make


def build_scenarios(bench: BenchStack, signer: SigV4Signer) -> dict[str, Scenario]:
    stack = bench.stack
    endpoint = {
        "gateway": Endpoint(stack.gateway.host, stack.gateway.port),
        "dog-names": Endpoint(stack.dog_names.host, stack.dog_names.port),
        "floor-asgi": Endpoint(bench.floor.host, bench.floor.port),
        "todo": Endpoint(stack.todo.host, stack.todo.port),
    }
    if bench.nginx is not None:
        endpoint["nginx"] = Endpoint(bench.nginx.host, bench.nginx.port)

    def dogs(server: str) -> RequestSource:
        return fixed(http_request("GET", "/dogs", endpoint[server].authority))

    partner = Endpoint(stack.gateway.host, stack.gateway.port, CONSUMER_VPC_ADDRESS)
    partner_headers = {"x-apigw-api-id": PARTNER_API_ID}
    partner_dogs = SignedSource(
        signer,
        lambda headers: http_request("GET", "/prod/dogs", partner.authority, headers),
        "GET",
        f"http://{partner.authority}/prod/dogs",
        partner_headers,
    )
    c1, c16, c64 = Load("closed", 1), Load("closed", 16), Load("closed", 64)
    half = Load("open", OPEN_LOOP_POOL)

    def get_dogs(name: str, server: str, load: Load, placement: str) -> Scenario:
        watch = (server,) if server in ("dog-names", "floor-asgi") else (server, "dog-names")
        return Scenario(
            name, WHAT[server], server, endpoint[server], dogs(server), load, 200, watch, placement
        )

    scenarios = [
        get_dogs("dogs-global-c1", "gateway", c1, "proxy"),
        Scenario(
            "partner-sigv4-c1",
            "GET /prod/dogs via partner, SigV4",
            "gateway",
            partner,
            partner_dogs,
            c1,
            200,
            ("gateway", "dog-names"),
            "proxy",
        ),
        get_dogs("dogs-direct-c1", "dog-names", c1, "server"),
        get_dogs("floor-asgi-c1", "floor-asgi", c1, "server"),
        get_dogs("dogs-global-c16", "gateway", c16, "proxy"),
        get_dogs("dogs-global-half", "gateway", half, "proxy"),
        # Dog Names where it is when the gateway is in front of it
        get_dogs("dogs-direct-half", "dog-names", half, "proxy"),
        # faster than one Python client can ask: wrk when installed
        replace(get_dogs("dogs-direct-c64", "dog-names", c64, "server"), wrk_path="/dogs"),
        replace(get_dogs("floor-asgi-c64", "floor-asgi", c64, "server"), wrk_path="/dogs"),
        Scenario(
            "todo-post-c32",
            "POST /todo, ToDo directly",
            "todo",
            endpoint["todo"],
            todo_post_source(endpoint["todo"].authority),
            Load("closed", 32, fresh_connections=True),
            201,
            ("todo",),
            "todo",
            capture_locations=True,
        ),
    ]
    if "nginx" in endpoint:  # else its scenarios are reported as not run
        scenarios += [
            get_dogs("nginx-c1", "nginx", c1, "proxy"),
            get_dogs("nginx-half", "nginx", half, "proxy"),
        ]
    return {scenario.name: scenario for scenario in scenarios}

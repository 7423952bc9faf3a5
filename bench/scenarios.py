"""The measured scenarios: each one a client factory, a request factory and a concurrency."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bench.load import ClientFactory, RequestFactory
from bench.sigv4 import SigV4Signer
from bench.stack import Stack

PARTNER_API_ID = "partnerap1"
CONSUMER_VPC_ADDRESS = "127.0.4.10"  # in the consumer VPC's endpoint subnet (127.0.4.0/24)
TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    concurrency: int
    expected_status: int
    make_client: ClientFactory
    make_request: RequestFactory
    via_gateway: bool = True


def client_factory(base_url: str, local_address: str | None = None) -> ClientFactory:
    """One keep-alive connection per load thread, from `local_address` when given."""

    def make() -> httpx.Client:
        transport = httpx.HTTPTransport(
            local_address=local_address,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            retries=0,
        )
        return httpx.Client(base_url=base_url, transport=transport, timeout=TIMEOUT_S)

    return make


def get(path: str, headers: dict[str, str] | None = None) -> RequestFactory:
    def make(client: httpx.Client, seq: int) -> httpx.Request:
        return client.build_request("GET", path, headers=headers)

    return make


def signed(factory: RequestFactory, signer: SigV4Signer) -> RequestFactory:
    def make(client: httpx.Client, seq: int) -> httpx.Request:
        return signer.sign(factory(client, seq))

    return make


def post_todo(client: httpx.Client, seq: int) -> httpx.Request:
    return client.build_request("POST", "/todo", json={"data": f"bench item {seq}"})


def build_scenarios(stack: Stack, signer: SigV4Signer) -> list[Scenario]:
    direct = client_factory(stack.dog_names.base_url)
    gateway = client_factory(stack.gateway.base_url)
    partner = client_factory(stack.gateway.base_url, local_address=CONSUMER_VPC_ADDRESS)
    partner_dogs = signed(get("/prod/dogs", {"x-apigw-api-id": PARTNER_API_ID}), signer)

    scenarios: list[Scenario] = []
    for c in (1, 16):
        scenarios += [
            Scenario(
                f"dogs-direct-c{c}",
                "GET /dogs, Dog Names directly",
                c,
                200,
                direct,
                get("/dogs"),
                via_gateway=False,
            ),
            Scenario(
                f"dogs-global-c{c}", "GET /dogs via the global API", c, 200, gateway, get("/dogs")
            ),
            Scenario(
                f"partner-sigv4-c{c}",
                "GET /prod/dogs via partner, SigV4",
                c,
                200,
                partner,
                partner_dogs,
            ),
        ]
    scenarios.append(
        Scenario("todo-post-c8", "POST /todo via the global API", 8, 201, gateway, post_todo)
    )
    return scenarios

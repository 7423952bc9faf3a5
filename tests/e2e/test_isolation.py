"""VPC isolation: from the consumer's network neither a provider nor the mtls API is reachable,
and the partner API wants a signature (SPEC 2, SPEC 9)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .stack import CONSUMER_VPCE_URL, MTLS_API_ID, PARTNER_API_ID, compose, container_ip

pytestmark = pytest.mark.e2e

# Runs inside a throwaway container on consumer-vpc (the consumer Lambda's image and network).
PROBE = r"""
import json, socket, sys, urllib.error, urllib.request

vpce, targets = sys.argv[1], sys.argv[2:]
out = {"resolve": {}, "connect": {}, "api": {}}
for name in ("dog-names", "todo", "vpce-consumer"):
    try:
        out["resolve"][name] = socket.gethostbyname(name)
    except OSError as exc:
        out["resolve"][name] = "error: " + type(exc).__name__
for target in targets:
    host, port = target.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
        out["connect"][target] = "connected"
    except OSError as exc:
        out["connect"][target] = "error: " + type(exc).__name__

def call(api_id, path):
    request = urllib.request.Request(vpce + path, headers={"x-apigw-api-id": api_id})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return [response.status, json.loads(response.read())]
    except urllib.error.HTTPError as exc:
        return [exc.code, json.loads(exc.read())]

for api_id, path in (("mtlsapi001", "/prod/dogs"), ("partnerap1", "/prod/dogs")):
    out["api"][api_id + path] = call(api_id, path)
print(json.dumps(out))
"""


def provider_address(service: str, network_suffix: str) -> str:
    """ip:8080 of the provider's container on its own (internal) network."""
    return f"{container_ip(service, network_suffix)}:8080"


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    targets = [
        provider_address("dog-names", "_dognames-vpc"),
        provider_address("todo", "_todo-vpc"),
    ]
    result = compose(
        "run", "--rm", "--no-TTY", "--no-deps", "--entrypoint", "python3", "consumer-lambda",
        "-c", PROBE, CONSUMER_VPCE_URL, *targets,
        timeout=120,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    found["targets"] = targets
    return found


def test_the_probe_reaches_the_consumer_vpc_endpoint(probe: dict[str, Any]) -> None:
    assert not probe["resolve"]["vpce-consumer"].startswith("error")


@pytest.mark.parametrize("provider", ["dog-names", "todo"])
def test_provider_names_do_not_resolve_in_the_consumer_vpc(
    probe: dict[str, Any], provider: str
) -> None:
    assert probe["resolve"][provider] == "error: gaierror"


def test_provider_addresses_are_unreachable_from_the_consumer_vpc(probe: dict[str, Any]) -> None:
    for target in probe["targets"]:
        assert probe["connect"][target].startswith("error: "), target


def test_mtls_api_denies_the_consumer_vpc(probe: dict[str, Any]) -> None:
    assert probe["api"][f"{MTLS_API_ID}/prod/dogs"] == [
        403,
        {
            "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on "
            f"resource: arn:aws:execute-api:us-east-1:********1111:{MTLS_API_ID}/prod/GET/dogs "
            "with an explicit deny"
        },
    ]


def test_partner_api_wants_a_signature(probe: dict[str, Any]) -> None:
    assert probe["api"][f"{PARTNER_API_ID}/prod/dogs"] == [
        403,
        {"message": "Missing Authentication Token"},
    ]

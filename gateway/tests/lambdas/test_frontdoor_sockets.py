"""The front door over real sockets: the gateway as `make run` starts it (the shipped
configuration, `python -m gateway`), serving its own port and the front door's, whose VPC link
connects back to the gateway's port from 127.0.5.10, an address in the front-door VPC's loopback
subnet. The producer attributes that connection to the front-door VPC's endpoint by its source
address alone, as it attributes every caller."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.ports import free_ports
from devstack.stack import GATEWAY, Service, spawn

from .conftest import Functions

WIDGET = {"id": "1", "value": "4.99"}


@dataclass(frozen=True)
class Running:
    service: Service
    frontdoor_url: str


@pytest.fixture(scope="module")
def gateway(functions: Functions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    port, frontdoor_port = free_ports(2)
    log = tmp_path_factory.mktemp("frontdoor") / "gateway.log"
    env = {**os.environ, **functions.urls, "FRONTDOOR_PORT": str(frontdoor_port)}
    env.pop("GATEWAY_CONFIG", None)  # the shipped configuration
    service = spawn(GATEWAY, port, env=env, log_path=log)
    try:
        yield Running(service.wait_ready(), f"http://127.0.0.1:{frontdoor_port}")
    finally:
        service.stop()


def access_log(path: Path | None) -> list[dict[str, Any]]:
    assert path is not None
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def lines_by_api(path: Path | None, agent: str, apis: set[str]) -> dict[str, dict[str, Any]]:
    """The access lines of `agent`'s requests by API id, once every API in `apis` has one: a
    line is written just after its answer is sent, so it may follow the answer by a moment."""
    deadline = time.monotonic() + 5
    while True:
        entries = [e for e in access_log(path) if e["userAgent"] == agent]
        by_api = {e["apiId"]: e for e in entries}
        if set(by_api) >= apis or time.monotonic() > deadline:
            return by_api
        time.sleep(0.02)


def test_the_front_door_on_its_own_port_reaches_the_private_api_through_its_endpoint(
    gateway: Running, functions: Functions
) -> None:
    agent = "frontdoor-sockets-test"
    response = httpx.get(
        gateway.frontdoor_url + "/prod/",
        headers={"Authorization": functions.token, "User-Agent": agent},
        timeout=10,
    )

    assert (response.status_code, response.json()) == (200, WIDGET), response.text
    by_api = lines_by_api(gateway.service.log_path, agent, {"frontdoor1", "widgetsap1"})
    assert set(by_api) == {"frontdoor1", "widgetsap1"}
    assert (by_api["frontdoor1"]["sourceIp"], by_api["frontdoor1"]["vpceId"]) == (
        "127.0.0.1",
        None,
    )
    assert (by_api["widgetsap1"]["sourceIp"], by_api["widgetsap1"]["vpceId"]) == (
        "127.0.5.10",
        "vpce-0fd44444444444444",
    )


def test_the_private_api_from_the_host_is_forbidden(gateway: Running, functions: Functions) -> None:
    response = httpx.get(
        gateway.service.base_url + "/prod/widgets",
        headers={"Authorization": functions.token, "x-apigw-api-id": "widgetsap1"},
        timeout=10,
    )
    assert (response.status_code, response.content) == (403, b'{"message":"Forbidden"}')

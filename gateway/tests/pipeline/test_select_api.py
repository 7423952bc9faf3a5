"""Stage 1, select_api: the API by host name, `x-apigw-api-id`, the API whose own port the
request came to, or the default API."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from gateway.pipeline import MAX_REMEMBERED, Remembered

from .conftest import CONSUMER_VPC, OUTSIDE, PROXY_VPC, Gateway, seen_upstream, token_for


@pytest.mark.parametrize(
    "headers, client, api_id",
    [
        ({}, OUTSIDE, "globalapi1"),  # default_api
        ({"Host": "globalapi1.execute-api.us-east-1.amazonaws.com"}, OUTSIDE, "globalapi1"),
        ({"Host": "mtlsapi001.execute-api.us-east-1.amazonaws.com"}, PROXY_VPC, "mtlsapi001"),
        # a VPC endpoint's own DNS name: the vpce part of the name is ignored
        (
            {"Host": "mtlsapi001-vpce-01111111111111111.execute-api.us-east-1.amazonaws.com"},
            PROXY_VPC,
            "mtlsapi001",
        ),
        ({"x-apigw-api-id": "mtlsapi001"}, PROXY_VPC, "mtlsapi001"),
    ],
    ids=["default", "host", "private-host", "vpce-host", "api-id-header"],
)
def test_the_api_is_chosen_by_host_then_header_then_default(
    gateway: Gateway, headers: dict[str, str], client: tuple[str, int], api_id: str
) -> None:
    path = "/dogs" if api_id == "globalapi1" else "/prod/dogs"
    headers = {**headers, **token_for(api_id)}
    seen_upstream(gateway.call("GET", path, headers=headers, client=client))
    assert gateway.last_log()["apiId"] == api_id


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "nosuchapi1.execute-api.us-east-1.amazonaws.com"},
        {"Host": "mtlsapi001.execute-api.eu-west-1.amazonaws.com"},  # another region
        {"x-apigw-api-id": "nosuchapi1"},
    ],
    ids=["unknown-host", "other-region", "unknown-header"],
)
def test_an_unknown_api_is_forbidden(gateway: Gateway, headers: dict[str, str]) -> None:
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    assert response.status_code == 403
    assert response.content == b'{"message":"Forbidden"}'
    assert response.headers["x-amzn-errortype"] == "ForbiddenException"
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers["x-amzn-requestid"]) == 36
    assert gateway.last_log()["apiId"] is None
    assert gateway.last_log()["status"] == 403


def test_rest_and_http_apis_send_their_own_id_headers(gateway: Gateway) -> None:
    http = gateway.call("GET", "/dogs")
    assert "apigw-requestid" in http.headers
    assert "x-amzn-requestid" not in http.headers
    rest = gateway.call(
        "GET", "/prod/dogs", headers={"x-apigw-api-id": "mtlsapi001"}, client=PROXY_VPC
    )
    assert {"x-amzn-requestid", "x-amz-apigw-id"} <= set(rest.headers)
    assert "apigw-requestid" not in rest.headers


def call_port(gateway: Gateway, port: int, path: str, **headers: str) -> httpx.Response:
    """A request that came to the gateway's `port` (the ASGI scope's server), from outside."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway.app, client=OUTSIDE)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport) as http:
            return await http.get(f"http://127.0.0.1:{port}{path}", headers=headers)

    return asyncio.run(send())


@pytest.mark.parametrize(
    "port, headers, path, api_id",
    [
        (8088, {}, "/prod/", "frontdoor1"),  # the front door's own port: its API
        (8080, {}, "/dogs", "globalapi1"),  # any other port: default_api
        (8088, {"Host": "globalapi1.execute-api.us-east-1.amazonaws.com"}, "/dogs", "globalapi1"),
        (8088, {"x-apigw-api-id": "globalapi1"}, "/dogs", "globalapi1"),
    ],
    ids=["own-port", "other-port", "host-first", "header-first"],
)
def test_an_apis_own_port_stands_for_its_host_name(
    gateway: Gateway, port: int, headers: dict[str, str], path: str, api_id: str
) -> None:
    """apis.frontdoor.port (8088): there a request that names no API is the front door's; one
    that names an API by host name or header is that API's, as on every port."""
    response = call_port(gateway, port, path, **headers)
    assert gateway.last_log()["apiId"] == api_id
    if api_id == "frontdoor1":  # no token: its TOKEN authorizer answers before any call
        assert (response.status_code, response.content) == (401, b'{"message":"Unauthorized"}')
    else:
        seen_upstream(response)


def test_what_a_request_says_is_judged_once_and_the_memory_stays_bounded() -> None:
    """The API and the VPC endpoint are pure functions of the host, header, port and peer
    address: remembered (`memo.Remembered`), never more than MAX_REMEMBERED of them."""
    calls: list[str] = []

    def judge(argument: str) -> str:
        calls.append(argument)
        return argument.upper()

    remembered = Remembered(judge)
    assert [remembered("a"), remembered("a"), remembered("b")] == ["A", "A", "B"]
    assert calls == ["a", "b"]
    for n in range(2 * MAX_REMEMBERED):
        remembered(str(n))
    assert len(remembered._answers) <= MAX_REMEMBERED
    assert remembered("a") == "A"

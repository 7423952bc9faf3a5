"""Stage 2, attribute_endpoint: the VPC endpoint from the peer address only (SPEC section 2)."""

from __future__ import annotations

import pytest

from .conftest import CONSUMER_VPC, OUTSIDE, PROXY_VPC, Gateway, seen_upstream


@pytest.mark.parametrize(
    "client, vpce",
    [
        (PROXY_VPC, "vpce-01111111111111111"),
        (CONSUMER_VPC, "vpce-04444444444444444"),
        (OUTSIDE, None),
        (("127.0.1.1", 50000), None),  # a subnet's first address is its router (the host)
    ],
)
def test_the_endpoint_is_the_one_whose_subnet_holds_the_peer(
    gateway: Gateway, client: tuple[str, int], vpce: str | None
) -> None:
    seen_upstream(gateway.call("GET", "/dogs", client=client))
    assert gateway.last_log()["vpceId"] == vpce
    assert gateway.last_log()["sourceIp"] == client[0]


@pytest.mark.parametrize("client", [OUTSIDE, ("127.0.1.1", 50000)], ids=["outside", "router"])
def test_a_private_api_outside_every_endpoint_is_forbidden(
    gateway: Gateway, client: tuple[str, int]
) -> None:
    response = gateway.call(
        "GET", "/prod/dogs", headers={"x-apigw-api-id": "mtlsapi001"}, client=client
    )
    assert response.status_code == 403
    assert response.content == b'{"message":"Forbidden"}'


def test_what_the_caller_sends_cannot_choose_the_endpoint(gateway: Gateway) -> None:
    headers = {
        "x-apigw-api-id": "mtlsapi001",
        "Host": "mtlsapi001-vpce-01111111111111111.execute-api.us-east-1.amazonaws.com",
        "X-Forwarded-For": "127.0.1.10",
        "x-amzn-vpce-id": "vpce-01111111111111111",
    }
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    assert response.status_code == 403  # the mtls policy admits only the proxy's endpoint
    assert gateway.last_log()["vpceId"] == "vpce-04444444444444444"

from __future__ import annotations

import ipaddress

import pytest
from gateway.vpce import Attribution, EndpointSubnets, VpceAttributor

ATTRIBUTOR = VpceAttributor(
    [
        EndpointSubnets(
            "vpce-01111111111111111",
            "vpc-01111111111111111",
            (ipaddress.ip_network("127.0.1.0/24"),),
            frozenset({ipaddress.ip_address("127.0.1.1")}),
        ),
        EndpointSubnets(
            "vpce-04444444444444444",
            "vpc-04444444444444444",
            (ipaddress.ip_network("127.0.4.0/24"), ipaddress.ip_network("fd00:4::/64")),
        ),
    ]
)
PROXY = Attribution("vpce-01111111111111111", "vpc-01111111111111111")
CONSUMER = Attribution("vpce-04444444444444444", "vpc-04444444444444444")


@pytest.mark.parametrize(
    "source, expected",
    [
        ("127.0.1.2", PROXY),
        ("127.0.1.254", PROXY),
        ("127.0.1.1", None),  # excluded: the network's gateway address
        ("127.0.4.1", None),  # a subnet's first address is its router (the host), never a caller
        ("fd00:4::1", None),
        ("127.0.4.10", CONSUMER),
        ("::ffff:127.0.4.10", CONSUMER),
        ("fd00:4::10", CONSUMER),
        ("127.0.0.1", None),
        ("127.0.2.1", None),
        ("10.0.0.1", None),
        ("", None),
        (None, None),
        ("not-an-address", None),
    ],
)
def test_attribution_by_source_address(source: str | None, expected: Attribution | None) -> None:
    assert ATTRIBUTOR.attribute(source) == expected

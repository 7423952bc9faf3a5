"""Which VPC endpoint a request came through, from its source address alone.

In AWS the endpoint is a network interface in the caller's VPC: a caller cannot choose it by what it
sends. Locally each VPC is a subnet, so the TCP peer address (never a header, never the Host name)
decides the attribution.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Attribution:
    vpce_id: str
    vpc_id: str


@dataclass(frozen=True)
class EndpointSubnets:
    vpce_id: str
    vpc_id: str
    subnets: tuple[IPNetwork, ...]
    exclude: frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address] = frozenset()


class VpceAttributor:
    def __init__(self, endpoints: Iterable[EndpointSubnets]) -> None:
        self._endpoints = tuple(endpoints)

    def attribute(self, source_ip: str | None) -> Attribution | None:
        """The endpoint whose subnet holds `source_ip`, or None (outside every VPC)."""
        if not source_ip:
            return None
        try:
            address = ipaddress.ip_address(source_ip)
        except ValueError:
            return None  # e.g. a unix socket peer: no VPC
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        for endpoint in self._endpoints:
            if address in endpoint.exclude:
                continue
            if any(_is_host_in(address, subnet) for subnet in endpoint.subnets):
                return Attribution(vpce_id=endpoint.vpce_id, vpc_id=endpoint.vpc_id)
        return None


def _is_host_in(address: ipaddress.IPv4Address | ipaddress.IPv6Address, subnet: IPNetwork) -> bool:
    """Whether `address` is a host of `subnet` other than its first address.

    The first address is the subnet's router (AWS reserves it; Docker gives it to the bridge), so
    traffic from it comes from the host, e.g. through a published port, never from inside the VPC.
    """
    return address in subnet and address != subnet.network_address + 1

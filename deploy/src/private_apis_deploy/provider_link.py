"""The gateway account's side of a provider: an interface endpoint to the provider's endpoint
service and an internal NLB in front of it, which the APIs' VPC links reach.

API Gateway's private integrations end at a load balancer in the API's own account (a REST VPC
link targets an NLB, an HTTP API's VPC link a listener): the NLB forwards to the endpoint's
network interfaces by IP, and PrivateLink carries the traffic on to the provider's account.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as targets
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.endpoint_addresses import endpoint_addresses
from private_apis_deploy.network import PRIVATE, internal_nlb
from private_apis_deploy.provider import PORT, health_check


class ProviderLink(Construct):
    def __init__(
        self,
        stack: AccountStack,
        id: str,
        *,
        vpc: ec2.IVpc,
        service_name: str,
        zones: int,
    ) -> None:
        super().__init__(stack, id)
        self.endpoint = ec2.InterfaceVpcEndpoint(
            self,
            "Endpoint",
            vpc=vpc,
            service=ec2.InterfaceVpcEndpointService(service_name, port=PORT),
            subnets=PRIVATE,
            private_dns_enabled=False,  # the provider's endpoint services have no DNS name
            open=False,
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "NlbSecurityGroup",
            vpc=vpc,
            description=f"{id} NLB, reached by the HTTP API VPC link and by PrivateLink",
            allow_all_outbound=False,
        )
        # Only the NLB reaches the endpoint (its traffic and its health checks).
        self.endpoint.connections.allow_from(self.security_group, ec2.Port.tcp(PORT), "NLB")

        # The endpoint's interfaces by address, one per zone (read at deploy time).
        addresses = endpoint_addresses(self, self.endpoint, zones)

        # The REST APIs' VPC links arrive by PrivateLink, which the group cannot name.
        self.load_balancer = internal_nlb(
            self, vpc, self.security_group, private_link_traffic_unfiltered=True
        )
        suppress(
            self.load_balancer,
            "AwsSolutions-ELB2",
            "NLB access logs are written for TLS listeners only; this one is TCP (API Gateway's"
            " access logs record every request)",
        )
        self.listener = self.load_balancer.add_listener(
            "Listener", port=PORT, protocol=elbv2.Protocol.TCP
        )
        self.listener.add_targets(
            "Endpoint",
            port=PORT,
            protocol=elbv2.Protocol.TCP,
            targets=[targets.IpTarget(address) for address in addresses],
            health_check=health_check(),  # the provider's /health, through PrivateLink
            deregistration_delay=Duration.seconds(30),
        )
        # The REST APIs' link (V1: one per NLB).
        self.rest_link = apigw.VpcLink(self, "RestVpcLink", targets=[self.load_balancer])

    def allow_from(self, peer: ec2.IConnectable, description: str) -> None:
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(PORT), description)

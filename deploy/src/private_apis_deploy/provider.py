"""A provider's way in: an internal NLB on 8080, health-checked on /health, as a VPC endpoint
service that only the gateway account may connect to (the PrivateLink post's provider side)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.network import internal_nlb

PORT = 8080


def health_check() -> elbv2.HealthCheck:
    # The providers' /health: Dog Names answers while it serves, ToDo only while its store can
    # take a write, so the NLB takes an instance out before its writes fail.
    return elbv2.HealthCheck(
        protocol=elbv2.Protocol.HTTP,
        path="/health",
        healthy_http_codes="200",
        interval=Duration.seconds(10),
        timeout=Duration.seconds(5),
        healthy_threshold_count=2,
        unhealthy_threshold_count=2,
    )


class ProviderEndpoint(Construct):
    """The NLB (its listener for targets to be added to) and the endpoint service on it."""

    def __init__(self, stack: AccountStack, vpc: ec2.IVpc, name: str) -> None:
        super().__init__(stack, "Provider")
        # The NLB's own group admits nobody directly; PrivateLink traffic is not checked against
        # it (the endpoint service's allowed principals decide who connects), so the only way in
        # is through an endpoint of the gateway account, as locally only the gateway reaches a
        # provider's network.
        self.security_group = ec2.SecurityGroup(
            self,
            "NlbSecurityGroup",
            vpc=vpc,
            description=f"{name} NLB: PrivateLink traffic only",
            allow_all_outbound=False,
        )
        self.load_balancer = internal_nlb(
            self, vpc, self.security_group, private_link_traffic_unfiltered=True
        )
        self.listener = self.load_balancer.add_listener(
            "Listener", port=PORT, protocol=elbv2.Protocol.TCP
        )
        suppress(
            self.load_balancer,
            "AwsSolutions-ELB2",
            "NLB access logs are written for TLS listeners only; this listener is TCP (the"
            " providers speak HTTP on 8080 inside PrivateLink, as in the reference architecture)",
        )

        gateway_account = stack.deployed("gatewayAccount")
        self.service = ec2.VpcEndpointService(
            self,
            "EndpointService",
            vpc_endpoint_service_load_balancers=[self.load_balancer],
            acceptance_required=False,
            allowed_principals=[iam.ArnPrincipal(f"arn:aws:iam::{gateway_account}:root")],
        )
        stack.output(
            "EndpointServiceName",
            self.service.vpc_endpoint_service_name,
            f"{name}'s endpoint service: -c {_context_key(name)}=<this> for the gateway stack",
        )
        stack.output("NlbDnsName", self.load_balancer.load_balancer_dns_name, f"{name}'s NLB")

    def serve(
        self, target_id: str, targets: ecs.FargateService | autoscaling.AutoScalingGroup
    ) -> None:
        """The provider's targets behind the listener, health-checked on /health, and traffic
        and health checks from the NLB to their port (the ingress rule on the targets' group and
        the egress rule on the NLB's)."""
        self.listener.add_targets(
            target_id,
            port=PORT,
            protocol=elbv2.Protocol.TCP,
            targets=[targets],
            health_check=health_check(),
            deregistration_delay=Duration.seconds(30),
        )
        targets.connections.allow_from(self.security_group, ec2.Port.tcp(PORT), "from the NLB")


def _context_key(name: str) -> str:
    return {"Dog Names": "dogNamesEndpointService", "ToDo": "todoEndpointService"}[name]

"""The VPC every account gets: private subnets only, no internet gateway, no NAT.

What a task or instance needs from AWS (ECR, CloudWatch Logs, S3 for image layers and packages,
DynamoDB, Secrets Manager) it reaches through VPC endpoints, as the providers' callers reach them
through PrivateLink: nothing in these VPCs has a route to the internet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_logs as logs
from constructs import Construct

from private_apis_deploy.base import AccountStack

PRIVATE = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)


@dataclass(frozen=True)
class PrivateNetwork:
    vpc: ec2.Vpc
    cidr: str  # the VPC's range as a literal: rules that name it stay checkable at synth
    endpoints: dict[str, ec2.InterfaceVpcEndpoint]


def private_vpc(
    stack: AccountStack,
    cidr: str,
    *,
    interface_endpoints: Sequence[tuple[str, ec2.InterfaceVpcEndpointAwsService]] = (),
    gateway_endpoints: Sequence[tuple[str, ec2.GatewayVpcEndpointAwsService]] = (),
) -> PrivateNetwork:
    settings = stack.settings
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        ip_addresses=ec2.IpAddresses.cidr(cidr),
        max_azs=len(stack.availability_zones),
        subnet_configuration=[
            ec2.SubnetConfiguration(
                name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
            )
        ],
        nat_gateways=0,
        # The default group stays unused (every resource has its own); CDK's restriction of it
        # is a custom resource (a Lambda function) for no gain here.
        restrict_default_security_group=False,
    )
    # PrivateLink works per physical zone: an interface endpoint can only be placed in the zones
    # of the endpoint service's load balancer, and zone *names* map to different physical zones
    # in each account. With availabilityZoneIds the subnets of every account sit in the same
    # physical zones.
    if settings.availability_zone_ids:
        for subnet, zone_id in zip(
            vpc.isolated_subnets, settings.availability_zone_ids, strict=True
        ):
            cfn = subnet.node.default_child
            assert isinstance(cfn, ec2.CfnSubnet)
            cfn.add_property_deletion_override("AvailabilityZone")
            cfn.add_property_override("AvailabilityZoneId", zone_id)

    flow_logs = logs.LogGroup(
        stack,
        "FlowLogs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    vpc.add_flow_log("FlowLog", destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))

    endpoints = {}
    for name, service in interface_endpoints:
        endpoint = vpc.add_interface_endpoint(
            name, service=service, private_dns_enabled=True, subnets=PRIVATE, open=False
        )
        # HTTPS from the VPC's own range: the only callers there are.
        endpoint.connections.allow_default_port_from(ec2.Peer.ipv4(cidr), "HTTPS from the VPC")
        endpoints[name] = endpoint
    for name, gateway_service in gateway_endpoints:
        vpc.add_gateway_endpoint(name, service=gateway_service, subnets=[PRIVATE])
    return PrivateNetwork(vpc, cidr, endpoints)


# What a Fargate task or an EC2 instance needs to pull its image and write its logs.
IMAGE_PULL_ENDPOINTS = (
    ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
    ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
    ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
)
S3_GATEWAY = (("S3", ec2.GatewayVpcEndpointAwsService.S3),)


def internal_nlb(
    scope: Construct,
    vpc: ec2.IVpc,
    security_group: ec2.ISecurityGroup,
    *,
    private_link_traffic_unfiltered: bool = False,
) -> elbv2.NetworkLoadBalancer:
    """An internal, cross-zone NLB `Nlb` in `vpc`'s private subnets behind `security_group`.
    `private_link_traffic_unfiltered`: traffic that arrives by PrivateLink (an endpoint service's
    consumers, a REST API's VPC link) skips the group's inbound rules, which cannot name it."""
    return elbv2.NetworkLoadBalancer(
        scope,
        "Nlb",
        vpc=vpc,
        vpc_subnets=PRIVATE,
        internet_facing=False,
        cross_zone_enabled=True,
        security_groups=[security_group],
        # None leaves the property out of the template (the default: rules enforced)
        enforce_security_group_inbound_rules_on_private_link_traffic=(
            False if private_link_traffic_unfiltered else None
        ),
    )

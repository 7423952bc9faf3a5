"""The gateway account's side of a provider: an interface endpoint to the provider's endpoint
service and an internal NLB in front of it, which the APIs' VPC links reach.

API Gateway's private integrations end at a load balancer in the API's own account (a REST VPC
link targets an NLB, an HTTP API's VPC link a listener): the NLB forwards to the endpoint's
network interfaces by IP, and PrivateLink carries the traffic on to the provider's account.
"""

from __future__ import annotations

from aws_cdk import Duration, Fn
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_elasticloadbalancingv2_targets as targets
from aws_cdk import custom_resources as cr
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.network import PRIVATE, internal_nlb
from private_apis_deploy.provider import PORT, health_check

# The id aws-cdk-lib gives the singleton function of AwsCustomResource in a stack.
AWS_CUSTOM_RESOURCE_HANDLER = "AWS679f53fac002430cb0da5b7982bd2287"


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

        # CloudFormation gives the endpoint's network interfaces, not their addresses: one
        # DescribeNetworkInterfaces call at deploy time (one interface per zone).
        addresses = cr.AwsCustomResource(
            self,
            "EndpointAddresses",
            on_update=cr.AwsSdkCall(
                service="EC2",
                action="describeNetworkInterfaces",
                # One id per zone, each a plain string (a whole list token would need another
                # custom resource to turn it into JSON).
                parameters={
                    "NetworkInterfaceIds": [
                        Fn.select(i, self.endpoint.vpc_endpoint_network_interface_ids)
                        for i in range(zones)
                    ]
                },
                physical_resource_id=cr.PhysicalResourceId.of(self.endpoint.vpc_endpoint_id),
                output_paths=[f"NetworkInterfaces.{i}.PrivateIpAddress" for i in range(zones)],
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(
                resources=cr.AwsCustomResourcePolicy.ANY_RESOURCE
            ),
            install_latest_aws_sdk=False,
        )
        suppress(
            addresses,
            "AwsSolutions-IAM5",
            "ec2:DescribeNetworkInterfaces has no resource-level permissions: Resource * is the"
            " only form IAM takes for it",
            applies_to=["Resource::*"],
        )
        # The function behind every AwsCustomResource of the stack (one, shared; aws-cdk-lib's).
        handler = stack.node.find_child(AWS_CUSTOM_RESOURCE_HANDLER)
        suppress(
            handler,
            "AwsSolutions-IAM4",
            "aws-cdk-lib's handler for AwsCustomResource logs through AWSLambdaBasicExecutionRole;"
            " it runs once per deploy, outside the VPC, and only makes the call above",
            applies_to=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole"
            ],
        )

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
            targets=[
                targets.IpTarget(
                    addresses.get_response_field(f"NetworkInterfaces.{i}.PrivateIpAddress")
                )
                for i in range(zones)
            ],
            health_check=health_check(),  # the provider's /health, through PrivateLink
            deregistration_delay=Duration.seconds(30),
        )
        # The REST APIs' link (V1: one per NLB).
        self.rest_link = apigw.VpcLink(self, "RestVpcLink", targets=[self.load_balancer])

    def allow_from(self, peer: ec2.IConnectable, description: str) -> None:
        self.security_group.connections.allow_from(peer, ec2.Port.tcp(PORT), description)

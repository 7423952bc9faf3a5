"""The private addresses of an interface endpoint's network interfaces, for an NLB's IP targets.

API Gateway's REST VPC links end at an NLB, and an NLB in front of an interface endpoint targets
the endpoint's network interfaces by IP (as the AWS reference architectures put an NLB before an
endpoint). CloudFormation gives the endpoint's interface ids (NetworkInterfaceIds), not their
addresses: an AwsCustomResource makes one DescribeNetworkInterfaces call at deploy time, again
whenever the endpoint is replaced (its id is the custom resource's physical id).
"""

from __future__ import annotations

from aws_cdk import Fn, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import custom_resources as cr
from constructs import Construct

from private_apis_deploy.base import suppress

# The id aws-cdk-lib gives the singleton function of AwsCustomResource in a stack.
AWS_CUSTOM_RESOURCE_HANDLER = "AWS679f53fac002430cb0da5b7982bd2287"


def endpoint_addresses(
    scope: Construct, endpoint: ec2.InterfaceVpcEndpoint, zones: int
) -> list[str]:
    """One address per zone (the endpoint has one interface in each of its subnets), read by
    the custom resource `EndpointAddresses` in `scope`."""
    addresses = cr.AwsCustomResource(
        scope,
        "EndpointAddresses",
        on_update=cr.AwsSdkCall(
            service="EC2",
            action="describeNetworkInterfaces",
            # One id per zone, each a plain string (a whole list token would need another
            # custom resource to turn it into JSON).
            parameters={
                "NetworkInterfaceIds": [
                    Fn.select(i, endpoint.vpc_endpoint_network_interface_ids) for i in range(zones)
                ]
            },
            physical_resource_id=cr.PhysicalResourceId.of(endpoint.vpc_endpoint_id),
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
    suppress(
        Stack.of(scope).node.find_child(AWS_CUSTOM_RESOURCE_HANDLER),
        "AwsSolutions-IAM4",
        "aws-cdk-lib's handler for AwsCustomResource logs through AWSLambdaBasicExecutionRole;"
        " it runs once per deploy, outside the VPC, and only makes the call above",
        applies_to=[
            "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
        ],
    )
    return [
        addresses.get_response_field(f"NetworkInterfaces.{i}.PrivateIpAddress")
        for i in range(zones)
    ]

"""Account 444444444444: the consumer VPC with its execute-api endpoint, and the consumer Lambda
(services/consumer-lambda) in it, calling the partner API with its role's SigV4 credentials.

Deployed twice the first time (deploy/README.md): the partner API's resource policy names this
VPC's endpoint, and the function needs that API's id, so the first deploy
(`-c consumerFunction=false`) makes the VPC, the endpoint and the role, the gateway stack comes
next, and the second deploy adds the function and its identity policy.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.images import function_image
from private_apis_deploy.network import PRIVATE, private_vpc
from private_apis_deploy.settings import Settings
from private_apis_deploy.values import identity_policies, load_table

# The role partner's resource policy names, and the function Lambda names its session after
# (the caller is arn:aws:sts::<account>:assumed-role/consumer-lambda/consumer-lambda, as locally).
ROLE_NAME = FUNCTION_NAME = "consumer-lambda"
# What Lambda does with the role to place a function in a VPC (AWSLambdaVPCAccessExecutionRole's
# EC2 actions, without its logs:* on every group).
VPC_ACCESS_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class ConsumerStack(AccountStack):
    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(
            scope,
            "consumer",
            settings,
            "private-apis: the consumer VPC, its execute-api endpoint and the consumer Lambda",
        )
        network = private_vpc(
            self,
            "10.214.0.0/16",
            interface_endpoints=(("ExecuteApi", ec2.InterfaceVpcEndpointAwsService.APIGATEWAY),),
        )
        vpc, endpoint = network.vpc, network.endpoints["ExecuteApi"]
        role = iam.Role(
            self,
            "FunctionRole",
            role_name=ROLE_NAME,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="the consumer Lambda: GET on the partner API, as in the local gateway",
        )
        self.output("ExecuteApiEndpointId", endpoint.vpc_endpoint_id, "-c consumerVpceId=<this>")
        self.output("VpcId", vpc.vpc_id, "the consumer VPC")
        self.output("RoleArn", role.role_arn, "the role partner's resource policy names")
        if not settings.consumer_function:
            Annotations.of(self).add_info(
                "consumerFunction=false: the VPC, its endpoint and the role only; deploy again"
                " with the partner API's id once the gateway stack is deployed"
            )
            return

        # The identity policy the local gateway gives this role (gateway/config/gateway.yaml),
        # its values substituted: execute-api:Invoke on the partner API's GET methods.
        table = load_table()
        local_role = f"arn:aws:iam::{table['consumerAccount'].local}:role/{ROLE_NAME}"
        api_id = self.deployed("partnerApiId")
        deployed = {"gatewayAccount": self.deployed("gatewayAccount"), "partnerApiId": api_id}
        for index, local_document in enumerate(identity_policies(local_role)):
            document = table.substitute(local_document, deployed)
            policy = iam.Policy(
                self,
                f"PartnerApiPolicy{index}",
                document=iam.PolicyDocument.from_json(document),
                roles=[role],
            )
            suppress(
                policy,
                "AwsSolutions-IAM5",
                "the wildcards are the stage and the path: every GET method of the partner API"
                " (and nothing else), the policy the local gateway gives this role",
                applies_to=[f"Resource::{resource}" for resource in _resources(document)],
            )

        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{FUNCTION_NAME}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        role.add_to_policy(iam.PolicyStatement(actions=list(VPC_ACCESS_ACTIONS), resources=["*"]))
        suppress(
            role,
            "AwsSolutions-IAM5",
            "the EC2 network-interface actions Lambda performs to place a function in a VPC take"
            " no resource-level restriction (AWSLambdaVPCAccessExecutionRole grants them on *)",
            applies_to=["Resource::*"],
        )

        # Out to the execute-api endpoint only.
        security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="the consumer Lambda: HTTPS to the execute-api endpoint",
        )
        endpoint.connections.allow_from(security_group, ec2.Port.tcp(443), "the consumer Lambda")

        function = lambda_.DockerImageFunction(
            self,
            "Function",
            function_name=FUNCTION_NAME,
            code=function_image(self, "consumer-lambda"),
            architecture=lambda_.Architecture.X86_64,
            role=role,
            vpc=vpc,
            vpc_subnets=PRIVATE,
            security_groups=[security_group],
            memory_size=256,
            timeout=Duration.seconds(30),
            log_group=log_group,
            environment={
                # The API by its own name: the endpoint's private DNS resolves it in this VPC.
                "PARTNER_API_URL": f"https://{api_id}.execute-api.{self.region}.{self.url_suffix}/prod",
                "PARTNER_API_TIMEOUT": "10",
            },
        )
        self.output("FunctionName", function.function_name, "aws lambda invoke --function-name")


def _resources(document: dict[str, Any]) -> list[str]:
    """The Resource patterns with a wildcard in a policy document."""
    statements = document["Statement"]
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        found += [resources] if isinstance(resources, str) else list(resources)
    return [resource for resource in found if "*" in resource]

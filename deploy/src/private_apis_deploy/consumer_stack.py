"""Account 444444444444: the consumer VPC with its execute-api endpoint, and the consumer Lambda
(services/consumer-lambda) in it, calling the partner API with its role's SigV4 credentials; the
front door (frontdoor.py) in the same VPC, with an execute-api endpoint of its own; and the
widgets consumer function (widgets_consumer.py), calling the widgets API through that endpoint.

Deployed twice the first time (deploy/README.md): the partner and widgets APIs' resource
policies name this VPC's endpoints, and the function and the front door need the gateway
stack's outputs (the partner API's id; the widgets API's id and the authorizer's ARN), so the
first deploy (`-c consumerFunction=false`) makes the VPC, its endpoints, the front door's NLB
and VPC link and both functions' roles (the gateway stack's policies name them), the gateway
stack comes next, and the second deploy adds the functions with their identity policies and the
front door API.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.frontdoor import FrontdoorLink, frontdoor_api
from private_apis_deploy.functions import vpc_function
from private_apis_deploy.images import function_image
from private_apis_deploy.network import private_vpc
from private_apis_deploy.settings import Settings
from private_apis_deploy.values import identity_policies, load_table
from private_apis_deploy.widgets_consumer import WidgetsConsumer, widgets_consumer_role

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
            "private-apis: the consumer VPC, its execute-api endpoints, the consumer Lambda and"
            " the front door API",
        )
        network = private_vpc(
            self,
            "10.214.0.0/16",
            interface_endpoints=(
                ("ExecuteApi", ec2.InterfaceVpcEndpointAwsService.APIGATEWAY),
                # the widgets consumer's token, from the gateway account's secret
                ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
            ),
        )
        vpc, endpoint = network.vpc, network.endpoints["ExecuteApi"]
        role = iam.Role(
            self,
            "FunctionRole",
            role_name=ROLE_NAME,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="the consumer Lambda: GET on the partner API, as in the local gateway",
        )
        frontdoor = FrontdoorLink(self, vpc=vpc, zones=len(self.availability_zones))
        widgets_role = widgets_consumer_role(self)
        self.output("ExecuteApiEndpointId", endpoint.vpc_endpoint_id, "-c consumerVpceId=<this>")
        self.output("VpcId", vpc.vpc_id, "the consumer VPC (and the front door's)")
        self.output("RoleArn", role.role_arn, "the role partner's resource policy names")
        self.output(
            "WidgetsConsumerRoleArn",
            widgets_role.role_arn,
            "the role the authorizer's secret and its key name (the gateway stack)",
        )
        self.output(
            "FrontdoorVpceId",
            frontdoor.endpoint.vpc_endpoint_id,
            "-c frontdoorVpceId=<this>: the front door's execute-api endpoint",
        )
        self.output(
            "WidgetsVpcLinkId", frontdoor.link.vpc_link_id, "stage variable widgetsVpcLinkId"
        )
        if not settings.consumer_function:
            Annotations.of(self).add_info(
                "consumerFunction=false: the VPC, its endpoints, the front door's link and the"
                " role only; deploy again with the gateway stack's outputs once it is deployed"
            )
            return

        table = load_table()
        api = frontdoor_api(
            self,
            table,
            frontdoor,
            {
                "region": self.region,
                "gatewayAccount": self.deployed("gatewayAccount"),
                "tokenAuthorizerArn": self.deployed("tokenAuthorizerArn"),
            },
            widgets_api_id=self.deployed("widgetsApiId"),
        )
        self.output("FrontdoorApiId", api.rest_api_id, "the front door")
        self.output("FrontdoorApiUrl", api.url, 'curl -H "Authorization: <the token>" <this>')

        # The identity policy the local gateway gives this role (gateway/config/gateway.yaml),
        # its values substituted: execute-api:Invoke on the partner API's GET methods.
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

        for function_role in (role, widgets_role):
            _allow_vpc_access(function_role)

        # Out to the execute-api endpoint only.
        security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="the consumer Lambda: HTTPS to the execute-api endpoint",
        )
        endpoint.connections.allow_from(security_group, ec2.Port.tcp(443), "the consumer Lambda")

        function = vpc_function(
            self,
            name=FUNCTION_NAME,
            code=function_image(self, "consumer-lambda"),
            role=role,
            vpc=vpc,
            security_group=security_group,
            environment={
                # The API by its own name: the endpoint's private DNS resolves it in this VPC.
                "PARTNER_API_URL": f"https://{api_id}.execute-api.{self.region}.{self.url_suffix}/prod",
                "PARTNER_API_TIMEOUT": "10",
            },
        )
        self.output("FunctionName", function.function_name, "aws lambda invoke --function-name")

        widgets_consumer = WidgetsConsumer(
            self,
            vpc=vpc,
            role=widgets_role,
            frontdoor=frontdoor,
            secrets_endpoint=network.endpoints["SecretsManager"],
        )
        self.output(
            "WidgetsConsumerFunctionName",
            widgets_consumer.function.function_name,
            "aws lambda invoke --function-name <this>: the widget, with the token",
        )


def _allow_vpc_access(role: iam.Role) -> None:
    role.add_to_policy(iam.PolicyStatement(actions=list(VPC_ACCESS_ACTIONS), resources=["*"]))
    suppress(
        role,
        "AwsSolutions-IAM5",
        "the EC2 network-interface actions Lambda performs to place a function in a VPC take"
        " no resource-level restriction (AWSLambdaVPCAccessExecutionRole grants them on *)",
        applies_to=["Resource::*"],
    )


def _resources(document: dict[str, Any]) -> list[str]:
    """The Resource patterns with a wildcard in a policy document."""
    statements = document["Statement"]
    found: list[str] = []
    for statement in statements if isinstance(statements, list) else [statements]:
        resources = statement.get("Resource", [])
        found += [resources] if isinstance(resources, str) else list(resources)
    return [resource for resource in found if "*" in resource]

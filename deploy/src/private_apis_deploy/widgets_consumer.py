"""The cross-account patterns post's consumer Lambda of pattern 1 (the sample's ConsumerFunction),
in the consumer account: `widgets-consumer`, the consumer-lambda image's second handler
(`consumer_lambda.widgets.handler`), in the consumer VPC (the front door's, in AWS), calls the
gateway account's private `widgets` API through the front door's execute-api endpoint with the
shared secret as its token.

    widgets-consumer ─> front door's execute-api vpce (no private DNS: its own DNS name, the
      API chosen by x-apigw-api-id) ─> widgets (PRIVATE, 111…; its policy admits this endpoint)

The token is the gateway account's secret, read on every invocation through the VPC's Secrets
Manager endpoint (the VPC has no route out): the secret's and its key's policies name this
function's role (widgets.py), and the role's own policy names the secret and the key. The role
comes with the consumer's first deploy, so that the gateway stack's policies can name it; the
function with the second, from the gateway stack's outputs.
"""

from __future__ import annotations

from aws_cdk import Fn
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from private_apis_deploy.base import AccountStack
from private_apis_deploy.frontdoor import HTTPS, FrontdoorLink
from private_apis_deploy.functions import vpc_function
from private_apis_deploy.images import function_image
from private_apis_deploy.widgets import WIDGETS_CONSUMER_ROLE

FUNCTION_NAME = WIDGETS_CONSUMER_ROLE
HANDLER = "consumer_lambda.widgets.handler"


def widgets_consumer_role(stack: AccountStack) -> iam.Role:
    return iam.Role(
        stack,
        "WidgetsConsumerRole",
        role_name=WIDGETS_CONSUMER_ROLE,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description="the widgets consumer function: the gateway account's token, GET /widgets",
    )


class WidgetsConsumer(Construct):
    def __init__(
        self,
        stack: AccountStack,
        *,
        vpc: ec2.IVpc,
        role: iam.Role,
        frontdoor: FrontdoorLink,
        secrets_endpoint: ec2.InterfaceVpcEndpoint,
    ) -> None:
        super().__init__(stack, "WidgetsConsumer")
        secret_arn = stack.deployed("authorizerTokenSecretArn")
        role.add_to_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[stack.deployed("authorizerTokenKeyArn")],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com"
                    }
                },
            )
        )

        # Out to the front door's endpoint and the Secrets Manager endpoint only.
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            allow_all_outbound=False,
            description="the widgets consumer: HTTPS out to its two VPC endpoints",
        )
        frontdoor.endpoint.connections.allow_from(
            security_group, ec2.Port.tcp(HTTPS), "the widgets consumer function"
        )
        secrets_endpoint.connections.allow_from(
            security_group, ec2.Port.tcp(HTTPS), "the widgets consumer function"
        )

        # The endpoint's own DNS name (its first entry is "<zone id>:<name>"): with the API id
        # header, how a private API is called through an endpoint without private DNS.
        endpoint_name = Fn.select(
            1, Fn.split(":", Fn.select(0, frontdoor.endpoint.vpc_endpoint_dns_entries))
        )
        self.function = vpc_function(
            self,
            name=FUNCTION_NAME,
            description="GET /widgets of the gateway account's private widgets API, with the token",
            code=function_image(stack, "consumer-lambda", cmd=[HANDLER]),
            role=role,
            vpc=vpc,
            security_group=security_group,
            environment={
                "WIDGETS_API_URL": f"https://{endpoint_name}/prod/widgets",
                "WIDGETS_API_ID": stack.deployed("widgetsApiId"),
                "WIDGETS_API_TIMEOUT": "10",
                "TOKEN_SECRET_ID": secret_arn,
            },
        )

"""The Lambda functions of the gateway account: each with a role of its own that may write its
own log group (kept for a month), and nothing else until granted.

They run outside the VPC: the widgets function needs nothing, the authorizer and the rotation
function only Secrets Manager's regional endpoint, and API Gateway invokes them by ARN. (The
consumer account's functions are in its VPC because they call private APIs through the VPC's
endpoints: `vpc_function`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from private_apis_deploy.base import AccountStack
from private_apis_deploy.images import function_image
from private_apis_deploy.network import PRIVATE

TOKEN_ROTATION_CODE = Path(__file__).resolve().parent / "token_rotation"


def _role_and_logs(scope: Construct, name: str, what: str) -> tuple[iam.Role, logs.LogGroup]:
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"the {name} function: {what}",
    )
    return role, function_logs(scope, name, role)


def function_logs(scope: Construct, name: str, role: iam.IRole) -> logs.LogGroup:
    """The log group Lambda writes function `name`'s logs to (a month of them), writable by
    `role`."""
    log_group = logs.LogGroup(
        scope,
        "Logs",
        log_group_name=f"/aws/lambda/{name}",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    log_group.grant_write(role)
    return log_group


class ImageFunction(Construct):
    """A function from one of the project's images (`images.function_image`), named `name` (the
    name the API documents' ARNs give it)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        image: str,
        what: str,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        assert isinstance(stack, AccountStack)
        self.role, log_group = _role_and_logs(self, name, what)
        self.function = lambda_.DockerImageFunction(
            self,
            "Function",
            function_name=name,
            description=what,
            code=function_image(stack, image),
            architecture=lambda_.Architecture.X86_64,
            role=self.role,
            memory_size=256,
            # API Gateway waits at most 29 s for an integration and 10 s for an authorizer
            timeout=Duration.seconds(10),
            log_group=log_group,
            environment=dict(environment or {}),
        )


class TokenRotationFunction(Construct):
    """The rotation function of the authorizer's secret (token_rotation/handler.py), Python on
    the Lambda runtime, its code an asset of that folder."""

    def __init__(
        self, scope: Construct, id: str, *, name: str, environment: Mapping[str, str]
    ) -> None:
        super().__init__(scope, id)
        self.role, log_group = _role_and_logs(self, name, "rotates the authorizer's token")
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description="rotates the TOKEN authorizer's shared secret (Secrets Manager's steps)",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.X86_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(
                str(TOKEN_ROTATION_CODE), exclude=["__pycache__", "*.pyc"]
            ),
            role=self.role,
            memory_size=128,
            timeout=Duration.seconds(30),
            log_group=log_group,
            environment=dict(environment),
        )


def vpc_function(
    scope: Construct,
    *,
    name: str,
    code: lambda_.DockerImageCode,
    role: iam.IRole,
    vpc: ec2.IVpc,
    security_group: ec2.ISecurityGroup,
    environment: Mapping[str, str],
    description: str | None = None,
) -> lambda_.DockerImageFunction:
    """A consumer account's function `Function`: an image in the VPC's private subnets behind
    `security_group`, logging to its own group (`function_logs`)."""
    return lambda_.DockerImageFunction(
        scope,
        "Function",
        function_name=name,
        description=description,
        code=code,
        architecture=lambda_.Architecture.X86_64,
        role=role,
        vpc=vpc,
        vpc_subnets=PRIVATE,
        security_groups=[security_group],
        memory_size=256,
        timeout=Duration.seconds(30),
        log_group=function_logs(scope, name, role),
        environment=dict(environment),
    )

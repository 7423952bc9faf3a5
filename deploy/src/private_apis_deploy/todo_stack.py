"""Account 333333333333: the ToDo provider on an EC2 Auto Scaling group of two behind an NLB, on
one DynamoDB table, as an endpoint service for the gateway account (the PrivateLink post's
second provider, and what `make up PROFILE=aws-like` runs locally)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct
from todo.storage.dynamodb import TABLE_DEFINITION

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.images import instance_image, registry_host
from private_apis_deploy.network import IMAGE_PULL_ENDPOINTS, PRIVATE, S3_GATEWAY, private_vpc
from private_apis_deploy.provider import ProviderEndpoint
from private_apis_deploy.settings import Settings

# What the service calls (services/todo/README.md, "DynamoDB"): a transaction needs the actions
# it contains, the health check is a conditional PutItem. Nothing else, on this table only.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)


class TodoStack(AccountStack):
    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(
            scope,
            "todo",
            settings,
            "private-apis: the ToDo provider (EC2 Auto Scaling, NLB, DynamoDB, endpoint service)",
        )
        vpc = private_vpc(
            self,
            "10.213.0.0/16",
            interface_endpoints=IMAGE_PULL_ENDPOINTS,
            gateway_endpoints=(
                *S3_GATEWAY,
                ("DynamoDb", ec2.GatewayVpcEndpointAwsService.DYNAMODB),
            ),
        ).vpc

        # The table exactly as the service defines it (todo.storage.dynamodb.TABLE_DEFINITION).
        table = dynamodb.CfnTable(
            self,
            "Table",
            key_schema=[
                dynamodb.CfnTable.KeySchemaProperty(
                    attribute_name=key["AttributeName"], key_type=key["KeyType"]
                )
                for key in TABLE_DEFINITION["KeySchema"]
            ],
            attribute_definitions=[
                dynamodb.CfnTable.AttributeDefinitionProperty(
                    attribute_name=attribute["AttributeName"],
                    attribute_type=attribute["AttributeType"],
                )
                for attribute in TABLE_DEFINITION["AttributeDefinitions"]
            ],
            billing_mode=TABLE_DEFINITION["BillingMode"],
            point_in_time_recovery_specification=dynamodb.CfnTable.PointInTimeRecoverySpecificationProperty(
                point_in_time_recovery_enabled=True
            ),
            sse_specification=dynamodb.CfnTable.SSESpecificationProperty(sse_enabled=True),
        )
        # Items outlive the stack: `cdk destroy` leaves the table (deploy/README.md, tear-down).
        table.apply_removal_policy(RemovalPolicy.RETAIN)

        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="ToDo instances: their table, their image, their logs; nothing else",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=list(TABLE_ACTIONS), resources=[table.attr_arn])
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        image = instance_image(self, "todo", role)
        suppress(
            role,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions (ECR's documented"
            " Resource: *); every other action names the table, the repository or the log group",
            applies_to=["Resource::*"],
        )

        security_group = ec2.SecurityGroup(
            self, "InstanceSecurityGroup", vpc=vpc, description="ToDo instances"
        )
        template = ec2.LaunchTemplate(
            self,
            "LaunchTemplate",
            machine_image=ec2.MachineImage.latest_amazon_linux2023(),
            instance_type=ec2.InstanceType("t3.small"),
            role=role,
            security_group=security_group,
            user_data=self._user_data(image, table.ref, log_group.log_group_name),
            require_imdsv2=True,
            # The container reaches the instance's credentials through Docker's bridge: one hop
            # more than IMDSv2's default of 1.
            http_put_response_hop_limit=2,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        16, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        group = autoscaling.AutoScalingGroup(
            self,
            "Instances",
            vpc=vpc,
            vpc_subnets=PRIVATE,
            launch_template=template,
            min_capacity=2,
            max_capacity=2,
            cooldown=Duration.minutes(5),
            health_checks=autoscaling.HealthChecks.with_additional_checks(
                additional_types=[autoscaling.AdditionalHealthCheckType.ELB],
                grace_period=Duration.minutes(5),
            ),
            update_policy=autoscaling.UpdatePolicy.rolling_update(
                max_batch_size=1, min_instances_in_service=1
            ),
        )
        suppress(
            group,
            "AwsSolutions-AS3",
            "a fixed group of two: scaling notifications would only report instance"
            " replacements, which the NLB's health checks and CloudWatch already show",
        )

        provider = ProviderEndpoint(self, vpc, "ToDo")
        provider.serve("Instances", group)

        self.output("TableName", table.ref, "the ToDo table (retained by cdk destroy)")
        self.output("VpcId", vpc.vpc_id, "the ToDo VPC")

    def _user_data(self, image: str, table: str, log_group: str) -> ec2.UserData:
        """Docker from Amazon Linux's own repositories (reached through the S3 endpoint), and
        the ToDo image as a systemd service: restarted when it stops, started at boot."""
        region = self.region
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "set -euo pipefail",
            "dnf install -y docker",
            "systemctl enable --now docker",
            "cat >/etc/systemd/system/todo.service <<'EOF'",
            "[Unit]",
            "Description=ToDo provider (private-apis/todo)",
            "After=docker.service",
            "Requires=docker.service",
            "[Service]",
            "Restart=always",
            "RestartSec=5",
            "ExecStartPre=-/usr/bin/docker rm -f todo",
            f"ExecStartPre=/bin/sh -c 'aws ecr get-login-password --region {region}"
            f" | docker login --username AWS --password-stdin {registry_host(self)}'",
            f"ExecStartPre=/usr/bin/docker pull {image}",
            "ExecStart=/usr/bin/docker run --rm --name todo -p 8080:8080"
            f" --log-driver awslogs --log-opt awslogs-region={region}"
            f" --log-opt awslogs-group={log_group}"
            " -e TODO_STORAGE=dynamodb"
            f" -e TODO_TABLE={table} -e AWS_REGION={region} {image}",
            "ExecStop=/usr/bin/docker stop todo",
            "[Install]",
            "WantedBy=multi-user.target",
            "EOF",
            "systemctl daemon-reload",
            "systemctl enable --now todo",
        )
        return user_data

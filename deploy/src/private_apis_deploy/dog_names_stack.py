"""Account 222222222222: the Dog Names provider on ECS Fargate behind an NLB, as an endpoint
service for the gateway account (the PrivateLink post's first provider)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ecs as ecs
from constructs import Construct

from private_apis_deploy.base import AccountStack, suppress
from private_apis_deploy.fargate import USER, fargate_task
from private_apis_deploy.images import container_image
from private_apis_deploy.network import IMAGE_PULL_ENDPOINTS, PRIVATE, S3_GATEWAY, private_vpc
from private_apis_deploy.provider import PORT, ProviderEndpoint
from private_apis_deploy.settings import Settings

# The image's own user (services/dog-names/Dockerfile): stated again so that the task can never
# run as root, whatever the image says.


class DogNamesStack(AccountStack):
    def __init__(self, scope: Construct, settings: Settings) -> None:
        super().__init__(
            scope,
            "dog-names",
            settings,
            "private-apis: the Dog Names provider (ECS Fargate, NLB, VPC endpoint service)",
        )
        vpc = private_vpc(
            self,
            "10.212.0.0/16",
            interface_endpoints=IMAGE_PULL_ENDPOINTS,
            gateway_endpoints=S3_GATEWAY,
        ).vpc
        cluster = ecs.Cluster(
            self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )

        task, log_group = fargate_task(self)
        task.add_container(
            "dog-names",
            image=container_image(self, "dog-names"),
            user=USER,
            # uvicorn writes nothing (PYTHONDONTWRITEBYTECODE in the image): a read-only root.
            readonly_root_filesystem=True,
            port_mappings=[ecs.PortMapping(container_port=PORT)],
            environment={"LOG_LEVEL": "info"},
            logging=ecs.LogDrivers.aws_logs(stream_prefix="dog-names", log_group=log_group),
            # The image's HEALTHCHECK, which ECS does not read from the image.
            health_check=ecs.HealthCheck(
                command=[
                    "CMD",
                    "python3",
                    "-c",
                    "import urllib.request;"
                    " urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)",
                ],
                interval=Duration.seconds(10),
                timeout=Duration.seconds(3),
                start_period=Duration.seconds(10),
                retries=3,
            ),
        )
        suppress(
            task,
            "AwsSolutions-IAM5",
            "the execution role's ecr:GetAuthorizationToken, which has no resource-level"
            " permissions (ECR documents Resource *); the pull and log actions name their"
            " resources",
            applies_to=["Resource::*"],
        )
        suppress(
            task,
            "AwsSolutions-ECS2",
            "LOG_LEVEL is the only environment variable, not a secret; Dog Names has no secrets",
        )

        service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=task,
            desired_count=2,  # one per zone
            min_healthy_percent=100,
            max_healthy_percent=200,
            vpc_subnets=PRIVATE,
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )

        provider = ProviderEndpoint(self, vpc, "Dog Names")
        provider.serve("Tasks", service)
        self.output("VpcId", vpc.vpc_id, "the Dog Names VPC")

"""What every Fargate service of the app starts from: the task's size and platform, its log group,
and the non-root user the project's images run as."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

USER = "10001:10001"  # the images' own non-root user (their Dockerfiles' USER)


def fargate_task(scope: Construct) -> tuple[ecs.FargateTaskDefinition, logs.LogGroup]:
    """A 0.25 vCPU / 512 MiB x86-64 Linux task definition and a log group kept for a month, as
    `Task` and `Logs` in `scope`."""
    task = ecs.FargateTaskDefinition(
        scope,
        "Task",
        cpu=256,
        memory_limit_mib=512,
        runtime_platform=ecs.RuntimePlatform(
            cpu_architecture=ecs.CpuArchitecture.X86_64,
            operating_system_family=ecs.OperatingSystemFamily.LINUX,
        ),
    )
    log_group = logs.LogGroup(
        scope,
        "Logs",
        retention=logs.RetentionDays.ONE_MONTH,
        removal_policy=RemovalPolicy.DESTROY,
    )
    return task, log_group

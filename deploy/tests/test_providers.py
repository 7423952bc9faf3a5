"""The provider stacks: Dog Names on Fargate, ToDo on an Auto Scaling group on DynamoDB, each
behind an internal NLB on 8080 health-checked on /health, as an endpoint service only the
gateway account may use, in a VPC without a way to the internet."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from deploy_harness import ACCOUNTS, CONTEXT, FakeCloudFormation, only, resources
from private_apis_deploy.todo_stack import TABLE_ACTIONS
from todo.storage.dynamodb import TABLE_DEFINITION

PROVIDERS = ("dog-names", "todo")


@pytest.mark.parametrize("key", PROVIDERS)
def test_internal_nlb_on_8080_health_checked_on_health(templates: dict[str, Any], key: str) -> None:
    template = Template.from_json(templates[key])
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        {"Scheme": "internal", "Type": "network"},
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 8080, "Protocol": "TCP"}
    )
    template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        {
            "Port": 8080,
            "Protocol": "TCP",
            "HealthCheckProtocol": "HTTP",
            "HealthCheckPath": "/health",
            "Matcher": {"HttpCode": "200"},
        },
    )


@pytest.mark.parametrize("key", PROVIDERS)
def test_endpoint_service_allows_the_gateway_account_without_acceptance(
    templates: dict[str, Any], key: str
) -> None:
    template = templates[key]
    _, service = only(template, "AWS::EC2::VPCEndpointService")
    assert service["Properties"]["AcceptanceRequired"] is False
    (nlb,) = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert service["Properties"]["NetworkLoadBalancerArns"] == [{"Ref": nlb}]
    _, permissions = only(template, "AWS::EC2::VPCEndpointServicePermissions")
    assert permissions["Properties"]["AllowedPrincipals"] == [
        f"arn:aws:iam::{ACCOUNTS['gateway']}:root"
    ]
    assert "EndpointServiceName" in template["Outputs"]


@pytest.mark.parametrize("key", PROVIDERS)
def test_the_vpc_has_private_subnets_only(templates: dict[str, Any], key: str) -> None:
    template = templates[key]
    for kind in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::EIP"):
        assert resources(template, kind) == {}
    subnets = resources(template, "AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(not s["Properties"].get("MapPublicIpOnLaunch") for s in subnets.values())
    Template.from_json(template).resource_count_is("AWS::EC2::FlowLog", 1)


@pytest.mark.parametrize("key", PROVIDERS)
def test_the_stack_is_for_its_own_account(synthed: Any, key: str) -> None:
    from private_apis_deploy.settings import STACKS

    artifact = synthed.assembly.get_stack_by_name(STACKS[key])
    assert artifact.environment.account == ACCOUNTS[key]
    assert artifact.environment.region == CONTEXT["region"]


def test_dog_names_runs_the_pushed_image_on_fargate_as_non_root(templates: dict[str, Any]) -> None:
    template = Template.from_json(templates["dog-names"])
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "RequiresCompatibilities": ["FARGATE"],
            "NetworkMode": "awsvpc",
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "User": "10001:10001",
                        "ReadonlyRootFilesystem": True,
                        "PortMappings": [Match.object_like({"ContainerPort": 8080})],
                        "Image": {
                            "Fn::Join": [
                                "",
                                [
                                    f"{ACCOUNTS['dog-names']}.dkr.ecr.{CONTEXT['region']}.",
                                    {"Ref": "AWS::URLSuffix"},
                                    f"/private-apis/dog-names:{CONTEXT['imageTag']}",
                                ],
                            ]
                        },
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::ECS::Service",
        {
            "LaunchType": "FARGATE",
            "DesiredCount": 2,
            "NetworkConfiguration": {
                "AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})
            },
        },
    )


def test_todo_table_is_the_services_table_definition(templates: dict[str, Any]) -> None:
    _, table = only(templates["todo"], "AWS::DynamoDB::Table")
    properties = table["Properties"]
    assert properties["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert properties["AttributeDefinitions"] == TABLE_DEFINITION["AttributeDefinitions"]
    assert properties["BillingMode"] == TABLE_DEFINITION["BillingMode"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_todo_instances_role_reaches_that_table_only(templates: dict[str, Any]) -> None:
    template = templates["todo"]
    table, _ = only(template, "AWS::DynamoDB::Table")
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(str(action).startswith("dynamodb:") for action in _list(statement["Action"]))
    ]
    assert statements == [
        {
            "Action": sorted(TABLE_ACTIONS),  # minimizePolicies sorts them
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [table, "Arn"]},
        }
    ]


def test_todo_is_an_auto_scaling_group_of_two_running_the_pushed_image(
    templates: dict[str, Any],
) -> None:
    template = templates["todo"]
    _, group = only(template, "AWS::AutoScaling::AutoScalingGroup")
    assert (group["Properties"]["MinSize"], group["Properties"]["MaxSize"]) == ("2", "2")
    assert group["Properties"]["HealthCheckType"] == "ELB"
    (target_group,) = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert group["Properties"]["TargetGroupARNs"] == [{"Ref": target_group}]

    _, launch = only(template, "AWS::EC2::LaunchTemplate")
    data = launch["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    user_data = FakeCloudFormation(template, account=ACCOUNTS["todo"]).resolve(
        data["UserData"]["Fn::Base64"]
    )
    table, _ = only(template, "AWS::DynamoDB::Table")
    image = (
        f"{ACCOUNTS['todo']}.dkr.ecr.{CONTEXT['region']}.amazonaws.com/private-apis/todo:"
        f"{CONTEXT['imageTag']}"
    )
    assert f"docker pull {image}" in user_data
    assert f"-e TODO_STORAGE=dynamodb -e TODO_TABLE={table}-" in user_data


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]

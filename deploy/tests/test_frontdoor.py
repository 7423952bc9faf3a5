"""The front door pattern in AWS: in the gateway account the widgets API's functions (the pushed
images, by the names the documents give them), the authorizer's secret generated and rotated by
Secrets Manager, and who may invoke what; in the consumer account the front door's own
execute-api endpoint, the NLB whose targets are its addresses, the VPC link and the web ACL."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from deploy_harness import (
    ACCOUNTS,
    API_DIR,
    CONTEXT,
    REGION,
    FakeCloudFormation,
    only,
    resources,
)
from private_apis_deploy.gateway_stack import GatewayStack
from private_apis_deploy.settings import from_context
from private_apis_deploy.values import load_document
from private_apis_deploy.widgets import TOKEN_LENGTH, token_pattern

IMAGE_TAG = CONTEXT["imageTag"]


def _function(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (logical, f["Properties"])
        for logical, f in resources(template, "AWS::Lambda::Function").items()
        if f["Properties"].get("FunctionName") == name
    ]
    return found


def _gateway(templates: dict[str, Any]) -> tuple[dict[str, Any], FakeCloudFormation]:
    template = templates["gateway"]
    return template, FakeCloudFormation(template, account=ACCOUNTS["gateway"])


@pytest.mark.parametrize(
    ("name", "image"), [("widgets", "widgets-lambda"), ("token-authorizer", "token-authorizer")]
)
def test_the_functions_are_the_pushed_images_by_the_documents_names(
    templates: dict[str, Any], name: str, image: str
) -> None:
    template, cfn = _gateway(templates)
    _, function = _function(template, name)
    assert function["PackageType"] == "Image"
    assert cfn.resolve(function["Code"]["ImageUri"]) == (
        f"{ACCOUNTS['gateway']}.dkr.ecr.{REGION}.amazonaws.com/private-apis/{image}:{IMAGE_TAG}"
    )
    # the ARN the widgets body names is this function's
    assert cfn.output(
        {"widgets": "WidgetsFunctionArn", "token-authorizer": "TokenAuthorizerArn"}[name]
    ) == (f"arn:aws:lambda:{REGION}:{ACCOUNTS['gateway']}:function:{name}")
    assert "VpcConfig" not in function  # outside the VPC: API Gateway invokes it by ARN


def test_the_secret_is_generated_by_secrets_manager_in_the_documents_shape(
    templates: dict[str, Any],
) -> None:
    template, _ = _gateway(templates)
    _, secret = only(template, "AWS::SecretsManager::Secret")
    properties = secret["Properties"]
    assert "SecretString" not in properties  # never in the template
    generator = properties["GenerateSecretString"]
    assert generator == {
        "PasswordLength": TOKEN_LENGTH,
        "ExcludePunctuation": True,
        "IncludeSpace": False,
        "RequireEachIncludedType": True,
    }
    # what that generator makes (letters and digits) is what both APIs let through
    alphabet = string.ascii_letters + string.digits
    samples = [(alphabet * 2)[start : start + TOKEN_LENGTH] for start in range(len(alphabet))]
    for name in ("widgets", "frontdoor"):
        pattern = re.compile(token_pattern(load_document(API_DIR / f"{name}.yaml")))
        assert all(pattern.fullmatch(sample) for sample in samples)
        assert not pattern.fullmatch("A" * (TOKEN_LENGTH - 1))


def test_the_authorizer_reads_that_secret_and_nothing_else(templates: dict[str, Any]) -> None:
    template, _ = _gateway(templates)
    secret, _ = only(template, "AWS::SecretsManager::Secret")
    _, function = _function(template, "token-authorizer")
    environment = function["Environment"]["Variables"]
    assert environment["TOKEN_SECRET_ID"] == {"Ref": secret}
    assert int(environment["TOKEN_SECRET_REFRESH_SECONDS"]) <= 300
    role = function["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "secretsmanager" in str(statement["Action"])
    ]
    assert statements == [
        {
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Effect": "Allow",
            "Resource": {"Ref": secret},
        }
    ]


def test_the_secret_rotates_every_30_days_by_its_own_function(templates: dict[str, Any]) -> None:
    template, _ = _gateway(templates)
    secret, _ = only(template, "AWS::SecretsManager::Secret")
    _, schedule = only(template, "AWS::SecretsManager::RotationSchedule")
    rotation, function = _function(template, "token-authorizer-rotation")
    assert schedule["Properties"] == {
        "SecretId": {"Ref": secret},
        "RotationLambdaARN": {"Fn::GetAtt": [rotation, "Arn"]},
        "RotationRules": {"ScheduleExpression": "rate(30 days)"},
    }
    assert "HostedRotationLambda" not in schedule["Properties"]
    assert function["Runtime"].startswith("python3.")
    # Secrets Manager may invoke it for this account's secrets only
    (permission,) = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [rotation, "Arn"]}
    ]
    assert permission["Principal"] == "secretsmanager.amazonaws.com"
    assert permission["SourceAccount"] == ACCOUNTS["gateway"]


def _invokers(template: dict[str, Any], cfn: FakeCloudFormation, name: str) -> set[Any]:
    """(principal, source account, source ARN) of each permission to invoke function `name`."""
    logical, _ = _function(template, name)
    permissions = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [logical, "Arn"]}
    ]
    return {
        (p["Principal"], p.get("SourceAccount"), cfn.resolve(p["SourceArn"])) for p in permissions
    }


def test_who_may_invoke_the_functions(templates: dict[str, Any]) -> None:
    template, cfn = _gateway(templates)
    widgets_api, mtls_api = cfn.output("WidgetsApiId"), cfn.output("MtlsApiId")
    gateway, consumer = ACCOUNTS["gateway"], ACCOUNTS["consumer"]
    api = "apigateway.amazonaws.com"
    # the widgets function: that API's GET /widgets only
    assert _invokers(template, cfn, "widgets") == {
        (api, None, f"arn:aws:execute-api:{REGION}:{gateway}:{widgets_api}/prod/GET/widgets")
    }
    # the authorizer: as the widgets and mtls APIs' authorizer, and as one of the consumer
    # account's APIs (the front door, a cross-account authorizer)
    assert _invokers(template, cfn, "token-authorizer") == {
        (api, None, f"arn:aws:execute-api:{REGION}:{gateway}:{widgets_api}/authorizers/*"),
        (api, None, f"arn:aws:execute-api:{REGION}:{gateway}:{mtls_api}/authorizers/*"),
        (api, consumer, f"arn:aws:execute-api:{REGION}:{consumer}:*/authorizers/*"),
    }


def test_the_front_doors_nlb_targets_its_endpoints_addresses(templates: dict[str, Any]) -> None:
    template = templates["consumer"]
    endpoint = template["Outputs"]["FrontdoorVpceId"]["Value"]["Ref"]
    (group,) = resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
    properties = group["Properties"]
    assert (properties["Port"], properties["Protocol"], properties["TargetType"]) == (
        443,
        "TCP",
        "ip",
    )
    assert properties["HealthCheckProtocol"] == "TCP"
    assert len(properties["Targets"]) == 2  # one interface per zone
    for index, target in enumerate(properties["Targets"]):
        source, attribute = target["Id"]["Fn::GetAtt"]
        assert attribute == f"NetworkInterfaces.{index}.PrivateIpAddress"
        reader = template["Resources"][source]
        assert reader["Type"] == "Custom::AWS"
        # the describeNetworkInterfaces call names this endpoint's interfaces
        call = str(reader["Properties"]["Create"])
        assert "describeNetworkInterfaces" in call
        assert str({"Fn::GetAtt": [endpoint, "NetworkInterfaceIds"]}) in call

    nlb, load_balancer = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert load_balancer["Properties"]["Scheme"] == "internal"
    Template.from_json(template).has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Port": 443, "Protocol": "TCP", "LoadBalancerArn": {"Ref": nlb}},
    )
    link, vpc_link = only(template, "AWS::ApiGateway::VpcLink")
    assert vpc_link["Properties"]["TargetArns"] == [{"Ref": nlb}]
    assert template["Outputs"]["WidgetsVpcLinkId"]["Value"] == {"Ref": link}


def test_only_the_front_doors_nlb_and_the_widgets_consumer_reach_its_endpoint(
    templates: dict[str, Any],
) -> None:
    template = templates["consumer"]
    endpoint = template["Outputs"]["FrontdoorVpceId"]["Value"]["Ref"]
    (endpoint_group,) = template["Resources"][endpoint]["Properties"]["SecurityGroupIds"]
    _, load_balancer = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (nlb_group,) = load_balancer["Properties"]["SecurityGroups"]
    (function_group,) = [
        f["Properties"]["VpcConfig"]["SecurityGroupIds"][0]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "widgets-consumer"
    ]
    ingress = [
        rule["Properties"]
        for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == endpoint_group
    ]
    assert [(r["SourceSecurityGroupId"], r["FromPort"], r["ToPort"]) for r in ingress] == [
        (nlb_group, 443, 443),
        (function_group, 443, 443),
    ]
    group = template["Resources"][endpoint_group["Fn::GetAtt"][0]]["Properties"]
    assert "SecurityGroupIngress" not in group


def test_the_front_door_is_regional_behind_a_web_acl(templates: dict[str, Any]) -> None:
    template = templates["consumer"]
    api, rest = only(template, "AWS::ApiGateway::RestApi")
    assert rest["Properties"]["Name"] == "frontdoor"
    assert rest["Properties"]["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    stage, _ = only(template, "AWS::ApiGateway::Stage")
    acl, web_acl = only(template, "AWS::WAFv2::WebACL")
    assert web_acl["Properties"]["Scope"] == "REGIONAL"
    rules = {rule["Name"] for rule in web_acl["Properties"]["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "RatePerAddress"} <= rules
    _, association = only(template, "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl, "Arn"]}
    cfn = FakeCloudFormation(template, account=ACCOUNTS["consumer"])
    assert cfn.resolve(association["Properties"]["ResourceArn"]) == (
        f"arn:aws:apigateway:{REGION}::/restapis/{cfn.ref(api)}/stages/{cfn.ref(stage)}"
    )


def test_with_image_assets_the_functions_build_from_their_folders(tmp_path: Path) -> None:
    app = App(context={**CONTEXT, "imageSource": "asset"}, outdir=str(tmp_path))
    stack = GatewayStack(app, from_context(app.node.try_get_context, outputs_dir=None))
    app.synth()
    manifest = json.loads((tmp_path / f"{stack.stack_name}.assets.json").read_text())
    dockerfiles = {image["source"]["dockerFile"] for image in manifest["dockerImages"].values()}
    assert {"widgets-lambda/Dockerfile", "token-authorizer/Dockerfile"} <= dockerfiles
    # the rotation function's code, without the tests' bytecode
    (code,) = [
        tmp_path / asset["source"]["path"]
        for asset in manifest["files"].values()
        if (tmp_path / asset["source"]["path"] / "handler.py").exists()
    ]
    assert sorted(path.name for path in code.iterdir()) == ["__init__.py", "handler.py"]

"""The gateway stack (endpoints to the providers' services, NLBs, VPC links, the APIs, the mTLS
proxy) and the consumer stack (its endpoint, the function in its VPC, its role's policy)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Template
from deploy_harness import (
    ACCOUNTS,
    CONTEXT,
    REGION,
    FakeCloudFormation,
    Synth,
    only,
    resources,
    synth,
)
from private_apis_deploy.mtls_proxy import CERT_FILES

EXECUTE_API = f"com.amazonaws.{REGION}.execute-api"


def _endpoints(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        str(e["Properties"]["ServiceName"]): e["Properties"]
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if isinstance(e["Properties"].get("ServiceName"), str)
    }


def test_interface_endpoints_to_both_providers_services(templates: dict[str, Any]) -> None:
    endpoints = _endpoints(templates["gateway"])
    for key in ("dogNamesEndpointService", "todoEndpointService"):
        endpoint = endpoints[CONTEXT[key]]
        assert endpoint["VpcEndpointType"] == "Interface"
        assert endpoint["PrivateDnsEnabled"] is False
    assert endpoints[EXECUTE_API]["PrivateDnsEnabled"] is True


def test_an_nlb_per_provider_targets_its_endpoints_addresses(templates: dict[str, Any]) -> None:
    template = templates["gateway"]
    groups = [
        g["Properties"]
        for g in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").values()
        if g["Properties"]["Port"] == 8080
    ]
    assert len(groups) == 2
    for group in groups:
        assert group["TargetType"] == "ip"
        assert group["HealthCheckPath"] == "/health"
        assert len(group["Targets"]) == 2  # one interface per zone
        # each the address the custom resource reads off one of the endpoint's interfaces
        for target in group["Targets"]:
            (source, _) = target["Id"]["Fn::GetAtt"]
            assert template["Resources"][source]["Type"] == "Custom::AWS"
    template_ = Template.from_json(template)
    template_.resource_count_is("AWS::ApiGateway::VpcLink", 2)
    template_.resource_count_is("AWS::ApiGatewayV2::VpcLink", 1)


def test_the_apis_endpoint_types(templates: dict[str, Any]) -> None:
    template = templates["gateway"]
    rest = {
        api["Properties"]["Name"]: api["Properties"]
        for api in resources(template, "AWS::ApiGateway::RestApi").values()
    }
    assert set(rest) == {"partner", "mtls", "widgets"}
    for api in rest.values():
        assert api["EndpointConfiguration"] == {"Types": ["PRIVATE"]}
        assert api["Body"]["x-amazon-apigateway-endpoint-configuration"] == {"types": ["PRIVATE"]}
    # The HTTP API: regional (HTTP APIs have no other endpoint type), on its $default stage.
    _, http = only(template, "AWS::ApiGatewayV2::Api")
    assert http["Properties"]["Body"]["info"]["title"] == "global"
    assert "DisableExecuteApiEndpoint" not in http["Properties"]
    Template.from_json(template).has_resource_properties(
        "AWS::ApiGatewayV2::Stage", {"StageName": "$default", "AutoDeploy": True}
    )


@pytest.mark.parametrize(("key", "count"), [("gateway", 4), ("consumer", 1)])
def test_every_stage_writes_access_logs(templates: dict[str, Any], key: str, count: int) -> None:
    template = templates[key]
    stages = {
        **resources(template, "AWS::ApiGateway::Stage"),
        **resources(template, "AWS::ApiGatewayV2::Stage"),
    }
    assert len(stages) == count
    for stage in stages.values():
        settings = stage["Properties"].get("AccessLogSetting") or stage["Properties"].get(
            "AccessLogSettings"
        )
        assert '"requestId": "$context.requestId"' in settings["Format"]


def test_the_mtls_proxy_runs_non_root_behind_an_nlb_with_certs_from_secrets_manager(
    templates: dict[str, Any],
) -> None:
    template = templates["gateway"]
    (task,) = [
        t["Properties"]
        for t in resources(template, "AWS::ECS::TaskDefinition").values()
        if "nginx-mtls" in str(t["Properties"]["ContainerDefinitions"][0]["Image"])
    ]
    (container,) = task["ContainerDefinitions"]
    assert container["User"] == "10001:10001"
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert set(secrets) == {variable for variable, _ in CERT_FILES.values()}
    for key, (variable, _) in CERT_FILES.items():
        resolved = FakeCloudFormation(template, account=ACCOUNTS["gateway"]).resolve(
            secrets[variable]
        )
        assert resolved == (
            f"arn:aws:secretsmanager:{REGION}:{ACCOUNTS['gateway']}:secret:"
            f"private-apis/mtls-proxy:{key}::"
        )
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    # no certificate or key in the task definition itself
    assert "BEGIN" not in str(task)
    assert environment["TLS_KEY"] == CERT_FILES["server_key"][1]
    upstream = FakeCloudFormation(template, account=ACCOUNTS["gateway"]).resolve(
        environment["UPSTREAM_URL"]
    )
    mtls_id = FakeCloudFormation(template, account=ACCOUNTS["gateway"]).output("MtlsApiId")
    assert upstream == f"https://{mtls_id}.execute-api.{REGION}.amazonaws.com/prod"
    Template.from_json(template).has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener", {"Port": 8443, "Protocol": "TCP"}
    )


def test_the_consumer_vpc_has_two_execute_api_endpoints_one_with_private_dns(
    templates: dict[str, Any],
) -> None:
    """The consumer Lambda's (the VPC's private DNS for execute-api, partner's policy) and the
    front door's (no DNS: its NLB targets it by address; widgets's policy); besides them only
    Secrets Manager's, for the widgets consumer's token (the VPC has no route out)."""
    template = templates["consumer"]
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    by_service: dict[str, list[Any]] = {}
    for endpoint in endpoints.values():
        by_service.setdefault(endpoint["Properties"]["ServiceName"], []).append(endpoint)
    secrets = f"com.amazonaws.{REGION}.secretsmanager"
    assert sorted(by_service) == sorted([EXECUTE_API, secrets])
    outputs = template["Outputs"]
    by_output = {
        key: endpoints[outputs[key]["Value"]["Ref"]]["Properties"]
        for key in ("ExecuteApiEndpointId", "FrontdoorVpceId")
    }
    assert len(by_service[EXECUTE_API]) == 2
    assert by_output["ExecuteApiEndpointId"]["PrivateDnsEnabled"] is True
    assert by_output["FrontdoorVpceId"]["PrivateDnsEnabled"] is False
    [secrets_endpoint] = by_service[secrets]
    assert secrets_endpoint["Properties"]["PrivateDnsEnabled"] is True


def test_the_consumer_lambda_is_the_pushed_image_in_the_vpc(templates: dict[str, Any]) -> None:
    template = templates["consumer"]
    (properties,) = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "consumer-lambda"
    ]
    assert properties["PackageType"] == "Image"
    assert properties["FunctionName"] == "consumer-lambda"
    image = FakeCloudFormation(template, account=ACCOUNTS["consumer"]).resolve(
        properties["Code"]["ImageUri"]
    )
    assert image == (
        f"{ACCOUNTS['consumer']}.dkr.ecr.{REGION}.amazonaws.com/private-apis/consumer-lambda:"
        f"{CONTEXT['imageTag']}"
    )
    subnets = set(resources(template, "AWS::EC2::Subnet"))
    assert {s["Ref"] for s in properties["VpcConfig"]["SubnetIds"]} == subnets
    url = properties["Environment"]["Variables"]["PARTNER_API_URL"]
    assert FakeCloudFormation(template, account=ACCOUNTS["consumer"]).resolve(url) == (
        f"https://{CONTEXT['partnerApiId']}.execute-api.{REGION}.amazonaws.com/prod"
    )


def test_the_consumer_role_may_invoke_partners_get_methods_only(templates: dict[str, Any]) -> None:
    template = templates["consumer"]
    (role,) = [
        logical
        for logical, role in resources(template, "AWS::IAM::Role").items()
        if role["Properties"].get("RoleName") == "consumer-lambda"
    ]
    invoke = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role}]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "execute-api" in str(statement["Action"])
    ]
    assert invoke == [
        {
            "Action": "execute-api:Invoke",
            "Effect": "Allow",
            "Resource": (
                f"arn:aws:execute-api:*:{ACCOUNTS['gateway']}:{CONTEXT['partnerApiId']}/*/GET/*"
            ),
        }
    ]


def test_the_consumers_first_deploy_is_its_network_and_role(tmp_path: Any) -> None:
    first = synth(
        tmp_path, consumerFunction="false", partnerApiId="", widgetsApiId="", tokenAuthorizerArn=""
    )
    template = Template.from_json(first.templates["consumer"])
    # none but aws-cdk-lib's handler of the custom resource that reads the endpoint's addresses
    functions = resources(first.templates["consumer"], "AWS::Lambda::Function")
    assert [logical for logical in functions if "FunctionName" in functions[logical]] == []
    assert len(functions) == 1
    # the consumer's, the front door's, Secrets Manager's
    template.resource_count_is("AWS::EC2::VPCEndpoint", 3)
    template.resource_count_is("AWS::ApiGateway::VpcLink", 1)  # the front door's, for later
    template.resource_count_is("AWS::ApiGateway::RestApi", 0)
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "consumer-lambda"})
    # the gateway stack's secret and key policies name it, so it comes first
    template.has_resource_properties("AWS::IAM::Role", {"RoleName": "widgets-consumer"})
    # the flow log's and the custom resource's, none on the role
    template.resource_count_is("AWS::IAM::Policy", 2)
    # no placeholder warning: the gateway stack's outputs are not needed yet
    assert [m for m in first.messages("consumer") if m[0].lower() == "warning"] == []
    assert {"ExecuteApiEndpointId", "FrontdoorVpceId"} <= set(
        first.templates["consumer"]["Outputs"]
    )


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app without the cross-account context: every such value at its local stand-in."""
    unset = {k: "" for k in CONTEXT if not k.startswith("@") and k != "imageTag"}
    return synth(tmp_path_factory.mktemp("bare"), **unset)


@pytest.mark.parametrize(
    ("key", "placeholders"),
    [
        ("dog-names", {"gatewayAccount"}),
        ("todo", {"gatewayAccount"}),
        (
            "gateway",
            {
                "consumerAccount",
                "consumerVpceId",
                "frontdoorVpceId",
                "dogNamesEndpointService",
                "todoEndpointService",
            },
        ),
        (
            "consumer",
            {
                "gatewayAccount",
                "partnerApiId",
                "widgetsApiId",
                "tokenAuthorizerArn",
                "authorizerTokenSecretArn",
                "authorizerTokenKeyArn",
            },
        ),
    ],
)
def test_a_stack_still_on_a_local_value_warns(bare: Synth, key: str, placeholders: Any) -> None:
    """Without the context the local values stay, and each stack says which (make deploy runs
    with --strict: a warning stops it)."""
    warned = {m[2].split(" ", 1)[0] for m in bare.messages(key) if m[0].lower() == "warning"}
    assert warned == placeholders


def test_the_stand_ins_are_the_local_values(bare: Synth) -> None:
    _, body = next(
        (k, v["Properties"]["Body"])
        for k, v in resources(bare.templates["gateway"], "AWS::ApiGateway::RestApi").items()
        if v["Properties"]["Name"] == "partner"
    )
    assert "vpce-04444444444444444" in str(body)

"""Each API's body in the synthesized template is its api/*.yaml with the named values
substituted, and nothing else; and the local gateway's own loaders accept it as they accept the
document: `build_api` (routes, integrations, VPC links, the resource policy) and `parse_policy`.

The deployed values are taken from the template itself: each named value's stack output
(values.yaml `output:`) or its context value, resolved by the stand-in for CloudFormation, so
the comparison holds the body to the same resources the outputs name.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_all
from deploy_harness import (
    ACCOUNTS,
    API_DIR,
    CONTEXT,
    REGION,
    FakeCloudFormation,
    only,
    resources,
    synth,
)
from gateway.apis import Api, build_api
from gateway.policy import Decision, RequestContext, evaluate, parse_policy
from private_apis_deploy.settings import ENDPOINT_SERVICES, STACKS
from private_apis_deploy.values import load_document, load_table

from gateway.config import ApiConfig, ApiKind, EndpointType, VpcLink

TABLE = load_table()
STAGE_VARIABLES = [value.name for value in TABLE.of_kind("stage-variable")]
PROVIDERS = {"dogNames": "127.0.0.1:8081", "todo": "127.0.0.1:8082"}  # stand-in addresses


def _gateway(templates: dict[str, Any]) -> tuple[dict[str, Any], FakeCloudFormation]:
    template = templates["gateway"]
    return template, FakeCloudFormation(template, account=ACCOUNTS["gateway"])


def _deployed(template: dict[str, Any], cfn: FakeCloudFormation) -> dict[str, str]:
    """Each document value's deployed counterpart: its context value, else its output here."""
    values = {}
    for value in TABLE.of_kind("document"):
        if value.context and value.context in CONTEXT:
            values[value.name] = CONTEXT[value.context]
        elif value.output_stack == STACKS["gateway"]:
            values[value.name] = cfn.output(value.output_key or "")
    return values


def _rest_body(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    for logical, api in resources(template, "AWS::ApiGateway::RestApi").items():
        if api["Properties"]["Name"] == name:
            return logical, api["Properties"]["Body"]
    raise AssertionError(f"no REST API {name}")


def _stage_variables(template: dict[str, Any], cfn: FakeCloudFormation, api: str) -> Any:
    for stage in resources(template, "AWS::ApiGateway::Stage").values():
        if stage["Properties"]["RestApiId"] == {"Ref": api}:
            return cfn.resolve(stage["Properties"]["Variables"])
    raise AssertionError(f"no stage of {api}")


def build_deployed_api(name: str, template: dict[str, Any], api_dir: Path = API_DIR) -> Api:
    """The API as the local gateway would build it from the deployed body: its VPC links and
    listeners mapped to stand-in addresses, the stage variables the deployed stage's."""
    cfn = FakeCloudFormation(template, account=ACCOUNTS["gateway"])
    outputs = {key: cfn.output(key) for key in template["Outputs"]}
    if name == "global":
        _, api = only(template, "AWS::ApiGatewayV2::Api")
        body = cfn.resolve(api["Properties"]["Body"])
        links = {
            outputs["HttpVpcLinkId"]: (
                "vpc_links.http",
                VpcLink(
                    listeners={
                        outputs["DogNamesListenerArn"]: PROVIDERS["dogNames"],
                        outputs["TodoListenerArn"]: PROVIDERS["todo"],
                    }
                ),
            )
        }
        cfg = ApiConfig(
            id=outputs["GlobalApiId"],
            openapi=api_dir / "global.yaml",
            kind=ApiKind.HTTP,
            endpoint_type=EndpointType.REGIONAL,
            account=ACCOUNTS["gateway"],
            stage="$default",
        )
    else:
        logical, raw = _rest_body(template, name)
        body = cfn.resolve(raw)
        links = {
            outputs[f"{provider[0].upper()}{provider[1:]}VpcLinkId"]: (
                f"vpc_links.{provider}",
                VpcLink(address=address),
            )
            for provider, address in PROVIDERS.items()
        }
        cfg = ApiConfig(
            id=cfn.ref(logical),
            openapi=api_dir / f"{name}.yaml",
            kind=ApiKind.REST,
            endpoint_type=EndpointType.PRIVATE,
            account=ACCOUNTS["gateway"],
            stage="prod",
            stage_variables=_stage_variables(template, cfn, logical),
        )
    return build_api(name, cfg, body, region=REGION, vpc_links=links)


@pytest.mark.parametrize("name", ["global", "partner", "mtls"])
def test_the_body_is_the_document_with_the_named_values_substituted(
    templates: dict[str, Any], name: str
) -> None:
    template, cfn = _gateway(templates)
    if name == "global":
        _, api = only(template, "AWS::ApiGatewayV2::Api")
        body = cfn.resolve(api["Properties"]["Body"])
    else:
        body = cfn.resolve(_rest_body(template, name)[1])
    document = load_document(API_DIR / f"{name}.yaml")
    assert TABLE.names_in(document), f"{name}.yaml has no named value: nothing was tested"
    assert body == TABLE.substitute(document, _deployed(template, cfn))
    # and no local value of any entry is left in it
    assert TABLE.names_in(body) == []


@pytest.mark.parametrize("name", ["partner", "mtls"])
def test_the_stage_variables_are_the_named_values_deployed_side(
    templates: dict[str, Any], name: str
) -> None:
    template, cfn = _gateway(templates)
    logical, _ = _rest_body(template, name)
    variables = _stage_variables(template, cfn, logical)
    assert variables == {
        variable: cfn.output(TABLE[variable].output_key or "") for variable in STAGE_VARIABLES
    }


@pytest.mark.parametrize("name", ["global", "partner", "mtls"])
def test_the_gateways_loaders_accept_the_deployed_api(templates: dict[str, Any], name: str) -> None:
    api = build_deployed_api(name, templates["gateway"])
    assert {route.resource_path for route in api.routes.routes} == set(
        load_document(API_DIR / f"{name}.yaml")["paths"]
    )
    if name != "global":
        assert api.private
        _, raw = _rest_body(templates["gateway"], name)
        resolved = FakeCloudFormation(templates["gateway"], account=ACCOUNTS["gateway"])
        parse_policy(resolved.resolve(raw)["x-amazon-apigateway-policy"])


def test_partners_policy_names_the_consumer_endpoint_from_the_context(
    templates: dict[str, Any],
) -> None:
    template, _ = _gateway(templates)
    _, body = _rest_body(template, "partner")
    text = str(body["x-amazon-apigateway-policy"])
    assert CONTEXT["consumerVpceId"] in text
    assert TABLE["consumerVpceId"].local not in text
    # Judged by the gateway's evaluator: the consumer role through the deployed endpoint reads,
    # through the local placeholder's endpoint it is denied.
    api = build_deployed_api("partner", template)
    assert api.resource_policy is not None
    session = f"arn:aws:sts::{ACCOUNTS['consumer']}:assumed-role/consumer-lambda/consumer-lambda"

    def decision(vpce: str, method: str = "GET") -> Decision:
        context = RequestContext(
            principal_arn=session,
            principal_account=ACCOUNTS["consumer"],
            action="execute-api:Invoke",
            resource=api.execute_api_arn(method, "/dogs"),
            condition_keys={"aws:SourceVpce": vpce},
        )
        assert api.resource_policy is not None
        return evaluate(api.resource_policy, context)

    assert decision(CONTEXT["consumerVpceId"]) is Decision.ALLOW
    assert decision(TABLE["consumerVpceId"].local) is Decision.EXPLICIT_DENY
    assert decision(CONTEXT["consumerVpceId"], "POST") is Decision.EXPLICIT_DENY


def test_mtls_policy_names_the_proxys_own_endpoint(templates: dict[str, Any]) -> None:
    template, _ = _gateway(templates)
    _, body = _rest_body(template, "mtls")
    endpoints = {
        logical
        for logical, endpoint in resources(template, "AWS::EC2::VPCEndpoint").items()
        if endpoint["Properties"].get("ServiceName") == f"com.amazonaws.{REGION}.execute-api"
    }
    (statement, _) = body["x-amazon-apigateway-policy"]["Statement"]
    assert statement["Condition"]["StringEquals"]["aws:SourceVpce"] == {"Ref": endpoints.pop()}


def test_a_broken_policy_in_a_copy_fails_the_loaders_not_cfn_lint(tmp_path: Path) -> None:
    """`Effect: Alow` is valid JSON, a valid template and a valid OpenAPI document: cfn-lint and
    CloudFormation take it; the gateway's policy parser (what this test suite runs on every
    body) refuses it, naming the statement."""
    api_dir = tmp_path / "api"
    shutil.copytree(API_DIR, api_dir)
    partner = api_dir / "partner.yaml"
    text = partner.read_text(encoding="utf-8")
    assert text.count("Effect: Allow") == 1
    partner.write_text(text.replace("Effect: Allow", "Effect: Alow"), encoding="utf-8")

    broken = synth(tmp_path / "cdk.out", apiDir=str(api_dir))
    template = broken.templates["gateway"]
    assert [m for m in lint_all(_json(template)) if m.rule.id.startswith("E")] == []
    with pytest.raises(ValueError, match=r"Statement\[0\].*Effect"):
        build_deployed_api("partner", template, api_dir)


def _json(template: dict[str, Any]) -> str:
    import json

    return json.dumps(template)


def test_every_output_the_table_and_the_settings_name_exists(templates: dict[str, Any]) -> None:
    named = [value.output for value in TABLE.values.values() if value.output]
    named += [output for _, output, _ in ENDPOINT_SERVICES.values()]
    by_name = {name: key for key, name in STACKS.items()}
    for output in named:
        stack, key = output.split(".")
        assert key in templates[by_name[stack]]["Outputs"], output

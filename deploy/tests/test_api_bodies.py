"""Each API's body in the synthesized template is its api/*.yaml with the named values
substituted, and nothing else; and the local gateway's own loaders accept it as they accept the
document: `build_api` (routes, integrations, VPC links, the resource policy) and `parse_policy`.

The deployed values are taken from the template itself: each named value's stack output
(values.yaml `output:`) or its context value, resolved by the stand-in for CloudFormation, so
the comparison holds the body to the same resources the outputs name.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint_all
from deploy_harness import (
    ACCOUNTS,
    API_DIR,
    CONTEXT,
    GATEWAY_CONFIG,
    REGION,
    FakeCloudFormation,
    only,
    resources,
    synth,
)
from gateway.apis import Api, build_api
from gateway.policy import Decision, RequestContext, evaluate, parse_policy
from private_apis_deploy.settings import CROSS_ACCOUNT_INPUTS, STACKS
from private_apis_deploy.values import NamedValue, load_document, load_table

from gateway.config import ApiConfig, ApiKind, EndpointType, VpcLink

TABLE = load_table()
# Each API of gateway.yaml, by the stack (account) that deploys it.
API_STACKS = {
    "global": "gateway",
    "partner": "gateway",
    "mtls": "gateway",
    "widgets": "gateway",
    "frontdoor": "consumer",
}
REST_APIS = [name for name in API_STACKS if name != "global"]
PROVIDERS = {"dogNames": "127.0.0.1:8081", "todo": "127.0.0.1:8082"}  # stand-in addresses
FRONTDOOR_NLB = "127.0.0.1:8443"  # stand-in address of the front door's NLB
FUNCTIONS = ("http://127.0.0.1:8083", "http://127.0.0.1:8084")  # stand-in invoke URLs


def _stack(templates: dict[str, Any], name: str) -> tuple[dict[str, Any], FakeCloudFormation]:
    """The template that deploys API `name`, and CloudFormation's stand-in for its account."""
    key = API_STACKS[name]
    template = templates[key]
    return template, FakeCloudFormation(template, account=ACCOUNTS[key])


def _gateway(templates: dict[str, Any]) -> tuple[dict[str, Any], FakeCloudFormation]:
    return _stack(templates, "partner")


def _deployed_value(value: NamedValue, name: str, templates: dict[str, Any]) -> Any:
    """A named value's deployed side as the stack of API `name` sees it: its own output when
    the stack makes the value (a reference), else the context that tells it the value."""
    _, cfn = _stack(templates, name)
    if value.output_stack == STACKS[API_STACKS[name]]:
        return cfn.output(value.output_key or "")
    if value.context and value.context in CONTEXT:
        return CONTEXT[value.context]
    raise AssertionError(f"{value.name}: neither an output of {name}'s stack nor in the context")


def _deployed(name: str, templates: dict[str, Any], document: Any) -> dict[str, str]:
    """The deployed side of each document value `document` holds."""
    return {v: _deployed_value(TABLE[v], name, templates) for v in TABLE.names_in(document)}


def _rest_body(template: dict[str, Any], name: str) -> tuple[str, dict[str, Any]]:
    for logical, api in resources(template, "AWS::ApiGateway::RestApi").items():
        if api["Properties"]["Name"] == name:
            return logical, api["Properties"]["Body"]
    raise AssertionError(f"no REST API {name}")


def _body(templates: dict[str, Any], name: str) -> Any:
    """API `name`'s body in its template, references resolved."""
    template, cfn = _stack(templates, name)
    if name == "global":
        _, api = only(template, "AWS::ApiGatewayV2::Api")
        return cfn.resolve(api["Properties"]["Body"])
    return cfn.resolve(_rest_body(template, name)[1])


def _stage_variables(template: dict[str, Any], cfn: FakeCloudFormation, api: str) -> Any:
    for stage in resources(template, "AWS::ApiGateway::Stage").values():
        if stage["Properties"]["RestApiId"] == {"Ref": api}:
            return cfn.resolve(stage["Properties"].get("Variables", {}))
    raise AssertionError(f"no stage of {api}")


def _stage_variables_used(name: str) -> set[str]:
    return set(re.findall(r"\$\{stageVariables\.(\w+)\}", (API_DIR / f"{name}.yaml").read_text()))


def build_deployed_api(name: str, templates: dict[str, Any], api_dir: Path = API_DIR) -> Api:
    """The API as the local gateway would build it from the deployed body: its VPC links,
    listeners and functions mapped to stand-in addresses, the stage variables the deployed
    stage's."""
    template, cfn = _stack(templates, name)
    account = ACCOUNTS[API_STACKS[name]]
    outputs = {key: cfn.output(key) for key in template["Outputs"]}
    body = _body(templates, name)
    if name == "global":
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
            account=account,
            stage="$default",
        )
        return build_api(name, cfg, body, region=REGION, vpc_links=links)

    logical, _ = _rest_body(template, name)
    if name == "frontdoor":
        links = {
            outputs["WidgetsVpcLinkId"]: (
                "apis.frontdoor.vpc_links",
                VpcLink(address=FRONTDOOR_NLB, scheme="http"),
            )
        }
    else:
        links = {
            outputs[f"{provider[0].upper()}{provider[1:]}VpcLinkId"]: (
                f"vpc_links.{provider}",
                VpcLink(address=address),
            )
            for provider, address in PROVIDERS.items()
        }
    # every Lambda function ARN the body names (resolved), each to a stand-in invoke URL
    arns = sorted(set(re.findall(r"arn:aws:lambda:[^/\"']+", json.dumps(body))))
    functions = dict(zip(arns, FUNCTIONS, strict=False))
    cfg = ApiConfig(
        id=cfn.ref(logical),
        openapi=api_dir / f"{name}.yaml",
        kind=ApiKind.REST,
        endpoint_type=EndpointType.REGIONAL if name == "frontdoor" else EndpointType.PRIVATE,
        account=account,
        stage="prod",
        stage_variables=_stage_variables(template, cfn, logical),
    )
    return build_api(name, cfg, body, region=REGION, vpc_links=links, functions=functions)


def test_every_api_of_the_local_configuration_is_deployed(templates: dict[str, Any]) -> None:
    config = yaml.safe_load(GATEWAY_CONFIG.read_text(encoding="utf-8"))
    assert set(API_STACKS) == set(config["apis"])
    for name in REST_APIS:
        _rest_body(_stack(templates, name)[0], name)  # raises when missing


@pytest.mark.parametrize("name", list(API_STACKS))
def test_the_body_is_the_document_with_the_named_values_substituted(
    templates: dict[str, Any], name: str
) -> None:
    body = _body(templates, name)
    document = load_document(API_DIR / f"{name}.yaml")
    assert TABLE.names_in(document), f"{name}.yaml has no named value: nothing was tested"
    assert body == TABLE.substitute(document, _deployed(name, templates, document))
    # and no local value of any entry is left in it
    assert TABLE.names_in(body) == []


@pytest.mark.parametrize("name", REST_APIS)
def test_the_stage_variables_are_the_named_values_deployed_side(
    templates: dict[str, Any], name: str
) -> None:
    template, cfn = _stack(templates, name)
    logical, _ = _rest_body(template, name)
    variables = _stage_variables(template, cfn, logical)
    assert variables == {
        variable: _deployed_value(TABLE[variable], name, templates)
        for variable in _stage_variables_used(name)
    }


@pytest.mark.parametrize("name", list(API_STACKS))
def test_the_gateways_loaders_accept_the_deployed_api(templates: dict[str, Any], name: str) -> None:
    api = build_deployed_api(name, templates)
    assert {route.resource_path for route in api.routes.routes} == set(
        load_document(API_DIR / f"{name}.yaml")["paths"]
    )
    body = _body(templates, name)
    if "x-amazon-apigateway-policy" in body:
        assert api.private
        parse_policy(body["x-amazon-apigateway-policy"])


def test_the_front_doors_integration_names_the_widgets_api_through_its_link(
    templates: dict[str, Any],
) -> None:
    api = build_deployed_api("frontdoor", templates)
    uris = {
        str(operation["x-amazon-apigateway-integration"]["uri"])
        for item in _body(templates, "frontdoor")["paths"].values()
        for operation in item.values()
    }
    # the region substituted, the widgets API's id left to the stage variable
    assert uris == {
        f"https://${{stageVariables.widgetsApiId}}.execute-api.{REGION}.amazonaws.com/prod/widgets"
    }
    assert api.stage_variables["widgetsApiId"] == CONTEXT["widgetsApiId"]


def _policy_decision(api: Api, *, principal: str, account: str, vpce: str, path: str) -> Decision:
    context = RequestContext(
        principal_arn=principal,
        principal_account=account,
        action="execute-api:Invoke",
        resource=api.execute_api_arn("GET", path),
        condition_keys={"aws:SourceVpce": vpce},
    )
    assert api.resource_policy is not None
    return evaluate(api.resource_policy, context)


def test_widgets_policy_admits_the_front_doors_endpoint_only(templates: dict[str, Any]) -> None:
    api = build_deployed_api("widgets", templates)

    def decision(vpce: str) -> Decision:
        return _policy_decision(api, principal="anonymous", account="", vpce=vpce, path="/widgets")

    assert decision(CONTEXT["frontdoorVpceId"]) is Decision.ALLOW
    # the consumer Lambda's endpoint in the same VPC, and the local stand-in: denied
    assert decision(CONTEXT["consumerVpceId"]) is Decision.EXPLICIT_DENY
    assert decision(TABLE["frontdoorVpceId"].local) is Decision.EXPLICIT_DENY


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
    api = build_deployed_api("partner", templates)
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


def test_mtls_and_widgets_share_the_token_authorizer(templates: dict[str, Any]) -> None:
    """Pattern 2's private API has the widgets API's TOKEN authorizer: the same function (this
    stack's, not the document's local ARN), on every method."""
    template, _ = _gateway(templates)

    def authorizer(name: str) -> Any:
        _, body = _rest_body(template, name)
        (scheme,) = body["components"]["securitySchemes"].values()
        return scheme["x-amazon-apigateway-authorizer"]

    mtls, widgets = authorizer("mtls"), authorizer("widgets")
    assert mtls == widgets
    assert TABLE["tokenAuthorizerArn"].local not in json.dumps(mtls["authorizerUri"])
    _, body = _rest_body(template, "mtls")
    methods = [m for path in body["paths"].values() for m in path.values() if isinstance(m, dict)]
    assert methods and all(m.get("security") == [{"sharedSecret": []}] for m in methods)


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
        build_deployed_api("partner", dict(broken.templates), api_dir)


def _json(template: dict[str, Any]) -> str:
    return json.dumps(template)


def test_every_output_the_table_and_the_settings_name_exists(templates: dict[str, Any]) -> None:
    named = [value.output for value in TABLE.values.values() if value.output]
    named += [output for _, output, _ in CROSS_ACCOUNT_INPUTS.values()]
    by_name = {name: key for key, name in STACKS.items()}
    for output in named:
        stack, key = output.split(".")
        assert key in templates[by_name[stack]]["Outputs"], output

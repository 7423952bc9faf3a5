"""The API documents are valid OpenAPI 3 and carry only API Gateway's own extensions, so they
import into API Gateway unchanged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from gateway.config import DEFAULT_CONFIG_PATH

API_DIR = Path(__file__).resolve().parents[2] / "api"
DOCUMENTS = ["global.yaml", "partner.yaml", "mtls.yaml"]
METHODS = (
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "x-amazon-apigateway-any-method",
)


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((API_DIR / name).read_text())


def extension_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str) and key.startswith("x-"):
                yield key
            if key not in ("x-amazon-apigateway-policy",):
                yield from extension_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from extension_keys(item)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_valid_openapi_3(name: str) -> None:
    validate(load(name))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_only_api_gateway_extensions(name: str) -> None:
    assert {
        k for k in extension_keys(load(name)) if not k.startswith("x-amazon-apigateway-")
    } == set()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_resource_of_the_providers_is_exposed(name: str) -> None:
    assert set(load(name)["paths"]) == {
        "/dogs",
        "/dogs/males",
        "/dogs/females",
        "/todo",
        "/todo/{todoId}",
    }


def test_partner_is_get_only_with_sigv4_everywhere() -> None:
    document = load("partner.yaml")
    assert (
        document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"]
        == "awsSigv4"
    )
    assert [op["security"] for _, _, op in operations(document)] == [[{"sigv4": []}]] * 5
    assert {m for _, m, _ in operations(document)} == {"get"}


@pytest.mark.parametrize(
    "name, types",
    [
        ("partner.yaml", ["PRIVATE"]),
        ("mtls.yaml", ["PRIVATE"]),
        ("widgets.yaml", ["PRIVATE"]),
        ("frontdoor.yaml", ["REGIONAL"]),
    ],
)
def test_endpoint_configuration(name: str, types: list[str]) -> None:
    assert load(name)["x-amazon-apigateway-endpoint-configuration"]["types"] == types


# Private integrations as AWS imports them (every provider sits behind an NLB in a VPC):
# - REST APIs: "You must explicitly set connectionType to VPC_LINK", "connectionId to the ID of a
#   VpcLink or to a stage variable referencing the ID of a VpcLink"; the uri "points to an
#   HTTP/HTTPS endpoint in the VPC, but is used instead to set up the integration request's Host
#   header" (docs.aws.amazon.com/apigateway/latest/developerguide/
#   set-up-api-with-vpclink-using-swagger.html).
# - HTTP APIs: an HTTP proxy integration with the VPC link (connectionId) and "the load balancer's
#   listener ARN" as its uri (.../developerguide/http-api-develop-integrations-private.html);
#   stage variables serve in HTTP integration URIs, Lambda function ARNs and credentials only
#   (.../developerguide/http-api-stages.stage-variables-reference.html), so connectionId is an id.
KINDS = {
    "global.yaml": "http",
    "partner.yaml": "rest",
    "mtls.yaml": "rest",
    "widgets.yaml": "rest",
    "frontdoor.yaml": "rest",
}
PROVIDERS = {"/dogs": "dog-names", "/todo": "todo"}  # resource prefix -> provider
LISTENER_ARN = re.compile(
    r"^arn:aws:elasticloadbalancing:us-east-1:111111111111:"
    r"listener/net/(?P<name>[a-z-]+)/[0-9a-f]{16}/[0-9a-f]{16}$"
)
VPC_LINK_ID = re.compile(r"^[a-z0-9]{1,64}$")


def integrations(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, _, operation in operations(load(name)):
        yield path, operation["x-amazon-apigateway-integration"]


def provider_of(path: str) -> str:
    return next(p for prefix, p in PROVIDERS.items() if path.startswith(prefix))


def test_the_gateway_config_agrees_on_the_api_types() -> None:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    kinds = {Path(api["openapi"]).name: api["kind"] for api in raw["apis"].values()}
    assert kinds == KINDS


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_integration_is_private_through_a_vpc_link(name: str) -> None:
    assert "INTERNET" not in (API_DIR / name).read_text()
    for path, integration in integrations(name):
        assert integration["type"] == "http_proxy", path
        assert integration["connectionType"] == "VPC_LINK", path
        assert isinstance(integration.get("connectionId"), str), path


def test_http_api_integrations_name_a_vpc_link_and_a_listener_arn() -> None:
    for path, integration in integrations("global.yaml"):
        assert VPC_LINK_ID.fullmatch(integration["connectionId"]), path  # no stage variable
        listener = LISTENER_ARN.fullmatch(integration["uri"])
        assert listener is not None, path
        assert listener["name"] == provider_of(path)
        assert integration["httpMethod"] == "ANY"
        assert integration["payloadFormatVersion"] == "1.0"
        # The request path reaches the load balancer as received ($default stage: no stage
        # segment to strip), so no overwrite:path.
        assert "requestParameters" not in integration, path
    assert len({i["connectionId"] for _, i in integrations("global.yaml")}) == 1  # one VPC


@pytest.mark.parametrize("name", ["partner.yaml", "mtls.yaml"])
def test_rest_api_integrations_name_a_vpc_link_per_nlb_and_a_url(name: str) -> None:
    for path, integration in integrations(name):
        variable = {"dog-names": "dogNames", "todo": "todo"}[provider_of(path)]
        assert integration["connectionId"] == f"${{stageVariables.{variable}VpcLinkId}}", path
        # The URL's host sets the Host header (the NLB's DNS name), its path is the path upstream.
        assert integration["uri"] == f"http://${{stageVariables.{variable}Host}}{path}"
        if "{todoId}" in path:
            assert integration["requestParameters"] == {
                "integration.request.path.todoId": "method.request.path.todoId"
            }

"""The API documents are valid OpenAPI 3 and carry only API Gateway's own extensions, so they
import into API Gateway unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

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
    [("partner.yaml", ["PRIVATE"]), ("mtls.yaml", ["PRIVATE"])],
)
def test_private_endpoint_configuration(name: str, types: list[str]) -> None:
    assert load(name)["x-amazon-apigateway-endpoint-configuration"]["types"] == types


@pytest.mark.parametrize("name", DOCUMENTS)
def test_integrations_are_http_proxy_from_stage_variables(name: str) -> None:
    for path, _, operation in operations(load(name)):
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["type"] == "http_proxy"
        assert integration["uri"].startswith("http://${stageVariables.")
        assert integration["uri"].endswith(path)
        if "{todoId}" in path and name != "global.yaml":
            assert integration["requestParameters"] == {
                "integration.request.path.todoId": "method.request.path.todoId"
            }

from __future__ import annotations

import copy
import ipaddress
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway.apis import load_apis, load_identities
from gateway.app import GatewayApp

from gateway.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, substitute_env

REPO = Path(__file__).resolve().parents[2]
RAW_DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    for api in data.get("apis", {}).values():
        if isinstance(api, dict) and "openapi" in api:
            api["openapi"] = str(REPO / "api" / Path(api["openapi"]).name)
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_default_config_for_native_runs() -> None:
    config = load_config(DEFAULT_CONFIG_PATH, environ={})
    assert config.region == "us-east-1"
    assert config.default_api == "global"
    assert {name: api.id for name, api in config.apis.items()} == {
        "global": "globalapi1",
        "partner": "partnerap1",
        "mtls": "mtlsapi001",
    }
    assert config.apis["global"].stage_variables == {
        "dogNamesHost": "127.0.0.1:8081",
        "todoHost": "127.0.0.1:8082",
    }
    assert [(e.id, e.subnets) for e in config.vpc_endpoints] == [
        ("vpce-01111111111111111", [ipaddress.ip_network("127.0.1.0/24")]),
        ("vpce-04444444444444444", [ipaddress.ip_network("127.0.4.0/24")]),
    ]
    assert config.openapi_path("partner") == REPO / "api" / "partner.yaml"
    assert [a.forward_client_cert_headers for a in config.apis.values()] == [False, False, True]


def test_environment_overrides_hosts_and_subnets() -> None:
    env = {
        "DOG_NAMES_HOST": "dog-names:8080",
        "TODO_HOST": "todo:8080",
        "CONSUMER_VPC_SUBNET": "10.214.4.0/24",
        "GATEWAY_API_DIR": str(REPO / "api"),
    }
    config = load_config(DEFAULT_CONFIG_PATH, environ=env)
    assert config.apis["partner"].stage_variables["todoHost"] == "todo:8080"
    assert config.vpc_endpoints[1].subnets == [ipaddress.ip_network("10.214.4.0/24")]
    assert config.openapi_path("mtls") == REPO / "api" / "mtls.yaml"


def test_gateway_config_variable_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, copy.deepcopy(RAW_DEFAULT) | {"region": "eu-west-1"})
    assert load_config(environ={"GATEWAY_CONFIG": str(path)}).region == "eu-west-1"


def test_default_apis_load() -> None:
    config = load_config(DEFAULT_CONFIG_PATH, environ={})
    apis = load_apis(config)
    assert [(a.name, a.http_api, a.private, a.uses_iam) for a in apis.values()] == [
        ("global", True, False, False),
        ("partner", False, True, True),
        ("mtls", False, True, False),
    ]
    assert apis["globalapi1"].resource_policy is None
    assert [len(a.routes.routes) for a in apis.values()] == [5, 5, 5]
    identities, policies = load_identities(config)
    assert set(identities) == {"AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE"}
    assert len(policies["arn:aws:iam::444444444444:role/consumer-lambda"]) == 1
    GatewayApp(config)  # builds without touching the network


@pytest.mark.parametrize(
    "path, value, message",
    [
        (("region",), "mars", "region: String should match pattern"),
        (("default_api",), "nope", "default_api 'nope' is not one of apis"),
        (("apis", "global", "id"), "GLOBAL", "apis.global.id: String should match pattern"),
        (("apis", "global", "account"), "1111", "apis.global.account: String should match pattern"),
        (
            ("apis", "global", "colour"),
            "blue",
            "apis.global.colour: Extra inputs are not permitted",
        ),
        (
            ("apis", "global", "kind"),
            "websocket",
            "apis.global.kind: Input should be 'rest' or 'http'",
        ),
        (("apis", "partner", "kind"), "http", "apis.partner: HTTP APIs cannot be PRIVATE"),
        (("apis", "mtls", "stage"), "$default", "apis.mtls: REST API stages need a name"),
        (
            ("apis", "global", "throttling"),
            {"rate": 5},
            "apis.global.throttling: give both rate and burst",
        ),
        (
            ("apis", "global", "throttling"),
            {"rate": -1, "burst": 1},
            "apis.global.throttling.rate: Input should be greater than 0",
        ),
        (
            ("apis", "global", "throttling"),
            {"methods": {"GET dogs": {"rate": 1, "burst": 1}}},
            "apis.global.throttling.methods: 'GET dogs': expected 'METHOD /resource/path'",
        ),
        (
            ("apis", "global", "stage_variables"),
            {"bad-name": "x"},
            "stage variable name 'bad-name'",
        ),
        (("vpc_endpoints", 0, "subnets"), ["not-a-cidr"], "vpc_endpoints.0.subnets.0"),
        (("vpc_endpoints", 0, "subnets"), ["127.0.4.128/25"], "overlaps subnet 127.0.4.0/24"),
        (
            ("vpc_endpoints", 1, "id"),
            "vpce-01111111111111111",
            "vpc_endpoints.*.id: 'vpce-01111111111111111' appears twice",
        ),
        (
            ("identities", 0, "account"),
            "555555555555",
            "identities.0: account differs from the account in principal_arn",
        ),
        (
            ("identities", 0, "access_key_id"),
            "short",
            "identities.0.access_key_id: String should match pattern",
        ),
    ],
)
def test_config_errors_name_the_field(
    tmp_path: Path, path: tuple[Any, ...], value: Any, message: str
) -> None:
    data = copy.deepcopy(RAW_DEFAULT)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    config_path = write_config(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        load_config(config_path, environ={})
    assert str(caught.value).startswith(f"{config_path}: invalid configuration:\n")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "text, message",
    [
        ("region: [unclosed", "not valid YAML"),
        ("- a list", "expected a mapping at the top level"),
        (
            "region: ${GATEWAY_TEST_UNSET_VARIABLE}",
            "region: environment variable GATEWAY_TEST_UNSET_VARIABLE is not set",
        ),
    ],
)
def test_unreadable_configs(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml", environ={})


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            ("apis", "global", "openapi"),
            "/nonexistent/global.yaml",
            "apis.global.openapi: cannot read",
        ),
        (
            ("apis", "global", "stage_variables"),
            {"dogNamesHost": "x:1"},
            "uses stage variable(s) todoHost that apis.global.stage_variables does not define",
        ),
        (("apis", "partner", "endpoint_type"), "REGIONAL", "disagree with endpoint_type REGIONAL"),
        (
            ("apis", "partner", "throttling"),
            {"methods": {"POST /dogs": {"rate": 1, "burst": 1}}},
            "'POST /dogs' names no method of the API",
        ),
    ],
)
def test_api_errors_name_the_api(
    tmp_path: Path, path: tuple[str, ...], value: Any, message: str
) -> None:
    data = copy.deepcopy(RAW_DEFAULT)
    config_path = write_config(tmp_path, data)
    data = yaml.safe_load(config_path.read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    config_path.write_text(yaml.safe_dump(data))
    config = load_config(config_path, environ={})
    with pytest.raises(ConfigError) as caught:
        load_apis(config)
    assert message in str(caught.value)


def test_bad_resource_policy_names_the_file(tmp_path: Path) -> None:
    document = yaml.safe_load((REPO / "api" / "mtls.yaml").read_text())
    document["x-amazon-apigateway-policy"]["Statement"][0]["Effect"] = "Perhaps"
    (tmp_path / "mtls.yaml").write_text(yaml.safe_dump(document))
    data = copy.deepcopy(RAW_DEFAULT)
    config_path = write_config(tmp_path, data)
    data = yaml.safe_load(config_path.read_text())
    data["apis"]["mtls"]["openapi"] = "mtls.yaml"
    config_path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        ConfigError, match=r"apis\.mtls \(.*mtls\.yaml\): x-amazon-apigateway-policy: "
    ):
        load_apis(load_config(config_path, environ={}))


@pytest.mark.parametrize(
    "value, env, expected",
    [
        ("${A}", {"A": "x"}, "x"),
        ("${A:-d}", {}, "d"),
        ("${A:-d}", {"A": ""}, "d"),
        ("http://${A:-h}:${B:-1}/p", {"B": "2"}, "http://h:2/p"),
        ("http://${stageVariables.host}/dogs", {}, "http://${stageVariables.host}/dogs"),
        ("$default", {}, "$default"),
        (["${A:-1}", {"k": "${A:-2}"}, 3], {}, ["1", {"k": "2"}, 3]),
    ],
)
def test_substitute_env(value: Any, env: dict[str, str], expected: Any) -> None:
    assert substitute_env(value, env) == expected

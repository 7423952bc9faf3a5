from __future__ import annotations

import copy
import ipaddress
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway.apis import load_apis, load_identities
from gateway.app import GatewayApp
from gateway.integration import HttpProxyIntegration, RequestValues, upstream_url
from gateway.sigv4 import Identity

from gateway.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, substitute_env

REPO = Path(__file__).resolve().parents[2]
RAW_DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
DOG_LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/dog-names/"
    "0222222222222222/0222222222222222"
)
TODO_LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/todo/"
    "0333333333333333/0333333333333333"
)


DELETE = object()  # as a value for `edit`: remove the key


def edit(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


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
        "widgets": "widgetsap1",
        "frontdoor": "frontdoor1",
    }
    assert config.apis["global"].stage_variables == {}
    assert config.apis["partner"].stage_variables == {
        "dogNamesHost": "127.0.0.1:8081",
        "todoHost": "127.0.0.1:8082",
        "dogNamesVpcLinkId": "dognlb",
        "todoVpcLinkId": "todonlb",
    }
    assert config.apis["mtls"].stage_variables == config.apis["partner"].stage_variables
    assert {k: (v.address, v.listeners) for k, v in config.vpc_links.items()} == {
        "dognlb": ("127.0.0.1:8081", {}),
        "todonlb": ("127.0.0.1:8082", {}),
        "apivpc": (None, {DOG_LISTENER: "127.0.0.1:8081", TODO_LISTENER: "127.0.0.1:8082"}),
    }
    # No throttling configured: the account-level default applies (the throttler's business).
    assert [a.throttling.stage_limit() for a in config.apis.values()] == [None] * 5
    assert [a.throttling.methods for a in config.apis.values()] == [{}] * 5
    assert [(e.id, e.vpc_id, e.subnets) for e in config.vpc_endpoints] == [
        ("vpce-01111111111111111", "vpc-01111111111111111", [ip_network("127.0.1.0/24")]),
        ("vpce-04444444444444444", "vpc-04444444444444444", [ip_network("127.0.4.0/24")]),
        ("vpce-0fd44444444444444", "vpc-0fd44444444444444", [ip_network("127.0.5.0/24")]),
    ]
    assert config.openapi_path("partner") == REPO / "api" / "partner.yaml"
    assert [a.forward_client_cert_headers for a in config.apis.values()] == [
        False,
        False,
        True,
        False,
        False,
    ]
    # The front door: the consumer account's regional API on a port of its own, its own VPC
    # link to the gateway's port, from an address in the front-door VPC's loopback subnet.
    frontdoor = config.apis["frontdoor"]
    assert (frontdoor.account, frontdoor.endpoint_type, frontdoor.port) == (
        "444444444444",
        "REGIONAL",
        8088,
    )
    assert config.own_ports() == {8088: "frontdoor"}
    assert frontdoor.stage_variables == {
        "widgetsApiId": "widgetsap1",
        "widgetsVpcLinkId": "frontdoornlb",
    }
    link = frontdoor.vpc_links["frontdoornlb"]
    assert (link.address, link.source_address, link.scheme) == (
        "127.0.0.1:8080",
        "127.0.5.10",
        "http",
    )
    # the widgets API's functions: their native processes (`make run`)
    assert {arn: f.endpoint for arn, f in config.lambda_functions.items()} == {
        "arn:aws:lambda:us-east-1:111111111111:function:widgets": "http://127.0.0.1:8083",
        "arn:aws:lambda:us-east-1:111111111111:function:token-authorizer": "http://127.0.0.1:8084",
    }


def test_environment_overrides_hosts_and_subnets() -> None:
    env = {
        "DOG_NAMES_HOST": "dog-names:8080",
        "TODO_HOST": "todo:8080",
        "CONSUMER_VPC_SUBNET": "10.214.4.0/24",
        "GATEWAY_API_DIR": str(REPO / "api"),
    }
    config = load_config(DEFAULT_CONFIG_PATH, environ=env)
    assert config.apis["partner"].stage_variables["todoHost"] == "todo:8080"
    assert config.vpc_links["todonlb"].address == "todo:8080"
    assert config.vpc_links["apivpc"].listeners[DOG_LISTENER] == "dog-names:8080"
    assert config.vpc_endpoints[1].subnets == [ipaddress.ip_network("10.214.4.0/24")]
    assert config.openapi_path("mtls") == REPO / "api" / "mtls.yaml"


def test_compose_points_the_front_doors_link_at_the_gateways_alias() -> None:
    """docker-compose.yml's values: the alias on frontdoor-vpc, the system's choice of source
    (the gateway's own address on that network), the front door's port inside the container."""
    env = {
        "FRONTDOOR_ENDPOINT_HOST": "vpce-frontdoor",
        "FRONTDOOR_LINK_SOURCE": "0.0.0.0",
        "FRONTDOOR_VPC_SUBNET": "10.214.5.0/24",
        "PORT": "8080",
    }
    config = load_config(DEFAULT_CONFIG_PATH, environ=env)
    link = config.apis["frontdoor"].vpc_links["frontdoornlb"]
    assert (link.address, link.source_address, link.scheme) == ("vpce-frontdoor:8080", None, "http")
    assert config.vpc_endpoints[2].subnets == [ipaddress.ip_network("10.214.5.0/24")]
    apis = load_apis(config)
    integration = apis["frontdoor1"].routes.routes[0].data.integration
    assert (integration.target, integration.source_address) == ("vpce-frontdoor:8080", None)


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
        ("widgets", False, True, False),
        ("frontdoor", False, False, False),
    ]
    assert apis["globalapi1"].resource_policy is None
    assert apis["frontdoor1"].resource_policy is None
    assert [len(a.routes.routes) for a in apis.values()] == [5, 5, 5, 1, 2]
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
        # session names: roles only, with temporary credentials
        (
            ("identities", 1, "session_token"),
            DELETE,
            "identities.1.session_name: a role session's credentials are temporary:"
            " give its session_token too",
        ),
        (
            ("identities", 0, "principal_arn"),
            "arn:aws:iam::444444444444:user/consumer",
            "identities.0.session_name: only a role has sessions: principal_arn"
            " 'arn:aws:iam::444444444444:user/consumer' is not a role ARN",
        ),
        (
            ("identities", 0, "principal_arn"),
            "arn:aws:sts::444444444444:assumed-role/consumer-lambda/x",
            "identities.0.session_name: only a role has sessions",
        ),
        (
            ("identities", 0, "session_name"),
            "a",
            "identities.0.session_name: String should match pattern",
        ),
        (
            ("identities", 0, "session_name"),
            "has space",
            "identities.0.session_name: String should match pattern",
        ),
        # where VPC links lead
        (
            ("vpc_links", "dognlb", "address"),
            "dog-names",
            "vpc_links.dognlb.address: 'dog-names': expected host:port",
        ),
        (
            ("vpc_links", "todonlb", "address"),
            "todo:70000",
            "vpc_links.todonlb.address: 'todo:70000': expected host:port",
        ),
        (
            ("vpc_links", "dognlb", "listeners"),
            {DOG_LISTENER: "127.0.0.1:8081"},
            "vpc_links.dognlb: give either address (a REST API VPC link: its NLB) or listeners",
        ),
        (("vpc_links", "apivpc", "listeners"), {}, "vpc_links.apivpc: give either address"),
        (
            ("vpc_links", "apivpc", "listeners"),
            {DOG_LISTENER.replace(":listener/", ":loadbalancer/"): "h:1"},
            "vpc_links.apivpc.listeners: 'arn:aws:elasticloadbalancing:us-east-1:"
            "111111111111:loadbalancer/net/dog-names/0222222222222222/0222222222222222' is not a"
            " load balancer listener ARN",
        ),
        (
            ("vpc_links", "apivpc", "listeners"),
            {DOG_LISTENER: "nowhere"},
            f"vpc_links.apivpc.listeners: {DOG_LISTENER}: 'nowhere': expected",
        ),
        (
            ("vpc_links", "bad-id"),
            {"address": "h:1"},
            "vpc_links: VPC link id 'bad-id'",
        ),
        (
            ("apis", "global", "vpc_links"),
            {"apivpc": {"address": "h:1", "listeners": {DOG_LISTENER: "h:2"}}},
            "apis.global.vpc_links.apivpc: give either address",
        ),
        (
            ("vpc_links", "dognlb", "source_address"),
            "dog-names",
            "vpc_links.dognlb.source_address: 'dog-names': expected an IP address",
        ),
        (
            ("vpc_links", "dognlb", "scheme"),
            "ftp",
            "vpc_links.dognlb.scheme: Input should be 'http' or 'https'",
        ),
        (
            ("vpc_links", "apivpc", "scheme"),
            "http",
            "vpc_links.apivpc: scheme is for a REST API's VPC link (address)",
        ),
        # an API's own port
        (("apis", "frontdoor", "port"), 0, "apis.frontdoor.port: Input should be greater than"),
        (("apis", "frontdoor", "port"), 70000, "apis.frontdoor.port: Input should be less than"),
        (("apis", "global", "port"), 8088, "apis.*.port: '8088' appears twice"),
    ],
)
def test_config_errors_name_the_field(
    tmp_path: Path, path: tuple[Any, ...], value: Any, message: str
) -> None:
    data = copy.deepcopy(RAW_DEFAULT)
    edit(data, path, value)
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
            ("apis", "partner", "stage_variables"),
            {"dogNamesHost": "x:1", "dogNamesVpcLinkId": "dognlb", "todoVpcLinkId": "todonlb"},
            "uses stage variable(s) todoHost that apis.partner.stage_variables does not define",
        ),
        (
            ("apis", "mtls", "stage_variables", "todoVpcLinkId"),
            DELETE,
            "uses stage variable(s) todoVpcLinkId that apis.mtls.stage_variables does not define",
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
    edit(data, path, value)
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


# --- private integrations: each VPC link / listener the documents name leads to a local address --


def load_edited_apis(tmp_path: Path, *edits: tuple[tuple[Any, ...], Any]) -> dict[str, Any]:
    data = copy.deepcopy(RAW_DEFAULT)
    for path, value in edits:
        edit(data, path, value)
    return load_apis(load_config(write_config(tmp_path, data), environ={}))


def targets(apis: dict[str, Any]) -> dict[str, dict[str, str | None]]:
    """Where each API's http_proxy integrations lead (the widgets API has Lambda ones only)."""
    found = {
        api.name: {
            r.resource_path: r.data.integration.target
            for r in api.routes.routes
            if isinstance(r.data.integration, HttpProxyIntegration)
        }
        for api in apis.values()
    }
    return {name: routes for name, routes in found.items() if routes}


def test_every_private_integration_resolves_to_its_provider() -> None:
    env = {"DOG_NAMES_HOST": "dog-names:8080", "TODO_HOST": "todo:8080"}
    apis = load_apis(load_config(DEFAULT_CONFIG_PATH, environ=env))
    expected = {
        "/dogs": "dog-names:8080",
        "/dogs/males": "dog-names:8080",
        "/dogs/females": "dog-names:8080",
        "/todo": "todo:8080",
        "/todo/{todoId}": "todo:8080",
    }
    # the front door's VPC link leads to the gateway itself, the front-door VPC's endpoint
    frontdoor = {"/": "127.0.0.1:8080", "/{proxy+}": "127.0.0.1:8080"}
    assert targets(apis) == {
        "global": expected,
        "partner": expected,
        "mtls": expected,
        "frontdoor": frontdoor,
    }


@pytest.mark.parametrize(
    "api_id, path, url",
    [
        ("globalapi1", "/dogs/males", "http://dog-names:8080/dogs/males?q=1"),
        ("globalapi1", "/todo/a%2Fb", "http://todo:8080/todo/a%2Fb?q=1"),
        ("partnerap1", "/dogs", "http://dog-names:8080/dogs?q=1"),
        ("mtlsapi001", "/todo/a%2Fb", "http://todo:8080/todo/a%2Fb?q=1"),
    ],
)
def test_the_shipped_documents_reach_the_providers_with_todays_paths(
    api_id: str, path: str, url: str
) -> None:
    env = {"DOG_NAMES_HOST": "dog-names:8080", "TODO_HOST": "todo:8080"}
    api = load_apis(load_config(DEFAULT_CONFIG_PATH, environ=env))[api_id]
    match = api.routes.match("GET", path)
    assert match is not None
    values = RequestValues(path=match.path_params, query=[("q", "1")])
    assert upstream_url(
        match.route.data.integration,
        http_api=api.http_api,
        stage_variables=api.stage_variables,
        values=values,
        raw_query="q=1",
    ) == (url, [])  # REST: the uri's host is the address itself, so Host is as it always was


@pytest.mark.parametrize("path", ["/", "/widgets", "/any/thing"])
def test_the_front_door_sends_every_path_to_the_widgets_api(path: str) -> None:
    """REST private integration: the link's address (in the link's scheme: plain HTTP to the
    gateway), the uri's path, and the uri's host as Host, which selects the private API."""
    api = load_apis(load_config(DEFAULT_CONFIG_PATH, environ={"PORT": "9080"}))["frontdoor1"]
    match = api.routes.match("POST", path)
    assert match is not None
    integration = match.route.data.integration
    assert integration.source_address == "127.0.5.10"
    assert upstream_url(
        integration,
        http_api=False,
        stage_variables=api.stage_variables,
        values=RequestValues(path=match.path_params, query=[("q", "1")]),
        raw_query="q=1",
    ) == (
        "http://127.0.0.1:9080/prod/widgets?q=1",
        [("Host", "widgetsap1.execute-api.us-east-1.amazonaws.com")],
    )


def test_an_api_may_see_its_own_vpc_links(tmp_path: Path) -> None:
    override = {"apivpc": {"listeners": {DOG_LISTENER: "elsewhere:1", TODO_LISTENER: "other:2"}}}
    apis = load_edited_apis(tmp_path, (("apis", "global", "vpc_links"), override))
    assert set(targets(apis)["global"].values()) == {"elsewhere:1", "other:2"}
    assert set(targets(apis)["partner"].values()) == {"127.0.0.1:8081", "127.0.0.1:8082"}


def test_a_rest_link_from_another_stage_variable(tmp_path: Path) -> None:
    apis = load_edited_apis(
        tmp_path,
        (("vpc_links", "spare"), {"address": "spare:9"}),
        (("apis", "mtls", "stage_variables", "todoVpcLinkId"), "spare"),
    )
    assert targets(apis)["mtls"]["/todo/{todoId}"] == "spare:9"
    assert targets(apis)["partner"]["/todo/{todoId}"] == "127.0.0.1:8082"


@pytest.mark.parametrize(
    "edits, message",
    [
        (
            [(("vpc_links", "dognlb"), DELETE)],
            "apis.mtls ({api}/mtls.yaml): paths./dogs.x-amazon-apigateway-any-method"
            ".x-amazon-apigateway-integration: VPC link 'dognlb' (connectionId"
            " ${{stageVariables.dogNamesVpcLinkId}}) is not mapped: add it to vpc_links"
            " (or apis.mtls.vpc_links) with its local address",
        ),
        (
            [(("vpc_links", "apivpc"), DELETE)],
            "apis.global ({api}/global.yaml): paths./dogs.x-amazon-apigateway-any-method"
            ".x-amazon-apigateway-integration: VPC link 'apivpc' is not mapped",
        ),
        (
            [(("vpc_links", "apivpc", "listeners", TODO_LISTENER), DELETE)],
            "apis.global ({api}/global.yaml): paths./todo.x-amazon-apigateway-any-method"
            f".x-amazon-apigateway-integration: listener {TODO_LISTENER} is not mapped:"
            " add it to vpc_links.apivpc.listeners with its local address",
        ),
        (
            [(("apis", "global", "vpc_links"), {"apivpc": {"listeners": {DOG_LISTENER: "h:1"}}})],
            f"listener {TODO_LISTENER} is not mapped: add it to"
            " apis.global.vpc_links.apivpc.listeners",
        ),
        (
            [(("vpc_links", "todonlb"), {"listeners": {TODO_LISTENER: "h:1"}})],
            "apis.mtls ({api}/mtls.yaml): paths./todo.x-amazon-apigateway-any-method"
            ".x-amazon-apigateway-integration: VPC link 'todonlb' (connectionId"
            " ${{stageVariables.todoVpcLinkId}}): vpc_links.todonlb has listeners, as an HTTP"
            " API's VPC link; a REST API's VPC link targets one load balancer: give it an address",
        ),
        (
            [(("vpc_links", "apivpc"), {"address": "h:1"})],
            "VPC link 'apivpc': vpc_links.apivpc has an address, as a REST API's VPC link",
        ),
        (
            [(("apis", "global", "account"), "999999999999")],
            f"listener {DOG_LISTENER} belongs to account 111111111111; the load balancer,"
            " the VPC link and the API must be in one account (999999999999)",
        ),
    ],
)
def test_an_unmapped_vpc_link_or_listener_stops_the_gateway(
    tmp_path: Path, edits: list[tuple[tuple[Any, ...], Any]], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_edited_apis(tmp_path, *edits)
    assert message.format(api=REPO / "api") in str(caught.value)


# --- identities --------------------------------------------------------------------------------


def test_role_identities_are_sessions_with_temporary_credentials() -> None:
    identities, _ = load_identities(load_config(DEFAULT_CONFIG_PATH, environ={}))
    consumer, other = identities["AKIAIOSFODNN7EXAMPLE"], identities["AKIAI44QH8DHBEXAMPLE"]
    assert consumer.session_token == "IQoJb3JpZ2luX2VjEXAMPLE/local-consumer-lambda-session"
    assert consumer.session_name == "consumer-lambda"  # Lambda names it after the function
    assert consumer.principal_arn == "arn:aws:iam::444444444444:role/consumer-lambda"
    assert consumer.caller_arn == (
        "arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer-lambda"
    )
    assert other.session_token is not None
    assert other.caller_arn == "arn:aws:sts::444444444444:assumed-role/other-team/other-team-cli"


@pytest.mark.parametrize(
    "principal, session, caller",
    [
        ("arn:aws:iam::444444444444:role/r", "s", "arn:aws:sts::444444444444:assumed-role/r/s"),
        (
            "arn:aws:iam::444444444444:role/team/ops/r",  # the role's path is not in the ARN
            "s@x",
            "arn:aws:sts::444444444444:assumed-role/r/s@x",
        ),
        ("arn:aws:iam::444444444444:role/r", None, "arn:aws:iam::444444444444:role/r"),
        ("arn:aws:iam::444444444444:user/u", None, "arn:aws:iam::444444444444:user/u"),
    ],
)
def test_caller_arn(principal: str, session: str | None, caller: str) -> None:
    identity = Identity(
        "AKIAIOSFODNN7EXAMPLE", "s", principal, "444444444444", session_name=session
    )
    assert identity.caller_arn == caller

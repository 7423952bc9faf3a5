from __future__ import annotations

from collections.abc import Callable

import pytest
from gateway.integration import (
    HttpProxyIntegration,
    IntegrationError,
    RequestValues,
    render_uri,
    upstream_url,
)

STAGE = {"todoHost": "todo:8080", "label": "prod"}


def rest(uri: str, **extra: object) -> HttpProxyIntegration:
    raw = {"type": "http_proxy", "httpMethod": "ANY", "uri": uri, "timeoutInMillis": 29000, **extra}
    return HttpProxyIntegration.from_openapi(raw, http_api=False, where="here")


def test_rest_uri_from_stage_variables_and_request_parameters() -> None:
    integration = rest(
        "http://${stageVariables.todoHost}/todo/{todoId}",
        requestParameters={
            "integration.request.path.todoId": "method.request.path.todoId",
            "integration.request.header.X-Stage": "stageVariables.label",
            "integration.request.header.X-Fixed": "'constant'",
            "integration.request.querystring.from": "method.request.header.X-Caller",
        },
    )
    url, headers = upstream_url(
        integration,
        http_api=False,
        stage_variables=STAGE,
        values=RequestValues(path={"todoId": "ab%2012"}, headers={"x-caller": "me & you"}),
        raw_query="a=1&b=2",
    )
    assert url == "http://todo:8080/todo/ab%2012?a=1&b=2&from=me%20%26%20you"
    assert headers == [("X-Stage", "prod"), ("X-Fixed", "constant")]


def test_rest_placeholder_without_mapping_is_an_error() -> None:
    with pytest.raises(IntegrationError, match="todoId"):
        upstream_url(
            rest("http://${stageVariables.todoHost}/todo/{todoId}"),
            http_api=False,
            stage_variables=STAGE,
            values=RequestValues(path={"todoId": "1"}),
            raw_query="",
        )


def test_http_api_uses_route_parameters_directly() -> None:
    raw = {
        "type": "HTTP_PROXY",
        "httpMethod": "ANY",
        "uri": "http://${stageVariables.todoHost}/files/{proxy}",
        "payloadFormatVersion": "1.0",
    }
    integration = HttpProxyIntegration.from_openapi(raw, http_api=True, where="here")
    assert integration.timeout_ms == 30000
    url, headers = upstream_url(
        integration,
        http_api=True,
        stage_variables=STAGE,
        values=RequestValues(path={"proxy": "a/b"}),
        raw_query="",
    )
    assert (url, headers) == ("http://todo:8080/files/a/b", [])


def test_query_of_the_uri_and_the_caller_combine() -> None:
    url, _ = upstream_url(
        rest("http://h/x?fixed=1"),
        http_api=False,
        stage_variables={},
        values=RequestValues(),
        raw_query="q=2",
    )
    assert url == "http://h/x?fixed=1&q=2"


def test_undefined_stage_variable() -> None:
    with pytest.raises(IntegrationError, match="stage variable 'nope'"):
        render_uri("http://${stageVariables.nope}/x", stage_variables={}, path_params={})


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"type": "aws_proxy", "uri": "arn:aws:lambda"}, "only http_proxy"),
        ({"type": "http_proxy", "uri": "ftp://x"}, "uri must be an http"),
        ({"type": "http_proxy", "uri": "http://x", "timeoutInMillis": 29001}, "50..29000"),
        ({"type": "http_proxy", "uri": "http://x", "timeoutInMillis": 10}, "50..29000"),
        (
            {
                "type": "http_proxy",
                "uri": "http://x",
                "requestParameters": {"integration.request.body": "x"},
            },
            "not supported",
        ),
        (
            {
                "type": "http_proxy",
                "uri": "http://x",
                "requestParameters": {"integration.request.path.a": "context.x"},
            },
            "not supported",
        ),
    ],
)
def test_unusable_integrations(raw: dict[str, object], message: str) -> None:
    with pytest.raises(IntegrationError, match=message):
        HttpProxyIntegration.from_openapi(raw, http_api=False, where="here")


@pytest.mark.parametrize(
    "declared, received, expected", [("ANY", "patch", "PATCH"), ("GET", "POST", "GET")]
)
def test_upstream_method(declared: str, received: str, expected: str) -> None:
    assert rest("http://h/", httpMethod=declared).upstream_method(received) == expected


def test_stage_variables_used() -> None:
    integration = rest(
        "http://${stageVariables.a}/${stageVariables.b}",
        requestParameters={"integration.request.header.X": "stageVariables.c"},
    )
    assert integration.stage_variables_used() == {"a", "b", "c"}


# --- private integrations (connectionType: VPC_LINK) ----------------------------------------------
# AWS's documentation, docs.aws.amazon.com/apigateway/latest/developerguide/...:
# REST APIs set-up-api-with-vpclink-using-swagger.html; HTTP APIs
# http-api-develop-integrations-private.html and (overwrite:path) http-api-parameter-mapping.html

LISTENER = (
    "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/todo/"
    "0333333333333333/0333333333333333"
)


def rest_private(uri: str, **extra: object) -> HttpProxyIntegration:
    return rest(uri, connectionType="VPC_LINK", connectionId="${stageVariables.linkId}", **extra)


def http_private(**extra: object) -> HttpProxyIntegration:
    raw = {
        "type": "http_proxy",
        "httpMethod": "ANY",
        "uri": LISTENER,
        "payloadFormatVersion": "1.0",
        "connectionType": "VPC_LINK",
        "connectionId": "apivpc",
        **extra,
    }
    return HttpProxyIntegration.from_openapi(raw, http_api=True, where="here")


def call(
    integration: HttpProxyIntegration,
    *,
    http_api: bool,
    path: dict[str, str] | None = None,
    query: str = "",
    stage_variables: dict[str, str] | None = None,
) -> tuple[str, list[tuple[str, str]]]:
    return upstream_url(
        integration,
        http_api=http_api,
        stage_variables=STAGE if stage_variables is None else stage_variables,
        values=RequestValues(path=path or {}),
        raw_query=query,
    )


def test_rest_vpc_link_connects_to_the_link_with_the_uri_path_and_its_host_as_host() -> None:
    integration = rest_private(
        "http://${stageVariables.todoHost}/todo/{todoId}",
        requestParameters={"integration.request.path.todoId": "method.request.path.todoId"},
    )
    assert integration.vpc_link_id({"linkId": "todonlb"}) == "todonlb"
    assert "linkId" in integration.stage_variables_used()
    bound = integration.bind(route_path="/todo/{todoId}", stage="prod", target="127.0.0.1:9")
    url, headers = call(bound, http_api=False, path={"todoId": "a%2Fb"}, query="x=1")
    assert url == "http://127.0.0.1:9/todo/a%2Fb?x=1"
    # The uri's host (in AWS the NLB's DNS name) is the Host header.
    assert headers == [("Host", "todo:8080")]


def test_rest_vpc_link_adds_no_host_when_the_uri_names_the_address_itself() -> None:
    bound = rest_private("http://todo:8080/todo").bind(route_path="/todo", target="todo:8080")
    assert call(bound, http_api=False) == ("http://todo:8080/todo", [])


def test_rest_vpc_link_keeps_the_uri_query_and_a_bare_host() -> None:
    bound = rest_private("https://nlb.example?fixed=1").bind(route_path="/x", target="h:1")
    assert call(bound, http_api=False, query="q=2") == (
        "https://h:1/?fixed=1&q=2",
        [("Host", "nlb.example")],
    )


@pytest.mark.parametrize(
    "route, params, stage, expected",
    [
        ("/todo", {}, "$default", "http://10.0.0.1:80/todo"),
        ("/todo/{todoId}", {"todoId": "ab%20c"}, "$default", "http://10.0.0.1:80/todo/ab%20c"),
        ("/files/{proxy+}", {"proxy": "a/b/c"}, "$default", "http://10.0.0.1:80/files/a/b/c"),
        ("/", {}, "$default", "http://10.0.0.1:80/"),
        # "a request to the test stage of an API includes test/ in the request to your private
        # integration"
        ("/todo/{todoId}", {"todoId": "7"}, "test", "http://10.0.0.1:80/test/todo/7"),
    ],
)
def test_http_vpc_link_passes_the_request_path_as_received(
    route: str, params: dict[str, str], stage: str, expected: str
) -> None:
    bound = http_private().bind(route_path=route, stage=stage, target="10.0.0.1:80")
    assert call(bound, http_api=True, path=params) == (expected, [])


def test_http_vpc_link_passes_the_query() -> None:
    bound = http_private().bind(route_path="/todo", target="10.0.0.1:80")
    assert call(bound, http_api=True, query="a=1&a=2") == ("http://10.0.0.1:80/todo?a=1&a=2", [])


@pytest.mark.parametrize(
    "override, expected",
    [
        ("$request.path", "/todo/7"),  # "the request path, without the stage name"
        ("${request.path}", "/todo/7"),
        ("/v1/items/$request.path.todoId", "/v1/items/7"),
        ("/v1${request.path}", "/v1/todo/7"),
        ("${stageVariables.prefix}/${request.path.todoId}", "/api/7"),
        ("/fixed", "/fixed"),
    ],
)
def test_http_overwrite_path(override: str, expected: str) -> None:
    integration = http_private(requestParameters={"overwrite:path": override})
    bound = integration.bind(route_path="/todo/{todoId}", stage="test", target="h:1")
    url, _ = call(bound, http_api=True, path={"todoId": "7"}, stage_variables={"prefix": "/api"})
    assert url == f"http://h:1{expected}"


def test_http_overwrite_path_of_a_public_integration_replaces_the_uri_path() -> None:
    raw = {
        "type": "http_proxy",
        "uri": "http://${stageVariables.todoHost}/ignored?fixed=1",
        "requestParameters": {"overwrite:path": "/todo/$request.path.todoId"},
    }
    integration = HttpProxyIntegration.from_openapi(raw, http_api=True, where="here")
    bound = integration.bind(route_path="/items/{todoId}")
    assert call(bound, http_api=True, path={"todoId": "9"}, query="q=1") == (
        "http://todo:8080/todo/9?fixed=1&q=1",
        [],
    )


def test_overwrite_path_stage_variables_are_used() -> None:
    integration = http_private(requestParameters={"overwrite:path": "$stageVariables.p/x"})
    assert integration.stage_variables_used() == {"p"}


def test_an_unbound_private_integration_leads_nowhere() -> None:
    with pytest.raises(IntegrationError, match="leads nowhere"):
        call(http_private(), http_api=True)
    with pytest.raises(IntegrationError, match="leads nowhere"):
        call(rest_private("http://h/x"), http_api=False)


@pytest.mark.parametrize(
    "integration, kwargs, message",
    [
        (lambda: http_private(), {"route_path": "/x"}, "no local address for the VPC link"),
        (lambda: rest("http://h/x"), {"route_path": "/x", "target": "h:1"}, "INTERNET"),
        (
            lambda: http_private(),
            {"route_path": "$default", "target": "h:1"},
            "\\$default route's request path",
        ),
        (
            lambda: http_private(requestParameters={"overwrite:path": "/a/$request.path.nope"}),
            {"route_path": "/a/{id}", "target": "h:1"},
            "names no parameter of the route /a/{id}",
        ),
    ],
)
def test_unbindable_integrations(
    integration: Callable[[], HttpProxyIntegration], kwargs: dict[str, str], message: str
) -> None:
    with pytest.raises(IntegrationError, match=message):
        integration().bind(**kwargs)


def test_the_default_route_may_overwrite_its_path_with_a_constant() -> None:
    integration = http_private(requestParameters={"overwrite:path": "/health"})
    bound = integration.bind(route_path="$default", target="h:1")
    assert call(bound, http_api=True) == ("http://h:1/health", [])


PRIVATE_HTTP = {
    "type": "http_proxy",
    "uri": LISTENER,
    "connectionType": "VPC_LINK",
    "connectionId": "apivpc",
}


@pytest.mark.parametrize(
    "raw, http_api, message",
    [
        ({"type": "http_proxy", "uri": "http://x", "connectionType": "VPN"}, False, "VPC_LINK"),
        (
            {"type": "http_proxy", "uri": "http://x", "connectionType": "VPC_LINK"},
            False,
            "VPC_LINK needs a connectionId",
        ),
        (
            {"type": "http_proxy", "uri": "http://x", "connectionId": "abc"},
            False,
            "connectionId is for connectionType VPC_LINK only",
        ),
        (
            {
                "type": "http_proxy",
                "uri": "http://x",
                "connectionType": "VPC_LINK",
                "connectionId": "not a link",
            },
            False,
            "is not a VPC link id or",
        ),
        (
            PRIVATE_HTTP | {"connectionId": "${stageVariables.vpcLinkId}"},
            True,
            "HTTP APIs take stage variables in integration URIs",
        ),
        (PRIVATE_HTTP | {"uri": "http://nlb.internal/dogs"}, True, "listener ARN"),
        (
            PRIVATE_HTTP | {"uri": "arn:aws:servicediscovery:us-east-1:111111111111:service/srv-1"},
            True,
            "Cloud Map services are not supported locally",
        ),
        (
            PRIVATE_HTTP | {"requestParameters": {"append:header.x": "y"}},
            True,
            "'append:header.x' is not supported locally",
        ),
        (
            PRIVATE_HTTP | {"requestParameters": {"overwrite:path": "todo/x"}},
            True,
            "must begin with '/'",
        ),
        (
            PRIVATE_HTTP | {"requestParameters": {"overwrite:path": "$request.path.id"}},
            True,
            "must begin with '/'",
        ),
        (
            PRIVATE_HTTP | {"requestParameters": {"overwrite:path": "/$context.requestId"}},
            True,
            "\\$context.requestId is not supported locally",
        ),
    ],
)
def test_unusable_private_integrations(
    raw: dict[str, object], http_api: bool, message: str
) -> None:
    with pytest.raises(IntegrationError, match=message):
        HttpProxyIntegration.from_openapi(raw, http_api=http_api, where="here")

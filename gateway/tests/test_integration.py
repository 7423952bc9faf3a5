from __future__ import annotations

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

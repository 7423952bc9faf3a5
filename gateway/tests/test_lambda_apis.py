"""Lambda proxy integrations and Lambda authorizers as the gateway reads them from an OpenAPI
document and its configuration: what it takes, and what stops it from starting (with the field
named)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from gateway.apis import build_api, load_apis
from gateway.authorizers import LambdaAuthorizer
from gateway.lambda_proxy import AwsProxyIntegration
from openapi_spec_validator import validate

from gateway.config import DEFAULT_CONFIG_PATH, ApiConfig, ConfigError, load_config

API_DIR = Path(__file__).resolve().parents[2] / "api"
FUNCTION = "arn:aws:lambda:us-east-1:111111111111:function:{}"
INVOCATION = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{}/invocations"
ENDPOINTS = {FUNCTION.format("fn"): "http://fn:8080", FUNCTION.format("auth"): "http://auth:8080"}
API = {"id": "testapi001", "openapi": "x.yaml", "endpoint_type": "REGIONAL",
       "account": "111111111111", "stage_variables": {"fn": "fn"}}  # fmt: skip
REST = ApiConfig.model_validate(API | {"kind": "rest", "stage": "prod"})
HTTP = ApiConfig.model_validate(API | {"kind": "http", "stage": "$default"})


def integration(**overrides: Any) -> dict[str, Any]:
    raw = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": INVOCATION.format(FUNCTION.format("fn")),
    }
    return {k: v for k, v in (raw | overrides).items() if v is not None}


def document(raw_integration: dict[str, Any], scheme: dict[str, Any] | None = None) -> dict:
    operation: dict[str, Any] = {"x-amazon-apigateway-integration": raw_integration}
    doc: dict[str, Any] = {"openapi": "3.0.1", "paths": {"/w": {"get": operation}}}
    if scheme is not None:
        doc["components"] = {"securitySchemes": {"auth": scheme}}
        operation["security"] = [{"auth": []}]
    return doc


def authorizer_scheme(**overrides: Any) -> dict[str, Any]:
    raw = {"type": "token", "authorizerUri": INVOCATION.format(FUNCTION.format("auth"))} | overrides
    return {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {k: v for k, v in raw.items() if v is not None},
    }


def build(doc: dict[str, Any], cfg: ApiConfig = REST, functions: dict[str, str] = ENDPOINTS):  # type: ignore[no-untyped-def]
    return build_api("test", cfg, doc, region="us-east-1", functions=functions)


def target(doc: dict[str, Any], cfg: ApiConfig = REST):  # type: ignore[no-untyped-def]
    return build(doc, cfg).routes.routes[0].data


@pytest.mark.parametrize("name", ["widgets.yaml", "frontdoor.yaml"])
def test_the_pattern_documents_are_valid_openapi_with_api_gateways_extensions_only(
    name: str,
) -> None:
    doc = yaml.safe_load((API_DIR / name).read_text())
    validate(doc)
    text = (API_DIR / name).read_text()
    assert all(
        key.startswith("x-amazon-apigateway-")
        for line in text.splitlines()
        if (key := line.strip().split(":", 1)[0]).startswith("x-")
    )


def test_the_shipped_widgets_api() -> None:
    apis = load_apis(load_config(DEFAULT_CONFIG_PATH, environ={}))
    assert apis["widgetsap1"].private
    [route] = apis["widgetsap1"].routes.routes
    assert (route.method, route.resource_path) == ("GET", "/widgets")
    lambda_integration, authorizer = route.data.integration, route.data.authorizer
    assert isinstance(lambda_integration, AwsProxyIntegration)
    assert (lambda_integration.function_arn, lambda_integration.endpoint) == (
        FUNCTION.format("widgets"),
        "http://127.0.0.1:8083",
    )
    assert (lambda_integration.payload_format, lambda_integration.timeout_ms) == ("1.0", 29000)
    assert isinstance(authorizer, LambdaAuthorizer)
    # ttl 0: no cached allow outlives a rotation of the secret it matched
    assert (authorizer.kind, authorizer.ttl_s, authorizer.function_arn, authorizer.endpoint) == (
        "token",
        0,
        FUNCTION.format("token-authorizer"),
        "http://127.0.0.1:8084",
    )
    assert [s.expression for s in authorizer.identity_sources] == [
        "method.request.header.Authorization"
    ]


def test_the_widgets_api_admits_only_the_front_door_vpcs_endpoint() -> None:
    """The reference policy, as the document carries it (its decisions: the policy tests)."""
    doc = yaml.safe_load((API_DIR / "widgets.yaml").read_text())
    assert doc["x-amazon-apigateway-endpoint-configuration"] == {"types": ["PRIVATE"]}
    allow, deny = doc["x-amazon-apigateway-policy"]["Statement"]
    assert (allow["Effect"], allow["Principal"], allow["Resource"], "Condition" in allow) == (
        "Allow",
        "*",
        "execute-api:/*",
        False,
    )
    assert (deny["Effect"], deny["Principal"], deny["Resource"], deny["Condition"]) == (
        "Deny",
        "*",
        "execute-api:/*",
        {"StringNotEquals": {"aws:SourceVpce": "vpce-0fd44444444444444"}},
    )


def test_the_shipped_front_door() -> None:
    """Root ANY and {proxy+} ANY, each an http_proxy over the front door's VPC link to the
    widgets API's /prod/widgets, behind the same TOKEN authorizer (the producer's function)."""
    apis = load_apis(load_config(DEFAULT_CONFIG_PATH, environ={}))
    frontdoor = apis["frontdoor1"]
    assert (frontdoor.private, frontdoor.account, frontdoor.resource_policy) == (
        False,
        "444444444444",
        None,
    )
    routes = frontdoor.routes.routes
    assert [(r.method, r.resource_path) for r in routes] == [("ANY", "/"), ("ANY", "/{proxy+}")]
    for route in routes:
        integration, authorizer = route.data.integration, route.data.authorizer
        assert (integration.connection_type, integration.http_method, integration.uri) == (
            "VPC_LINK",
            "ANY",
            "https://${stageVariables.widgetsApiId}.execute-api.us-east-1.amazonaws.com"
            "/prod/widgets",
        )
        assert integration.vpc_link_id(frontdoor.stage_variables) == "frontdoornlb"
        assert (authorizer.kind, authorizer.ttl_s, authorizer.function_arn) == (
            "token",
            0,
            FUNCTION.format("token-authorizer"),
        )
        assert authorizer.validation.pattern == "^[A-Za-z0-9_-]{43}$"


def test_an_integration_bound_to_its_function() -> None:
    uri = INVOCATION.format(FUNCTION.format("${stageVariables.fn}"))
    bound = target(document(integration(uri=uri, timeoutInMillis=1000))).integration
    assert (bound.function_arn, bound.endpoint, bound.timeout_ms) == (
        FUNCTION.format("fn"),
        "http://fn:8080",
        1000,
    )


@pytest.mark.parametrize(
    "raw, cfg, message",
    [
        (integration(uri="arn:aws:lambda:us-east-1:111111111111:function:fn"), REST,
         "is not a Lambda invocation URI"),
        (integration(uri=INVOCATION.format("fn")), REST, "'fn' is not a Lambda function ARN"),
        (integration(httpMethod="GET"), REST, "the Invoke API, which takes POST"),
        (integration(payloadFormatVersion="2.0"), REST, "REST APIs take 1.0"),
        (integration(), HTTP, "needs payloadFormatVersion (1.0 or 2.0)"),
        (integration(payloadFormatVersion="3.0"), HTTP, "HTTP APIs take 1.0 or 2.0"),
        (integration(timeoutInMillis=29001), REST, "timeoutInMillis must be 50..29000"),
        (integration(uri=INVOCATION.format(FUNCTION.format("${stageVariables.nope}"))), REST,
         "stage variable(s) nope that apis.test.stage_variables does not define"),
        (integration(uri=INVOCATION.format(FUNCTION.format("other"))), REST,
         f"Lambda function {FUNCTION.format('other')} is not mapped: add it to lambda_functions"),
    ],
    ids=["not-an-invocation", "not-an-arn", "get", "rest-2.0", "http-no-format", "http-3.0",
         "timeout", "stage-variable", "unmapped"],
)  # fmt: skip
def test_integration_errors(raw: dict[str, Any], cfg: ApiConfig, message: str) -> None:
    with pytest.raises(ValueError, match=_literal(message)):
        build(document(raw), cfg)


def test_authorizers_token_and_request() -> None:
    token = target(
        document(
            integration(),
            authorizer_scheme(
                identityValidationExpression="^[a-z]+$", authorizerResultTtlInSeconds=0
            ),
        )
    ).authorizer
    assert (token.kind, token.ttl_s, token.validation.pattern) == ("token", 0, "^[a-z]+$")
    assert (token.function_arn, token.endpoint) == (FUNCTION.format("auth"), "http://auth:8080")
    request = target(
        document(
            integration(),
            authorizer_scheme(
                type="request",
                identitySource="method.request.header.a, method.request.querystring.b,"
                " stageVariables.fn, context.requestId",
            ),
        )
    ).authorizer
    assert request.ttl_s == 300  # API Gateway's default
    assert [(s.kind, s.name) for s in request.identity_sources] == [
        ("header", "a"),
        ("querystring", "b"),
        ("stageVariables", "fn"),
        ("context", "requestId"),
    ]


@pytest.mark.parametrize(
    "overrides, scheme_overrides, cfg, message",
    [
        ({"type": "cognito_user_pools"}, {}, REST, "type 'cognito_user_pools' is not supported"),
        ({"authorizerUri": None}, {}, REST, "authorizerUri None is not a Lambda invocation URI"),
        ({"authorizerResultTtlInSeconds": 3601}, {}, REST, "must be 0..3600"),
        ({"type": "request"}, {}, REST, "needs identitySource"),
        ({"type": "request", "identitySource": "method.request.header.a",
          "identityValidationExpression": "x"}, {}, REST, "is for token authorizers"),
        ({"identityValidationExpression": "("}, {}, REST, "identityValidationExpression:"),
        ({"identitySource": "method.request.querystring.t"}, {}, REST, "is one header"),
        ({}, {"in": "query"}, REST, "reads its token from a header"),
        ({"identitySource": "method.request.body"}, {}, REST, "is not method.request.header"),
        ({"authorizerUri": INVOCATION.format(FUNCTION.format("elsewhere"))}, {}, REST,
         "is not mapped"),
        ({"type": "request", "identitySource": "$request.header.a"}, {}, HTTP,
         "Lambda authorizers of HTTP APIs are not supported locally"),
    ],
    ids=["cognito", "no-uri", "ttl", "request-no-source", "validation-on-request", "bad-regex",
         "token-from-query", "token-scheme-not-header", "bad-source", "unmapped", "http-api"],
)  # fmt: skip
def test_authorizer_errors(
    overrides: dict[str, Any], scheme_overrides: dict[str, Any], cfg: ApiConfig, message: str
) -> None:
    raw = integration(payloadFormatVersion="1.0") if cfg.kind == "http" else integration()
    scheme = authorizer_scheme(**overrides) | scheme_overrides
    with pytest.raises(ValueError, match=_literal(message)):
        build(document(raw, scheme), cfg)


def test_other_security_schemes_are_still_refused() -> None:
    scheme = {"type": "http", "scheme": "bearer"}
    with pytest.raises(ValueError, match="awsSigv4, or a Lambda authorizer"):
        build(document(integration(), scheme))


RAW_DEFAULT: dict[str, Any] = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


@pytest.mark.parametrize(
    "functions, message",
    [
        ({"arn:aws:lambda:us-east-1:1:function:x": {"endpoint": "http://h:1"}},
         "is not a Lambda function ARN"),
        ({FUNCTION.format("x"): {"endpoint": "h:1"}}, "expected http(s)://host:port"),
        ({FUNCTION.format("x"): {"endpoint": "http://h:1/path"}}, "expected http(s)://host:port"),
    ],
)  # fmt: skip
def test_lambda_functions_in_the_configuration(
    tmp_path: Path, functions: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(RAW_DEFAULT)
    data["lambda_functions"] = functions
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=_literal(message)) as raised:
        load_config(path, environ={})
    assert "lambda_functions" in str(raised.value)


def test_an_unmapped_function_stops_the_gateway_naming_it(tmp_path: Path) -> None:
    data = copy.deepcopy(RAW_DEFAULT)
    del data["lambda_functions"][FUNCTION.format("token-authorizer")]
    for api in data["apis"].values():
        api["openapi"] = str(API_DIR / Path(api["openapi"]).name)
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as raised:
        load_apis(load_config(path, environ={}))
    assert str(raised.value) == (  # the first API that names it (the file's are sorted)
        f"apis.frontdoor ({API_DIR}/frontdoor.yaml): components.securitySchemes.sharedSecret"
        f".x-amazon-apigateway-authorizer: Lambda function {FUNCTION.format('token-authorizer')}"
        " is not mapped: add it to lambda_functions with its local endpoint"
    )


def _literal(text: str) -> str:
    return re.escape(text)

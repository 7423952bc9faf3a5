"""Build the gateway's view of each API from its OpenAPI document and its local configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from gateway.authorizers import AUTHORIZER_KEY, LambdaAuthorizer
from gateway.config import (
    ApiConfig,
    ApiKind,
    ConfigError,
    EndpointType,
    GatewayConfig,
    VpcLink,
    parse_yaml,
)
from gateway.integration import LISTENER_ARN, HttpProxyIntegration, IntegrationError
from gateway.lambda_proxy import AwsProxyIntegration, bind_function
from gateway.policy import Policy, PolicyError, expand_execute_api_shorthand, parse_policy
from gateway.routing import ANY_METHOD, Route, RouteTable
from gateway.sigv4 import Identity

OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
ANY_METHOD_KEY = "x-amazon-apigateway-any-method"
SIGV4_AUTHTYPE = "awssigv4"
BINARY_MEDIA_TYPES_KEY = "x-amazon-apigateway-binary-media-types"


@dataclass(frozen=True)
class Target:
    """What a route leads to."""

    integration: HttpProxyIntegration | AwsProxyIntegration
    iam_auth: bool
    authorizer: LambdaAuthorizer | None = None  # a Lambda authorizer (REST APIs)


@dataclass(frozen=True)
class Api:
    name: str
    id: str
    region: str
    account: str
    http_api: bool
    private: bool
    stage: str
    stage_variables: Mapping[str, str]
    routes: RouteTable
    resource_policy: Policy | None
    forwards_client_cert: bool
    binary_media_types: tuple[str, ...] = ()  # x-amazon-apigateway-binary-media-types

    @property
    def stage_in_path(self) -> bool:
        return not (self.http_api and self.stage == "$default")

    @property
    def uses_iam(self) -> bool:
        return any(route.data.iam_auth for route in self.routes.routes)

    def execute_api_arn(self, method: str, path: str) -> str:
        """arn:aws:execute-api:{region}:{account}:{api-id}/{stage}/{METHOD}/{path}"""
        return (
            f"arn:aws:execute-api:{self.region}:{self.account}:{self.id}/{self.stage}/"
            f"{method.upper()}/{path.lstrip('/')}"
        )


def load_apis(config: GatewayConfig) -> dict[str, Api]:
    """Every configured API by id; ConfigError names the file and the element at fault."""
    apis = {}
    for name, api_config in config.apis.items():
        apis[api_config.id] = load_api(config, name)
    return apis


def load_api(config: GatewayConfig, name: str) -> Api:
    """The configured API `name`; ConfigError names the file and the element at fault."""
    path = config.openapi_path(name)
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"apis.{name}.openapi: cannot read {path}: {exc.strerror or exc}"
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"apis.{name}.openapi: {path} is not valid YAML: {exc}") from exc
    try:
        return build_api(
            name,
            config.apis[name],
            document,
            region=config.region,
            vpc_links=config.vpc_links_of(name),
            functions={arn: f.endpoint for arn, f in config.lambda_functions.items()},
        )
    except (IntegrationError, PolicyError, ValueError) as exc:
        raise ConfigError(f"apis.{name} ({path}): {exc}") from exc


def build_api(
    name: str,
    cfg: ApiConfig,
    document: Any,
    *,
    region: str,
    vpc_links: Mapping[str, tuple[str, VpcLink]] | None = None,
    functions: Mapping[str, str] | None = None,
) -> Api:
    """The API `name` as the gateway serves it. `vpc_links`: the VPC links it sees, by id, with
    the configuration field of each (`GatewayConfig.vpc_links_of`); `functions`: the local
    endpoint of each Lambda function ARN (`lambda_functions`)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
        raise ValueError("not an OpenAPI document with paths")
    http_api = cfg.kind is ApiKind.HTTP
    _check_endpoint_type(document, cfg)
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    default_security = document.get("security")
    authorizers = _Authorizers(
        schemes, http_api=http_api, stage_variables=cfg.stage_variables, functions=functions or {}
    )
    routes = []
    for resource_path, item in document["paths"].items():
        if not isinstance(item, Mapping):
            raise ValueError(f"paths.{resource_path} must be a mapping")
        for key, operation in item.items():
            if key in OPENAPI_METHODS:
                method = key.upper()
            elif key == ANY_METHOD_KEY:
                method = ANY_METHOD
            else:
                continue
            where = f"paths.{resource_path}.{key}"
            raw_integration = operation.get("x-amazon-apigateway-integration")
            if not isinstance(raw_integration, Mapping):
                raise ValueError(f"{where}: no x-amazon-apigateway-integration")
            integration: HttpProxyIntegration | AwsProxyIntegration
            if str(raw_integration.get("type", "")).lower() == "aws_proxy":
                integration = AwsProxyIntegration.from_openapi(
                    raw_integration,
                    http_api=http_api,
                    where=f"{where}.x-amazon-apigateway-integration",
                )
            else:
                integration = HttpProxyIntegration.from_openapi(
                    raw_integration,
                    http_api=http_api,
                    where=f"{where}.x-amazon-apigateway-integration",
                )
            missing = integration.stage_variables_used() - set(cfg.stage_variables)
            if missing:
                raise ValueError(
                    f"{where}: uses stage variable(s) {', '.join(sorted(missing))}"
                    f" that apis.{name}.stage_variables does not define"
                )
            if isinstance(integration, AwsProxyIntegration):
                arn, endpoint = bind_function(
                    integration.function,
                    cfg.stage_variables,
                    functions or {},
                    f"{where}.x-amazon-apigateway-integration",
                )
                integration = integration.bind(function_arn=arn, endpoint=endpoint)
            else:
                integration = _bind(
                    integration,
                    resource_path,
                    name=name,
                    cfg=cfg,
                    http_api=http_api,
                    vpc_links=vpc_links or {},
                    where=f"{where}.x-amazon-apigateway-integration",
                )
            security = operation.get("security", default_security) or []
            iam, authorizer = _security(security, schemes, authorizers, where)
            routes.append(Route(resource_path, method, Target(integration, iam, authorizer)))
    table = RouteTable(routes, http_api=http_api)
    _check_throttle_keys(cfg, table)
    return Api(
        name=name,
        id=cfg.id,
        region=region,
        account=cfg.account,
        http_api=http_api,
        private=cfg.endpoint_type is EndpointType.PRIVATE,
        stage=cfg.stage,
        stage_variables=dict(cfg.stage_variables),
        routes=table,
        resource_policy=_resource_policy(document, cfg, region),
        forwards_client_cert=cfg.forward_client_cert_headers,
        binary_media_types=_binary_media_types(document),
    )


def _bind(
    integration: HttpProxyIntegration,
    resource_path: str,
    *,
    name: str,
    cfg: ApiConfig,
    http_api: bool,
    vpc_links: Mapping[str, tuple[str, VpcLink]],
    where: str,
) -> HttpProxyIntegration:
    """The integration bound to its route, a private one to the local address of its VPC link:
    REST APIs the link's `address` (the NLB it targets), HTTP APIs the address of the listener
    the uri names, among the link's `listeners`; from the link's `source_address`, if any."""
    target: str | None = None
    target_scheme: str | None = None
    source_address: str | None = None
    if integration.private:
        link_id = integration.vpc_link_id(cfg.stage_variables)
        assert link_id is not None  # from_openapi: VPC_LINK has a connectionId
        shown = repr(link_id)
        if link_id != integration.connection_id:
            shown += f" (connectionId {integration.connection_id})"
        if link_id not in vpc_links:
            raise ValueError(
                f"{where}: VPC link {shown} is not mapped: add it to vpc_links"
                f" (or apis.{name}.vpc_links) with its local address"
            )
        field, link = vpc_links[link_id]
        if not http_api:
            if link.address is None:
                raise ValueError(
                    f"{where}: VPC link {shown}: {field} has listeners, as an HTTP API's VPC"
                    " link; a REST API's VPC link targets one load balancer: give it an address"
                )
            target = link.address
        else:
            arn = LISTENER_ARN.fullmatch(integration.uri)
            assert arn is not None  # from_openapi checked the uri
            if arn["account"] != cfg.account:
                # "all resources must be owned by the same AWS account (including the load
                # balancer ..., VPC link and HTTP API)" (http-api-develop-integrations-private)
                raise ValueError(
                    f"{where}: listener {integration.uri} belongs to account {arn['account']};"
                    f" the load balancer, the VPC link and the API must be in one account"
                    f" ({cfg.account})"
                )
            if not link.listeners:
                raise ValueError(
                    f"{where}: VPC link {shown}: {field} has an address, as a REST API's VPC"
                    " link; an HTTP API's VPC link reaches listeners: give it listeners"
                )
            if integration.uri not in link.listeners:
                raise ValueError(
                    f"{where}: listener {integration.uri} is not mapped:"
                    f" add it to {field}.listeners with its local address"
                )
            target = link.listeners[integration.uri]
        target_scheme = link.scheme
        source_address = link.source_address
    try:
        return integration.bind(
            route_path=resource_path,
            stage=cfg.stage,
            target=target,
            target_scheme=target_scheme,
            source_address=source_address,
        )
    except IntegrationError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _check_endpoint_type(document: Mapping[str, Any], cfg: ApiConfig) -> None:
    endpoint = document.get("x-amazon-apigateway-endpoint-configuration") or {}
    types = [str(t).upper() for t in endpoint.get("types") or []]
    if types and cfg.endpoint_type.value not in types:
        raise ValueError(
            f"x-amazon-apigateway-endpoint-configuration types {types} disagree with"
            f" endpoint_type {cfg.endpoint_type.value} of the configuration"
        )


class _Authorizers:
    """The document's Lambda authorizers, each parsed and bound to its function once."""

    def __init__(
        self,
        schemes: Mapping[str, Any],
        *,
        http_api: bool,
        stage_variables: Mapping[str, str],
        functions: Mapping[str, str],
    ) -> None:
        self._schemes = schemes
        self._http_api = http_api
        self._stage_variables = stage_variables
        self._functions = functions
        self._built: dict[str, LambdaAuthorizer] = {}

    def get(self, name: str) -> LambdaAuthorizer:
        if name not in self._built:
            where = f"components.securitySchemes.{name}"
            authorizer = LambdaAuthorizer.from_scheme(
                name, self._schemes[name], http_api=self._http_api, where=where
            )
            arn, endpoint = bind_function(
                authorizer.function,
                self._stage_variables,
                self._functions,
                f"{where}.{AUTHORIZER_KEY}",
            )
            self._built[name] = authorizer.bind(function_arn=arn, endpoint=endpoint)
        return self._built[name]


def _security(
    security: Any, schemes: Mapping[str, Any], authorizers: _Authorizers, where: str
) -> tuple[bool, LambdaAuthorizer | None]:
    """(AWS_IAM, the Lambda authorizer) of an operation's security requirement: awsSigv4, or a
    scheme with x-amazon-apigateway-authorizer (authtype custom), or none."""
    for requirement in security:
        for scheme_name in requirement or {}:
            scheme = schemes.get(scheme_name)
            if scheme is None:
                raise ValueError(f"{where}: security scheme {scheme_name!r} is not defined")
            if AUTHORIZER_KEY in scheme:
                return False, authorizers.get(scheme_name)
            if str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == SIGV4_AUTHTYPE:
                return True, None
            raise ValueError(
                f"{where}: security scheme {scheme_name!r} is not supported locally"
                f" (awsSigv4, or a Lambda authorizer with {AUTHORIZER_KEY})"
            )
    return False, None


def _binary_media_types(document: Mapping[str, Any]) -> tuple[str, ...]:
    raw = document.get(BINARY_MEDIA_TYPES_KEY) or []
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise ValueError(f"{BINARY_MEDIA_TYPES_KEY} must be a list of media types")
    # API Gateway stores "~1" for "/" in some exports; OpenAPI documents may carry either.
    return tuple(t.replace("~1", "/") for t in raw)


def _resource_policy(document: Mapping[str, Any], cfg: ApiConfig, region: str) -> Policy | None:
    raw = document.get("x-amazon-apigateway-policy")
    if raw is None:
        return None
    try:
        policy = parse_policy(raw)
    except PolicyError as exc:
        raise ValueError(f"x-amazon-apigateway-policy: {exc}") from exc
    return expand_execute_api_shorthand(policy, region=region, account=cfg.account, api_id=cfg.id)


def _check_throttle_keys(cfg: ApiConfig, table: RouteTable) -> None:
    for key in cfg.throttling.methods:
        method, _, path = key.partition(" ")
        if not any(
            route.resource_path == path
            and (method == ANY_METHOD or route.method in (method, ANY_METHOD))
            for route in table.routes
        ):
            raise ValueError(f"throttling.methods: {key!r} names no method of the API")


def load_identities(config: GatewayConfig) -> tuple[dict[str, Identity], dict[str, list[Policy]]]:
    """Identities by access key id, and each principal's identity policies."""
    identities: dict[str, Identity] = {}
    policies: dict[str, list[Policy]] = {}
    for index, entry in enumerate(config.identities):
        identities[entry.access_key_id] = Identity(
            access_key_id=entry.access_key_id,
            secret_access_key=entry.secret_access_key,
            principal_arn=entry.principal_arn,
            account=entry.account,
            session_token=entry.session_token,
            user_id=entry.user_id,
            username=entry.username,
            session_name=entry.session_name,
        )
        parsed = []
        for p_index, document in enumerate(entry.policies):
            try:
                parsed.append(parse_policy(document, resource_policy=False))
            except PolicyError as exc:
                raise ConfigError(f"identities.{index}.policies.{p_index}: {exc}") from exc
        policies.setdefault(entry.principal_arn, []).extend(parsed)
    return identities, policies

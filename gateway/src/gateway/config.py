"""The gateway's local configuration: which OpenAPI document is which API, stages, VPC endpoints,
where VPC links lead, identities. Loaded from YAML, `${VAR}` / `${VAR:-default}` substituted in
string values, validated with pydantic; every error names the file and the field."""

from __future__ import annotations

import ipaddress
import os
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.integration import LISTENER_ARN, VPC_LINK_ID
from gateway.lambda_proxy import FUNCTION_ARN

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "gateway.yaml"
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# `${stageVariables.x}` and friends belong to API Gateway, not to us: only plain names are ours.


class ConfigError(Exception):
    """The configuration cannot be used; the message says where and why."""


class EndpointType(StrEnum):
    REGIONAL = "REGIONAL"
    PRIVATE = "PRIVATE"


class ApiKind(StrEnum):
    REST = "rest"
    HTTP = "http"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimit(_Model):
    rate: float = Field(gt=0, description="steady-state requests per second")
    burst: int = Field(ge=1, description="bucket size")


class Throttling(_Model):
    rate: float | None = Field(default=None, gt=0)
    burst: int | None = Field(default=None, ge=1)
    methods: dict[str, RateLimit] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rate_and_burst_together(self) -> Throttling:
        if (self.rate is None) != (self.burst is None):
            raise ValueError("give both rate and burst, or neither")
        return self

    @field_validator("methods")
    @classmethod
    def _method_keys(cls, methods: dict[str, RateLimit]) -> dict[str, RateLimit]:
        for key in methods:
            method, _, path = key.partition(" ")
            if method not in (*HTTP_METHODS, "ANY") or not path.startswith("/"):
                raise ValueError(f"{key!r}: expected 'METHOD /resource/path', e.g. 'GET /dogs'")
        return methods

    def stage_limit(self) -> RateLimit | None:
        if self.rate is None or self.burst is None:
            return None
        return RateLimit(rate=self.rate, burst=self.burst)


# host:port of a local provider: a DNS name, an IPv4 address or a bracketed IPv6 address.
_ADDRESS = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$"
)


def _check_address(value: str) -> str:
    match = _ADDRESS.fullmatch(value)
    if match is None or not 1 <= int(match[1]) <= 65535:
        raise ValueError(f"{value!r}: expected host:port, e.g. 127.0.0.1:8081 or dog-names:8080")
    return value


# What the OpenAPI documents name for a private integration (connectionType: VPC_LINK): REST APIs
# a VPC link id in connectionId, HTTP APIs a VPC link id plus a listener ARN in the uri (see
# gateway.integration). `vpc_links` says where each leads locally.
class VpcLink(_Model):
    """Where a VPC link leads locally. A REST API's VPC link targets one Network Load Balancer:
    `address` stands for it. An HTTP API's VPC link reaches the load balancers of its VPC, and each
    integration names a listener ARN: `listeners` maps those to local addresses.

    `source_address`: where the link's connections leave from, the address its target sees. In
    AWS that is the load balancer's own address in its VPC; locally, a target that attributes its
    callers by address (the gateway itself, as another VPC's execute-api endpoint) sees the link
    inside that VPC's subnet. The unspecified address (0.0.0.0, ::) leaves it to the system, as
    without the field. `scheme`: how the gateway speaks to `address` when that differs from the
    uri's (an https uri whose local target speaks plain HTTP: nothing ends TLS in between)."""

    address: str | None = Field(default=None, description="host:port of the NLB (REST APIs)")
    listeners: dict[str, str] = Field(
        default_factory=dict, description="listener ARN -> host:port (HTTP APIs)"
    )
    source_address: str | None = Field(
        default=None, description="the local IP address the link's connections leave from"
    )
    scheme: Literal["http", "https"] | None = Field(
        default=None, description="http or https to `address` (default: the uri's scheme)"
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else _check_address(value)

    @field_validator("source_address")
    @classmethod
    def _source_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(
                f"{value!r}: expected an IP address, e.g. 127.0.5.10 (0.0.0.0: the system's choice)"
            ) from None
        return None if address.is_unspecified else str(address)

    @field_validator("listeners")
    @classmethod
    def _listeners(cls, listeners: dict[str, str]) -> dict[str, str]:
        for arn, address in listeners.items():
            if not LISTENER_ARN.fullmatch(arn):
                raise ValueError(
                    f"{arn!r} is not a load balancer listener ARN (arn:aws:elasticloadbalancing:"
                    "<region>:<account>:listener/net/<name>/<id>/<id>)"
                )
            try:
                _check_address(address)
            except ValueError as exc:
                raise ValueError(f"{arn}: {exc}") from None
        return listeners

    @model_validator(mode="after")
    def _one_kind(self) -> VpcLink:
        if (self.address is None) == (not self.listeners):
            raise ValueError(
                "give either address (a REST API VPC link: its NLB) or listeners"
                " (an HTTP API VPC link: listener ARN -> address), not both or neither"
            )
        if self.scheme is not None and self.address is None:
            raise ValueError("scheme is for a REST API's VPC link (address): HTTP APIs' are http")
        return self


def _check_vpc_link_ids(links: dict[str, VpcLink]) -> dict[str, VpcLink]:
    for link_id in links:
        if not VPC_LINK_ID.fullmatch(link_id):
            raise ValueError(f"VPC link id {link_id!r}: only letters and digits, as AWS's ids")
    return links


class ApiConfig(_Model):
    id: str = Field(pattern=r"^[a-z0-9]{10}$", description="the 10-character API id")
    openapi: Path = Field(description="OpenAPI document, relative to the config file")
    kind: ApiKind
    endpoint_type: EndpointType
    account: str = Field(pattern=r"^\d{12}$")
    stage: str = Field(pattern=r"^(\$default|[A-Za-z0-9_-]{1,128})$")
    stage_variables: dict[str, str] = Field(default_factory=dict)
    throttling: Throttling = Field(default_factory=Throttling)
    forward_client_cert_headers: bool = Field(
        default=False, description="pass the mTLS proxy's X-Client-Cert-* headers upstream"
    )
    vpc_links: dict[str, VpcLink] = Field(
        default_factory=dict, description="this API's own view of VPC links, over the top level's"
    )
    # In AWS every API has a host name of its own ({api-id}.execute-api.{region}.amazonaws.com);
    # locally a port of its own (HOST as the gateway's) can stand for it: there, a request that
    # names no API (no such Host, no x-apigw-api-id) is this API's instead of default_api's.
    port: int | None = Field(
        default=None, ge=1, le=65535, description="a port of its own the gateway also serves"
    )

    _vpc_link_ids = field_validator("vpc_links")(_check_vpc_link_ids)

    @model_validator(mode="after")
    def _kind_fits(self) -> ApiConfig:
        if self.kind is ApiKind.HTTP and self.endpoint_type is EndpointType.PRIVATE:
            raise ValueError("HTTP APIs cannot be PRIVATE (only REST APIs can)")
        if self.kind is ApiKind.REST and self.stage == "$default":
            raise ValueError("REST API stages need a name ($default is for HTTP APIs)")
        return self

    @field_validator("stage_variables")
    @classmethod
    def _stage_variable_names(cls, variables: dict[str, str]) -> dict[str, str]:
        for name in variables:
            if not re.fullmatch(r"[A-Za-z0-9_]+", name):
                raise ValueError(f"stage variable name {name!r}: only letters, digits and _")
        return variables


class VpcEndpoint(_Model):
    id: str = Field(pattern=r"^vpce-[0-9a-f]{8,17}$")
    vpc_id: str = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(min_length=1)
    # Addresses inside the subnets that are not callers in that VPC: a Docker network's gateway
    # address (x.x.x.1) is where published-port traffic from the host appears to come from.
    exclude: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = Field(default_factory=list)


ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/(?:[^/]+/)*[^/]+$")


class IdentityConfig(_Model):
    access_key_id: str = Field(pattern=r"^[A-Z0-9]{16,128}$")
    secret_access_key: str = Field(min_length=1)
    session_token: str | None = None
    principal_arn: str = Field(pattern=r"^arn:aws:(iam|sts)::\d{12}:.+$")
    account: str = Field(pattern=r"^\d{12}$")
    # The role session's name (sts:AssumeRole RoleSessionName: 2-64 of [\w+=,.@-]); the caller is
    # then arn:aws:sts::<account>:assumed-role/<role>/<session_name>. Lambda names the session
    # after the function.
    session_name: str | None = Field(default=None, pattern=r"^[\w+=,.@-]{2,64}$")
    user_id: str | None = None
    username: str | None = None
    policies: list[dict[str, Any]] = Field(default_factory=list, description="identity policies")

    @field_validator("session_name")
    @classmethod
    def _session_of_a_role(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        arn = info.data.get("principal_arn")
        if arn is not None and not ROLE_ARN.fullmatch(arn):
            raise ValueError(
                f"only a role has sessions: principal_arn {arn!r} is not a role ARN"
                " (arn:aws:iam::<account>:role/<name>)"
            )
        if "session_token" in info.data and info.data["session_token"] is None:
            raise ValueError(
                "a role session's credentials are temporary: give its session_token too"
            )
        return value

    @model_validator(mode="after")
    def _account_matches_arn(self) -> IdentityConfig:
        if self.principal_arn.split(":")[4] != self.account:
            raise ValueError("account differs from the account in principal_arn")
        return self


_ENDPOINT = re.compile(r"^https?://[^/?#\s]+/?$")


class LambdaFunction(_Model):
    """Where a function's Lambda Invoke API answers locally: `lambda_rie`'s invoke URL of its
    container (or native process). The gateway calls it with boto3's Lambda client."""

    endpoint: str = Field(description="http(s)://host:port, e.g. http://127.0.0.1:9101")

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not _ENDPOINT.fullmatch(value):
            raise ValueError(f"{value!r}: expected http(s)://host:port, e.g. http://widgets:8080")
        return value.rstrip("/")


def _check_function_arns(functions: dict[str, LambdaFunction]) -> dict[str, LambdaFunction]:
    for arn in functions:
        if not FUNCTION_ARN.fullmatch(arn):
            raise ValueError(
                f"{arn!r} is not a Lambda function ARN"
                " (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])"
            )
    return functions


class GatewayConfig(_Model):
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    default_api: str | None = None
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    # a request body that stops arriving: 408 after this long without a byte, or when the whole
    # body has taken longer than body_timeout_seconds (AWS documents neither)
    body_idle_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=60.0, gt=0)
    apis: dict[str, ApiConfig] = Field(min_length=1)
    vpc_endpoints: list[VpcEndpoint] = Field(default_factory=list)
    vpc_links: dict[str, VpcLink] = Field(default_factory=dict)
    identities: list[IdentityConfig] = Field(default_factory=list)
    lambda_functions: dict[str, LambdaFunction] = Field(
        default_factory=dict, description="function ARN -> its local Invoke API endpoint"
    )
    base_dir: Path = Path(".")

    _vpc_link_ids = field_validator("vpc_links")(_check_vpc_link_ids)
    _function_arns = field_validator("lambda_functions")(_check_function_arns)

    @model_validator(mode="after")
    def _consistent(self) -> GatewayConfig:
        if self.default_api is not None and self.default_api not in self.apis:
            raise ValueError(f"default_api {self.default_api!r} is not one of apis")
        _unique("apis.*.id", [api.id for api in self.apis.values()])
        _unique("vpc_endpoints.*.id", [e.id for e in self.vpc_endpoints])
        _unique("identities.*.access_key_id", [i.access_key_id for i in self.identities])
        _unique("apis.*.port", [str(a.port) for a in self.apis.values() if a.port is not None])
        subnets = [(e.id, net) for e in self.vpc_endpoints for net in e.subnets]
        for i, (id_a, a) in enumerate(subnets):
            for id_b, b in subnets[i + 1 :]:
                if a.version == b.version and a.overlaps(b):  # type: ignore[arg-type]
                    raise ValueError(f"subnet {a} of {id_a} overlaps subnet {b} of {id_b}")
        return self

    def openapi_path(self, name: str) -> Path:
        path = self.apis[name].openapi
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def own_ports(self) -> dict[int, str]:
        """The APIs that have a port of their own: port -> API name."""
        return {api.port: name for name, api in self.apis.items() if api.port is not None}

    def vpc_links_of(self, name: str) -> dict[str, tuple[str, VpcLink]]:
        """The VPC links API `name` sees, by id, each with the field that defines it: the API's
        own `vpc_links` over the top level's."""
        links = {
            link_id: (f"vpc_links.{link_id}", link) for link_id, link in self.vpc_links.items()
        }
        for link_id, link in self.apis[name].vpc_links.items():
            links[link_id] = (f"apis.{name}.vpc_links.{link_id}", link)
        return links


def _unique(field: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{field}: {value!r} appears twice")
        seen.add(value)


def substitute_env(value: Any, environ: os._Environ[str] | dict[str, str], where: str = "") -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree.

    Substituting after parsing keeps an environment value from changing the document's structure.
    """
    if isinstance(value, dict):
        return {
            k: substitute_env(v, environ, f"{where}.{k}" if where else str(k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [substitute_env(v, environ, f"{where}.{i}") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name)
        if found:  # like the shell's :-, an empty variable takes the default
            return found
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set and has no default")

    return _ENV_REF.sub(replace, value)


# libyaml's parser where PyYAML was built with it (the pinned wheels are): the same documents,
# about ten times faster than the pure-Python one, which took most of the gateway's start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """A YAML document as `yaml.safe_load` reads it."""
    return yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


def load_config(
    path: str | Path | None = None, environ: os._Environ[str] | dict[str, str] | None = None
) -> GatewayConfig:
    """Read the config file (`path`, else $GATEWAY_CONFIG, else config/gateway.yaml)."""
    env = os.environ if environ is None else environ
    config_path = Path(path or env.get("GATEWAY_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        raw = parse_yaml(config_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{config_path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{config_path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{config_path}: expected a mapping at the top level")
    try:
        data = substitute_env(raw, env)
        data["base_dir"] = config_path.resolve().parent
        return GatewayConfig.model_validate(data)
    except ConfigError as exc:
        raise ConfigError(f"{config_path}: {exc}") from exc
    except ValidationError as exc:
        raise ConfigError(f"{config_path}: invalid configuration:\n{format_errors(exc)}") from exc


def format_errors(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {loc}: {message}")
    return "\n".join(lines)

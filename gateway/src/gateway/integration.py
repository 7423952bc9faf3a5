"""`x-amazon-apigateway-integration` of type `http_proxy`: the upstream URL from the `uri` template,
`${stageVariables.x}`, `requestParameters` (REST APIs) or route parameters (HTTP APIs), and private
integrations (`connectionType: VPC_LINK`) as API Gateway imports them:

- REST APIs: `connectionId` is a VPC link id or `${stageVariables.x}` naming one, and the `uri` an
  http(s) URL that "is used instead to set up the integration request's Host header" (and the path)
  while the connection goes to the VPC link's load balancer
  (docs.aws.amazon.com/apigateway/latest/developerguide/set-up-api-with-vpclink-using-swagger.html).
- HTTP APIs: `connectionId` is a VPC link id and the `uri` a load balancer listener ARN
  (.../developerguide/http-api-develop-integrations-private.html). The request path goes to the
  load balancer as received, the stage portion included ("a request to the test stage of an API
  includes test/ in the request to your private integration"); `requestParameters`
  `overwrite:path` replaces it, e.g. with `$request.path`, "the request path, without the stage
  name" (.../developerguide/http-api-parameter-mapping.html). HTTP APIs take stage variables only
  in HTTP integration URIs, Lambda function ARNs and credentials
  (.../developerguide/http-api-stages.stage-variables-reference.html): not in a connectionId.

Where a VPC link leads locally is the configuration's business (`vpc_links`); `apis.py` binds
each integration to that address when the API is built."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_WHOLE_STAGE_VARIABLE = re.compile(r"^\$\{stageVariables\.([A-Za-z0-9_]+)\}$")
_PATH_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
_TARGET = re.compile(r"^integration\.request\.(path|querystring|header)\.(.+)$")
_SOURCE = re.compile(r"^method\.request\.(path|querystring|header)\.(.+)$")
_STAGE_SOURCE = re.compile(r"^stageVariables\.([A-Za-z0-9_]+)$")
# $context.authorizer.<key>: the Lambda authorizer's principalId and context (REST APIs)
_AUTHORIZER_SOURCE = re.compile(r"^context\.authorizer\.([A-Za-z0-9_]+)$")
_LITERAL = re.compile(r"^'(.*)'$")
# HTTP API parameter mapping values: `$name` or `${name}` among static text.
_MAPPING_VARIABLE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z][A-Za-z0-9_.]*)")
_MAPPING_PATH_PARAM = re.compile(r"^request\.path\.([A-Za-z0-9_.\-]+)$")
_MAPPING_STAGE_VARIABLE = re.compile(r"^stageVariables\.([A-Za-z0-9_]+)$")
OVERWRITE_PATH = "overwrite:path"

VPC_LINK_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")
LISTENER_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"listener/(?:net|app)/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}/[0-9a-f]{16}$"
)
CONNECTION_TYPES = ("INTERNET", "VPC_LINK")
HTTP_DEFAULT_ROUTE = "$default"

# Limits of timeoutInMillis: REST 50..29000 by default, HTTP APIs 50..30000.
TIMEOUT_LIMITS = {False: (50, 29000), True: (50, 30000)}


class IntegrationError(ValueError):
    """The integration cannot be used as written; the message names the field."""


@dataclass(frozen=True)
class RequestValues:
    """What requestParameters may read from the method request."""

    path: Mapping[str, str] = field(default_factory=dict)
    query: Sequence[tuple[str, str]] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case names
    authorizer: Mapping[str, str] = field(default_factory=dict)  # $context.authorizer.*


@dataclass(frozen=True)
class MappedParameters:
    path: dict[str, str]
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]


@dataclass(frozen=True)
class HttpProxyIntegration:
    uri: str
    http_method: str  # "ANY" passes the caller's method through
    timeout_ms: int
    request_parameters: Mapping[str, str] = field(default_factory=dict)  # REST APIs
    connection_type: str = "INTERNET"
    passthrough_behavior: str | None = None
    connection_id: str | None = None  # VPC_LINK: a VPC link id, or ${stageVariables.x} (REST)
    path_override: str | None = None  # HTTP APIs: requestParameters overwrite:path
    http_api: bool = False  # an HTTP API's integration (else a REST API's)
    # Set by `bind` when the API is built:
    target: str | None = None  # VPC_LINK: host:port the VPC link leads to locally
    target_scheme: str | None = None  # VPC_LINK: http/https to `target` (None: the uri's)
    source_address: str | None = None  # VPC_LINK: the local address connections leave from
    route_path: str | None = None  # the route's path template, e.g. "/todo/{todoId}"
    stage: str = "$default"  # HTTP APIs: a named stage goes upstream as the first path segment

    @property
    def private(self) -> bool:
        return self.connection_type == "VPC_LINK"

    @classmethod
    def from_openapi(
        cls, raw: Mapping[str, Any], *, http_api: bool, where: str
    ) -> HttpProxyIntegration:
        kind = str(raw.get("type", "")).lower()
        if kind != "http_proxy":
            raise IntegrationError(
                f"{where}: type {raw.get('type')!r} is not supported (only http_proxy)"
            )
        connection_type = str(raw.get("connectionType", "INTERNET")).upper()
        if connection_type not in CONNECTION_TYPES:
            raise IntegrationError(
                f"{where}: connectionType {raw.get('connectionType')!r} is not INTERNET or VPC_LINK"
            )
        private = connection_type == "VPC_LINK"
        connection_id = _connection_id(raw.get("connectionId"), private, http_api, where)
        uri = raw.get("uri")
        if http_api and private:
            if not isinstance(uri, str) or not LISTENER_ARN.fullmatch(uri):
                raise IntegrationError(
                    f"{where}: the uri of an HTTP API's private integration must be a load"
                    " balancer listener ARN (arn:aws:elasticloadbalancing:<region>:<account>:"
                    f"listener/net/<name>/<id>/<id>), not {uri!r}"
                    + (" (Cloud Map services are not supported locally)" if _cloud_map(uri) else "")
                )
        elif not isinstance(uri, str) or not uri.lower().startswith(("http://", "https://")):
            raise IntegrationError(f"{where}: uri must be an http(s) URL, not {uri!r}")
        low, high = TIMEOUT_LIMITS[http_api]
        timeout = raw.get("timeoutInMillis", high)
        if not isinstance(timeout, int) or not low <= timeout <= high:
            raise IntegrationError(f"{where}: timeoutInMillis must be an integer in {low}..{high}")
        params = raw.get("requestParameters") or {}
        if not isinstance(params, Mapping):
            raise IntegrationError(f"{where}: requestParameters must be a mapping")
        path_override = None
        if http_api:
            path_override = _http_request_parameters(params, where)
            params = {}
        for target, source in params.items():
            if not _TARGET.match(str(target)):
                raise IntegrationError(
                    f"{where}: requestParameters key {target!r} is not supported"
                )
            if not isinstance(source, str) or not (
                _SOURCE.match(source)
                or _STAGE_SOURCE.match(source)
                or _AUTHORIZER_SOURCE.match(source)
                or _LITERAL.match(source)
            ):
                raise IntegrationError(
                    f"{where}: requestParameters value {source!r} is not supported"
                )
        return cls(
            uri=uri,
            http_method=str(raw.get("httpMethod", "ANY")).upper(),
            timeout_ms=timeout,
            request_parameters=dict(params),
            connection_type=connection_type,
            passthrough_behavior=raw.get("passthroughBehavior"),
            connection_id=connection_id,
            path_override=path_override,
            http_api=http_api,
        )

    def stage_variables_used(self) -> set[str]:
        names = set(_STAGE_VARIABLE.findall(self.uri))
        for source in self.request_parameters.values():
            if match := _STAGE_SOURCE.match(source):
                names.add(match[1])
        if self.connection_id is not None:
            names.update(_STAGE_VARIABLE.findall(self.connection_id))
        if self.path_override is not None:
            for variable in _mapping_variables(self.path_override):
                if match := _MAPPING_STAGE_VARIABLE.match(variable):
                    names.add(match[1])
        return names

    def vpc_link_id(self, stage_variables: Mapping[str, str]) -> str | None:
        """The VPC link a private integration goes through, its stage variable resolved."""
        if self.connection_id is None:
            return None
        match = _WHOLE_STAGE_VARIABLE.match(self.connection_id)
        if match is None:
            return self.connection_id
        if match[1] not in stage_variables:
            raise IntegrationError(f"stage variable {match[1]!r} is not defined")
        return stage_variables[match[1]]

    def bind(
        self,
        *,
        route_path: str,
        stage: str = "$default",
        target: str | None = None,
        target_scheme: str | None = None,
        source_address: str | None = None,
    ) -> HttpProxyIntegration:
        """This integration as the route `route_path` of a stage uses it, going to `target`
        (host:port, private integrations only; with `target_scheme` instead of the uri's, from
        `source_address`). IntegrationError if the route cannot use it."""
        if self.private and target is None:
            raise IntegrationError("connectionType VPC_LINK: no local address for the VPC link")
        if not self.private and (target, target_scheme, source_address) != (None, None, None):
            raise IntegrationError(
                "connectionType INTERNET: connects to the uri's host, not a link"
            )
        # An HTTP API's private integration sends the request path unless overwrite:path says
        # otherwise; a REST API's sends the uri's path.
        needs_request_path = self.http_api and self.private and self.path_override is None
        for variable in _mapping_variables(self.path_override or ""):
            if variable == "request.path":
                needs_request_path = True
            elif match := _MAPPING_PATH_PARAM.match(variable):
                if match[1] not in _template_params(route_path):
                    raise IntegrationError(
                        f"requestParameters {OVERWRITE_PATH}: ${variable} names no parameter"
                        f" of the route {route_path}"
                    )
        if needs_request_path and route_path == HTTP_DEFAULT_ROUTE:
            raise IntegrationError(
                "the $default route's request path is not available to its integration locally:"
                f" give requestParameters {OVERWRITE_PATH} without $request.path"
            )
        return dataclasses.replace(
            self,
            route_path=route_path,
            stage=stage,
            target=target,
            target_scheme=target_scheme,
            source_address=source_address,
        )

    def upstream_method(self, request_method: str) -> str:
        return request_method.upper() if self.http_method == "ANY" else self.http_method


def _connection_id(value: Any, private: bool, http_api: bool, where: str) -> str | None:
    if not private:
        if value is not None:
            raise IntegrationError(f"{where}: connectionId is for connectionType VPC_LINK only")
        return None
    if not isinstance(value, str) or not value:
        raise IntegrationError(
            f"{where}: connectionType VPC_LINK needs a connectionId (the VPC link's id)"
        )
    if http_api and _STAGE_VARIABLE.search(value):
        raise IntegrationError(
            f"{where}: connectionId {value!r}: HTTP APIs take stage variables in integration URIs,"
            " Lambda function ARNs and credentials only; name the VPC link's id"
        )
    if not (VPC_LINK_ID.fullmatch(value) or (not http_api and _WHOLE_STAGE_VARIABLE.match(value))):
        raise IntegrationError(
            f"{where}: connectionId {value!r} is not a VPC link id"
            + ("" if http_api else " or ${stageVariables.name}")
        )
    return value


def _cloud_map(uri: Any) -> bool:
    return isinstance(uri, str) and uri.startswith("arn:") and ":servicediscovery:" in uri


def _http_request_parameters(params: Mapping[Any, Any], where: str) -> str | None:
    """An HTTP API's parameter mapping: only `overwrite:path` is supported locally."""
    for key, value in params.items():
        if key != OVERWRITE_PATH:
            raise IntegrationError(
                f"{where}: requestParameters key {key!r} is not supported locally"
                f" (HTTP APIs: only {OVERWRITE_PATH})"
            )
        if not isinstance(value, str) or not value:
            raise IntegrationError(f"{where}: requestParameters {OVERWRITE_PATH} must be a string")
        for variable in _mapping_variables(value):
            if not (
                variable == "request.path"
                or _MAPPING_PATH_PARAM.match(variable)
                or _MAPPING_STAGE_VARIABLE.match(variable)
            ):
                raise IntegrationError(
                    f"{where}: requestParameters {OVERWRITE_PATH}: ${variable} is not supported"
                    " locally ($request.path, $request.path.<name>, $stageVariables.<name>)"
                )
        first = _MAPPING_VARIABLE.match(value)
        starts_with_path_param = first is not None and bool(
            _MAPPING_PATH_PARAM.match(first[1] if first[1] is not None else first[2])
        )
        if (first is None and not value.startswith("/")) or starts_with_path_param:
            raise IntegrationError(
                f"{where}: requestParameters {OVERWRITE_PATH} {value!r} must begin with '/'"
                " (or $request.path): the value is the path as sent"
            )
    value = params.get(OVERWRITE_PATH)
    return value if isinstance(value, str) else None


def _mapping_variables(value: str) -> list[str]:
    return [m[1] if m[1] is not None else m[2] for m in _MAPPING_VARIABLE.finditer(value)]


def _template_params(route_path: str) -> set[str]:
    """The parameters of a route's path template (`{proxy+}` is `proxy`)."""
    return {
        segment[1:-1].removesuffix("+")
        for segment in route_path.split("/")
        if segment.startswith("{") and segment.endswith("}")
    }


def map_request_parameters(
    parameters: Mapping[str, str], values: RequestValues, stage_variables: Mapping[str, str]
) -> MappedParameters:
    """Evaluate REST requestParameters. A source the request lacks maps to nothing."""
    path: dict[str, str] = {}
    query: list[tuple[str, str]] = []
    headers: list[tuple[str, str]] = []
    for target, source in parameters.items():
        target_match = _TARGET.match(target)
        if target_match is None:
            continue
        value = _source_value(source, values, stage_variables)
        if value is None:
            continue
        kind, name = target_match[1], target_match[2]
        if kind == "path":
            path[name] = value
        elif kind == "querystring":
            query.append((name, value))
        else:
            headers.append((name, value))
    return MappedParameters(path, query, headers)


def _source_value(
    source: str, values: RequestValues, stage_variables: Mapping[str, str]
) -> str | None:
    if literal := _LITERAL.match(source):
        return literal[1]
    if stage := _STAGE_SOURCE.match(source):
        return stage_variables.get(stage[1])
    if authorizer := _AUTHORIZER_SOURCE.match(source):
        return values.authorizer.get(authorizer[1])
    match = _SOURCE.match(source)
    if match is None:
        return None
    kind, name = match[1], match[2]
    if kind == "path":
        return values.path.get(name)
    if kind == "header":
        return values.headers.get(name.lower())
    return next((v for k, v in values.query if k == name), None)


def render_uri(
    uri: str, *, stage_variables: Mapping[str, str], path_params: Mapping[str, str]
) -> str:
    """Substitute `${stageVariables.x}` and then `{name}` placeholders (values are inserted as
    received, still percent-encoded). An unresolved placeholder is an API configuration error."""

    def stage_value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in stage_variables:
            raise IntegrationError(f"stage variable {name!r} is not defined")
        return stage_variables[name]

    def path_value(match: re.Match[str]) -> str:
        name = match[1]
        if name not in path_params:
            raise IntegrationError(f"path parameter {name!r} of the uri is not mapped")
        return path_params[name]

    if "{" not in uri:  # no placeholder of either kind
        return uri
    with_stage = _STAGE_VARIABLE.sub(stage_value, uri)
    return _PATH_PLACEHOLDER.sub(path_value, with_stage)


def upstream_url(
    integration: HttpProxyIntegration,
    *,
    http_api: bool,
    stage_variables: Mapping[str, str],
    values: RequestValues,
    raw_query: str,
) -> tuple[str, list[tuple[str, str]]]:
    """The URL to call and the extra headers requestParameters (or a VPC link) add.

    REST APIs fill `{x}` only from `integration.request.path.x`; HTTP APIs from the route's own
    parameters (`{proxy+}` is referenced as `{proxy}`). The caller's query string is passed on.
    A private integration connects to its VPC link's local address: a REST API with the uri's path
    and the uri's host as Host (added when it differs from that address), in the link's scheme
    when it names one, an HTTP API with the request path (or `overwrite:path`).
    """
    extra_query: list[tuple[str, str]] = []
    extra_headers: list[tuple[str, str]] = []
    if http_api:
        if integration.private:
            url = f"http://{_target(integration)}{_http_path(integration, values, stage_variables)}"
        else:
            url = render_uri(
                integration.uri, stage_variables=stage_variables, path_params=values.path
            )
            if integration.path_override is not None:
                url = _with_path(url, _http_path(integration, values, stage_variables))
    else:
        mapped = map_request_parameters(integration.request_parameters, values, stage_variables)
        extra_query, extra_headers = mapped.query, mapped.headers
        url = render_uri(integration.uri, stage_variables=stage_variables, path_params=mapped.path)
        if integration.private:
            target = _target(integration)
            url, host = _through(url, target, integration.target_scheme)
            if host != target:
                extra_headers = [*extra_headers, ("Host", host)]
    query_parts = [raw_query] if raw_query else []
    query_parts += [f"{_quote(k)}={_quote(v)}" for k, v in extra_query]
    if query_parts:
        url += ("&" if "?" in url else "?") + "&".join(query_parts)
    return url, extra_headers


def _target(integration: HttpProxyIntegration) -> str:
    if integration.target is None:
        raise IntegrationError("the VPC link of this private integration leads nowhere locally")
    return integration.target


def request_path(route_path: str, path_params: Mapping[str, str]) -> str:
    """The path below the stage of a request that matched `route_path` with `path_params`: the
    path the gateway routed (dot segments resolved, empty segments dropped), still encoded."""
    parts = []
    for segment in route_path.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            parts.append(path_params.get(segment[1:-1].removesuffix("+"), ""))
        elif segment:
            parts.append(segment)
    return "/" + "/".join(parts)


def _http_path(
    integration: HttpProxyIntegration, values: RequestValues, stage_variables: Mapping[str, str]
) -> str:
    """An HTTP API's path upstream: the request path with its stage, or `overwrite:path`."""
    if integration.route_path is None or integration.route_path == HTTP_DEFAULT_ROUTE:
        below_stage = None
    else:
        below_stage = request_path(integration.route_path, values.path)
    if integration.path_override is None:
        if below_stage is None:
            raise IntegrationError("the request path is not known to this integration")
        return (
            below_stage if integration.stage == "$default" else f"/{integration.stage}{below_stage}"
        )

    def value(match: re.Match[str]) -> str:
        variable = match[1] if match[1] is not None else match[2]
        if variable == "request.path":
            if below_stage is None:
                raise IntegrationError("the request path is not known to this integration")
            return below_stage
        if param := _MAPPING_PATH_PARAM.match(variable):
            return values.path.get(param[1], "")
        if stage := _MAPPING_STAGE_VARIABLE.match(variable):
            if stage[1] not in stage_variables:
                raise IntegrationError(f"stage variable {stage[1]!r} is not defined")
            return stage_variables[stage[1]]
        raise IntegrationError(f"{OVERWRITE_PATH}: ${variable} is not supported")

    path = _MAPPING_VARIABLE.sub(value, integration.path_override)
    if not path.startswith("/"):
        raise IntegrationError(f"{OVERWRITE_PATH} gives {path!r}, which does not begin with '/'")
    return path


@functools.lru_cache(maxsize=1024)
def _split(url: str) -> tuple[str, str, str]:
    """scheme, authority, and the rest (path and query) of an absolute URL, as written.
    Remembered for the most recent URLs: a route's integration sends most requests to one."""
    scheme, _, remainder = url.partition("://")
    cut = len(remainder)
    for char in "/?#":  # the authority ends at the first of these
        found = remainder.find(char, 0, cut)
        if found != -1:
            cut = found
    rest = remainder[cut:]
    return scheme, remainder[:cut], rest if rest.startswith("/") else "/" + rest


def _through(url: str, target: str, target_scheme: str | None = None) -> tuple[str, str]:
    """`url` sent to `target` (in `target_scheme`, else its own) instead of its own host; and
    that host (the Host header)."""
    scheme, host, rest = _split(url)
    return f"{target_scheme or scheme}://{target}{rest}", host


def _with_path(url: str, path: str) -> str:
    scheme, host, rest = _split(url)
    _, question, query = rest.partition("?")
    return f"{scheme}://{host}{path}{question}{query}"


def _quote(component: str) -> str:
    # Values from the request may hold bytes that were not UTF-8 (kept by surrogateescape).
    return quote(component, safe="", errors="surrogateescape")

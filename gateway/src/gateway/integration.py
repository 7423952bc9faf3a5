"""`x-amazon-apigateway-integration` of type `http_proxy`: the upstream URL from the `uri` template,
`${stageVariables.x}`, `requestParameters` (REST APIs) or route parameters (HTTP APIs)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
_PATH_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.\-]+)\}")
_TARGET = re.compile(r"^integration\.request\.(path|querystring|header)\.(.+)$")
_SOURCE = re.compile(r"^method\.request\.(path|querystring|header)\.(.+)$")
_STAGE_SOURCE = re.compile(r"^stageVariables\.([A-Za-z0-9_]+)$")
_LITERAL = re.compile(r"^'(.*)'$")

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
    request_parameters: Mapping[str, str] = field(default_factory=dict)
    connection_type: str = "INTERNET"
    passthrough_behavior: str | None = None

    @classmethod
    def from_openapi(
        cls, raw: Mapping[str, Any], *, http_api: bool, where: str
    ) -> HttpProxyIntegration:
        kind = str(raw.get("type", "")).lower()
        if kind != "http_proxy":
            raise IntegrationError(
                f"{where}: type {raw.get('type')!r} is not supported (only http_proxy)"
            )
        uri = raw.get("uri")
        if not isinstance(uri, str) or not uri.lower().startswith(("http://", "https://")):
            raise IntegrationError(f"{where}: uri must be an http(s) URL, not {uri!r}")
        low, high = TIMEOUT_LIMITS[http_api]
        timeout = raw.get("timeoutInMillis", high)
        if not isinstance(timeout, int) or not low <= timeout <= high:
            raise IntegrationError(f"{where}: timeoutInMillis must be an integer in {low}..{high}")
        params = raw.get("requestParameters") or {}
        if not isinstance(params, Mapping):
            raise IntegrationError(f"{where}: requestParameters must be a mapping")
        if http_api and params:
            raise IntegrationError(
                f"{where}: requestParameters of HTTP APIs are not supported locally;"
                " reference route parameters in the uri instead"
            )
        for target, source in params.items():
            if not _TARGET.match(str(target)):
                raise IntegrationError(
                    f"{where}: requestParameters key {target!r} is not supported"
                )
            if not isinstance(source, str) or not (
                _SOURCE.match(source) or _STAGE_SOURCE.match(source) or _LITERAL.match(source)
            ):
                raise IntegrationError(
                    f"{where}: requestParameters value {source!r} is not supported"
                )
        return cls(
            uri=uri,
            http_method=str(raw.get("httpMethod", "ANY")).upper(),
            timeout_ms=timeout,
            request_parameters=dict(params),
            connection_type=str(raw.get("connectionType", "INTERNET")).upper(),
            passthrough_behavior=raw.get("passthroughBehavior"),
        )

    def stage_variables_used(self) -> set[str]:
        names = set(_STAGE_VARIABLE.findall(self.uri))
        for source in self.request_parameters.values():
            if match := _STAGE_SOURCE.match(source):
                names.add(match[1])
        return names

    def upstream_method(self, request_method: str) -> str:
        return request_method.upper() if self.http_method == "ANY" else self.http_method


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
    """The URL to call and the extra headers requestParameters add.

    REST APIs fill `{x}` only from `integration.request.path.x`; HTTP APIs from the route's own
    parameters (`{proxy+}` is referenced as `{proxy}`). The caller's query string is passed on.
    """
    if http_api:
        path_params: Mapping[str, str] = values.path
        extra_query: list[tuple[str, str]] = []
        extra_headers: list[tuple[str, str]] = []
    else:
        mapped = map_request_parameters(integration.request_parameters, values, stage_variables)
        path_params, extra_query, extra_headers = mapped.path, mapped.query, mapped.headers
    url = render_uri(integration.uri, stage_variables=stage_variables, path_params=path_params)
    query_parts = [raw_query] if raw_query else []
    query_parts += [f"{_quote(k)}={_quote(v)}" for k, v in extra_query]
    if query_parts:
        url += ("&" if "?" in url else "?") + "&".join(query_parts)
    return url, extra_headers


def _quote(component: str) -> str:
    # Values from the request may hold bytes that were not UTF-8 (kept by surrogateescape).
    return quote(component, safe="", errors="surrogateescape")

"""Request routing as API Gateway does it: which API (host name, `x-apigw-api-id`, default), which
stage (first path segment of REST APIs), which resource and method (`{param}`, greedy `{proxy+}`,
`ANY`). Plain values in, plain values out."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

ANY_METHOD = "ANY"
HTTP_DEFAULT_ROUTE = "$default"

_EXECUTE_API_HOST = re.compile(
    r"^(?P<api_id>[a-z0-9]{10})(?:-(?P<vpce>vpce-[0-9a-z]+))?"
    r"\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com\.?(?::\d+)?$",
    re.IGNORECASE,
)


class SelectionOutcome(Enum):
    SELECTED = "selected"
    UNKNOWN_API = "unknown_api"  # names an API (host or header) that does not exist here
    NO_API = "no_api"  # names no API and there is no default


@dataclass(frozen=True)
class ApiSelection:
    outcome: SelectionOutcome
    api_id: str | None = None
    via: str | None = None  # "host", "header", "default"


def select_api(
    *,
    host: str | None,
    api_id_header: str | None,
    region: str,
    known_api_ids: Collection[str],
    default_api_id: str | None,
) -> ApiSelection:
    """Pick the API a request is for.

    `{api-id}.execute-api.{region}.amazonaws.com` and `{api-id}-{vpce-id}.execute-api...` name the
    API (the vpce part of the name is ignored: attribution comes from the source address). Otherwise
    the `x-apigw-api-id` header (how private APIs are called through an endpoint's own DNS name)
    names it. Otherwise the default API answers.
    """
    match = _EXECUTE_API_HOST.match(host.strip()) if host else None
    if match:
        api_id = match["api_id"].lower()
        if match["region"].lower() != region or api_id not in known_api_ids:
            return ApiSelection(SelectionOutcome.UNKNOWN_API, api_id, "host")
        return ApiSelection(SelectionOutcome.SELECTED, api_id, "host")
    if api_id_header:
        api_id = api_id_header.strip().lower()
        if api_id not in known_api_ids:
            return ApiSelection(SelectionOutcome.UNKNOWN_API, api_id, "header")
        return ApiSelection(SelectionOutcome.SELECTED, api_id, "header")
    if default_api_id is None:
        return ApiSelection(SelectionOutcome.NO_API)
    return ApiSelection(SelectionOutcome.SELECTED, default_api_id, "default")


_DOT_SEGMENTS = {".": ".", "%2e": ".", "..": "..", ".%2e": "..", "%2e.": "..", "%2e%2e": ".."}


def remove_dot_segments(raw_path: str) -> str:
    """`raw_path` with its `.` and `..` segments resolved (RFC 3986 section 5.2.4), also when
    spelled `%2E`. The gateway routes, authorizes and forwards this one path: left in, a `..`
    would be resolved by the HTTP client or the backend after the resource policy had judged
    the path (`/public/../admin`). Other percent-escapes and empty segments are kept as sent.
    """
    if "." not in raw_path and "%2" not in raw_path:  # no segment can be a dot segment
        return raw_path
    segments = raw_path.split("/")
    if not any(seg.lower() in _DOT_SEGMENTS for seg in segments):
        return raw_path
    output: list[str] = []
    for i, segment in enumerate(segments):
        dots = _DOT_SEGMENTS.get(segment.lower())
        last = i == len(segments) - 1
        if dots == "..":
            if len(output) > 1:
                output.pop()
        elif dots is None:
            output.append(segment)
        if dots is not None and last:
            output.append("")  # "/a/b/.." names the directory "/a/"
    return "/".join(output) or "/"


def split_stage(raw_path: str, stage: str, *, stage_in_path: bool) -> str | None:
    """The path below the stage, or None when the first segment is not the stage.

    REST APIs (and HTTP APIs with a named stage) carry the stage as the first path segment;
    an HTTP API's `$default` stage is served from the root.
    """
    path = raw_path or "/"
    if not stage_in_path:
        return path
    first, sep, rest = path.lstrip("/").partition("/")
    if first != stage:
        return None
    return "/" + rest if sep else "/"


# --- resources and methods ------------------------------------------------------------------

_STATIC, _PARAM, _GREEDY = 2, 1, 0


@dataclass(frozen=True)
class _Segment:
    kind: int
    text: str  # literal text, or the parameter name


def _parse_template(resource_path: str) -> tuple[_Segment, ...]:
    segments = []
    parts = [p for p in resource_path.split("/") if p]
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name.endswith("+"):
                if i != len(parts) - 1:
                    raise ValueError(
                        f"{resource_path}: a greedy {{{name}}} must be the last segment"
                    )
                segments.append(_Segment(_GREEDY, name[:-1]))
            else:
                segments.append(_Segment(_PARAM, name))
        elif "{" in part or "}" in part:
            raise ValueError(f"{resource_path}: a path parameter must be a whole segment")
        else:
            segments.append(_Segment(_STATIC, part))
    return tuple(segments)


@dataclass(frozen=True)
class Route:
    resource_path: str  # as in the OpenAPI document, e.g. "/todo/{todoId}"
    method: str  # "GET", ..., or "ANY"
    data: Any = None  # what the caller attaches (integration, auth)
    segments: tuple[_Segment, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_params: dict[str, str]  # raw (still percent-encoded) values


def _match_segments(
    segments: tuple[_Segment, ...], parts: list[str]
) -> tuple[tuple[int, ...], dict[str, str]] | None:
    params: dict[str, str] = {}
    rank: list[int] = []
    for i, segment in enumerate(segments):
        if segment.kind == _GREEDY:
            if i >= len(parts):
                return None  # {proxy+} needs at least one segment
            params[segment.text] = "/".join(parts[i:])
            rank.append(_GREEDY)
            return tuple(rank), params
        if i >= len(parts):
            return None
        if segment.kind == _STATIC:
            if parts[i] != segment.text:
                return None
        else:
            params[segment.text] = parts[i]
        rank.append(segment.kind)
    if len(parts) != len(segments):
        return None
    return tuple(rank), params


class RouteTable:
    """The routes of one API. A request is resolved on the resource+method pair: only routes with
    its method (or ANY) are considered, the most specific path among them wins (static >
    `{param}` > `{proxy+}`, segment by segment), then a method beats ANY; an HTTP API then falls
    back to `$default`.

    REST APIs resolve the same way, measured on API Gateway: with `/{proxy+}` ANY beside
    `/jobs/{operation_type}` GET, `POST /jobs/reboot` is served by `/{proxy+}`, and an
    OPTIONS-only resource sends GET to `/{proxy+}` (ministackorg/ministack#1423); a method
    mismatch falls back to a parameterised sibling too (floci-io/floci#3399)."""

    def __init__(self, routes: Iterable[Route], *, http_api: bool) -> None:
        self._http_api = http_api
        self._routes: list[Route] = []
        self._default: dict[str, Route] = {}
        # the routes without parameters by method and segments: such a route, when it names the
        # whole path, has the highest rank a path of that length can have
        self._static: dict[tuple[str, tuple[str, ...]], Route] = {}
        for route in routes:
            method = route.method.upper()
            if route.resource_path == HTTP_DEFAULT_ROUTE:
                self._default[method] = Route(route.resource_path, method, route.data)
                continue
            segments = _parse_template(route.resource_path)
            parsed = Route(route.resource_path, method, route.data, segments)
            self._routes.append(parsed)
            if all(segment.kind == _STATIC for segment in segments):
                key = (method, tuple(segment.text for segment in segments))
                self._static.setdefault(key, parsed)  # the first one, as the scan below keeps

    @property
    def routes(self) -> list[Route]:
        return list(self._routes) + list(self._default.values())

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        method = method.upper()
        parts = [p for p in raw_path.split("/") if p]
        whole = tuple(parts)
        static = self._static.get((method, whole)) or self._static.get((ANY_METHOD, whole))
        if static is not None:  # what the scan would choose: nothing ranks higher
            return RouteMatch(static, {})
        best: tuple[tuple[int, ...], int, Route, dict[str, str]] | None = None
        for route in self._routes:
            if route.method not in (method, ANY_METHOD):
                continue
            found = _match_segments(route.segments, parts)
            if found is None:
                continue
            rank, params = found
            candidate = (rank, 1 if route.method == method else 0, route, params)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is not None:
            return RouteMatch(best[2], best[3])
        fallback = self._default.get(method) or self._default.get(ANY_METHOD)
        if self._http_api and fallback is not None:
            return RouteMatch(fallback, {})
        return None

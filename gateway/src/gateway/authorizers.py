"""Lambda authorizers of REST APIs, as API Gateway imports them from a security scheme with
`x-amazon-apigateway-authorizer` (API Gateway Developer Guide, "x-amazon-apigateway-authorizer
object", "Use API Gateway Lambda authorizers"), and the cache of their results.

- `token`: the token is the value of one header, the scheme's `name` (`in: header`), or the one
  `identitySource` (`method.request.header.X`). Missing or empty: 401 without calling the function;
  so is a token that `identityValidationExpression` does not match (the whole token).
- `request`: `identitySource` lists several comma-separated sources (`method.request.header.X`,
  `method.request.querystring.X`, `stageVariables.X`, `context.X`); every one must be present and
  non-empty, or 401 without calling the function. Required when results are cached.
- `authorizerResultTtlInSeconds` (default 300, at most 3600; 0 turns caching off): a result is
  reused for that long, keyed by the identity sources' values ("These parameters will be used to
  derive the authorization caching key", AWS::ApiGateway::Authorizer IdentitySource). The cached
  policy is judged again for every method it is used for.

`authorizerCredentials` (the role API Gateway invokes with) has no local meaning and is ignored.
HTTP APIs' Lambda authorizers (payload formats 1.0/2.0, simple responses) are not supported.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.lambda_proxy import function_arn_of

AUTHORIZER_KEY = "x-amazon-apigateway-authorizer"
DEFAULT_TTL_S = 300
MAX_TTL_S = 3600
AUTHORIZER_TIMEOUT_S = 30.0  # API Gateway waits this long for an authorizer (not configurable)
_SOURCE = re.compile(
    r"^(?:method\.request\.(?P<kind>header|querystring)\.(?P<name>[^\s,]+)"
    r"|(?P<other>stageVariables|context)\.(?P<other_name>[A-Za-z0-9_.]+))$"
)


@dataclass(frozen=True)
class IdentityFacts:
    """What identity sources read from a request."""

    headers: Sequence[tuple[str, str]]  # names lower-cased
    query: Sequence[tuple[str, str]]
    stage_variables: Mapping[str, str]
    context: Mapping[str, str]  # $context variables, e.g. "requestId", "identity.sourceIp"


@dataclass(frozen=True)
class IdentitySource:
    expression: str
    kind: str  # header | querystring | stageVariables | context
    name: str

    @classmethod
    def parse(cls, expression: str, where: str) -> IdentitySource:
        match = _SOURCE.fullmatch(expression.strip())
        if match is None:
            raise ValueError(
                f"{where}: identity source {expression!r} is not method.request.header.<name>,"
                " method.request.querystring.<name>, stageVariables.<name> or context.<name>"
            )
        if match["kind"]:
            return cls(expression.strip(), match["kind"], match["name"])
        return cls(expression.strip(), match["other"], match["other_name"])

    def value(self, facts: IdentityFacts) -> str | None:
        if self.kind == "header":
            name = self.name.lower()
            values = [v for n, v in facts.headers if n == name]
            return ",".join(values) if values else None
        if self.kind == "querystring":
            values = [v for n, v in facts.query if n == self.name]
            return values[-1] if values else None
        if self.kind == "stageVariables":
            return facts.stage_variables.get(self.name)
        return facts.context.get(self.name)


@dataclass(frozen=True)
class LambdaAuthorizer:
    name: str  # the security scheme's name
    kind: str  # "token" or "request"
    function: str  # the function ARN as written (stage variables unresolved)
    identity_sources: tuple[IdentitySource, ...]
    validation: re.Pattern[str] | None  # token only
    ttl_s: int
    # Set by `bind` when the API is built:
    function_arn: str | None = None
    endpoint: str | None = None

    @classmethod
    def from_scheme(
        cls, name: str, scheme: Mapping[str, Any], *, http_api: bool, where: str
    ) -> LambdaAuthorizer:
        raw = scheme.get(AUTHORIZER_KEY)
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: {AUTHORIZER_KEY} must be an object")
        kind = str(raw.get("type", "")).lower()
        if http_api:
            raise ValueError(
                f"{where}: Lambda authorizers of HTTP APIs are not supported locally"
                " (REST APIs' token and request authorizers are)"
            )
        if kind not in ("token", "request"):
            raise ValueError(
                f"{where}: authorizer type {raw.get('type')!r} is not supported locally"
                " (token or request)"
            )
        uri = raw.get("authorizerUri")
        function = function_arn_of(uri) if isinstance(uri, str) else None
        if function is None:
            raise ValueError(
                f"{where}: authorizerUri {uri!r} is not a Lambda invocation URI (arn:aws:"
                "apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)"
            )
        ttl = raw.get("authorizerResultTtlInSeconds", DEFAULT_TTL_S)
        try:
            ttl_s = int(ttl)
        except (TypeError, ValueError):
            ttl_s = -1
        if isinstance(ttl, bool) or not 0 <= ttl_s <= MAX_TTL_S:
            raise ValueError(f"{where}: authorizerResultTtlInSeconds must be 0..{MAX_TTL_S}")
        sources = _identity_sources(kind, scheme, raw.get("identitySource"), where)
        if kind == "request" and ttl_s > 0 and not sources:
            raise ValueError(
                f"{where}: a request authorizer whose results are cached needs identitySource"
            )
        validation = raw.get("identityValidationExpression")
        if validation is not None and kind != "token":
            raise ValueError(f"{where}: identityValidationExpression is for token authorizers")
        try:
            pattern = re.compile(str(validation)) if validation is not None else None
        except re.error as exc:
            raise ValueError(f"{where}: identityValidationExpression: {exc}") from exc
        return cls(name, kind, function, sources, pattern, ttl_s)

    def bind(self, *, function_arn: str, endpoint: str) -> LambdaAuthorizer:
        return dataclasses.replace(self, function_arn=function_arn, endpoint=endpoint)

    def identity(self, facts: IdentityFacts) -> tuple[str, ...] | None:
        """The identity sources' values, or None when one is missing or empty (401)."""
        values = tuple(source.value(facts) for source in self.identity_sources)
        if any(not value for value in values):
            return None
        return tuple(value for value in values if value)

    def accepts_token(self, token: str) -> bool:
        return self.validation is None or self.validation.fullmatch(token) is not None


def _identity_sources(
    kind: str, scheme: Mapping[str, Any], raw: Any, where: str
) -> tuple[IdentitySource, ...]:
    if raw is not None and not isinstance(raw, str):
        raise ValueError(f"{where}: identitySource must be a comma-separated string")
    sources = tuple(
        IdentitySource.parse(part, where) for part in (raw or "").split(",") if part.strip()
    )
    if kind == "request":
        return sources
    if not sources:
        if scheme.get("in") != "header" or not isinstance(scheme.get("name"), str):
            raise ValueError(
                f"{where}: a token authorizer reads its token from a header: give the scheme"
                " `in: header` and `name`, or identitySource method.request.header.<name>"
            )
        header = scheme["name"]
        return (IdentitySource(f"method.request.header.{header}", "header", header),)
    if len(sources) != 1 or sources[0].kind != "header":
        raise ValueError(f"{where}: a token authorizer's identitySource is one header")
    return sources


class AuthorizerCache:
    """Results by key until their time is up; the oldest go first past `max_entries`."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...], now: float) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if now >= expires:
            del self._entries[key]
            return None
        return value

    def put(self, key: tuple[Any, ...], value: Any, now: float, ttl_s: float) -> None:
        self._entries[key] = (now + ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

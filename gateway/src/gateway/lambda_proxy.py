"""`x-amazon-apigateway-integration` of type `aws_proxy`: a Lambda proxy integration, as API
Gateway imports it (API Gateway Developer Guide, "x-amazon-apigateway-integration object" and
"Set up Lambda proxy integrations"):

- `uri`: `arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function ARN}/invocations`;
  the function ARN may name a stage variable (`...:function:${stageVariables.fn}`).
- `httpMethod`: POST, "according to the specification of the Lambda service action for function
  invocations" (the Invoke API).
- `payloadFormatVersion`: REST APIs send 1.0 only; HTTP APIs must say 1.0 or 2.0.
- `timeoutInMillis`: as for http_proxy (REST 50..29000, HTTP APIs 50..30000).

Which local endpoint serves a function ARN is the configuration's business (`lambda_functions`);
`apis.py` binds each integration to it when the API is built.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.integration import TIMEOUT_LIMITS, IntegrationError

FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]{1,64})(?::(?P<qualifier>[A-Za-z0-9$_-]{1,128}))?$"
)
INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:(?P<region>[a-z0-9-]+):lambda:path/2015-03-31/functions/"
    r"(?P<function>.+)/invocations$"
)
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.([A-Za-z0-9_]+)\}")
PAYLOAD_FORMATS = {False: ("1.0",), True: ("1.0", "2.0")}


def function_arn_of(uri: str) -> str | None:
    """The function ARN an invocation URI (integration or authorizerUri) names, as written."""
    match = INVOCATION_URI.fullmatch(uri)
    return match["function"] if match else None


def resolve_function(function: str, stage_variables: Mapping[str, str], where: str) -> str:
    """The function ARN with its stage variables substituted; IntegrationError when one is not
    defined or the result is not a function ARN."""

    def value(match: re.Match[str]) -> str:
        if match[1] not in stage_variables:
            raise IntegrationError(f"{where}: stage variable {match[1]!r} is not defined")
        return stage_variables[match[1]]

    arn = _STAGE_VARIABLE.sub(value, function)
    if FUNCTION_ARN.fullmatch(arn) is None:
        raise IntegrationError(
            f"{where}: {arn!r} is not a Lambda function ARN"
            " (arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>])"
        )
    return arn


def bind_function(
    function: str, stage_variables: Mapping[str, str], endpoints: Mapping[str, str], where: str
) -> tuple[str, str]:
    """The function ARN (stage variables resolved) and its local endpoint; IntegrationError when
    the configuration's `lambda_functions` does not map it (the gateway does not start)."""
    arn = resolve_function(function, stage_variables, where)
    if arn not in endpoints:
        raise IntegrationError(
            f"{where}: Lambda function {arn} is not mapped: add it to lambda_functions"
            " with its local endpoint"
        )
    return arn, endpoints[arn]


@dataclass(frozen=True)
class AwsProxyIntegration:
    function: str  # the function ARN as the document writes it (stage variables unresolved)
    timeout_ms: int
    payload_format: str  # "1.0" or "2.0"
    http_api: bool
    # Set by `bind` when the API is built:
    function_arn: str | None = None  # stage variables resolved
    endpoint: str | None = None  # where that function's Invoke API answers locally

    @classmethod
    def from_openapi(
        cls, raw: Mapping[str, Any], *, http_api: bool, where: str
    ) -> AwsProxyIntegration:
        uri = raw.get("uri")
        function = function_arn_of(uri) if isinstance(uri, str) else None
        if function is None:
            raise IntegrationError(
                f"{where}: uri {uri!r} is not a Lambda invocation URI (arn:aws:apigateway:"
                "<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations)"
            )
        method = str(raw.get("httpMethod", "POST")).upper()
        if method != "POST":
            raise IntegrationError(
                f"{where}: httpMethod {raw.get('httpMethod')!r}: a Lambda integration calls the"
                " Invoke API, which takes POST"
            )
        raw_format = raw.get("payloadFormatVersion")
        if raw_format is None and http_api:
            raise IntegrationError(
                f"{where}: an HTTP API's Lambda integration needs payloadFormatVersion (1.0 or 2.0)"
            )
        payload_format = "1.0" if raw_format is None else str(raw_format)
        if payload_format not in PAYLOAD_FORMATS[http_api]:
            allowed = " or ".join(PAYLOAD_FORMATS[http_api])
            raise IntegrationError(
                f"{where}: payloadFormatVersion {raw_format!r}: "
                f"{'HTTP' if http_api else 'REST'} APIs take {allowed}"
            )
        low, high = TIMEOUT_LIMITS[http_api]
        timeout = raw.get("timeoutInMillis", high)
        if not isinstance(timeout, int) or isinstance(timeout, bool) or not low <= timeout <= high:
            raise IntegrationError(f"{where}: timeoutInMillis must be {low}..{high}")
        return cls(
            function=function, timeout_ms=timeout, payload_format=payload_format, http_api=http_api
        )

    def stage_variables_used(self) -> set[str]:
        return set(_STAGE_VARIABLE.findall(self.function))

    def bind(self, *, function_arn: str, endpoint: str) -> AwsProxyIntegration:
        return dataclasses.replace(self, function_arn=function_arn, endpoint=endpoint)

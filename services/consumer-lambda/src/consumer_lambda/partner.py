"""One signed call to the partner API, mapped to `(status, body)`; never raises for I/O errors.
`send` is the call itself, which the widgets function (widgets.py) makes too.

The body is the API's JSON answer decoded (an object, a list, ...), its text when it is not JSON,
or None when it is empty. Network failures become API Gateway-like answers:
502 when the API cannot be reached or breaks the connection, 504 when it does not answer in time.
"""

import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from consumer_lambda.settings import Settings
from consumer_lambda.signing import Clock, make_auth, utc_now

API_ID_HEADER = "x-apigw-api-id"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class PartnerRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any
    duration_ms: float
    api_request_id: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost exception behind a requests/urllib3 error (e.g. ConnectionRefusedError)."""
    seen: set[int] = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        nested = getattr(current, "reason", None)
        if not isinstance(nested, BaseException):
            nested = current.args[0] if current.args else None
        if not isinstance(nested, BaseException):
            nested = current.__cause__ or current.__context__
        if nested is None:
            break
        current = nested
    return current


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _encode_body(body: Any, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, str):
        return body.encode("utf-8")
    if not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    api: str,
    headers: dict[str, str],
    timeout: float,
    **kwargs: Any,
) -> ApiResponse:
    """One call to a private API (`api` names it in the messages), its answer decoded; a network
    failure becomes 502, no answer in time 504. `kwargs` go to `session.request`."""
    started = time.perf_counter()

    def elapsed_ms() -> float:
        return round((time.perf_counter() - started) * 1000, 3)

    try:
        response = session.request(
            method, url, headers=headers, timeout=timeout, allow_redirects=False, **kwargs
        )
    except requests.Timeout:
        message = f"The {api} did not answer within {timeout:g} s ({method} {url})"
        return ApiResponse(504, {"message": message}, elapsed_ms(), error=message)
    except requests.RequestException as exc:
        message = f"Could not reach the {api} ({method} {url}): {_root_cause(exc)}"
        return ApiResponse(502, {"message": message}, elapsed_ms(), error=message)

    return ApiResponse(
        status=response.status_code,
        body=_decode(response),
        duration_ms=elapsed_ms(),
        api_request_id=response.headers.get("x-amzn-RequestId"),
    )


def call_partner(
    session: requests.Session,
    settings: Settings,
    request: PartnerRequest,
    *,
    timeout_s: float | None = None,
    clock: Clock = utc_now,
) -> ApiResponse:
    headers = {"Accept": "application/json", **request.headers}
    if settings.api_id:
        headers[API_ID_HEADER] = settings.api_id
    data = _encode_body(request.body, headers)
    return send(
        session,
        request.method,
        settings.api_url + request.path,
        api="partner API",
        headers=headers,
        timeout=settings.timeout_s if timeout_s is None else timeout_s,
        params=request.query or None,
        data=data,
        auth=make_auth(settings, clock),
    )

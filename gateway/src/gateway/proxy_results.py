"""What a Lambda proxy integration's result becomes: the response API Gateway sends, from plain
values (the function's payload), or MalformedResult when API Gateway would refuse it.

Payload format 1.0 (REST APIs, and HTTP APIs that ask for it): a JSON object with at most
`statusCode`, `headers`, `multiValueHeaders`, `body` and `isBase64Encoded` (any other key, a
`headers` value that is not a string, a `statusCode` that is not a number: "Malformed Lambda proxy
response"); `multiValueHeaders` win over `headers` of the same name; no Content-Type means
`application/json`. REST APIs decode a base64 body only when the API's binary media types cover
the response (its Content-Type or the request's Accept), else the text goes out as it is; HTTP APIs
always decode it.

Payload format 2.0 (HTTP APIs): an object with `statusCode` gives its `headers` (no
`multiValueHeaders`), `cookies` (each a Set-Cookie header), `body` and `isBase64Encoded`; any other
JSON value is the body of a 200 with `content-type:
application/json` (a string as its text, anything else as JSON), as the Developer Guide's
"Lambda function response for format 2.0" table shows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RESULT_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
DEFAULT_CONTENT_TYPE = "application/json"


class MalformedResult(ValueError):
    """Not a proxy integration's result: API Gateway answers 502 (REST) or 500 (HTTP APIs)."""


@dataclass(frozen=True)
class ProxyResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def media_type_matches(pattern: str, media_type: str) -> bool:
    """`image/png` against a binary media type such as `image/*` or `*/*`."""
    want = pattern.strip().lower().split(";", 1)[0]
    have = media_type.strip().lower().split(";", 1)[0]
    if want == "*/*":
        return True
    kind, _, sub = want.partition("/")
    have_kind, _, have_sub = have.partition("/")
    return kind == have_kind and sub in ("*", have_sub)


def is_binary(media_type: str | None, binary_media_types: Sequence[str]) -> bool:
    return media_type is not None and any(
        media_type_matches(pattern, media_type) for pattern in binary_media_types
    )


def _load(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedResult(f"the function's result is not JSON: {exc}") from exc


def _header_value(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise MalformedResult(f"header {name!r}: {value!r} is not a string")


def _status(value: Any) -> int:
    if value is None:
        return 200
    if isinstance(value, bool):
        raise MalformedResult(f"statusCode {value!r} is not a number")
    try:
        status = int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedResult(f"statusCode {value!r} is not a number") from exc
    if not 100 <= status <= 599:
        raise MalformedResult(f"statusCode {status} is not an HTTP status")
    return status


def _headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResult("headers and multiValueHeaders must be objects")
    merged: dict[str, list[str]] = {}
    lower_names: dict[str, str] = {}
    for source, values_of in ((single, lambda v: [v]), (multi, lambda v: v)):
        for name, raw in source.items():
            values = values_of(raw)
            if not isinstance(values, list):
                raise MalformedResult(f"multiValueHeaders {name!r} is not a list")
            # a name in multiValueHeaders replaces the same name (any case) from headers
            previous = lower_names.pop(name.lower(), None)
            if previous is not None:
                merged.pop(previous, None)
            lower_names[name.lower()] = name
            merged[name] = [_header_value(name, value) for value in values]
    return [(name, value) for name, values in merged.items() for value in values]


def _body(result: dict[str, Any], *, decode: bool) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResult(f"body must be a string, not {type(body).__name__}")
    flag = result.get("isBase64Encoded", False)
    if not isinstance(flag, bool):
        raise MalformedResult(f"isBase64Encoded {flag!r} is not a boolean")
    if flag and decode:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResult(f"body is not base64: {exc}") from exc
    return body.encode("utf-8")


def _content_type(headers: Sequence[tuple[str, str]]) -> str | None:
    return next((v for n, v in headers if n.lower() == "content-type"), None)


def _with_default_type(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    if _content_type(headers) is None:
        return [("Content-Type", DEFAULT_CONTENT_TYPE), *headers]
    return headers


def _object_v1(payload: bytes) -> dict[str, Any]:
    result = _load(payload)
    if not isinstance(result, dict):
        raise MalformedResult("the function's result is not a JSON object")
    unknown = set(result) - RESULT_KEYS
    if unknown:
        raise MalformedResult(f"the result has keys a proxy response has not: {sorted(unknown)}")
    return result


def rest_response(
    payload: bytes, *, binary_media_types: Sequence[str] = (), accept: str | None = None
) -> ProxyResponse:
    """A REST API's response for the function's result (payload format 1.0)."""
    result = _object_v1(payload)
    headers = _with_default_type(_headers(result))
    accepted = (accept or "").split(",", 1)[0] or None
    decode = is_binary(_content_type(headers), binary_media_types) or is_binary(
        accepted, binary_media_types
    )
    return ProxyResponse(_status(result.get("statusCode")), headers, _body(result, decode=decode))


def http_response(payload: bytes, payload_format: str) -> ProxyResponse:
    """An HTTP API's response for the function's result, in payload format 1.0 or 2.0."""
    if payload_format == "1.0":
        result = _object_v1(payload)
        headers = _with_default_type(_headers(result))
        return ProxyResponse(_status(result.get("statusCode")), headers, _body(result, decode=True))
    value = _load(payload)
    if not isinstance(value, dict) or "statusCode" not in value:
        # API Gateway infers the format: the value is the body of a 200 JSON response
        body = value.encode("utf-8") if isinstance(value, str) else payload.strip()
        return ProxyResponse(200, [("content-type", DEFAULT_CONTENT_TYPE)], body)
    result = value  # 2.0 reads statusCode, headers, cookies, body, isBase64Encoded
    headers = _headers({"headers": result.get("headers")})
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResult("cookies must be a list of strings")
    headers += [("set-cookie", cookie) for cookie in cookies]
    return ProxyResponse(_status(result["statusCode"]), headers, _body(result, decode=True))

"""Which headers cross the gateway, in each direction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

# RFC 9110 section 7.6.1 plus the de-facto ones; never forwarded by a proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# The client identity the mTLS proxy verified (docs/architecture.md). Only the mtls API's
# backends receive them; anyone else sending them is forging them.
CLIENT_CERT_PREFIX = "x-client-cert-"
# Set by the gateway itself; a caller's values are replaced.
GATEWAY_REQUEST_HEADERS = frozenset({"x-request-id", "x-amzn-requestid", "x-forwarded-for"})
# Ids the gateway adds to responses; an upstream's own values would be confusing.
GATEWAY_RESPONSE_HEADERS = frozenset({"x-amzn-requestid", "x-amz-apigw-id", "apigw-requestid"})


def wire_text(raw: bytes) -> str:
    """Bytes from the wire (path, query, header) as text: UTF-8, and any byte that is not valid
    UTF-8 kept as a lone surrogate, so `wire_bytes` gives back exactly what was received. A
    client signs the UTF-8 of its path and query; latin-1 would change what SigV4 hashes."""
    return raw.decode("utf-8", "surrogateescape")


def wire_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _connection_tokens(headers: Sequence[tuple[str, str]]) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


def upstream_request_headers(
    headers: Sequence[tuple[str, str]],
    *,
    request_id: str,
    peer_ip: str | None,
    forward_client_cert: bool,
    keep_content_length: bool,
    extra: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """The caller's headers as the integration receives them."""
    drop = HOP_BY_HOP | _connection_tokens(headers) | GATEWAY_REQUEST_HEADERS | {"host", "expect"}
    if not keep_content_length:
        drop = drop | {"content-length"}
    forwarded_for = [v.strip() for n, v in headers if n.lower() == "x-forwarded-for" and v.strip()]
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            continue
        if lower.startswith(CLIENT_CERT_PREFIX) and not forward_client_cert:
            continue
        out.append((name, value))
    if peer_ip:
        forwarded_for.append(peer_ip)
    if forwarded_for:
        out.append(("X-Forwarded-For", ", ".join(forwarded_for)))
    out.append(("X-Request-Id", request_id))
    out.append(("x-amzn-RequestId", request_id))
    out.extend(extra)
    return out


# The gateway answers with its own Date; like API Gateway it keeps the integration's values of
# these under x-amzn-Remapped-<name>.
REMAPPED_RESPONSE_HEADERS = {"date": "x-amzn-Remapped-Date", "server": "x-amzn-Remapped-Server"}


def client_response_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The integration's response headers as the caller receives them."""
    drop = HOP_BY_HOP | _connection_tokens(headers) | GATEWAY_RESPONSE_HEADERS
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            continue
        out.append((REMAPPED_RESPONSE_HEADERS.get(lower, name), value))
    return out

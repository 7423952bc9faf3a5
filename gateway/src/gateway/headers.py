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
# The client identity the mTLS proxy verified (docs/architecture.md): exactly these names, set by
# the proxy. Only the mtls API's backends receive them; any other header with the prefix (in any
# spelling) is a caller's forgery and never passes.
CLIENT_CERT_PREFIX = "x-client-cert-"
CLIENT_CERT_HEADERS = frozenset(
    CLIENT_CERT_PREFIX + part for part in ("subject", "issuer", "serial", "fingerprint", "verify")
)
# Set by the gateway itself; a caller's values are replaced (the trace header is kept as the
# trace id, so it comes back unchanged).
GATEWAY_REQUEST_HEADERS = frozenset(
    {"x-request-id", "x-amzn-requestid", "x-forwarded-for", "x-amzn-trace-id"}
)
# Ids the gateway adds to responses; an upstream's own values would be confusing.
GATEWAY_RESPONSE_HEADERS = frozenset(
    {"x-amzn-requestid", "x-amz-apigw-id", "apigw-requestid", "x-amzn-trace-id"}
)
# The body goes on in one piece, with its own length.
BODY_FRAMING = frozenset({"content-length", "transfer-encoding"})
# Never passed to the integration, whatever the request's Connection header adds.
_NOT_FORWARDED = HOP_BY_HOP | GATEWAY_REQUEST_HEADERS | BODY_FRAMING | {"host", "expect"}
_NOT_RELAYED = HOP_BY_HOP | GATEWAY_RESPONSE_HEADERS


def wire_text(raw: bytes) -> str:
    """Bytes from the wire (path, query, header) as text: UTF-8, and any byte that is not valid
    UTF-8 kept as a lone surrogate, so `wire_bytes` gives back exactly what was received. A
    client signs the UTF-8 of its path and query; latin-1 would change what SigV4 hashes."""
    return raw.decode("utf-8", "surrogateescape")


def wire_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _dropped(headers: Sequence[tuple[str, str]], always: frozenset[str]) -> frozenset[str]:
    """`always`, and the names the Connection headers of `headers` list."""
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == "connection":
            tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return always | tokens if tokens else always


def _is_client_cert_header(lower_name: str) -> bool:
    return lower_name.replace("_", "-").startswith(CLIENT_CERT_PREFIX)


def upstream_request_headers(
    headers: Sequence[tuple[str, str]],
    *,
    request_id: str,
    trace_id: str,
    peer_ip: str | None,
    forward_client_cert: bool,
    body_length: int,
    extra: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """The caller's headers as the integration receives them."""
    drop = _dropped(headers, _NOT_FORWARDED)
    forwarded_for = [v.strip() for n, v in headers if n.lower() == "x-forwarded-for" and v.strip()]
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            continue
        if (
            lower[:1] == "x"  # what _is_client_cert_header asks, for the few that could match
            and _is_client_cert_header(lower)
            and not (forward_client_cert and lower in CLIENT_CERT_HEADERS)
        ):
            continue
        out.append((name, value))
    if peer_ip:
        forwarded_for.append(peer_ip)
    if forwarded_for:
        out.append(("X-Forwarded-For", ", ".join(forwarded_for)))
    out.append(("X-Request-Id", request_id))
    out.append(("x-amzn-RequestId", request_id))
    out.append(("X-Amzn-Trace-Id", trace_id))
    # A request without a body goes on without one (RFC 9112 section 6.3), not as an empty one.
    if body_length or any(n.lower() in BODY_FRAMING for n, _ in headers):
        out.append(("Content-Length", str(body_length)))
    out.extend(extra)
    return out


# The gateway answers with its own Date; like API Gateway it keeps the integration's values of
# these under x-amzn-Remapped-<name>.
REMAPPED_RESPONSE_HEADERS = {"date": "x-amzn-Remapped-Date", "server": "x-amzn-Remapped-Server"}


def client_response_headers(headers: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The integration's response headers as the caller receives them."""
    drop = _dropped(headers, _NOT_RELAYED)
    out = []
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            continue
        out.append((REMAPPED_RESPONSE_HEADERS.get(lower, name), value))
    return out

from __future__ import annotations

import pytest
from gateway.headers import client_response_headers, upstream_request_headers

CALLER = [
    ("host", "mtlsapi001.execute-api.us-east-1.amazonaws.com"),
    ("connection", "keep-alive, x-private-hop"),
    ("x-private-hop", "1"),
    ("keep-alive", "timeout=5"),
    ("te", "trailers"),
    ("transfer-encoding", "chunked"),
    ("proxy-authorization", "Basic eA=="),
    ("content-length", "5"),
    ("x-forwarded-for", "203.0.113.7"),
    ("x-request-id", "forged"),
    ("x-amzn-requestid", "forged"),
    ("x-client-cert-subject", "CN=client"),
    ("x-client-cert-verify", "SUCCESS"),
    ("x-client-cert-role", "admin"),
    ("x_client_cert_role", "admin"),
    ("X-Client_Cert-Subject", "forged"),
    ("x-amzn-trace-id", "Root=1-forged"),
    ("authorization", "AWS4-HMAC-SHA256 ..."),
    ("user-agent", "curl/8"),
]


@pytest.mark.parametrize("forward_client_cert", [True, False])
def test_upstream_request_headers(forward_client_cert: bool) -> None:
    headers = upstream_request_headers(
        CALLER,
        request_id="rid-1",
        trace_id="Root=1-00000001-abc",
        peer_ip="127.0.1.10",
        forward_client_cert=forward_client_cert,
        body_length=5,
        extra=[("X-Stage", "prod")],
    )
    # Only the five names the mTLS proxy sets pass, and only for the mtls API; any other header
    # with the prefix, in any spelling, is a forgery.
    cert = [("x-client-cert-subject", "CN=client"), ("x-client-cert-verify", "SUCCESS")]
    assert headers == [
        *(cert if forward_client_cert else []),
        ("authorization", "AWS4-HMAC-SHA256 ..."),
        ("user-agent", "curl/8"),
        ("X-Forwarded-For", "203.0.113.7, 127.0.1.10"),
        ("X-Request-Id", "rid-1"),
        ("x-amzn-RequestId", "rid-1"),
        ("X-Amzn-Trace-Id", "Root=1-00000001-abc"),
        ("Content-Length", "5"),
        ("X-Stage", "prod"),
    ]


@pytest.mark.parametrize(
    "caller, body_length, expected",
    [
        ([("transfer-encoding", "chunked")], 3, [("Content-Length", "3")]),
        ([("content-length", "0")], 0, [("Content-Length", "0")]),
        ([], 0, []),  # no body: none is invented (RFC 9112 section 6.3)
    ],
    ids=["chunked-becomes-length", "empty-body-kept", "no-body"],
)
def test_the_body_goes_on_with_its_own_length(
    caller: list[tuple[str, str]], body_length: int, expected: list[tuple[str, str]]
) -> None:
    headers = upstream_request_headers(
        caller,
        request_id="r",
        trace_id="t",
        peer_ip=None,
        forward_client_cert=False,
        body_length=body_length,
    )
    assert headers == [
        ("X-Request-Id", "r"),
        ("x-amzn-RequestId", "r"),
        ("X-Amzn-Trace-Id", "t"),
        *expected,
    ]


def test_client_response_headers() -> None:
    upstream = [
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("connection", "close"),
        ("transfer-encoding", "chunked"),
        ("date", "Sat, 21 Nov 2026 19:00:00 GMT"),
        ("server", "gunicorn"),
        ("x-amzn-requestid", "from-upstream"),
        ("x-amzn-trace-id", "from-upstream"),
        ("x-request-id", "rid-1"),
    ]
    assert client_response_headers(upstream) == [
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("x-amzn-Remapped-Date", "Sat, 21 Nov 2026 19:00:00 GMT"),
        ("x-amzn-Remapped-Server", "gunicorn"),
        ("x-request-id", "rid-1"),
    ]

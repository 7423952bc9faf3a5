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
    ("authorization", "AWS4-HMAC-SHA256 ..."),
    ("user-agent", "curl/8"),
]


@pytest.mark.parametrize("forward_client_cert", [True, False])
def test_upstream_request_headers(forward_client_cert: bool) -> None:
    headers = upstream_request_headers(
        CALLER,
        request_id="rid-1",
        peer_ip="127.0.1.10",
        forward_client_cert=forward_client_cert,
        keep_content_length=True,
        extra=[("X-Stage", "prod")],
    )
    cert = [("x-client-cert-subject", "CN=client"), ("x-client-cert-verify", "SUCCESS")]
    assert headers == [
        ("content-length", "5"),
        *(cert if forward_client_cert else []),
        ("authorization", "AWS4-HMAC-SHA256 ..."),
        ("user-agent", "curl/8"),
        ("X-Forwarded-For", "203.0.113.7, 127.0.1.10"),
        ("X-Request-Id", "rid-1"),
        ("x-amzn-RequestId", "rid-1"),
        ("X-Stage", "prod"),
    ]


def test_buffered_bodies_drop_the_callers_content_length() -> None:
    headers = upstream_request_headers(
        [("Content-Length", "3")],
        request_id="r",
        peer_ip=None,
        forward_client_cert=False,
        keep_content_length=False,
    )
    assert headers == [("X-Request-Id", "r"), ("x-amzn-RequestId", "r")]


def test_client_response_headers() -> None:
    upstream = [
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("connection", "close"),
        ("transfer-encoding", "chunked"),
        ("date", "Sat, 21 Nov 2026 19:00:00 GMT"),
        ("server", "gunicorn"),
        ("x-amzn-requestid", "from-upstream"),
        ("x-request-id", "rid-1"),
    ]
    assert client_response_headers(upstream) == [
        ("content-type", "application/json"),
        ("content-length", "12"),
        ("x-amzn-Remapped-Date", "Sat, 21 Nov 2026 19:00:00 GMT"),
        ("x-amzn-Remapped-Server", "gunicorn"),
        ("x-request-id", "rid-1"),
    ]

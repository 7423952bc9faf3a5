"""Stage 7, integrate: what the provider receives, what the caller gets back, and API Gateway's
answers when the provider cannot be called."""

from __future__ import annotations

import re

import httpx
import pytest

from .conftest import (
    MTLS_CALLER,
    OUTSIDE,
    PROXY_VPC,
    Gateway,
    build_gateway,
    seen_upstream,
    shipped_config,
)

TRACE = re.compile(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}")


def test_a_trace_id_is_made_forwarded_logged_and_returned(gateway: Gateway) -> None:
    """X-Ray Developer Guide, "Tracing header": `Root=1-<epoch hex>-<24 hex>`."""
    response = gateway.call("GET", "/dogs")
    trace = response.headers["x-amzn-trace-id"]
    assert TRACE.fullmatch(trace)
    assert seen_upstream(response)["headers"]["x-amzn-trace-id"] == trace
    assert gateway.last_log()["xrayTraceId"] == trace


def test_the_callers_trace_id_is_kept(gateway: Gateway) -> None:
    trace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"
    response = gateway.call("GET", "/dogs", headers={"X-Amzn-Trace-Id": trace})
    assert response.headers["x-amzn-trace-id"] == trace
    assert seen_upstream(response)["headers"]["x-amzn-trace-id"] == trace


def test_errors_carry_the_ids_and_trace_too(gateway: Gateway) -> None:
    response = gateway.call("GET", "/cats")
    assert TRACE.fullmatch(response.headers["x-amzn-trace-id"])
    assert "apigw-requestid" in response.headers


VERIFIED = {
    "X-Client-Cert-Subject": "CN=client",
    "X-Client-Cert-Issuer": "CN=ca",
    "X-Client-Cert-Serial": "01",
    "X-Client-Cert-Fingerprint": "ab",
    "X-Client-Cert-Verify": "SUCCESS",
}
FORGED = {"X-Client-Cert-Role": "admin", "x_client_cert_role": "admin"}


def test_only_the_proxys_client_identity_reaches_the_mtls_backend(gateway: Gateway) -> None:
    headers = {**MTLS_CALLER, **VERIFIED, **FORGED}
    seen = seen_upstream(gateway.call("GET", "/prod/dogs", headers=headers, client=PROXY_VPC))
    cert = {k: v for k, v in seen["headers"].items() if "client" in k and "cert" in k}
    assert cert == {k.lower(): v for k, v in VERIFIED.items()}


def test_no_client_identity_reaches_other_apis(gateway: Gateway) -> None:
    seen = seen_upstream(gateway.call("GET", "/dogs", headers={**VERIFIED, **FORGED}))
    assert not [k for k in seen["headers"] if "client" in k and "cert" in k]


def test_forwarding_headers(gateway: Gateway) -> None:
    response = gateway.call(
        "GET",
        "/dogs?x=1&y=two",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "mine", "X-Keep": "yes"},
    )
    seen = seen_upstream(response)
    assert seen["path"] == "/dogs?x=1&y=two"
    assert seen["headers"]["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert seen["headers"]["x-request-id"] == gateway.last_log()["requestId"]
    assert seen["headers"]["x-keep"] == "yes"
    # the provider's Date and Server come back remapped (the gateway sends its own)
    assert response.headers["x-amzn-remapped-server"] == "echo"
    assert response.headers["x-amzn-remapped-date"] == "Tue, 01 Dec 2026 12:00:00 GMT"


def _failing(exc: Exception) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    "exc, rest, http",
    [
        (
            httpx.ConnectError("refused"),
            (502, b'{"message": "Internal server error"}'),
            (500, b'{"message":"Internal Server Error"}'),
        ),
        (
            httpx.ReadTimeout("slow"),
            (504, b'{"message": "Endpoint request timed out"}'),
            (503, b'{"message":"Service Unavailable"}'),
        ),
    ],
    ids=["refused", "timeout"],
)
def test_integration_failures_by_api_type(
    token_authorizer: str, exc: Exception, rest: tuple[int, bytes], http: tuple[int, bytes]
) -> None:
    gateway = build_gateway(shipped_config(token_authorizer), _failing(exc))
    response = gateway.call("GET", "/prod/dogs", headers=MTLS_CALLER, client=PROXY_VPC)
    assert (response.status_code, response.content) == rest
    response = gateway.call("GET", "/dogs", client=OUTSIDE)
    assert (response.status_code, response.content) == http
    assert gateway.last_log()["status"] == http[0]
    assert isinstance(gateway.last_log()["integrationLatency"], int)


def test_rest_request_parameters_map_path_and_stage_variable(test_gateway: Gateway) -> None:
    """echo-rest's `/items/{id}`: `integration.request.path.id` from `method.request.path.id`
    (the value as received, still encoded) and a header from `stageVariables.stageLabel`."""
    response = test_gateway.call(
        "GET", "/test/items/abc%20def", headers={"x-apigw-api-id": "echorest01"}
    )
    seen = seen_upstream(response)
    assert seen["path"] == "/things/abc%20def"
    assert seen["headers"]["x-stage"] == "the-test-stage"

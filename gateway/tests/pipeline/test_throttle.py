"""Stage 4, throttle: per-method, per-stage and account token buckets (gateway/README.md)."""

from __future__ import annotations

from .conftest import Gateway


def test_the_shipped_configuration_does_not_throttle_ordinary_use(gateway: Gateway) -> None:
    """No throttling configured: only the account default applies (10,000 requests/s, burst
    5,000; API Gateway Developer Guide, "Throttle requests to your REST APIs for better
    throughput"), so 600 quick sequential calls all pass."""
    statuses = {gateway.call("GET", "/dogs").status_code for _ in range(600)}
    assert statuses == {200}


def test_a_method_limit_throttles_with_api_gateways_answer(test_gateway: Gateway) -> None:
    headers = {"x-apigw-api-id": "echorest01"}
    statuses = [test_gateway.call("GET", "/test/throttled", headers=headers).status_code
                for _ in range(3)]  # fmt: skip
    assert statuses == [200, 200, 200]  # the burst of "GET /throttled"
    response = test_gateway.call("GET", "/test/throttled", headers=headers)
    assert response.status_code == 429
    assert response.content == b'{"message":"Too Many Requests"}'
    assert response.headers["x-amzn-errortype"] == "TooManyRequestsException"
    # other methods of the stage have their own (here: the account's) bucket
    assert test_gateway.call("GET", "/test/anything", headers=headers).status_code == 200


def test_a_miss_takes_no_token(test_gateway: Gateway) -> None:
    headers = {"x-apigw-api-id": "echorest01"}
    for _ in range(5):
        test_gateway.call("GET", "/nosuchstage/throttled", headers=headers)
    assert test_gateway.call("GET", "/test/throttled", headers=headers).status_code == 200

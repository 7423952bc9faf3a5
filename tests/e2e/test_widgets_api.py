"""The cross-account patterns post's first architecture, as the README calls it: the front door (a
regional API of 444444444444 on its published port) -> its VPC link -> the front-door VPC's
execute-api endpoint -> the private widgets API of 111111111111 (a Lambda behind the shared-secret
TOKEN authorizer), whose resource policy admits only that endpoint. The token is the file the
stack made, ./secrets/authorizer-token.

API Gateway's answers asserted here ("Gateway response types" in the Developer Guide; the
gateway's README, "Request pipeline and the answers"): UNAUTHORIZED 401 {"message":"Unauthorized"}
for a missing, malformed or refused token; a private API reached from outside every VPC 403
{"message":"Forbidden"}; a resource policy's explicit deny 403 with the caller and the method
ARN; a REST integration that fails 502 {"message": "Internal server error"} (SPEC 4)."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .stack import (
    CONSUMER_VPCE_URL,
    FRONTDOOR_API,
    FRONTDOOR_VPC_SUBNET,
    FRONTDOOR_VPCE,
    PUBLIC_API,
    STACK_TIMEOUT_S,
    TOKEN_SECRET,
    WIDGET,
    WIDGETS_API_ID,
    GatewayLog,
    compose,
    start_service,
    started_at,
    token,
    wait_until,
)

pytestmark = pytest.mark.e2e

WIDGETS_HOST = f"{WIDGETS_API_ID}.execute-api.us-east-1.amazonaws.com"
UNAUTHORIZED = (401, b'{"message":"Unauthorized"}')
FORBIDDEN = (403, b'{"message":"Forbidden"}')
POLICY_DENY = {
    "Message": "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
    f"arn:aws:execute-api:us-east-1:********1111:{WIDGETS_API_ID}/prod/GET/widgets"
    " with an explicit deny"
}
REST_API_FAILURE = (502, {"message": "Internal server error"})
FAILURE_DEADLINE_S = 1.0
RECOVERY_DEADLINE_S = 30.0


@pytest.fixture(scope="module")
def frontdoor(public_api: httpx.Client) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=FRONTDOOR_API, timeout=10) as client:
        wait_until(
            lambda: client.get("/prod/", headers={"Authorization": token()}).status_code == 200,
            f"the front door to answer on {FRONTDOOR_API}",
            timeout=STACK_TIMEOUT_S,
        )
        yield client


def answer(response: httpx.Response) -> tuple[int, bytes]:
    return response.status_code, response.content


def test_the_secret_is_private_and_not_in_git() -> None:
    assert oct(TOKEN_SECRET.stat().st_mode & 0o777) == "0o600"
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(TOKEN_SECRET)], cwd=TOKEN_SECRET.parents[1], check=False
    )
    assert ignored.returncode == 0


# --- through the front door --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/prod/", "/prod/widgets"], ids=["root", "proxy"])
def test_with_the_token_the_widget_through_the_front_doors_endpoint(
    frontdoor: httpx.Client, gateway_log: GatewayLog, path: str
) -> None:
    agent = gateway_log.agent()
    response = frontdoor.get(path, headers={"Authorization": token(), "User-Agent": agent})

    assert (response.status_code, response.json()) == (200, WIDGET), response.text
    assert response.headers["x-amzn-RequestId"]
    by_api = {entry["apiId"]: entry for entry in gateway_log.seen(agent)}
    assert set(by_api) == {"frontdoor1", WIDGETS_API_ID}
    # the front door: reached from the host, no VPC
    assert (by_api["frontdoor1"]["vpceId"], by_api["frontdoor1"]["status"]) == (None, 200)
    # the producer: reached through the front-door VPC's endpoint, from inside that VPC
    producer = by_api[WIDGETS_API_ID]
    assert (producer["vpceId"], producer["path"], producer["status"]) == (
        FRONTDOOR_VPCE,
        "/prod/widgets",
        200,
    )
    assert ipaddress.ip_address(producer["sourceIp"]) in FRONTDOOR_VPC_SUBNET
    assert producer["policyDecision"] == "Allow"


def test_without_the_token_unauthorized(frontdoor: httpx.Client) -> None:
    assert answer(frontdoor.get("/prod/")) == UNAUTHORIZED


@pytest.mark.parametrize(
    "wrong",
    ["A" * 43, "Bearer not-the-secret"],  # well-formed (the function says no); malformed
    ids=["refused-by-the-authorizer", "malformed"],
)
def test_a_wrong_token_unauthorized(frontdoor: httpx.Client, wrong: str) -> None:
    assert answer(frontdoor.get("/prod/", headers={"Authorization": wrong})) == UNAUTHORIZED


# --- the private API, not through the front door -----------------------------------------------


@pytest.mark.parametrize(
    "base_url, selects",
    [
        (PUBLIC_API, {"x-apigw-api-id": WIDGETS_API_ID}),
        (PUBLIC_API, {"Host": WIDGETS_HOST}),
        (FRONTDOOR_API, {"Host": WIDGETS_HOST}),  # the front door's port is no way in either
    ],
    ids=["api-id-header", "host", "front-door-port"],
)
def test_from_the_host_the_private_api_is_forbidden(base_url: str, selects: dict[str, str]) -> None:
    headers = {**selects, "Authorization": token()}
    response = httpx.get(f"{base_url}/prod/widgets", headers=headers, timeout=10)
    assert answer(response) == FORBIDDEN


# Runs inside a throwaway container on consumer-vpc (the consumer Lambda's image and network):
# the widgets API through the consumer VPC's own endpoint, with the right token.
PROBE = r"""
import json, os, socket, sys, urllib.error, urllib.request

vpce = sys.argv[1]
out = {"api": [], "resolve": {}}
for selects in ({"x-apigw-api-id": "widgetsap1"},
                {"Host": "widgetsap1.execute-api.us-east-1.amazonaws.com"}):
    headers = {**selects, "Authorization": os.environ["WIDGETS_TOKEN"]}
    request = urllib.request.Request(vpce + "/prod/widgets", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            out["api"].append([response.status, json.loads(response.read())])
    except urllib.error.HTTPError as exc:
        out["api"].append([exc.code, json.loads(exc.read())])
try:
    out["resolve"]["vpce-frontdoor"] = socket.gethostbyname("vpce-frontdoor")
except OSError as exc:
    out["resolve"]["vpce-frontdoor"] = "error: " + type(exc).__name__
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def from_the_consumer_vpc() -> dict[str, Any]:
    result = compose(
        "run", "--rm", "--no-TTY", "--no-deps", "--entrypoint", "python3",
        "-e", "WIDGETS_TOKEN", "consumer-lambda", "-c", PROBE, CONSUMER_VPCE_URL,
        timeout=120, env={"WIDGETS_TOKEN": token()},
    )  # fmt: skip
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_from_the_consumer_vpc_the_resource_policy_denies_even_the_right_token(
    from_the_consumer_vpc: dict[str, Any],
) -> None:
    """Its own endpoint is not the front door's: the explicit deny is answered before the
    authorizer is called."""
    assert from_the_consumer_vpc["api"] == [[403, POLICY_DENY], [403, POLICY_DENY]]


def test_the_front_door_vpcs_endpoint_is_not_in_the_consumer_vpc(
    from_the_consumer_vpc: dict[str, Any],
) -> None:
    assert from_the_consumer_vpc["resolve"]["vpce-frontdoor"] == "error: gaierror"


# --- the widgets function stopped --------------------------------------------------------------


@pytest.fixture
def widgets_function_stopped() -> Iterator[None]:
    compose("stop", "widgets-lambda")
    try:
        yield
    finally:
        start_service("widgets-lambda")


def test_the_widgets_function_stopped_fails_fast_and_recovers(
    frontdoor: httpx.Client, widgets_function_stopped: None
) -> None:
    """The producer's Lambda integration fails: REST's 502, which the front door's http_proxy
    passes on as the producer answered it."""
    headers = {"Authorization": token()}
    for _ in range(3):
        started = time.monotonic()
        response = frontdoor.get("/prod/", headers=headers)
        elapsed = time.monotonic() - started
        assert (response.status_code, response.json()) == REST_API_FAILURE, response.text
        assert elapsed < FAILURE_DEADLINE_S, f"the front door took {elapsed:.2f}s"

    compose("start", "widgets-lambda")
    wait_until(
        lambda: frontdoor.get("/prod/", headers=headers).status_code == 200,
        "the front door to answer again after widgets-lambda started",
        timeout=RECOVERY_DEADLINE_S,
    )


# --- the shared secret rotated while the stack runs --------------------------------------------


def test_a_rotated_secret_refuses_the_old_token_at_once_without_a_restart(
    frontdoor: httpx.Client,
) -> None:
    old = token()
    assert frontdoor.get("/prod/", headers={"Authorization": old}).status_code == 200
    running_since = {s: started_at(s) for s in ("token-authorizer", "gateway")}

    rotated = compose("run", "--rm", "--no-deps", "certs", "--rotate-token", timeout=120)

    assert "rotated: /secrets/authorizer-token" in rotated.stdout
    new = token()
    assert new != old
    assert answer(frontdoor.get("/prod/", headers={"Authorization": old})) == UNAUTHORIZED
    response = frontdoor.get("/prod/", headers={"Authorization": new})
    assert (response.status_code, response.json()) == (200, WIDGET)
    assert {s: started_at(s) for s in running_since} == running_since  # nothing restarted

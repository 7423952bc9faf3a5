"""The cross-account patterns post's consumer Lambda of pattern 1 (the sample's ConsumerFunction):
`widgets-consumer`, in the front door's VPC of 444444444444, calls the producer's private widgets
API through that VPC's execute-api endpoint with the shared secret (./secrets/authorizer-token) as
its token, and answers the API's status and body. Invoked at its published invoke URL, as
`aws lambda invoke` would.

API Gateway's answers ("Gateway response types" in the Developer Guide): UNAUTHORIZED 401
{"message":"Unauthorized"} for a missing token and for one the authorizer refuses (it fails with
"Unauthorized"; a Deny policy would be 403)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .stack import (
    FRONTDOOR_VPC_SUBNET,
    FRONTDOOR_VPCE,
    LAMBDA_INVOKE_PATH,
    TOKEN_SECRET,
    WIDGET,
    WIDGETS_API_ID,
    WIDGETS_CONSUMER_URL,
    GatewayLog,
    compose,
    container_ip,
    remove_container,
    started_at,
    wait_until,
)

pytestmark = pytest.mark.e2e

UNAUTHORIZED = {"message": "Unauthorized"}
SERVICE = "widgets-consumer"


def invoke(url: str = WIDGETS_CONSUMER_URL) -> dict[str, Any]:
    response = httpx.post(url, json={}, timeout=30)
    assert response.status_code == 200, response.text
    # A handler that crashed would be answered 200 too, flagged by this header.
    assert "X-Amz-Function-Error" not in response.headers, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_widget_through_the_front_door_vpcs_endpoint(public_api: httpx.Client) -> None:
    before = len(GatewayLog.entries())

    assert invoke() == {"statusCode": 200, "body": WIDGET}

    gateway_log = GatewayLog(public_api)
    gateway_log.seen(gateway_log.agent())  # waits until what was answered is logged
    calls = [e for e in GatewayLog.entries()[before:] if e["apiId"] != "globalapi1"]
    # straight to the private API, not through the front door, from the function's own address
    # in the front door's VPC, attributed to that VPC's endpoint
    assert [(e["apiId"], e["path"], e["status"], e["vpceId"]) for e in calls] == [
        (WIDGETS_API_ID, "/prod/widgets", 200, FRONTDOOR_VPCE)
    ]
    assert calls[0]["sourceIp"] == container_ip(SERVICE, "_frontdoor-vpc")
    assert ipaddress.ip_address(calls[0]["sourceIp"]) in FRONTDOOR_VPC_SUBNET
    assert calls[0]["policyDecision"] == "Allow"


# Runs in a throwaway container of the function's service (its image, its networks): the widgets
# API through the front door VPC's endpoint without a token, with a wrong one, with the secret.
PROBE = r"""
import json, os, urllib.error, urllib.request

out = []
for token in (None, "A" * 43, os.environ["WIDGETS_TOKEN"]):
    headers = {"x-apigw-api-id": "widgetsap1"}
    if token is not None:
        headers["Authorization"] = token
    request = urllib.request.Request("http://vpce-frontdoor:8080/prod/widgets", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            out.append([response.status, json.loads(response.read())])
    except urllib.error.HTTPError as exc:
        out.append([exc.code, json.loads(exc.read())])
print(json.dumps(out))
"""


def test_from_the_front_door_vpc_the_authorizer_decides() -> None:
    """The resource policy admits this VPC's endpoint: no token and a wrong one are the
    authorizer's 401, the secret the widget."""
    result = compose(
        "run", "--rm", "--no-TTY", "--no-deps", "--entrypoint", "python3",
        "-e", "WIDGETS_TOKEN", SERVICE, "-c", PROBE,
        timeout=120, env={"WIDGETS_TOKEN": TOKEN_SECRET.read_text().strip()},
    )  # fmt: skip
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        [401, UNAUTHORIZED],
        [401, UNAUTHORIZED],
        [200, WIDGET],
    ]


WRONG_TOKEN_CONTAINER = "private-apis-e2e-widgets-consumer-wrong-token"
WRONG_TOKEN_PORT = 9003


@pytest.fixture(scope="module")
def wrong_token_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The function's service with a secret file of its own: a well-formed token that is not the
    shared secret."""
    folder: Path = tmp_path_factory.mktemp("wrong-token")
    (folder / "authorizer-token").write_text("B" * 43 + "\n")
    folder.chmod(0o755)  # the container runs as AUTHORIZER_USER, which may not be this user
    (folder / "authorizer-token").chmod(0o644)
    compose(
        "run", "--detach", "--rm", "--no-deps", "--name", WRONG_TOKEN_CONTAINER,
        "--publish", f"127.0.0.1:{WRONG_TOKEN_PORT}:8080",
        "--volume", f"{folder}:/run/secrets/wrong:ro",
        "--env", "TOKEN_SECRET_FILE=/run/secrets/wrong/authorizer-token",
        SERVICE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{WRONG_TOKEN_PORT}"
    try:
        wait_until(
            lambda: httpx.get(f"{base}/health", timeout=5).status_code == 200,
            "the wrong-token function to start",
        )
        yield base + LAMBDA_INVOKE_PATH
    finally:
        remove_container(WRONG_TOKEN_CONTAINER)


def test_a_wrong_token_is_the_apis_401_as_the_functions_answer(wrong_token_url: str) -> None:
    assert invoke(wrong_token_url) == {"statusCode": 401, "body": UNAUTHORIZED}


def test_a_rotated_secret_is_what_the_next_invocation_sends() -> None:
    assert invoke()["statusCode"] == 200
    running_since = started_at(SERVICE)

    rotated = compose("run", "--rm", "--no-deps", "certs", "--rotate-token", timeout=120)

    assert "rotated: /secrets/authorizer-token" in rotated.stdout
    assert invoke() == {"statusCode": 200, "body": WIDGET}  # the new token, read from the file
    assert started_at(SERVICE) == running_since  # nothing restarted

"""The private `partner` API: SigV4 and its resource policy, from inside the VPC networks (SPEC 9).

Requests are signed here, on the host, by requests-aws4auth (as the consumer Lambda signs them),
and sent from a throwaway container on a VPC network, because the partner API is reachable only
through a VPC endpoint. The signing happens seconds before the sending, well within the 5 minutes
of clock skew API Gateway allows.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from requests_aws4auth import AWS4Auth  # type: ignore[import-untyped]

from .stack import PARTNER_API_ID, REGION, compose

pytestmark = pytest.mark.e2e

# AWS's documented example keys of the local identities (docs/architecture.md): not secrets.
# The consumer role's credentials are temporary ones, with a session token (as Lambda's).
Key = tuple[str, ...]  # access key id, secret, and the session token if any
CONSUMER_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/local-consumer-lambda-session"
CONSUMER_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", CONSUMER_TOKEN)
CONSUMER_KEY_WITHOUT_TOKEN = CONSUMER_KEY[:2]
OTHER_TEAM_KEY = (
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEXAMPLE/local-other-team-session",
)
# Roles sign with temporary credentials: API Gateway names the caller by its assumed-role session.
CONSUMER_SESSION = "arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer-lambda"
OTHER_TEAM_SESSION = "arn:aws:sts::444444444444:assumed-role/other-team/other-team-cli"
WRONG_SECRET = (CONSUMER_KEY[0], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY", CONSUMER_TOKEN)
UNKNOWN_KEY = ("AKIAUNKNOWNEXAMPLE00", "unknownSecretKeyEXAMPLEEXAMPLEEXAMPLE000")

CONSUMER_ENDPOINT = "http://vpce-consumer:8080"
PROXY_VPC_ENDPOINT = "http://vpce-apigw:8080"
APIGW_VPC_NETWORK = "private-apis_apigw-vpc"

# Sends the requests it is given (JSON on argv) and prints [status, body] for each.
SENDER = r"""
import json, sys, urllib.error, urllib.request

answers = []
for r in json.loads(sys.argv[1]):
    body = r["body"].encode() if r["body"] is not None else None
    request = urllib.request.Request(r["url"], data=body, headers=r["headers"], method=r["method"])
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            answers.append([response.status, response.read().decode()])
    except urllib.error.HTTPError as exc:
        answers.append([exc.code, exc.read().decode()])
print(json.dumps(answers))
"""


def signed(
    base: str,
    key: Key | None,
    method: str = "GET",
    path: str = "/prod/dogs",
    at: datetime | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    headers = {"x-apigw-api-id": PARTNER_API_ID}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if at is not None:
        headers["X-Amz-Date"] = at.strftime("%Y%m%dT%H%M%SZ")
    request = requests.Request(method, base + path, headers=headers, data=body).prepare()
    if key is not None:
        token = key[2] if len(key) > 2 else None
        AWS4Auth(key[0], key[1], REGION, "execute-api", session_token=token)(request)
    return {
        "method": method,
        "url": base + path,
        "headers": {k: v for k, v in request.headers.items() if k.lower() != "content-length"},
        "body": body,
    }


CONSUMER_CASES = {
    "valid": lambda: signed(CONSUMER_ENDPOINT, CONSUMER_KEY),
    "valid-todo-list": lambda: signed(CONSUMER_ENDPOINT, CONSUMER_KEY, path="/prod/todo"),
    "unsigned": lambda: signed(CONSUMER_ENDPOINT, None),
    "wrong-secret": lambda: signed(CONSUMER_ENDPOINT, WRONG_SECRET),
    "unknown-key": lambda: signed(CONSUMER_ENDPOINT, UNKNOWN_KEY),
    "missing-token": lambda: signed(CONSUMER_ENDPOINT, CONSUMER_KEY_WITHOUT_TOKEN),
    "clock-behind": lambda: signed(
        CONSUMER_ENDPOINT, CONSUMER_KEY, at=datetime.now(UTC) - timedelta(minutes=10)
    ),
    "clock-ahead": lambda: signed(
        CONSUMER_ENDPOINT, CONSUMER_KEY, at=datetime.now(UTC) + timedelta(minutes=10)
    ),
    "post": lambda: signed(
        CONSUMER_ENDPOINT, CONSUMER_KEY, method="POST", path="/prod/todo", body='{"data": "x"}'
    ),
    "wrong-role": lambda: signed(CONSUMER_ENDPOINT, OTHER_TEAM_KEY),
}


def send_from_consumer_vpc(batch: list[dict[str, Any]]) -> list[list[Any]]:
    result = compose(
        "run", "--rm", "--no-TTY", "--no-deps", "--entrypoint", "python3", "consumer-lambda",
        "-c", SENDER, json.dumps(batch),
        timeout=120,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def send_from_proxy_vpc(batch: list[dict[str, Any]]) -> list[list[Any]]:
    # A container of the stack's own image on the mTLS proxy's network (no Python service lives
    # there, so `docker compose run` has none to borrow).
    result = subprocess.run(
        [
            "docker", "run", "--rm", "--network", APIGW_VPC_NETWORK, "--entrypoint", "python3",
            "private-apis/consumer-lambda:local", "-c", SENDER, json.dumps(batch),
        ],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def answers() -> dict[str, tuple[int, dict[str, Any]]]:
    names = list(CONSUMER_CASES)
    batch = [CONSUMER_CASES[name]() for name in names]
    found = dict(zip(names, send_from_consumer_vpc(batch), strict=True))
    [found["other-vpc"]] = send_from_proxy_vpc([signed(PROXY_VPC_ENDPOINT, CONSUMER_KEY)])
    return {name: (status, json.loads(body)) for name, (status, body) in found.items()}


def denied(principal: str, method: str, path: str, explicit: bool) -> dict[str, str]:
    resource = f"arn:aws:execute-api:us-east-1:********1111:{PARTNER_API_ID}/prod/{method}{path}"
    message = f"User: {principal} is not authorized to perform: execute-api:Invoke on resource: "
    return {"Message": message + resource + (" with an explicit deny" if explicit else "")}


def test_signed_request_from_the_consumer_vpc_is_served(answers: dict[str, Any]) -> None:
    status, dog = answers["valid"]
    assert status == 200, dog
    assert set(dog) == {"Name", "Gender"}
    status, todos = answers["valid-todo-list"]
    assert status == 200, todos
    assert isinstance(todos, list)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unsigned", {"message": "Missing Authentication Token"}),
        ("unknown-key", {"message": "The security token included in the request is invalid."}),
        ("missing-token", {"message": "The security token included in the request is invalid."}),
        ("post", denied(CONSUMER_SESSION, "POST", "/todo", True)),
        ("wrong-role", denied(OTHER_TEAM_SESSION, "GET", "/dogs", False)),
        ("other-vpc", denied(CONSUMER_SESSION, "GET", "/dogs", True)),
    ],
)
def test_refused_with_api_gateways_message(
    answers: dict[str, Any], case: str, expected: dict[str, str]
) -> None:
    assert answers[case] == (403, expected)


@pytest.mark.parametrize(
    ("case", "prefix"),
    [
        (
            "wrong-secret",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.",
        ),
        ("clock-behind", "Signature expired: "),
        ("clock-ahead", "Signature not yet current: "),
    ],
)
def test_bad_signature_is_refused(answers: dict[str, Any], case: str, prefix: str) -> None:
    status, body = answers[case]
    assert status == 403, body
    assert set(body) == {"message"}, body
    assert body["message"].startswith(prefix), body

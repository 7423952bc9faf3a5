"""The consumer Lambda, invoked through the emulator's URL as on AWS (SPEC 5, SPEC 9)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from .stack import LAMBDA_INVOKE_PATH, LAMBDA_URL, compose, remove_container, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def lambda_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def invoke(client: httpx.Client, event: dict[str, Any]) -> dict[str, Any]:
    response = client.post(LAMBDA_URL, json=event)
    assert response.status_code == 200, response.text
    # A handler that crashed would be answered 200 too, flagged by this header.
    assert "X-Amz-Function-Error" not in response.headers, response.text
    return response.json()  # type: ignore[no-any-return]


def test_default_event_fetches_a_dog_and_the_todo_list(
    public_api: httpx.Client, lambda_client: httpx.Client
) -> None:
    created = public_api.post("/todo", json={"data": f"lambda e2e {uuid.uuid4()}"}).json()
    result = invoke(lambda_client, {})
    assert result["statusCode"] == 200, result
    dog = result["body"]["dog"]
    assert set(dog) == {"Name", "Gender"}
    assert dog["Gender"] in {"male", "female"}
    assert created in result["body"]["todos"]


@pytest.mark.parametrize("path", ["/dogs/males", "/dogs/females"])
def test_event_chooses_the_path(lambda_client: httpx.Client, path: str) -> None:
    result = invoke(lambda_client, {"path": path})
    assert result["statusCode"] == 200, result
    assert result["body"]["Gender"] == path.rsplit("/", 1)[1].removesuffix("s")


def test_partner_api_denies_post(lambda_client: httpx.Client) -> None:
    result = invoke(lambda_client, {"path": "/todo", "method": "POST", "body": {"data": "x"}})
    assert result == {
        "statusCode": 403,
        "body": {
            "Message": "User: arn:aws:sts::444444444444:assumed-role/consumer-lambda/"
            "consumer-lambda is not authorized "
            "to perform: execute-api:Invoke on resource: "
            "arn:aws:execute-api:us-east-1:********1111:partnerap1/prod/POST/todo "
            "with an explicit deny"
        },
    }


WRONG_SECRET_CONTAINER = "private-apis-e2e-lambda-wrong-secret"
WRONG_SECRET_PORT = 9001


@pytest.fixture(scope="module")
def wrong_secret_lambda_url() -> Iterator[str]:
    """The consumer-lambda image on its network, started with a secret the gateway doesn't know."""
    compose(
        "run", "--detach", "--rm", "--no-deps", "--name", WRONG_SECRET_CONTAINER,
        "--publish", f"127.0.0.1:{WRONG_SECRET_PORT}:8080",
        "--env", "AWS_SECRET_ACCESS_KEY=not-the-consumer-roles-secret",
        "consumer-lambda",
    )  # fmt: skip
    base = f"http://127.0.0.1:{WRONG_SECRET_PORT}"
    try:
        with httpx.Client(timeout=5) as client:
            wait_until(
                lambda: client.get(f"{base}/health").status_code == 200,
                "the wrong-secret Lambda to start",
            )
        yield base + LAMBDA_INVOKE_PATH
    finally:
        remove_container(WRONG_SECRET_CONTAINER)


def test_wrong_secret_gets_the_signature_mismatch(
    lambda_client: httpx.Client, wrong_secret_lambda_url: str
) -> None:
    response = lambda_client.post(wrong_secret_lambda_url, json={})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["statusCode"] == 403, result
    assert result["body"]["message"].startswith(
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method."
    ), result

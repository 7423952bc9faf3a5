"""The image's default command, natively: consumer_lambda.handler.handler under the real
awslambdaric, with the shared emulator (services/lambda-rie) serving its invoke URL."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from devstack.ports import free_port
from devstack.stack import FunctionSpec, Service, spawn_function

INVOKE = "/2015-03-31/functions/function/invocations"
CONSUMER = FunctionSpec(
    "consumer-lambda", "consumer_lambda.handler.handler", "consumer-lambda", "444444444444", 5
)


@pytest.fixture
def start_consumer(tmp_path: Path) -> Iterator:
    started: list[Service] = []

    def start(env: dict[str, str]) -> Service:
        service = spawn_function(
            CONSUMER, free_port(), env=env, log_path=tmp_path / "consumer-lambda.log"
        )
        started.append(service)
        return service.wait_ready()

    yield start
    for service in started:
        service.stop()


def test_consumer_handler_under_the_emulator_fetches_through_the_partner_api(
    start_consumer, partner, credentials
):
    dog, todos = {"Name": "Rex", "Gender": "male"}, [{"id": "0a1b2c3d", "data": "feed Rex"}]
    partner.answer("GET", "/prod/dogs", 200, dog)
    partner.answer("GET", "/prod/todo", 200, todos)
    service = start_consumer(
        {
            **os.environ,
            "AWS_REGION": "us-east-1",
            "PARTNER_API_URL": f"{partner.url}/prod",
            "PARTNER_API_ID": "partnerap1",
            "AWS_ACCESS_KEY_ID": credentials["access_key"],
            "AWS_SECRET_ACCESS_KEY": credentials["secret_key"],
            "AWS_SESSION_TOKEN": credentials["token"],
        }
    )

    response = requests.post(service.base_url + INVOKE, data=b"{}", timeout=30)

    assert response.status_code == 200
    assert response.json() == {"statusCode": 200, "body": {"dog": dog, "todos": todos}}
    assert [r.headers["x-amz-security-token"] for r in partner.received] == [
        credentials["token"]
    ] * 2

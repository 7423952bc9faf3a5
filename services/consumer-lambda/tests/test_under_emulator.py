"""The image's two handlers, natively, as compose runs them: consumer_lambda.handler.handler (the
default command) and consumer_lambda.widgets.handler, each under the real awslambdaric, with the
shared emulator (services/lambda-rie) serving its invoke URL."""

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
WIDGETS_CONSUMER = FunctionSpec(
    "widgets-consumer", "consumer_lambda.widgets.handler", "widgets-consumer", "444444444444", 5
)


@pytest.fixture
def start_consumer(tmp_path: Path) -> Iterator:
    started: list[Service] = []

    def start(env: dict[str, str], spec: FunctionSpec = CONSUMER) -> Service:
        service = spawn_function(spec, free_port(), env=env, log_path=tmp_path / f"{spec.name}.log")
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


def test_widgets_handler_under_the_emulator_sends_the_token(start_consumer, partner, tmp_path):
    widget = {"id": "1", "value": "4.99"}
    partner.answer("GET", "/prod/widgets", 200, widget)
    (tmp_path / "authorizer-token").write_text("the-shared-secret\n")
    service = start_consumer(
        {
            **os.environ,
            "WIDGETS_API_URL": f"{partner.url}/prod/widgets",
            "WIDGETS_API_ID": "widgetsap1",
            "TOKEN_SECRET_FILE": str(tmp_path / "authorizer-token"),
        },
        WIDGETS_CONSUMER,
    )

    response = requests.post(service.base_url + INVOKE, data=b"{}", timeout=30)

    assert response.status_code == 200
    assert response.json() == {"statusCode": 200, "body": widget}
    assert [r.headers["authorization"] for r in partner.received] == ["the-shared-secret"]

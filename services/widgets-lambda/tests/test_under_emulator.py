"""The image's command natively: widgets_lambda.handler.handler under the real awslambdaric, its
invoke URL served by the shared emulator (services/lambda-rie)."""

import requests
from devstack.ports import free_port
from devstack.stack import WIDGETS, spawn_function

from .conftest import load_event

INVOKE = "/2015-03-31/functions/function/invocations"


def test_the_function_answers_its_invoke_url(tmp_path):
    service = spawn_function(WIDGETS, free_port(), log_path=tmp_path / "widgets.log")
    try:
        service.wait_ready()
        response = requests.post(
            service.base_url + INVOKE, json=load_event("get_widgets.json"), timeout=30
        )
    finally:
        service.stop()

    assert response.status_code == 200
    assert "X-Amz-Function-Error" not in response.headers
    assert response.json()["body"] == '{"id":"1","value":"4.99"}'
    assert '"service": "widgets-lambda"' in (tmp_path / "widgets.log").read_text()

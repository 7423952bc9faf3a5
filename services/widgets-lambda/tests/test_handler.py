"""The handler called directly with recorded proxy events."""

import json

import pytest
from widgets_lambda.handler import handler


def test_get_widgets_answers_the_widget(event, context, capsys):
    response = handler(event("get_widgets.json"), context)

    assert response == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": '{"id":"1","value":"4.99"}',
        "isBase64Encoded": False,
    }
    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert {k: record[k] for k in ("service", "aws_request_id", "status", "principal_id")} == {
        "service": "widgets-lambda",
        "aws_request_id": context.aws_request_id,
        "status": 200,
        "principal_id": "shared-secret-caller",
    }
    assert record["api_request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_another_method_is_405(event, context):
    response = handler(event("delete_widgets.json"), context)
    assert (response["statusCode"], response["headers"]["Allow"]) == (405, "GET")
    assert json.loads(response["body"]) == {"message": "Method Not Allowed"}


def test_another_resource_is_404(event, context):
    recorded = event("get_widgets.json") | {"resource": "/gadgets", "path": "/gadgets"}
    response = handler(recorded, context)
    assert (response["statusCode"], json.loads(response["body"])) == (404, {"message": "Not Found"})


@pytest.mark.parametrize("bad", [None, [], "GET /widgets"])
def test_an_event_that_is_not_an_object_fails(bad, context):
    with pytest.raises(TypeError):
        handler(bad, context)

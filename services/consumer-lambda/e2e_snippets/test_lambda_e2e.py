"""End-to-end: the consumer Lambda, invoked through its emulator URL, calls the partner API.

For tests/e2e/ (run against the compose stack, `docker compose --profile test up -d`). The stack is
a black box: only URLs. LAMBDA_URL, LAMBDA_WRONG_SECRET_URL and PUBLIC_API_URL override them.
"""

import os
import re
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e

LAMBDA_URL = os.environ.get("LAMBDA_URL", "http://127.0.0.1:9000")
LAMBDA_WRONG_SECRET_URL = os.environ.get("LAMBDA_WRONG_SECRET_URL", "http://127.0.0.1:9001")
PUBLIC_API_URL = os.environ.get("PUBLIC_API_URL", "http://127.0.0.1:8080")
INVOKE = "/2015-03-31/functions/function/invocations"

EXPLICIT_DENY = re.compile(
    r"User: arn:aws:(iam|sts)::444444444444:(role|assumed-role)/consumer-lambda(/\S+)? is not "
    r"authorized to perform: execute-api:Invoke on resource: "
    r"arn:aws:execute-api:us-east-1:111111111111:partnerap1/prod/POST/todo with an explicit deny"
)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def invoke(event: dict, url: str = LAMBDA_URL) -> dict:
    response = requests.post(url + INVOKE, json=event, timeout=30)
    assert response.status_code == 200, response.text
    assert "X-Amz-Function-Error" not in response.headers, response.text
    return response.json()


def test_default_invoke_returns_a_dog_and_the_todo_list_from_the_partner_api():
    data = f"e2e-lambda-{uuid.uuid4()}"
    created = requests.post(f"{PUBLIC_API_URL}/todo", data={"data": data}, timeout=10)
    assert created.status_code == 201, created.text

    result = invoke({})

    assert result["statusCode"] == 200, result
    dog = result["body"]["dog"]
    assert set(dog) == {"Name", "Gender"}
    assert dog["Gender"] in {"male", "female"}
    assert isinstance(dog["Name"], str) and dog["Name"]
    assert created.json() in result["body"]["todos"]


@pytest.mark.parametrize("gender", ["males", "females"])
def test_event_chooses_a_get_path(gender):
    result = invoke({"path": f"/dogs/{gender}", "method": "GET"})

    assert result["statusCode"] == 200, result
    assert result["body"]["Gender"] == gender.removesuffix("s")


def test_post_is_denied_by_the_resource_policy():
    result = invoke({"path": "/todo", "method": "POST", "body": {"data": "not allowed"}})

    assert result["statusCode"] == 403, result
    assert set(result["body"]) == {"Message"}, result
    assert EXPLICIT_DENY.fullmatch(result["body"]["Message"]), result


def test_wrong_secret_gets_the_signature_mismatch_message():
    result = invoke({}, url=LAMBDA_WRONG_SECRET_URL)

    assert result["statusCode"] == 403, result
    assert set(result["body"]) == {"message"}, result
    assert result["body"]["message"].startswith(SIGNATURE_MISMATCH), result

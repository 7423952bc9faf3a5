"""The widgets function (consumer_lambda.widgets.handler) against a real HTTP server on loopback
that plays the private widgets API behind the front door's endpoint: the token it sends, the
API's answers as its own, the secret read on every call (a file, and Secrets Manager through
moto)."""

import json
import os

import boto3
import pytest
from consumer_lambda.widgets import handler
from moto import mock_aws

WIDGET = {"id": "1", "value": "4.99"}
TOKEN = "kU3nq0Jm1b9x2Qy8Vt5Rw7Lp4Zs6Hc3Nd1Fg0Ae2Bk9"
UNAUTHORIZED = {"message": "Unauthorized"}


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "authorizer-token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def widgets_env(monkeypatch, partner, token_file):
    """The environment of the compose stack's function, pointed at the stub."""
    for name in ("TOKEN_SECRET_ID", "WIDGETS_API_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WIDGETS_API_URL", f"{partner.url}/prod/widgets")
    monkeypatch.setenv("WIDGETS_API_ID", "widgetsap1")
    monkeypatch.setenv("TOKEN_SECRET_FILE", str(token_file))
    return partner


def test_the_widget_with_the_token_through_the_endpoint(widgets_env, context):
    widgets_env.answer("GET", "/prod/widgets", 200, WIDGET)

    assert handler({}, context) == {"statusCode": 200, "body": WIDGET}

    [received] = widgets_env.received
    assert (received.method, received.path) == ("GET", "/prod/widgets")
    assert received.headers["authorization"] == TOKEN  # the bare secret, as the sample sends it
    assert received.headers["x-apigw-api-id"] == "widgetsap1"


@pytest.mark.parametrize(
    ("status", "body"),
    [(401, UNAUTHORIZED), (403, {"Message": "User: anonymous is not authorized ..."})],
    ids=["token-refused", "policy-deny"],
)
def test_a_refusal_is_the_functions_answer(widgets_env, context, status, body):
    widgets_env.answer("GET", "/prod/widgets", status, body)
    assert handler({}, context) == {"statusCode": status, "body": body}


def test_a_rotated_secret_is_sent_from_the_next_call(widgets_env, context, token_file):
    widgets_env.answer("GET", "/prod/widgets", 200, WIDGET)
    handler({}, context)
    rotated = token_file.with_name("new")
    rotated.write_text("rotated-" + TOKEN[8:])
    os.replace(rotated, token_file)  # as certgen rotates it: a new file in one step

    handler({}, context)

    assert [r.headers["authorization"] for r in widgets_env.received] == [
        TOKEN,
        "rotated-" + TOKEN[8:],
    ]


def test_the_token_from_secrets_manager(widgets_env, context, monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("TOKEN_SECRET_FILE")
    widgets_env.answer("GET", "/prod/widgets", 200, WIDGET)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        arn = client.create_secret(Name="authorizer-token", SecretString=TOKEN)["ARN"]
        monkeypatch.setenv("TOKEN_SECRET_ID", arn)
        first = handler({}, context)
        client.put_secret_value(SecretId=arn, SecretString="rotated-" + TOKEN[8:])
        second = handler({}, context)

    assert first == second == {"statusCode": 200, "body": WIDGET}
    assert [r.headers["authorization"] for r in widgets_env.received] == [
        TOKEN,
        "rotated-" + TOKEN[8:],
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"WIDGETS_API_URL": ""}, "WIDGETS_API_URL must be an http(s) URL, got None"),
        ({"TOKEN_SECRET_ID": "arn:aws:secretsmanager:us-east-1:111111111111:secret:t"},
         "set exactly one of TOKEN_SECRET_FILE and TOKEN_SECRET_ID"),
        ({"TOKEN_SECRET_FILE": ""}, "set exactly one of TOKEN_SECRET_FILE and TOKEN_SECRET_ID"),
        ({"WIDGETS_API_TIMEOUT": "0"}, "WIDGETS_API_TIMEOUT must be a positive number, got '0'"),
    ],
    ids=["no-url", "two-secrets", "no-secret", "bad-timeout"],
)  # fmt: skip
def test_bad_settings_are_500_and_nothing_is_called(
    widgets_env, context, monkeypatch, change, message
):
    for name, value in change.items():
        monkeypatch.setenv(name, value)
    assert handler({}, context) == {"statusCode": 500, "body": {"message": message}}
    assert widgets_env.received == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read file {path}: No such file or directory"),
        ("  \n", "file {path} is empty"),
    ],
    ids=["missing", "empty"],
)
def test_an_unreadable_secret_is_500_and_nothing_is_called(
    widgets_env, context, token_file, content, message
):
    if content is None:
        token_file.unlink()
    else:
        token_file.write_text(content)
    assert handler({}, context) == {
        "statusCode": 500,
        "body": {"message": message.format(path=token_file)},
    }
    assert widgets_env.received == []


def test_an_unreachable_api_is_502_and_logged(widgets_env, context, monkeypatch, capsys):
    port = widgets_env.server.server_port
    widgets_env.server.server_close()  # nothing listens there any more
    url = f"http://127.0.0.1:{port}/prod/widgets"
    monkeypatch.setenv("WIDGETS_API_URL", url)

    result = handler({}, context)

    assert result["statusCode"] == 502
    assert result["body"]["message"].startswith(f"Could not reach the widgets API (GET {url}): ")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (line["method"], line["path"], line["status"]) == ("GET", "/prod/widgets", 502)

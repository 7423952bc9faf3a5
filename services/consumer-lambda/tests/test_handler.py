"""The handler against a real HTTP server on loopback that plays the partner API."""

import json

import pytest
from consumer_lambda.handler import handler

DOG = {"Name": "Bella", "Gender": "female"}
TODOS = [{"id": "0a1b2c3d", "data": "walk the dog"}]
DENY = {
    "Message": "User: arn:aws:iam::444444444444:role/consumer-lambda is not authorized to perform: "
    "execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:111111111111:partnerap1/prod/"
    "POST/todo with an explicit deny"
}


def test_default_event_fetches_a_dog_and_the_todo_list(partner_env, event, context, capsys):
    partner_env.answer("GET", "/prod/dogs", 200, DOG, headers={"x-amzn-RequestId": "req-dogs"})
    partner_env.answer("GET", "/prod/todo", 200, TODOS)

    result = handler(event("default.json"), context)

    assert result == {"statusCode": 200, "body": {"dog": DOG, "todos": TODOS}}
    assert [(r.method, r.path) for r in partner_env.received] == [
        ("GET", "/prod/dogs"),
        ("GET", "/prod/todo"),
    ]
    assert all(r.headers["x-apigw-api-id"] == "partnerap1" for r in partner_env.received)
    assert all(
        r.headers["authorization"].startswith("AWS4-HMAC-SHA256 ") for r in partner_env.received
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("GET", "/dogs", 200),
        ("GET", "/todo", 200),
    ]
    assert lines[0]["aws_request_id"] == context.aws_request_id
    assert lines[0]["api_request_id"] == "req-dogs"
    assert lines[0]["service"] == "consumer-lambda"
    assert lines[0]["error"] is None


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, DENY),
        (403, {"message": "Missing Authentication Token"}),
        (429, {"message": "Too Many Requests"}),
        (500, {"message": "Internal server error"}),
        (502, {"message": "Internal server error"}),
        (503, b"upstream unavailable"),
        (504, {"message": "Endpoint request timed out"}),
    ],
)
def test_api_errors_come_back_as_status_and_message(partner_env, event, context, status, body):
    partner_env.answer("POST", "/prod/todo", status, body, content_type="application/json")

    result = handler(event("post_todo.json"), context)

    expected_body = body.decode() if isinstance(body, bytes) else body
    assert result == {"statusCode": status, "body": expected_body}


@pytest.mark.parametrize("failing", ["/prod/dogs", "/prod/todo"])
def test_default_event_answers_the_first_failing_call(partner_env, event, context, failing):
    partner_env.answer("GET", "/prod/dogs", 200, DOG)
    partner_env.answer("GET", "/prod/todo", 200, TODOS)
    partner_env.answer("GET", failing, 429, {"message": "Too Many Requests"})

    result = handler(event("default.json"), context)

    assert result == {"statusCode": 429, "body": {"message": "Too Many Requests"}}
    assert partner_env.received[-1].path == failing


def test_event_chooses_path_method_body(partner_env, event, context):
    created = {"id": "0a1b2c3d", "data": "walk the dog"}
    partner_env.answer("POST", "/prod/todo", 201, created)

    result = handler(event("post_todo.json"), context)

    assert result == {"statusCode": 201, "body": created}
    [received] = partner_env.received
    assert received.body == b'{"data":"walk the dog"}'
    assert received.headers["content-type"] == "application/json"


def test_event_query_and_headers_are_sent(partner_env, event, context):
    partner_env.answer("GET", "/prod/todo", 200, TODOS)

    result = handler(event("get_todo_query.json"), context)

    assert result == {"statusCode": 200, "body": TODOS}
    [received] = partner_env.received
    assert received.path == "/prod/todo?limit=2&after=abc"
    assert received.headers["x-trace"] == "t-1"


def test_string_body_is_sent_as_is(partner_env, context):
    partner_env.answer("POST", "/prod/todo", 201, {"id": "1", "data": "x"})
    event = {
        "path": "/todo",
        "method": "post",
        "body": "data=x",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }

    result = handler(event, context)

    assert result == {"statusCode": 201, "body": {"id": "1", "data": "x"}}
    [received] = partner_env.received
    assert (received.method, received.body) == ("POST", b"data=x")
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"


def test_empty_answer_is_a_null_body(partner_env, context):
    partner_env.answer("DELETE", "/prod/todo/0a1b2c3d", 204)

    assert handler({"path": "/todo/0a1b2c3d", "method": "DELETE"}, context) == {
        "statusCode": 204,
        "body": None,
    }


def test_unreachable_api_is_502(partner_env, monkeypatch, event, context):
    port = partner_env.server.server_port
    partner_env.server.shutdown()
    partner_env.server.server_close()  # nothing listens there any more

    result = handler(event("get_females.json"), context)

    assert result == {
        "statusCode": 502,
        "body": {
            "message": f"Could not reach the partner API (GET http://127.0.0.1:{port}/prod/dogs/females)"
            ": [Errno 111] Connection refused"
        },
    }


def test_api_that_hangs_up_is_502(partner_env, event, context):
    partner_env.answer("GET", "/prod/dogs/females", 200, DOG, hang_up=True)

    result = handler(event("get_females.json"), context)

    assert result == {
        "statusCode": 502,
        "body": {
            "message": f"Could not reach the partner API (GET {partner_env.url}/prod/dogs/females)"
            ": Remote end closed connection without response"
        },
    }


def test_slow_api_is_504(partner_env, monkeypatch, event, context, capsys):
    monkeypatch.setenv("PARTNER_API_TIMEOUT", "0.2")
    partner_env.answer("GET", "/prod/dogs/females", 200, DOG, delay_s=5)

    result = handler(event("get_females.json"), context)

    message = (
        f"The partner API did not answer within 0.2 s (GET {partner_env.url}/prod/dogs/females)"
    )
    assert result == {"statusCode": 504, "body": {"message": message}}
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert (line["status"], line["error"]) == (504, message)


def test_timeout_is_capped_by_the_time_lambda_leaves(partner_env, event, context):
    """With 0.6 s left and a 0.5 s margin the call gives up after 0.1 s, before Lambda kills it."""
    context.timeout_s = 0.6
    partner_env.answer("GET", "/prod/dogs/females", 200, DOG, delay_s=5)

    result = handler(event("get_females.json"), context)

    assert result["statusCode"] == 504
    assert result["body"]["message"].startswith("The partner API did not answer within 0.1 s ")


@pytest.mark.parametrize(
    ("bad_event", "message"),
    [
        ([1, 2], "The event must be a JSON object"),
        ("GET /dogs", "The event must be a JSON object"),
        ({"method": "GET"}, "'path' must be a string that starts with '/'"),
        ({"path": "dogs"}, "'path' must be a string that starts with '/'"),
        (
            {"path": "/dogs", "method": "FETCH"},
            "'method' must be one of DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT",
        ),
        ({"path": "/dogs", "query": ["a"]}, "'query' must be an object of strings"),
        ({"path": "/dogs", "headers": {"a": {"b": 1}}}, "'headers' must be an object of strings"),
    ],
)
def test_bad_events_are_400(partner_env, context, bad_event, message):
    assert handler(bad_event, context) == {"statusCode": 400, "body": {"message": message}}
    assert partner_env.received == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("PARTNER_API_URL", "Missing environment variables: PARTNER_API_URL"),
        ("AWS_ACCESS_KEY_ID", "Missing environment variables: AWS_ACCESS_KEY_ID"),
        ("AWS_SECRET_ACCESS_KEY", "Missing environment variables: AWS_SECRET_ACCESS_KEY"),
        ("AWS_REGION", "Missing environment variables: AWS_REGION"),
    ],
)
def test_missing_settings_are_500(partner_env, monkeypatch, event, context, missing, message):
    monkeypatch.delenv(missing)

    assert handler(event("default.json"), context) == {
        "statusCode": 500,
        "body": {"message": message},
    }
    assert partner_env.received == []


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_bad_timeout_setting_is_500(partner_env, monkeypatch, event, context, value):
    monkeypatch.setenv("PARTNER_API_TIMEOUT", value)

    assert handler(event("default.json"), context) == {
        "statusCode": 500,
        "body": {"message": f"PARTNER_API_TIMEOUT must be a positive number, got '{value}'"},
    }


def test_without_session_token_no_token_header(partner_env, monkeypatch, event, context):
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    partner_env.answer("GET", "/prod/dogs/females", 200, DOG)

    assert handler(event("get_females.json"), context) == {"statusCode": 200, "body": DOG}
    assert "x-amz-security-token" not in partner_env.received[0].headers


def test_connection_is_reused_across_invocations(partner_env, event, context):
    partner_env.answer("GET", "/prod/dogs/females", 200, DOG)

    for _ in range(3):
        assert handler(event("get_females.json"), context) == {"statusCode": 200, "body": DOG}

    assert len(partner_env.received) == 3
    assert len({r.client_port for r in partner_env.received}) == 1

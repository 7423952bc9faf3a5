"""The authorizer with its secret file, called directly, and the image's command under the real
awslambdaric (its invoke URL served by services/lambda-rie)."""

import json
import os

import pytest
import requests
from devstack.ports import free_port
from devstack.stack import TOKEN_AUTHORIZER, spawn_function
from token_authorizer.authorizer import TokenAuthorizer, fingerprint
from token_authorizer.decision import Unauthorized
from token_authorizer.secret import FileSecret

from .conftest import TOKEN, load_event, replace_file

INVOKE = "/2015-03-31/functions/function/invocations"


def test_allowed_and_logged_without_the_token(secret_file, context, capsys):
    authorizer = TokenAuthorizer(FileSecret(secret_file), "caller")

    answer = authorizer(load_event("token.json"), context)

    assert answer["principalId"] == "caller"
    out = capsys.readouterr().out
    assert TOKEN not in out
    loaded, allowed = (json.loads(line) for line in out.splitlines())
    assert (loaded["event"], loaded["fingerprint"]) == ("secret_loaded", fingerprint(TOKEN))
    assert (allowed["event"], allowed["aws_request_id"], allowed["principal_id"]) == (
        "allowed",
        context.aws_request_id,
        "caller",
    )


def test_after_a_rotation_the_new_secret_and_not_the_old(secret_file, context, capsys):
    authorizer = TokenAuthorizer(FileSecret(secret_file), "caller")
    replace_file(secret_file, "the-next-secret\n")

    with pytest.raises(Unauthorized):
        authorizer(load_event("token.json"), context)
    event = load_event("token.json") | {"authorizationToken": "the-next-secret"}
    assert authorizer(event, context)["principalId"] == "caller"
    loads = [line for line in capsys.readouterr().out.splitlines() if "secret_loaded" in line]
    assert len(loads) == 2  # at start, and once after the rotation


@pytest.fixture
def start(tmp_path):
    started = []

    def run(env):
        log = tmp_path / f"authorizer-{len(started)}.log"
        service = spawn_function(TOKEN_AUTHORIZER, free_port(), env=env, log_path=log)
        started.append(service)
        return service.wait_ready(), log

    yield run
    for service in started:
        service.stop()


def invoke(service, event):
    return requests.post(service.base_url + INVOKE, json=event, timeout=30)


def test_under_the_emulator(start, secret_file):
    service, log = start({**os.environ, "TOKEN_SECRET_FILE": str(secret_file)})

    allowed = invoke(service, load_event("token.json"))
    refused = invoke(service, load_event("token.json") | {"authorizationToken": "guess"})

    assert allowed.status_code == 200 and "X-Amz-Function-Error" not in allowed.headers
    assert allowed.json()["context"] == {"authorizedBy": "shared-secret"}
    assert refused.headers["X-Amz-Function-Error"] == "Unhandled"
    assert refused.json()["errorMessage"] == "Unauthorized"
    assert TOKEN not in log.read_text()


def test_a_missing_secret_fails_the_init(start, tmp_path):
    service, _ = start({**os.environ, "TOKEN_SECRET_FILE": str(tmp_path / "missing")})

    response = invoke(service, load_event("token.json"))

    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert "cannot read" in response.json()["errorMessage"]

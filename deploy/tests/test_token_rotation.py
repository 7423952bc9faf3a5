"""The rotation function of the authorizer's secret (private_apis_deploy.token_rotation), its four
steps against moto's Secrets Manager: the calls botocore validates as AWS would, the versions
and stages as Secrets Manager keeps them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from deploy_harness import API_DIR, resources
from moto import mock_aws
from moto.secretsmanager.models import secretsmanager_backends
from private_apis_deploy.token_rotation.handler import RotationError, handler, rotate
from private_apis_deploy.values import load_document
from private_apis_deploy.widgets import TOKEN_LENGTH, token_pattern

ACCOUNT, REGION = "123456789012", "eu-west-1"
PATTERN = re.compile(token_pattern(load_document(API_DIR / "widgets.yaml")))
OLD_TOKEN = "o" * TOKEN_LENGTH
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def secret(client: Any) -> str:
    arn: str = client.create_secret(Name="authorizer-token", SecretString=OLD_TOKEN)["ARN"]
    return arn


def start_rotation(arn: str, *, enabled: bool = True) -> str:
    """What RotateSecret does before it calls the function: a new version id labelled
    AWSPENDING, without a value yet (moto's API has no call for only that)."""
    version = str(uuid.uuid4())
    stored = secretsmanager_backends[ACCOUNT][REGION].secrets[arn]
    stored.remove_version_stages_from_old_versions(["AWSPENDING"])
    stored.versions[version] = {
        "createdate": 0,
        "version_id": version,
        "version_stages": ["AWSPENDING"],
    }
    stored.rotation_requested = True  # describe_secret then shows RotationEnabled
    stored.rotation_enabled = enabled
    return version


def step(client: Any, arn: str, version: str, name: str) -> None:
    event = {"SecretId": arn, "ClientRequestToken": version, "Step": name}
    rotate(client, event, length=TOKEN_LENGTH, pattern=PATTERN)


def current(client: Any, arn: str) -> str:
    # AWS's default stage, named: moto's default version does not follow a moved AWSCURRENT
    token: str = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"]
    return token


def test_a_rotation_makes_a_new_token_of_the_documents_shape_current(
    client: Any, secret: str
) -> None:
    version = start_rotation(secret)
    for name in STEPS:
        step(client, secret, version, name)
    token = current(client, secret)
    assert token != OLD_TOKEN
    assert PATTERN.fullmatch(token)
    stages = client.describe_secret(SecretId=secret)["VersionIdsToStages"]
    # (Secrets Manager drops AWSPENDING from it when the rotation ends)
    assert "AWSCURRENT" in stages[version]
    assert client.get_secret_value(SecretId=secret, VersionStage="AWSPREVIOUS")["SecretString"] == (
        OLD_TOKEN
    )


def test_every_step_may_be_retried(client: Any, secret: str) -> None:
    version = start_rotation(secret)
    step(client, secret, version, "createSecret")
    pending = client.get_secret_value(SecretId=secret, VersionStage="AWSPENDING")["SecretString"]
    for name in STEPS:
        step(client, secret, version, name)
        step(client, secret, version, name)
    assert current(client, secret) == pending  # the first try's token, not a second one


def test_a_token_of_another_shape_fails_the_test_step_and_stays_pending(
    client: Any, secret: str
) -> None:
    version = start_rotation(secret)
    client.put_secret_value(
        SecretId=secret,
        ClientRequestToken=version,
        SecretString="not/a token",
        VersionStages=["AWSPENDING"],
    )
    with pytest.raises(RotationError, match="does not match"):
        step(client, secret, version, "testSecret")
    assert current(client, secret) == OLD_TOKEN


def test_a_secret_without_rotation_or_a_version_without_its_stage_is_refused(
    client: Any, secret: str
) -> None:
    version = start_rotation(secret, enabled=False)
    with pytest.raises(RotationError, match="not enabled"):
        step(client, secret, version, "createSecret")
    start_rotation(secret)
    with pytest.raises(RotationError, match="no stage for rotation"):
        step(client, secret, str(uuid.uuid4()), "createSecret")
    assert current(client, secret) == OLD_TOKEN


def test_the_entry_point_runs_on_the_environment_the_template_gives_it(
    client: Any, secret: str, templates: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    (function,) = [
        f["Properties"]
        for f in resources(templates["gateway"], "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "token-authorizer-rotation"
    ]
    assert function["Handler"] == "handler.handler"
    for name, value in function["Environment"]["Variables"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    version = start_rotation(secret)
    for name in STEPS:
        handler({"SecretId": secret, "ClientRequestToken": version, "Step": name}, None)
    assert PATTERN.fullmatch(current(client, secret))
    assert current(client, secret) != OLD_TOKEN

"""Where the secret comes from: a file, re-read when it changes; Secrets Manager (moto), fetched
again after the refresh interval."""

import os

import boto3
import pytest
from moto import mock_aws
from token_authorizer.secret import FileSecret, SecretError, SecretsManagerSecret
from token_authorizer.settings import ConfigError, Settings

from .conftest import TOKEN, replace_file


def test_a_file_secret_is_read_and_read_again_when_it_changes(secret_file):
    source = FileSecret(secret_file)
    assert source.current() == TOKEN

    replace_file(secret_file, "rotated-once\n")
    assert source.current() == "rotated-once"

    secret_file.write_text("rewritten in place, longer\n")  # same inode, another size and mtime
    assert source.current() == "rewritten in place, longer"


def test_an_unchanged_file_is_not_read_again(secret_file, monkeypatch):
    source = FileSecret(secret_file)
    source.current()
    reads = []
    original = type(secret_file).read_text
    monkeypatch.setattr(
        type(secret_file),
        "read_text",
        lambda self, **kw: reads.append(self) or original(self, **kw),
    )
    for _ in range(3):
        assert source.current() == TOKEN
    assert reads == []


@pytest.mark.parametrize("content", ["", "   \n"])
def test_an_empty_secret_is_an_error(secret_file, content):
    secret_file.write_text(content)
    with pytest.raises(SecretError, match="is empty"):
        FileSecret(secret_file).current()


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(SecretError, match="cannot read"):
        FileSecret(tmp_path / "nope").current()


@pytest.fixture
def secretsmanager(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_secrets_manager_is_fetched_again_after_the_refresh_interval(secretsmanager):
    secretsmanager.create_secret(Name="widgets/shared-secret", SecretString=TOKEN)
    now = [0.0]
    source = SecretsManagerSecret("widgets/shared-secret", secretsmanager, 300, lambda: now[0])
    assert source.current() == TOKEN

    secretsmanager.put_secret_value(SecretId="widgets/shared-secret", SecretString="rotated")
    now[0] = 299.0
    assert source.current() == TOKEN  # the fetched value, still within the interval
    now[0] = 300.0
    assert source.current() == "rotated"


def test_a_secrets_manager_failure_is_an_error(secretsmanager):
    with pytest.raises(SecretError, match="cannot read Secrets Manager secret missing"):
        SecretsManagerSecret("missing", secretsmanager).current()


@pytest.mark.parametrize(
    "env, message",
    [
        ({}, "exactly one of TOKEN_SECRET_FILE and TOKEN_SECRET_ID"),
        ({"TOKEN_SECRET_FILE": "/a", "TOKEN_SECRET_ID": "b"}, "exactly one"),
        ({"TOKEN_SECRET_ID": "b", "TOKEN_SECRET_REFRESH_SECONDS": "soon"}, "a number >= 0"),
    ],
)
def test_settings_errors(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(env)


def test_settings():
    settings = Settings.from_env(
        {"TOKEN_SECRET_ID": "arn:aws:secretsmanager:x", "PRINCIPAL_ID": "p"}
    )
    assert (
        settings.secret_id,
        settings.secret_file,
        settings.refresh_s,
        settings.principal_id,
    ) == (
        "arn:aws:secretsmanager:x",
        None,
        300.0,
        "p",
    )
    assert (
        Settings.from_env({"TOKEN_SECRET_FILE": os.devnull}).principal_id == "shared-secret-caller"
    )

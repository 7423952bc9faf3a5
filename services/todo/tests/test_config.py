"""Settings: defaults, environment overrides, and a clear error for what cannot start."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from todo import ConfigError, StorageError, create_app
from todo.config import DEFAULTS, load_config


def test_defaults() -> None:
    assert load_config({}) == DEFAULTS
    assert DEFAULTS["TODO_STORAGE"] == "sqlite"
    assert DEFAULTS["TODO_DB_PATH"] == "data/todo.db"
    assert DEFAULTS["TODO_MAX_DATA_LENGTH"] == 1000
    assert DEFAULTS["MAX_CONTENT_LENGTH"] == 65536


def test_environment_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("TODO_DB_PATH", str(db))
    monkeypatch.setenv("TODO_MAX_DATA_LENGTH", "5")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    app = create_app()
    try:
        assert app.config["TODO_DB_PATH"] == str(db)
        assert app.config["TODO_MAX_DATA_LENGTH"] == 5
        assert app.config["MAX_CONTENT_LENGTH"] == 2048
        assert db.is_file()
        response = app.test_client().post("/todo", data={"data": "x" * 3000})
        assert response.status_code == 413
        assert response.get_json() == {"message": "Request body is larger than 2048 bytes"}
    finally:
        app.extensions["todo_store"].close()


def test_test_config_ignores_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TODO_MAX_DATA_LENGTH", "5")
    app = create_app({"TODO_DB_PATH": str(tmp_path / "t.db")})
    try:
        assert app.config["TODO_MAX_DATA_LENGTH"] == 1000
    finally:
        app.extensions["todo_store"].close()


@pytest.mark.parametrize("backend", ["dynamo", "mysql", ""])
def test_unknown_storage_is_a_startup_error(tmp_path: Path, backend: str) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app({"TODO_STORAGE": backend, "TODO_DB_PATH": str(tmp_path / "t.db")})
    assert str(raised.value) == (
        f"TODO_STORAGE={backend!r} is not a known storage backend; use one of: dynamodb, sqlite"
    )
    assert not (tmp_path / "t.db").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "TODO_TABLE must name the DynamoDB table when TODO_STORAGE=dynamodb"),
        (
            {"TODO_TABLE": "  "},
            "TODO_TABLE must name the DynamoDB table when TODO_STORAGE=dynamodb",
        ),
        (
            {"TODO_TABLE": "todo"},
            "no AWS region for DynamoDB: set AWS_REGION (or boto3's AWS_DEFAULT_REGION)",
        ),
    ],
    ids=["no-table", "blank-table", "no-region"],
)
def test_dynamodb_settings_are_checked_at_start(
    monkeypatch: pytest.MonkeyPatch, settings: dict[str, str], message: str
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(ConfigError) as raised:
        create_app({"TODO_STORAGE": "dynamodb", **settings})
    assert str(raised.value) == message


def test_dynamodb_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TODO_STORAGE", "DynamoDB")
    monkeypatch.setenv("TODO_TABLE", " todo-items ")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("TODO_CREATE_TABLE", "true")
    monkeypatch.setenv("TODO_DYNAMODB_TIMEOUT_MS", "250")
    monkeypatch.setenv("TODO_DYNAMODB_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("TODO_MIN_FREE_BYTES", "0")
    config = load_config()
    assert {key: config[key] for key in config if key.startswith(("TODO_", "AWS_"))} == {
        **{key: DEFAULTS[key] for key in DEFAULTS if key.startswith(("TODO_", "AWS_"))},
        "TODO_STORAGE": "dynamodb",
        "TODO_TABLE": "todo-items",
        "AWS_REGION": "eu-west-1",
        "TODO_CREATE_TABLE": True,
        "TODO_DYNAMODB_TIMEOUT_MS": 250,
        "TODO_DYNAMODB_MAX_ATTEMPTS": 2,
        "TODO_MIN_FREE_BYTES": 0,
    }


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("yes", True), ("0", False), ("", False)]
)
def test_create_table_flag(value: str, expected: bool) -> None:
    assert load_config({"TODO_CREATE_TABLE": value})["TODO_CREATE_TABLE"] is expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "TODO_CREATE_TABLE",
            "maybe",
            "TODO_CREATE_TABLE must be 1 or 0 (true or false), got 'maybe'",
        ),
        (
            "TODO_MIN_FREE_BYTES",
            "-1",
            "TODO_MIN_FREE_BYTES must be an integer of 0 or more, got '-1'",
        ),
        (
            "TODO_MIN_FREE_BYTES",
            "1M",
            "TODO_MIN_FREE_BYTES must be an integer of 0 or more, got '1M'",
        ),
    ],
)
def test_bad_new_settings_are_startup_errors(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({key: value})
    assert str(raised.value) == message


@pytest.mark.parametrize(
    "key",
    [
        "TODO_MAX_DATA_LENGTH",
        "MAX_CONTENT_LENGTH",
        "TODO_BUSY_TIMEOUT_MS",
        "TODO_DYNAMODB_TIMEOUT_MS",
        "TODO_DYNAMODB_MAX_ATTEMPTS",
    ],
)
@pytest.mark.parametrize("value", ["0", "-1", "ten", ""])
def test_bad_numbers_are_startup_errors(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{key} must be a positive integer, got '{value}'$"):
        load_config({key: value})


def test_unusable_database_path_is_a_startup_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create the directory"):
        create_app({"TODO_DB_PATH": str(blocker / "todo.db")})


def test_gunicorn_refuses_to_start_with_unknown_storage(tmp_path: Path) -> None:
    env = {"TODO_STORAGE": "mysql", "PORT": "1", "HOST": "127.0.0.1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "todo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "todo cannot start: TODO_STORAGE='mysql' is not a known storage backend" in result.stderr


@pytest.mark.parametrize(
    ("env", "bind", "workers"),
    [
        ({}, ["127.0.0.1:8080"], 4),
        ({"HOST": "0.0.0.0", "PORT": "9000", "WEB_CONCURRENCY": "2"}, ["0.0.0.0:9000"], 2),
        ({"HOST": "::", "PORT": "8082"}, ["[::]:8082"], 4),
    ],
)
def test_gunicorn_conf_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], bind: list[str], workers: int
) -> None:
    for key in ("HOST", "PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    conf = runpy.run_module("todo.gunicorn_conf")
    assert conf["bind"] == bind
    assert conf["workers"] == workers
    assert conf["accesslog"] is None
    assert conf["control_socket_disable"] is True

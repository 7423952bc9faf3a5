"""Configuration: documented defaults, overridden by environment variables (or a test mapping)."""

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Storage backend: "sqlite" (one instance, a file) or "dynamodb" (any number of instances).
    "TODO_STORAGE": "sqlite",
    # SQLite file, relative to the working directory unless absolute (the image: /data/todo.db).
    "TODO_DB_PATH": "data/todo.db",
    # SQLite: how long a statement waits for SQLite's own lock before giving up. The workers queue
    # for the lock file beside the database instead (storage/write_lock.py), so only a process
    # that does not queue (the sqlite3 shell) makes one wait.
    "TODO_BUSY_TIMEOUT_MS": 5000,
    # SQLite: /health fails when less is free on the database's file system, before writes do.
    "TODO_MIN_FREE_BYTES": 1024 * 1024,
    # DynamoDB: the table (required), and the region (empty: boto3's own, AWS_DEFAULT_REGION or
    # the profile's). The endpoint of a local server is boto3's AWS_ENDPOINT_URL_DYNAMODB.
    "TODO_TABLE": "",
    "AWS_REGION": "",
    # DynamoDB: create the table at start if it is missing. Only for a local server: in AWS the
    # deployment creates the table and the service is not allowed to.
    "TODO_CREATE_TABLE": False,
    # DynamoDB: connect and read timeout of one attempt, and the attempts per call (botocore's
    # standard retries, with a random backoff of up to 1 s, 2 s, 4 s, ... between them): with the
    # defaults a call that gets no answer gives up within about 3 x 1 s + 3 s.
    "TODO_DYNAMODB_TIMEOUT_MS": 1000,
    "TODO_DYNAMODB_MAX_ATTEMPTS": 3,
    # Longest accepted `data`, in characters.
    "TODO_MAX_DATA_LENGTH": 1000,
    # Largest accepted request body, in bytes (Flask answers 413 above it).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Level of the JSON access log lines (they are written at info).
    "LOG_LEVEL": "info",
}
POSITIVE_INTS = (
    "TODO_BUSY_TIMEOUT_MS",
    "TODO_MAX_DATA_LENGTH",
    "MAX_CONTENT_LENGTH",
    "TODO_DYNAMODB_TIMEOUT_MS",
    "TODO_DYNAMODB_MAX_ATTEMPTS",
)
NON_NEGATIVE_INTS = ("TODO_MIN_FREE_BYTES",)
BOOLEANS = ("TODO_CREATE_TABLE",)
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")


class ConfigError(Exception):
    """A setting has a value the service cannot start with."""


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """DEFAULTS, then the known keys in `environ` (default: os.environ), then `overrides`."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    config.update({key: environ[key] for key in DEFAULTS if key in environ})
    config.update(overrides or {})
    for key in POSITIVE_INTS:
        config[key] = _positive_int(key, config[key])
    for key in NON_NEGATIVE_INTS:
        config[key] = _non_negative_int(key, config[key])
    for key in BOOLEANS:
        config[key] = _boolean(key, config[key])
    config["TODO_STORAGE"] = str(config["TODO_STORAGE"]).strip().lower()
    config["TODO_TABLE"] = str(config["TODO_TABLE"]).strip()
    config["AWS_REGION"] = str(config["AWS_REGION"]).strip()
    if not str(config["TODO_DB_PATH"]).strip():
        raise ConfigError("TODO_DB_PATH must not be empty")
    return config


def _positive_int(key: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a positive integer, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    return number


def _non_negative_int(key: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be an integer of 0 or more, got {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key} must be an integer of 0 or more, got {value!r}")
    return number


def _boolean(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ConfigError(f"{key} must be 1 or 0 (true or false), got {value!r}")

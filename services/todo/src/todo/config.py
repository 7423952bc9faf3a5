"""Configuration: documented defaults, overridden by environment variables (or a test mapping)."""

import os
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Storage backend; only "sqlite" exists today (a DynamoDB backend will sit behind the same
    # interface).
    "TODO_STORAGE": "sqlite",
    # SQLite file, relative to the working directory unless absolute (the image: /data/todo.db).
    "TODO_DB_PATH": "data/todo.db",
    # How long a write waits for another worker's write lock before giving up.
    "TODO_BUSY_TIMEOUT_MS": 5000,
    # Longest accepted `data`, in characters.
    "TODO_MAX_DATA_LENGTH": 1000,
    # Largest accepted request body, in bytes (Flask answers 413 above it).
    "MAX_CONTENT_LENGTH": 64 * 1024,
    # Level of the JSON access log lines (they are written at info).
    "LOG_LEVEL": "info",
}
POSITIVE_INTS = ("TODO_BUSY_TIMEOUT_MS", "TODO_MAX_DATA_LENGTH", "MAX_CONTENT_LENGTH")


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
    config["TODO_STORAGE"] = str(config["TODO_STORAGE"]).strip().lower()
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

"""The storage interface of the ToDo service, and the choice of backend (TODO_STORAGE)."""

import builtins
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

ID_ATTEMPTS = 8  # 8 hex digits: a collision is rare, eight in a row is a broken generator


def new_id() -> str:
    return secrets.token_hex(4)


@dataclass(frozen=True)
class Todo:
    id: str
    data: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "data": self.data}


@dataclass(frozen=True)
class Page:
    """Items in creation order, and the creation sequence number to continue after (None: the
    last page). Both backends number items 1, 2, 3, ... as they are created."""

    items: builtins.list[Todo]
    next_after: int | None


class StorageError(Exception):
    """The backend did not answer or refused an operation; str() says why (for the logs and for
    `/health`, never for API callers)."""


class TodoStore(Protocol):
    """What the API needs from a backend. `add` returns only once the item is durable."""

    def add(self, data: str) -> Todo: ...

    def get(self, todo_id: str) -> Todo | None: ...

    def delete(self, todo_id: str) -> bool:
        """True if the item existed."""
        ...

    def ping(self) -> None:
        """Raises StorageError, saying why, unless the store can take a write now. Writes no
        item."""
        ...

    def close(self) -> None: ...

    def list(self) -> builtins.list[Todo]:
        """Every item, oldest first."""
        ...

    def page(self, limit: int, after: int | None) -> Page:
        """At most `limit` items, oldest first, created after sequence number `after`."""
        ...


def _sqlite(config: Mapping[str, Any]) -> TodoStore:
    from todo.storage.sqlite import SqliteTodoStore

    return SqliteTodoStore(
        config["TODO_DB_PATH"],
        busy_timeout_ms=config["TODO_BUSY_TIMEOUT_MS"],
        min_free_bytes=config["TODO_MIN_FREE_BYTES"],
    )


def _dynamodb(config: Mapping[str, Any]) -> TodoStore:
    from todo.config import ConfigError

    if not config["TODO_TABLE"]:
        raise ConfigError("TODO_TABLE must name the DynamoDB table when TODO_STORAGE=dynamodb")
    # Imported here: boto3 takes a while to import and the SQLite backend never needs it.
    from todo.storage.dynamodb import DynamoDbTodoStore

    return DynamoDbTodoStore(
        config["TODO_TABLE"],
        region=config["AWS_REGION"] or None,
        timeout_s=config["TODO_DYNAMODB_TIMEOUT_MS"] / 1000,
        max_attempts=config["TODO_DYNAMODB_MAX_ATTEMPTS"],
        create_table=config["TODO_CREATE_TABLE"],
    )


BACKENDS: dict[str, Callable[[Mapping[str, Any]], TodoStore]] = {
    "sqlite": _sqlite,
    "dynamodb": _dynamodb,
}


def create_store(config: Mapping[str, Any]) -> TodoStore:
    """The backend named by TODO_STORAGE, ready to use (schema or table created)."""
    from todo.config import ConfigError

    name = config["TODO_STORAGE"]
    if name not in BACKENDS:
        choices = ", ".join(sorted(BACKENDS))
        raise ConfigError(
            f"TODO_STORAGE={name!r} is not a known storage backend; use one of: {choices}"
        )
    return BACKENDS[name](config)

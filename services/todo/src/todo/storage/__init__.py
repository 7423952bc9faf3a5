"""The storage interface of the ToDo service, and the choice of backend (TODO_STORAGE)."""

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Todo:
    id: str
    data: str

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "data": self.data}


class StorageError(Exception):
    """The backend did not answer or refused an operation."""


class TodoStore(Protocol):
    """What the API needs from a backend. `add` returns only once the item is durable."""

    def add(self, data: str) -> Todo: ...

    def get(self, todo_id: str) -> Todo | None: ...

    def delete(self, todo_id: str) -> bool:
        """True if the item existed."""
        ...

    def ping(self) -> None:
        """Raises StorageError unless the backend answers."""
        ...

    def close(self) -> None: ...

    def list(self) -> builtins.list[Todo]:
        """Every item, oldest first."""
        ...


def _sqlite(config: Mapping[str, Any]) -> TodoStore:
    from todo.storage.sqlite import SqliteTodoStore

    return SqliteTodoStore(config["TODO_DB_PATH"], busy_timeout_ms=config["TODO_BUSY_TIMEOUT_MS"])


BACKENDS: dict[str, Callable[[Mapping[str, Any]], TodoStore]] = {"sqlite": _sqlite}


def create_store(config: Mapping[str, Any]) -> TodoStore:
    """The backend named by TODO_STORAGE, ready to use (schema created)."""
    from todo.config import ConfigError

    name = config["TODO_STORAGE"]
    if name not in BACKENDS:
        choices = ", ".join(sorted(BACKENDS))
        raise ConfigError(
            f"TODO_STORAGE={name!r} is not a known storage backend; use one of: {choices}"
        )
    return BACKENDS[name](config)

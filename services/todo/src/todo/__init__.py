"""ToDo provider (SPEC section 3): `create_app` is the Flask app factory gunicorn serves.

Importing the package imports no Flask: `python -m todo` only execs gunicorn, and the gunicorn
master's start-up check needs only the settings and the store. `create_app` is looked up lazily,
from `todo.app`.
"""

from typing import TYPE_CHECKING, Any

from todo.config import ConfigError
from todo.storage import StorageError

if TYPE_CHECKING:
    from todo.app import create_app

__all__ = ["ConfigError", "StorageError", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from todo.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The Flask app factory, `create_app`, that gunicorn serves as `todo:create_app()`."""

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from todo.access_log import AccessLogMiddleware
from todo.api import bp
from todo.config import load_config
from todo.errors import register_error_handlers
from todo.fast_post import FastPost
from todo.storage import create_store


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """The app, configured from the environment, or from the defaults plus `test_config` alone.

    Raises ConfigError for a setting it cannot start with (an unknown TODO_STORAGE, ...), and
    StorageError when the store cannot be opened.
    """
    # Named after the package (its logger is "todo"), not after this module.
    app = Flask("todo", static_folder=None)
    if test_config is None:
        app.config.from_mapping(load_config(os.environ))
    else:
        app.config.from_mapping(load_config({}, overrides=test_config))
    app.json.sort_keys = False  # type: ignore[attr-defined]  # {"id": ..., "data": ...} as documented
    # "/todo//x" is another path (404), not a redirect to "/todo/x".
    app.url_map.merge_slashes = False

    app.extensions["todo_store"] = create_store(app.config)
    register_error_handlers(app)
    app.register_blueprint(bp)

    # POST /todo with a JSON body skips Flask's request handling (fast_post.py); the access log
    # sees every request either way.
    app.wsgi_app = AccessLogMiddleware(  # type: ignore[method-assign]
        FastPost(app, app.wsgi_app), level=app.config["LOG_LEVEL"]
    )
    return app

"""`POST /todo` with a JSON body, answered in plain WSGI in front of Flask: the service's hot path.

Flask's own handling of one request (the request context, the routing map, the Request and
Response objects, the after-request hooks, werkzeug's header building) was about 850,000 of the
910,000 instructions the service's Python spent on a POST, SQLite included (callgrind), and POSTs
are what the service is loaded with (bench `todo-post-c32`). So a POST that Flask
would route to `create_todo` with a JSON body of known length is answered here, with the same
pieces of code the view uses and the same bytes on the wire:

- the body is read as Flask reads it (werkzeug's `get_input_stream`), validated by
  `api.json_data` and `api.check_data`, and stored by the app's store;
- the 201 is what `jsonify` makes of the item (the app's JSON provider, compact, and a
  newline), with the headers werkzeug would send, in its order;
- anything that goes wrong once the body is being read (a bad `data`, a client gone, a storage
  failure) is raised to Flask's error handlers in a request context of its own, as if the view
  had raised it, so every error answer stays Flask's.

Any other request (another path or method, a form, a chunked body, a body over
MAX_CONTENT_LENGTH, a SCRIPT_NAME) goes to Flask untouched, nothing of it read.
tests/test_fast_post.py compares the two answers byte for byte.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask
from werkzeug.http import parse_options_header
from werkzeug.wsgi import get_content_length, get_input_stream

from todo.api import JSON_TYPE, check_data, json_data
from todo.storage import Todo

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CREATED = "201 CREATED"  # werkzeug's status line for 201


class FastPost:
    """WSGI middleware: answers `POST /todo` with a JSON body itself, passes the rest to `flask`
    (the Flask app's own wsgi_app). The store and the limits are looked up on the app for every
    request, as the view does."""

    def __init__(self, app: Flask, flask: "WSGIApplication") -> None:
        if app.before_request_funcs or app.url_value_preprocessors:
            # They would run for the view, not here.
            raise ValueError("FastPost does not run before-request hooks; the app has some")
        self.app = app
        self.flask = flask

    def _takes(self, environ: "WSGIEnvironment") -> bool:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/todo":
            return False
        if environ.get("SCRIPT_NAME") or self.app.debug:  # debug: Flask's JSON is indented
            return False
        mimetype = parse_options_header(environ.get("CONTENT_TYPE", ""))[0].lower()
        if mimetype != JSON_TYPE:
            return False
        length = get_content_length(environ)  # None for a chunked body
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        return length is not None and 0 < length and (limit is None or length <= limit)

    def __call__(
        self, environ: "WSGIEnvironment", start_response: "StartResponse"
    ) -> Iterable[bytes]:
        if not self._takes(environ):
            return self.flask(environ, start_response)
        app = self.app
        try:
            body = get_input_stream(
                environ, max_content_length=app.config["MAX_CONTENT_LENGTH"]
            ).read()
            data = check_data(json_data(body), app.config["TODO_MAX_DATA_LENGTH"])
            todo = app.extensions["todo_store"].add(data)
        except Exception as exc:
            return self._flask_error(environ, start_response, exc)
        payload = _created_body(app, todo)
        start_response(
            CREATED,
            [
                ("Content-Type", JSON_TYPE),
                ("Content-Length", str(len(payload))),
                ("Location", f"/todo/{todo.id}"),
            ],
        )
        return [payload]

    def _flask_error(
        self, environ: "WSGIEnvironment", start_response: "StartResponse", exc: Exception
    ) -> Iterable[bytes]:
        """What Flask answers when the view raises `exc` (Flask.full_dispatch_request's except
        branch, then its finalize_request, in a request context)."""
        app = self.app
        with app.request_context(environ):
            try:
                response: Any = app.finalize_request(app.handle_user_exception(exc))
            except Exception as unhandled:  # what Flask.wsgi_app does with it
                response = app.handle_exception(unhandled)
            return response(environ, start_response)  # type: ignore[no-any-return]


def _created_body(app: Flask, todo: Todo) -> bytes:
    """jsonify(todo.as_json())'s body outside debug mode: compact, and a newline."""
    return (app.json.dumps(todo.as_json(), separators=(",", ":")) + "\n").encode()

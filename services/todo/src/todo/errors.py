"""Every error is JSON `{"message": "..."}`: never Flask's or Werkzeug's HTML pages."""

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from todo.storage import StorageError


class BadInput(Exception):
    """The request cannot be served as sent: answered 400 with this message."""


class TodoNotFound(Exception):
    def __init__(self, todo_id: str) -> None:
        super().__init__(f"Todo {todo_id} doesn't exist")


# Headers of an HTTPException's own response that still apply to the JSON one.
_KEPT_HEADERS = ("Allow", "Location", "Retry-After")
# A storage failure is a 503 the client may retry: by then a load balancer has usually taken an
# instance that cannot write out of service, or DynamoDB's throttling has passed.
STORAGE_RETRY_AFTER_S = 1


def _message(body: dict[str, str], status: int) -> ResponseReturnValue:
    response = jsonify(body)
    response.status_code = status
    return response


def _http_error(exc: HTTPException) -> ResponseReturnValue:
    status = exc.code or 500
    if status == 413:
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        message = f"Request body is larger than {limit} bytes"
    else:
        message = exc.name
    response = jsonify({"message": message})
    response.status_code = status
    for name, value in exc.get_headers():
        if name in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def _bad_input(exc: BadInput) -> ResponseReturnValue:
    return _message({"message": str(exc)}, 400)


def _not_found(exc: TodoNotFound) -> ResponseReturnValue:
    return _message({"message": str(exc)}, 404)


def _storage_error(exc: StorageError) -> ResponseReturnValue:
    current_app.logger.error("storage error: %s", exc)
    response = jsonify({"message": "Storage unavailable"})
    response.status_code = 503
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_S)
    return response


def _unexpected(exc: Exception) -> ResponseReturnValue:
    current_app.logger.exception("unhandled error", exc_info=exc)
    return _message({"message": "Internal Server Error"}, 500)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadInput, _bad_input)
    app.register_error_handler(TodoNotFound, _not_found)
    app.register_error_handler(StorageError, _storage_error)
    app.register_error_handler(Exception, _unexpected)

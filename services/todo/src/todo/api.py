"""The ToDo routes (SPEC 3): POST/GET /todo, GET/DELETE /todo/<id>, GET /health."""

import json
import re
from typing import Any, NoReturn

from flask import Blueprint, Request, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import RequestEntityTooLarge

from todo.errors import BadInput, TodoNotFound
from todo.paging import PagingError, decode_token, next_link, parse_limit
from todo.storage import StorageError, TodoStore

bp = Blueprint("todo", __name__)

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
JSON_TYPE = "application/json"
ID_PATTERN = re.compile(r"[0-9a-f]{8}")


def store() -> TodoStore:
    return current_app.extensions["todo_store"]  # type: ignore[no-any-return]


def _is_json(mimetype: str) -> bool:
    return mimetype == JSON_TYPE or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def json_data(body: bytes) -> Any:
    """The `data` of a JSON body (None when it has none); BadInput when the body is not an
    object or its `data` not a string."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("Malformed JSON body") from None
    if not isinstance(payload, dict):
        raise BadInput('JSON body must be an object: {"data": "..."}')
    if "data" in payload and not isinstance(payload["data"], str):
        raise BadInput("'data' must be a string")
    return payload.get("data")


def _read_body(req: Request) -> bytes:
    """The whole body, cached for the form parser; 413 when it is over MAX_CONTENT_LENGTH.

    Werkzeug checks a declared Content-Length, but a chunked body (no Content-Length) is only cut
    at the limit: the rest would be dropped without a word, and the truncated body parsed. So the
    body is read here and one more byte is asked of the server's stream, which ends exactly where
    the client's body ends.
    """
    limit = req.max_content_length
    if limit is not None and req.content_length is not None and req.content_length > limit:
        _refuse_too_large(req)  # whatever the content type
    body = req.get_data(cache=True)
    if limit is not None and req.content_length is None and len(body) >= limit:
        if req.environ["wsgi.input"].read(1):
            _refuse_too_large(req)
    return body


# How much of a refused body is read (and thrown away) before the 413 goes out: API Gateway's own
# payload limit, so anything the gateway forwards.
DRAIN_LIMIT = 10 * 1024 * 1024
DRAIN_CHUNK = 64 * 1024


def _refuse_too_large(req: Request) -> NoReturn:
    """413, after reading the rest of the body (up to DRAIN_LIMIT) without keeping it.

    gunicorn's sync worker closes the connection after the response; a close with unread bytes
    in the socket sends a TCP reset, and a reset can destroy the answer before the client (the
    gateway, still writing the body) reads it: it would get a connection error instead of this
    413. Reading the body first is the "lingering close" of RFC 9112 section 9.6.
    """
    stream = req.environ["wsgi.input"]
    drained = 0
    while drained < DRAIN_LIMIT:
        chunk = stream.read(min(DRAIN_CHUNK, DRAIN_LIMIT - drained))
        if not chunk:
            break
        drained += len(chunk)
    raise RequestEntityTooLarge()


def read_data(req: Request, max_length: int) -> str:
    """The `data` of a POST, from a form field or a JSON object; BadInput says what is wrong."""
    body = _read_body(req)
    mimetype = req.mimetype
    if mimetype in FORM_TYPES:
        data = req.form.get("data")
        if data is None and "data" in req.files:
            raise BadInput("'data' must be a form field, not a file upload")
    elif _is_json(mimetype):
        data = json_data(body)
    elif not mimetype and not body:
        data = None  # a bare POST: say what is missing rather than complain about the type
    else:
        shown = mimetype or "none"
        raise BadInput(
            f"Unsupported Content-Type {shown}: send application/x-www-form-urlencoded, "
            "multipart/form-data or application/json"
        )
    return check_data(data, max_length)


def check_data(data: str | None, max_length: int) -> str:
    """`data` if it can be stored as it is; BadInput says what is wrong with it."""
    if data is None:
        raise BadInput(
            'Missing \'data\': send it as a form field (data=...) or as JSON {"data": "..."}'
        )
    if not data.strip():
        raise BadInput("'data' must not be empty")
    if len(data) > max_length:
        raise BadInput(f"'data' is longer than {max_length} characters")
    try:
        data.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput("'data' must be valid Unicode text") from None
    return data


def _existing_id(todo_id: str) -> str:
    if not ID_PATTERN.fullmatch(todo_id):
        raise TodoNotFound(todo_id)  # never an id we issued: no need to ask the store
    return todo_id


@bp.post("/todo")
def create_todo() -> ResponseReturnValue:
    data = read_data(request, current_app.config["TODO_MAX_DATA_LENGTH"])
    todo = store().add(data)
    response = jsonify(todo.as_json())
    response.status_code = 201
    # What url_for("todo.get_todo", todo_id=todo.id) gives, without a trip through the routing
    # map on every write: an id is 8 hex digits, with nothing to quote.
    response.headers["Location"] = f"{request.script_root}/todo/{todo.id}"
    return response


@bp.get("/todo")
def list_todos() -> ResponseReturnValue:
    """Every item, as the reference service answers; with `limit` or `next`, one page of them
    (still a plain list) and, when more follow, a `Link: <?limit=..&next=..>; rel="next"`."""
    if "limit" not in request.args and "next" not in request.args:
        return jsonify([todo.as_json() for todo in store().list()])
    try:
        limit = parse_limit(request.args.get("limit"))
        token = request.args.get("next")
        after = decode_token(token) if token is not None else None
    except PagingError as exc:
        raise BadInput(str(exc)) from None
    page = store().page(limit, after)
    response = jsonify([todo.as_json() for todo in page.items])
    if page.next_after is not None:
        response.headers["Link"] = next_link(limit, page.next_after)
    return response


# <path:...> so that ids with odd characters ("..%2f") reach the handler and get its 404 message.
@bp.get("/todo/<path:todo_id>")
def get_todo(todo_id: str) -> ResponseReturnValue:
    todo = store().get(_existing_id(todo_id))
    if todo is None:
        raise TodoNotFound(todo_id)
    return jsonify(todo.as_json())


@bp.delete("/todo/<path:todo_id>")
def delete_todo(todo_id: str) -> ResponseReturnValue:
    if not store().delete(_existing_id(todo_id)):
        raise TodoNotFound(todo_id)
    return "", 204


@bp.get("/health")
def health() -> ResponseReturnValue:
    """200 only while the store can take a write (checked without writing an item); otherwise
    503 with the reason, for whoever reads a load balancer's or an orchestrator's checks."""
    try:
        store().ping()
    except StorageError as exc:
        current_app.logger.error("health check: storage cannot take a write: %s", exc)
        body = {"status": "unavailable", "message": "Storage unavailable", "reason": str(exc)}
        return jsonify(body), 503
    return jsonify({"status": "ok"})


@bp.after_app_request
def sort_allow_header(response: Response) -> Response:
    # Werkzeug lists allowed methods in set order; the same request should get the same answer.
    if "Allow" in response.headers:
        methods = {method.strip() for method in response.headers["Allow"].split(",")}
        response.headers["Allow"] = ", ".join(sorted(methods))
    return response

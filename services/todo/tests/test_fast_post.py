"""The plain-WSGI answer to `POST /todo` with a JSON body (todo/fast_post.py): taken only for
such requests, and byte for byte what Flask answers, for a stored item and for every error."""

import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from todo.access_log import AccessLogMiddleware
from todo.fast_post import FastPost
from todo.storage import StorageError, Todo
from werkzeug.test import EnvironBuilder, run_wsgi_app

Answer = tuple[str, list[tuple[str, str]], bytes]


class FixedIdStore:
    """Stands in for the store: hands out the same id every time, so that two answers to the
    same request can be compared byte for byte; `error` makes `add` raise instead."""

    def __init__(self) -> None:
        self.added: list[str] = []
        self.error: Exception | None = None

    def add(self, data: str) -> Todo:
        if self.error is not None:
            raise self.error
        self.added.append(data)
        return Todo(id="1a2b3c4d", data=data)


@pytest.fixture
def fixed_store(app: Flask) -> Iterator[FixedIdStore]:
    real = app.extensions["todo_store"]
    app.extensions["todo_store"] = FixedIdStore()
    yield app.extensions["todo_store"]
    app.extensions["todo_store"] = real


@pytest.fixture
def flask_calls(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests FastPost hands on to Flask."""
    fast = app.wsgi_app.app  # type: ignore[attr-defined]
    assert isinstance(fast, FastPost)
    calls: list[str] = []
    flask = fast.flask

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return flask(environ, start_response)

    monkeypatch.setattr(fast, "flask", counted)
    return calls


def _answer(wsgi: Callable[..., Any], **request: Any) -> Answer:
    headers = {"X-Request-Id": "fast-1", **request.pop("headers", {})}
    request = {"method": "POST", "path": "/todo", **request}
    environ = EnvironBuilder(headers=headers, **request).get_environ()
    body, status, response_headers = run_wsgi_app(wsgi, environ, buffered=True)
    return status, list(response_headers.items()), b"".join(body)


def _both(app: Flask, **request: Any) -> tuple[Answer, Answer]:
    """The app's answer, and Flask's own (FastPost left out) to the same request."""
    flask_only = AccessLogMiddleware(lambda *call: Flask.wsgi_app(app, *call))
    return _answer(app.wsgi_app, **request), _answer(flask_only, **request)


def _json(body: Any) -> dict[str, Any]:
    return {"data": json.dumps(body), "content_type": "application/json"}


STORED = [
    "buy milk",
    "caf\u00e9 \u2615 \U0001f436",
    'quotes " and \\ backslash </script>',
    "tab\tnew line\n\u0000 control",
    "x" * 1000,
]


@pytest.mark.parametrize("data", STORED)
def test_a_stored_item_is_answered_as_flask_would(
    app: Flask, fixed_store: FixedIdStore, flask_calls: list[str], data: str
) -> None:
    fast, flask = _both(app, **_json({"data": data, "other": 1}))
    assert fast == flask
    status, headers, body = fast
    assert status == "201 CREATED"
    assert dict(headers)["Location"] == "/todo/1a2b3c4d"
    assert json.loads(body) == {"id": "1a2b3c4d", "data": data}
    assert fixed_store.added == [data, data]
    assert flask_calls == []  # the first answer was FastPost's own


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json;"]
)
def test_json_with_parameters_or_in_capitals_is_taken(
    app: Flask, fixed_store: FixedIdStore, flask_calls: list[str], content_type: str
) -> None:
    fast, flask = _both(app, data=b'{"data": "x"}', content_type=content_type)
    assert fast == flask
    assert fast[0] == "201 CREATED"
    assert flask_calls == []


BAD_BODIES = [
    b"",
    b'{"data": "x"',
    b'["x"]',
    b'{"data": 5}',
    b'{"data": null}',
    b"{}",
    b'{"data": "   "}',
    b'{"data": "' + b"x" * 1001 + b'"}',
    b'{"data": "\\ud800"}',
    b'{"data": "\xff"}',
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_bad_json_gets_flasks_error(
    app: Flask, fixed_store: FixedIdStore, flask_calls: list[str], body: bytes
) -> None:
    fast, flask = _both(app, data=body, content_type="application/json")
    assert fast == flask
    assert fast[0] == "400 BAD REQUEST"
    assert fixed_store.added == []
    # an empty body has nothing to read: Flask answers it whole
    assert flask_calls == (["/todo"] if body == b"" else [])


@pytest.mark.parametrize(
    ("error", "status"),
    [(StorageError("disk I/O error"), "503 SERVICE UNAVAILABLE"), (RuntimeError("bug"), None)],
    ids=["storage", "unexpected"],
)
def test_a_failing_store_gets_flasks_error(
    app: Flask,
    fixed_store: FixedIdStore,
    flask_calls: list[str],
    error: Exception,
    status: str | None,
) -> None:
    fixed_store.error = error
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production, not as TESTING has it
    fast, flask = _both(app, **_json({"data": "x"}))
    assert fast == flask
    assert fast[0] == (status or "500 INTERNAL SERVER ERROR")
    assert flask_calls == []


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"data": "x"}},
        {"data": {"data": "x"}, "content_type": "multipart/form-data"},
        {"data": '{"data": "x"}', "content_type": "application/vnd.api+json"},
        {"data": '{"data": "x"}', "content_type": "text/plain"},
        {"data": "x" * 70000, "content_type": "application/json"},
        {**_json({"data": "x"}), "path": "/todo/"},
        {**_json({"data": "x"}), "method": "PUT"},
        {**_json({"data": "x"}), "base_url": "http://localhost/prod"},
        {
            "input_stream": io.BytesIO(b'{"data": "x"}'),
            "content_type": "application/json",
            "headers": {"Transfer-Encoding": "chunked"},
        },
    ],
    ids=[
        "form",
        "multipart",
        "json-suffix",
        "text",
        "over-the-limit",
        "other-path",
        "other-method",
        "script-root",
        "chunked",
    ],
)
def test_anything_else_goes_to_flask(
    app: Flask, fixed_store: FixedIdStore, flask_calls: list[str], request_kwargs: dict[str, Any]
) -> None:
    _answer(app.wsgi_app, **request_kwargs)
    assert len(flask_calls) == 1


def test_before_request_hooks_are_refused(app: Flask) -> None:
    app.before_request(lambda: None)
    with pytest.raises(ValueError, match="before-request hooks"):
        FastPost(app, app.wsgi_app)

"""SPEC 3, ToDo: the wire contract against the real app (Flask test client), on each backend:
SQLite on tmp_path, and a table of its own on the real local DynamoDB server."""

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from todo.storage import StorageError, TodoStore

from .conftest import BACKENDS

pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

HEX8 = re.compile(r"[0-9a-f]{8}")


def _post(client: FlaskClient, data: str, how: str = "form"):  # type: ignore[no-untyped-def]
    if how == "json":
        return client.post("/todo", json={"data": data})
    if how == "multipart":
        return client.post("/todo", data={"data": data}, content_type="multipart/form-data")
    return client.post("/todo", data={"data": data})


@pytest.mark.parametrize("how", ["form", "multipart", "json"])
def test_post_answers_201_with_the_item(client: FlaskClient, how: str) -> None:
    response = _post(client, "buy milk", how)
    assert response.status_code == 201
    assert response.content_type == "application/json"
    body = response.get_json()
    assert list(body) == ["id", "data"]
    assert HEX8.fullmatch(body["id"])
    assert body["data"] == "buy milk"
    assert response.headers["Location"] == f"/todo/{body['id']}"
    assert client.get(f"/todo/{body['id']}").get_json() == body


def test_location_is_under_the_script_root(client: FlaskClient) -> None:
    """Mounted under a prefix (SCRIPT_NAME), the Location is the item's URL under it too."""
    response = client.post("/todo", data={"data": "x"}, base_url="http://localhost/prod")
    assert response.status_code == 201
    assert response.headers["Location"] == f"/prod/todo/{response.get_json()['id']}"


def test_post_json_with_charset_and_extra_fields(client: FlaskClient) -> None:
    response = client.post(
        "/todo",
        data='{"data": "walk the dog", "priority": 1}',
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 201
    assert response.get_json()["data"] == "walk the dog"


@pytest.mark.parametrize(
    "data",
    [
        "  padded  ",
        "\u00fcn\u00efc\u00f6d\u00e9 \u2713 \U0001f436",
        "line\nbreak",
        "a\x00b",
        "x" * 1000,
    ],
    ids=["padded", "unicode", "newline", "nul", "at-limit"],
)
@pytest.mark.parametrize("how", ["form", "json"])
def test_data_is_kept_exactly(client: FlaskClient, data: str, how: str) -> None:
    response = _post(client, data, how)
    assert response.status_code == 201
    todo_id = response.get_json()["id"]
    assert client.get(f"/todo/{todo_id}").get_json() == {"id": todo_id, "data": data}


def test_list_is_empty_then_oldest_first(client: FlaskClient) -> None:
    assert client.get("/todo").get_json() == []
    ids = [_post(client, f"item {n}").get_json()["id"] for n in range(5)]
    response = client.get("/todo")
    assert response.status_code == 200
    assert response.get_json() == [{"id": i, "data": f"item {n}"} for n, i in enumerate(ids)]


def test_order_is_stable_across_deletes(client: FlaskClient) -> None:
    a, b, c = (_post(client, name).get_json()["id"] for name in "abc")
    assert client.delete(f"/todo/{b}").status_code == 204
    d = _post(client, "d").get_json()["id"]
    assert [item["id"] for item in client.get("/todo").get_json()] == [a, c, d]


def test_get_and_delete(client: FlaskClient) -> None:
    todo_id = _post(client, "water plants").get_json()["id"]
    response = client.get(f"/todo/{todo_id}")
    assert response.status_code == 200
    assert response.get_json() == {"id": todo_id, "data": "water plants"}

    response = client.delete(f"/todo/{todo_id}")
    assert response.status_code == 204
    assert response.data == b""

    gone = {"message": f"Todo {todo_id} doesn't exist"}
    response = client.get(f"/todo/{todo_id}")
    assert (response.status_code, response.get_json()) == (404, gone)
    response = client.delete(f"/todo/{todo_id}")
    assert (response.status_code, response.get_json()) == (404, gone)
    assert client.get("/todo").get_json() == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_id_is_404(client: FlaskClient, method: str) -> None:
    response = client.open("/todo/deadbeef", method=method)
    assert response.status_code == 404
    assert response.get_json() == {"message": "Todo deadbeef doesn't exist"}


def test_health_ok(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_health_503_when_storage_does_not_answer(
    client: FlaskClient, drop_storage: Callable[[], str]
) -> None:
    reason = drop_storage()
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "message": "Storage unavailable",
        "reason": reason,
    }


@pytest.mark.parametrize(
    "path", ["/", "/todos", "/todo/", "/todo//deadbeef", "/static/x", "/health/x", "/dogs"]
)
def test_unknown_path_is_404_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert response.get_json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/todo", "GET, HEAD, OPTIONS, POST"),
        ("PATCH", "/todo", "GET, HEAD, OPTIONS, POST"),
        ("DELETE", "/todo", "GET, HEAD, OPTIONS, POST"),
        ("POST", "/todo/deadbeef", "DELETE, GET, HEAD, OPTIONS"),
        ("PUT", "/todo/deadbeef", "DELETE, GET, HEAD, OPTIONS"),
        ("POST", "/health", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_method_is_405_json(client: FlaskClient, method: str, path: str, allow: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert response.content_type == "application/json"
    assert response.headers["Allow"] == allow
    assert response.get_json() == {"message": "Method Not Allowed"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("data=" + "x" * 70_000, "application/x-www-form-urlencoded"),
        ('{"data": "' + "x" * 70_000 + '"}', "application/json"),
        ("x" * 70_000, "text/plain"),
    ],
    ids=["form", "json", "text"],
)
def test_body_over_the_limit_is_413(client: FlaskClient, body: str, content_type: str) -> None:
    response = client.post("/todo", data=body, content_type=content_type)
    assert response.status_code == 413
    assert response.get_json() == {"message": "Request body is larger than 65536 bytes"}
    assert client.get("/todo").get_json() == []


def test_storage_failure_on_write_is_503(
    client: FlaskClient, store: TodoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: str) -> None:
        raise StorageError("disk I/O error")

    monkeypatch.setattr(store, "add", broken)
    response = _post(client, "x")
    assert response.status_code == 503
    assert response.get_json() == {"message": "Storage unavailable"}


def test_unexpected_error_is_500_json(
    client: FlaskClient, store: TodoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(store, "list", broken)
    response = client.get("/todo")
    assert response.status_code == 500
    assert response.get_json() == {"message": "Internal Server Error"}


def test_id_collision_draws_another_id(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    first = _post(client, "first").get_json()["id"]
    drawn = iter([first, first, "0badc0de"])
    monkeypatch.setattr(f"todo.storage.{backend}.new_id", lambda: next(drawn))
    response = _post(client, "second")
    assert response.status_code == 201
    assert response.get_json() == {"id": "0badc0de", "data": "second"}
    assert [item["id"] for item in client.get("/todo").get_json()] == [first, "0badc0de"]


def test_no_free_id_is_503_and_stores_nothing(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    first = _post(client, "first").get_json()["id"]
    monkeypatch.setattr(f"todo.storage.{backend}.new_id", lambda: first)
    response = _post(client, "second")
    assert response.status_code == 503
    assert client.get("/todo").get_json() == [{"id": first, "data": "first"}]


def test_head_and_options(app: Flask, client: FlaskClient) -> None:
    response = client.head("/todo")
    assert response.status_code == 200
    assert response.data == b""
    response = client.options("/todo")
    assert response.status_code == 200
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"

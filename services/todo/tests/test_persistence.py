"""Items survive the app being rebuilt on the same file; the file is set up for durability."""

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from todo import create_app

from .conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_items_survive_a_rebuilt_app(make_app: Any) -> None:
    first = make_app().test_client()
    posted = []
    for n in range(20):
        sent = {"json": {"data": f"json {n}"}} if n % 2 else {"data": {"data": f"form {n}"}}
        response = first.post("/todo", **sent)
        assert response.status_code == 201
        posted.append(response.get_json())
    assert first.delete(f"/todo/{posted[3]['id']}").status_code == 204
    del posted[3]

    second = make_app().test_client()
    assert second.get("/todo").get_json() == posted
    for item in posted:
        assert second.get(f"/todo/{item['id']}").get_json() == item


def test_database_uses_wal_and_normal_sync(make_app: Any, db_path: Path) -> None:
    app = make_app()
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store = app.extensions["todo_store"]
    # NORMAL is 1 (a per-connection setting, so ask the store's own connection): the store syncs
    # each commit itself, after the write lock (test_sync.py); FULL synced it under the lock.
    assert store._conn().execute("PRAGMA synchronous").fetchone() == (1,)
    assert store._conn().execute("PRAGMA busy_timeout").fetchone() == (5000,)


def test_relative_path_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app({})
    try:
        assert app.config["TODO_DB_PATH"] == "data/todo.db"
        assert (tmp_path / "data" / "todo.db").is_file()
    finally:
        app.extensions["todo_store"].close()


def test_parent_directories_are_created(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c" / "todo.db"
    client = make_app(TODO_DB_PATH=str(path)).test_client()
    assert client.post("/todo", data={"data": "x"}).status_code == 201
    assert path.is_file()

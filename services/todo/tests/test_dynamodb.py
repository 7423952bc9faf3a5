"""The DynamoDB backend against the real local server process: the table as DynamoDB holds it,
the table at start, and what callers and `/health` see when DynamoDB is stopped, hangs or
throttles (503 JSON with Retry-After within a bounded time, nothing half-written)."""

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from devstack.ports import free_port
from flask import Flask
from flask.testing import FlaskClient
from todo import StorageError, create_app
from todo.storage.dynamodb import TABLE_DEFINITION

from .conftest import Gunicorn, LocalDynamoDb, dynamodb_settings, point_boto3_at

UNAVAILABLE = {"message": "Storage unavailable"}
# Short timeouts keep these tests quick; the bound below is what they promise a caller.
TIMEOUT_MS = 400
ATTEMPTS = 2
# Two attempts of at most a connect and a read timeout each, botocore's backoff before the second
# (at most 1 s), and the app's own time.
CALL_BOUND_S = ATTEMPTS * 2 * TIMEOUT_MS / 1000 + 1.0 + 0.5
# /health makes one attempt.
HEALTH_BOUND_S = 2 * TIMEOUT_MS / 1000 + 0.5


def _raw(server: LocalDynamoDb, table: str) -> list[dict[str, Any]]:
    """Every item of `table` as DynamoDB holds it, plain values, sorted by key."""
    client = server.client()
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = client.scan(**kwargs)
        for item in answer["Items"]:
            items.append({name: next(iter(value.values())) for name, value in item.items()})
        start = answer.get("LastEvaluatedKey")
        if not start:
            break
    return sorted(items, key=lambda item: (item["pk"], int(item["sk"])))


def _assert_nothing_half_written(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each todo is both of its items or neither, and they agree; returns the todos in order."""
    by_id = {item["id"]: item for item in items if item["pk"].startswith("todo#")}
    listed = [item for item in items if item["pk"] == "list"]
    assert sorted(by_id) == sorted(item["id"] for item in listed)
    for entry in listed:
        whole = by_id[entry["id"]]
        assert whole["pk"] == f"todo#{entry['id']}"
        assert (whole["seq"], whole["data"]) == (entry["sk"], entry["data"])
    [counter] = [item for item in items if item["pk"] == "counter"]
    assert all(int(entry["sk"]) <= int(counter["next"]) for entry in listed)
    assert {item["pk"] for item in items} <= {"counter", "list", *(f"todo#{i}" for i in by_id)}
    ordered = sorted(listed, key=lambda entry: int(entry["sk"]))
    return [{"id": entry["id"], "data": entry["data"]} for entry in ordered]


def _post(client: FlaskClient, data: str) -> Any:
    return client.post("/todo", data={"data": data})


def _settled(server: LocalDynamoDb, table: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """The table once it stops changing: a server that was paused still works off the requests
    it had queued (their callers gave up long ago)."""
    deadline = time.monotonic() + timeout
    seen = [_raw(server, table)]
    while len(seen) < 3 or any(other != seen[-1] for other in seen[-3:]):
        assert time.monotonic() < deadline, "the table kept changing"
        time.sleep(0.2)
        seen.append(_raw(server, table))
    return seen[-1]


# The tests that take the `client` or `store` fixtures, on a table of the session's server.
on_dynamodb = pytest.mark.parametrize("backend", ["dynamodb"], indirect=True)


# --- the table as DynamoDB holds it ------------------------------------------------------------


@on_dynamodb
def test_items_and_counter_as_stored(
    client: FlaskClient, store_settings: dict[str, Any], dynamodb_server: LocalDynamoDb
) -> None:
    a, b, c = (_post(client, name).get_json() for name in ("a", "b", "c"))
    assert client.delete(f"/todo/{b['id']}").status_code == 204
    assert _raw(dynamodb_server, store_settings["TODO_TABLE"]) == [
        {"pk": "counter", "sk": "0", "next": "3"},
        {"pk": "list", "sk": "1", "id": a["id"], "data": "a"},
        {"pk": "list", "sk": "3", "id": c["id"], "data": "c"},
        *sorted(
            [
                {"pk": f"todo#{a['id']}", "sk": "0", "id": a["id"], "data": "a", "seq": "1"},
                {"pk": f"todo#{c['id']}", "sk": "0", "id": c["id"], "data": "c", "seq": "3"},
            ],
            key=lambda item: item["pk"],
        ),
    ]


@on_dynamodb
def test_health_writes_nothing(
    client: FlaskClient, store_settings: dict[str, Any], dynamodb_server: LocalDynamoDb
) -> None:
    _post(client, "x")
    before = _raw(dynamodb_server, store_settings["TODO_TABLE"])
    for _ in range(3):
        response = client.get("/health")
        assert (response.status_code, response.get_json()) == (200, {"status": "ok"})
    assert _raw(dynamodb_server, store_settings["TODO_TABLE"]) == before


@on_dynamodb
def test_list_and_pages_join_the_parts_of_a_large_query(
    make_app: Callable[..., Flask], store_settings: dict[str, Any], dynamodb_server: LocalDynamoDb
) -> None:
    """DynamoDB answers a Query with at most 1 MB: 300 items of 4 KB come in parts, which the
    store joins, in order, for the whole list and for a page. (Written straight into the table:
    through the API it would take a while on the local server.)"""
    store = make_app().extensions["todo_store"]
    table = store_settings["TODO_TABLE"]
    raw = dynamodb_server.client()
    data = "\U0001f436" * 1000  # 4000 bytes
    expected = []
    for first in range(1, 301, 25):
        requests = []
        for seq in range(first, first + 25):
            todo_id = f"{seq:08x}"
            expected.append({"id": todo_id, "data": data})
            item = {"id": {"S": todo_id}, "data": {"S": data}}
            requests.append(
                {"PutRequest": {"Item": {"pk": {"S": "list"}, "sk": {"N": str(seq)}, **item}}}
            )
        raw.batch_write_item(RequestItems={table: requests})
    assert raw.query(
        TableName=table,
        KeyConditionExpression="pk = :l",
        ExpressionAttributeValues={":l": {"S": "list"}},
    ).get("LastEvaluatedKey"), "the local server should answer this Query in parts"

    assert [todo.as_json() for todo in store.list()] == expected
    page = store.page(280, None)
    assert [todo.as_json() for todo in page.items] == expected[:280]
    assert page.next_after == 280
    rest = store.page(280, page.next_after)
    assert ([todo.as_json() for todo in rest.items], rest.next_after) == (expected[280:], None)


# --- the table at start ------------------------------------------------------------------------


def test_the_table_is_created_once_and_only_when_asked(
    dynamodb_server: LocalDynamoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_boto3_at(monkeypatch, dynamodb_server.endpoint)
    settings = dynamodb_settings()
    table = settings["TODO_TABLE"]
    created = [create_app({**settings}) for _ in range(2)]  # the second finds it there
    described = dynamodb_server.client().describe_table(TableName=table)["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    other = dynamodb_settings()
    app = create_app({**other, "TODO_CREATE_TABLE": False})
    created.append(app)
    response = app.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["reason"] == (
        f"DynamoDB table {other['TODO_TABLE']!r} not found at {dynamodb_server.endpoint}"
    )
    assert other["TODO_TABLE"] not in dynamodb_server.client().list_tables()["TableNames"]
    for each in created:
        each.extensions["todo_store"].close()


def test_gunicorn_refuses_to_start_without_its_table(
    tmp_path: Path, dynamodb_server: LocalDynamoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_boto3_at(monkeypatch, dynamodb_server.endpoint)
    settings = {**dynamodb_settings(), "TODO_CREATE_TABLE": False}
    server = Gunicorn(tmp_path, tmp_path / "unused.db", workers=2, settings=settings)
    result = subprocess.run(
        [sys.executable, "-m", "todo"],
        env=server.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert (
        f"todo cannot start: DynamoDB table {settings['TODO_TABLE']!r} not found at "
        f"{dynamodb_server.endpoint}"
    ) in result.stderr


# --- DynamoDB stopped, hung, throttling --------------------------------------------------------


@pytest.fixture
def app_on_own_server(own_dynamodb: LocalDynamoDb) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            **dynamodb_settings(),
            "TODO_DYNAMODB_TIMEOUT_MS": TIMEOUT_MS,
            "TODO_DYNAMODB_MAX_ATTEMPTS": ATTEMPTS,
        }
    )
    yield app
    app.extensions["todo_store"].close()


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _assert_unavailable(client: FlaskClient, todo_id: str) -> None:
    for method, path in (
        ("POST", "/todo"),
        ("GET", "/todo"),
        ("GET", "/todo?limit=2"),
        ("GET", f"/todo/{todo_id}"),
        ("DELETE", f"/todo/{todo_id}"),
    ):
        kwargs = {"data": {"data": "while down"}} if method == "POST" else {}
        response, elapsed = _timed(lambda m=method, p=path, k=kwargs: client.open(p, method=m, **k))
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE), (method, path)
        assert response.headers["Retry-After"] == "1"
        assert elapsed < CALL_BOUND_S, f"{method} {path} took {elapsed:.2f}s"


def test_stopped_dynamodb_is_503_and_health_says_so(
    app_on_own_server: Flask, own_dynamodb: LocalDynamoDb
) -> None:
    client = app_on_own_server.test_client()
    kept = _post(client, "before").get_json()
    own_dynamodb.stop()

    _assert_unavailable(client, kept["id"])
    response, elapsed = _timed(lambda: client.get("/health"))
    assert response.status_code == 503
    endpoint = own_dynamodb.endpoint
    assert response.get_json() == {
        "status": "unavailable",
        "message": "Storage unavailable",
        "reason": f"DynamoDB at {endpoint} did not answer PutItem: Could not connect to the "
        f'endpoint URL: "{endpoint}/"',
    }
    assert elapsed < HEALTH_BOUND_S


def test_hung_dynamodb_is_503_in_bounded_time_and_nothing_is_half_written(
    app_on_own_server: Flask, own_dynamodb: LocalDynamoDb
) -> None:
    client = app_on_own_server.test_client()
    acknowledged = [_post(client, f"before {n}").get_json() for n in range(3)]
    own_dynamodb.pause()
    try:
        _assert_unavailable(client, acknowledged[0]["id"])
        response, elapsed = _timed(lambda: client.get("/health"))
        assert response.status_code == 503
        endpoint = own_dynamodb.endpoint
        assert response.get_json()["reason"] == (
            f"DynamoDB at {endpoint} did not answer PutItem: "
            f'Read timeout on endpoint URL: "{endpoint}/"'
        )
        assert elapsed < HEALTH_BOUND_S
    finally:
        own_dynamodb.resume()

    # The requests the server answers too late may still take effect, as in DynamoDB after a
    # timeout: here only counter increments, since every POST gave up on its first call. Each
    # todo is whole or not there, and nothing that was answered 503 was stored.
    table = app_on_own_server.config["TODO_TABLE"]
    stored = _assert_nothing_half_written(_settled(own_dynamodb, table))
    assert stored == acknowledged
    assert client.get("/health").status_code == 200
    assert client.get("/todo").get_json() == acknowledged


THROTTLED = {
    "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "message": "The level of configured provisioned throughput for the table was exceeded. "
    "Consider increasing your provisioning level with the UpdateTable API.",
}


class _Throttling(BaseHTTPRequestHandler):
    """Answers every call as a DynamoDB table over its capacity does. The local server never
    throttles, so this stands in for DynamoDB for that one answer; it counts the calls."""

    calls: list[str]

    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.calls.append(self.headers.get("X-Amz-Target", ""))
        body = json.dumps(THROTTLED).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("x-amzn-RequestId", "THROTTLED0000000000000000000000000000000000000000")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def throttling_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    handler = type("Handler", (_Throttling,), {"calls": calls})
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    point_boto3_at(monkeypatch, f"http://127.0.0.1:{port}")
    try:
        yield calls
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_throttling_is_503_with_retry_after_after_bounded_retries(
    throttling_endpoint: list[str],
) -> None:
    app = create_app(
        {
            "TESTING": True,
            **dynamodb_settings("todo"),
            "TODO_CREATE_TABLE": False,
            "TODO_DYNAMODB_TIMEOUT_MS": TIMEOUT_MS,
            "TODO_DYNAMODB_MAX_ATTEMPTS": ATTEMPTS,
        }
    )
    client = app.test_client()
    try:
        response, elapsed = _timed(lambda: _post(client, "x"))
        assert (response.status_code, response.get_json()) == (503, UNAVAILABLE)
        assert response.headers["Retry-After"] == "1"
        assert elapsed < CALL_BOUND_S
        # botocore retried the counter's UpdateItem once, then gave up: no transaction was sent.
        assert throttling_endpoint == ["DynamoDB_20120810.UpdateItem"] * ATTEMPTS

        response = client.get("/health")
        assert response.status_code == 503
        assert response.get_json()["reason"] == (
            "DynamoDB is throttling PutItem on 'todo' (ProvisionedThroughputExceededException)"
        )
        assert throttling_endpoint[ATTEMPTS:] == ["DynamoDB_20120810.PutItem"]  # one attempt
    finally:
        app.extensions["todo_store"].close()


def test_missing_credentials_are_a_clear_storage_error(
    dynamodb_server: LocalDynamoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_boto3_at(monkeypatch, dynamodb_server.endpoint)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to look for here
    with pytest.raises(StorageError) as raised:
        create_app(dynamodb_settings())
    assert str(raised.value) == "no AWS credentials for DynamoDB: Unable to locate credentials"


def test_gunicorn_on_dynamodb_answers_through_real_workers(
    tmp_path: Path, dynamodb_server: LocalDynamoDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two servers on one table stand for the two instances: each reads what the other wrote."""
    point_boto3_at(monkeypatch, dynamodb_server.endpoint)
    settings = dynamodb_settings()
    servers = []
    try:
        for name in ("a", "b"):
            workdir = tmp_path / name
            workdir.mkdir()
            server = Gunicorn(workdir, workdir / "unused.db", workers=2, settings=settings)
            server.start()
            servers.append(server)
        a, b = (httpx.Client(base_url=server.base_url, timeout=10) for server in servers)
        written = [
            a.post("/todo", data={"data": "on a"}).json(),
            b.post("/todo", data={"data": "on b"}).json(),
        ]
        for http in (a, b):
            assert http.get("/todo").json() == written
            assert http.get(f"/todo/{written[0]['id']}").json() == written[0]
        assert b.delete(f"/todo/{written[0]['id']}").status_code == 204
        assert a.get(f"/todo/{written[0]['id']}").status_code == 404
    finally:
        for server in servers:
            server.stop()

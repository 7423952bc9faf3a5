"""The public `global` HTTP API on the published port: the providers' contracts (SPEC 3, SPEC 9)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from .stack import MTLS_API_ID

pytestmark = pytest.mark.e2e

TODO_ID = re.compile(r"[0-9a-f]{8}")
GENDERS = {"/dogs": {"male", "female"}, "/dogs/males": {"male"}, "/dogs/females": {"female"}}


@pytest.mark.parametrize("path", sorted(GENDERS))
def test_dogs(public_api: httpx.Client, path: str) -> None:
    response = public_api.get(path)
    assert response.status_code == 200, response.text
    dog = response.json()
    assert set(dog) == {"Name", "Gender"}
    assert dog["Gender"] in GENDERS[path]
    assert isinstance(dog["Name"], str)
    assert dog["Name"]
    # An HTTP API names its request id apigw-requestid.
    assert response.headers.get("apigw-requestid")


def test_dogs_are_random(public_api: httpx.Client) -> None:
    names = {public_api.get("/dogs").json()["Name"] for _ in range(30)}
    assert len(names) > 1


@pytest.mark.parametrize("encoding", ["form", "json"])
def test_todo_created_and_read_back(public_api: httpx.Client, encoding: str) -> None:
    data = f"global e2e {uuid.uuid4()}"
    if encoding == "form":
        response = public_api.post("/todo", data={"data": data})
    else:
        response = public_api.post("/todo", json={"data": data})
    assert response.status_code == 201, response.text
    created = response.json()
    assert TODO_ID.fullmatch(created["id"]), created
    assert created == {"id": created["id"], "data": data}

    read = public_api.get(f"/todo/{created['id']}")
    assert read.status_code == 200, read.text
    assert read.json() == created
    assert created in public_api.get("/todo").json()


def test_todo_list_is_oldest_first(public_api: httpx.Client) -> None:
    created = [
        public_api.post("/todo", json={"data": f"order {i} {uuid.uuid4()}"}).json()
        for i in range(3)
    ]
    listed = public_api.get("/todo").json()
    positions = [listed.index(item) for item in created]
    assert positions == sorted(positions)


@pytest.mark.parametrize("api", ["public_api", "mtls_api"])
def test_todo_list_in_pages_follows_the_link(request: pytest.FixtureRequest, api: str) -> None:
    """`?limit=` pages, joined by following each `Link: <...>; rel="next"` as the gateway passed
    it on (a relative reference, resolved against the URL asked: right behind the mtls API's
    `/prod` stage too), add up to the whole list."""
    client: httpx.Client = request.getfixturevalue(api)
    for i in range(5):
        client.post("/todo", json={"data": f"paged {i} {uuid.uuid4()}"})
    whole = client.get("/todo")
    assert "link" not in whole.headers
    limit = max(2, len(whole.json()) // 4)  # a few pages, however many items earlier tests left
    pages: list[list[dict[str, str]]] = []
    url: str | None = str(client.base_url.join(f"/todo?limit={limit}"))
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = (
            str(response.url.join(response.links["next"]["url"]))
            if "link" in response.headers
            else None
        )
        assert len(pages) <= 1000
    assert [item for page in pages for item in page] == whole.json()
    assert len(pages) >= 3
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


def test_todo_deleted(public_api: httpx.Client) -> None:
    created = public_api.post("/todo", data={"data": "to be deleted"}).json()
    response = public_api.delete(f"/todo/{created['id']}")
    assert response.status_code == 204, response.text
    missing = public_api.get(f"/todo/{created['id']}")
    assert missing.status_code == 404
    assert missing.json() == {"message": f"Todo {created['id']} doesn't exist"}


@pytest.mark.parametrize("todo_id", ["ffffffff", "no-such-id"])
def test_unknown_todo(public_api: httpx.Client, todo_id: str) -> None:
    response = public_api.get(f"/todo/{todo_id}")
    assert response.status_code == 404
    assert response.json() == {"message": f"Todo {todo_id} doesn't exist"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, 'Missing \'data\': send it as a form field (data=...) or as JSON {"data": "..."}'),
        ({"data": {"data": "   "}}, "'data' must not be empty"),
        ({"json": {"data": "x" * 1001}}, "'data' is longer than 1000 characters"),
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            "Malformed JSON body",
        ),
    ],
    ids=["missing", "empty", "too-long", "malformed-json"],
)
def test_bad_todo_is_refused_and_not_stored(
    public_api: httpx.Client, kwargs: dict[str, object], message: str
) -> None:
    before = public_api.get("/todo").json()
    response = public_api.post("/todo", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 400, response.text
    assert response.json() == {"message": message}
    assert public_api.get("/todo").json() == before


def test_unknown_route_of_the_http_api(public_api: httpx.Client) -> None:
    response = public_api.get("/cats")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_host_is_outside_every_vpc(public_api: httpx.Client) -> None:
    """Host traffic reaches the gateway on the edge network, through no VPC endpoint: the private
    mtls API answers as API Gateway does for a private API reached without one."""
    response = public_api.get("/prod/dogs", headers={"x-apigw-api-id": MTLS_API_ID})
    assert response.status_code == 403, response.text
    assert response.json() == {"message": "Forbidden"}


def test_ordinary_use_is_not_throttled(public_api: httpx.Client) -> None:
    """No throttling configured: API Gateway's account default (10,000 requests/s, burst 5,000)
    is all that applies, so 600 quick sequential calls all pass."""
    statuses = {public_api.get("/dogs").status_code for _ in range(600)}
    assert statuses == {200}


@pytest.mark.parametrize("size", [200 * 1024, 2 * 1024 * 1024], ids=["200KB", "2MB"])
@pytest.mark.parametrize("api", ["public_api", "mtls_api"])
def test_todos_413_for_a_large_body_reaches_the_caller(
    request: pytest.FixtureRequest, api: str, size: int
) -> None:
    """ToDo refuses a body over its 64 KiB limit before reading it; the caller gets ToDo's answer
    through the gateway (HTTP API) and through the proxy and the mtls REST API, and nothing is
    stored."""
    client: httpx.Client = request.getfixturevalue(api)
    before = client.get("/todo").json()
    response = client.post("/todo", data={"data": "x" * size})
    assert response.status_code == 413, response.text
    assert response.json() == {"message": "Request body is larger than 65536 bytes"}
    assert client.get("/todo").json() == before

"""The direct answers (DirectRoutes) are the answers FastAPI itself gives for the same routes."""

from collections.abc import Iterator

import httpx
import pytest
from dog_names import Settings, create_app
from dog_names.names import Dog, Gender, Kennel
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

DIRECT_PATHS = ["/dogs/males", "/dogs/females", "/health"]
ONE_DOG_EACH = {"male": ("Rex",), "female": ("Bella",)}


def _through_fastapi(app: FastAPI) -> ASGIApp:
    """The same app, every request served by FastAPI's own machinery (no direct answers)."""

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        await FastAPI.__call__(app, scope, receive, send)

    return asgi


@pytest.fixture
def pair() -> Iterator[tuple[TestClient, TestClient]]:
    app = create_app(Settings(), kennel=Kennel(ONE_DOG_EACH))
    with TestClient(app) as direct, TestClient(_through_fastapi(app)) as framework:
        yield direct, framework


Wire = tuple[int, tuple[tuple[str, str], ...], bytes]


def _wire(response: httpx.Response) -> Wire:
    headers = tuple((k, v) for k, v in response.headers.multi_items() if k != "date")
    return response.status_code, headers, response.content


@pytest.mark.parametrize("path", [*DIRECT_PATHS, "/dogs/males?x=1&y", "/dog%73/females"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_direct_answer_is_fastapis_answer(
    pair: tuple[TestClient, TestClient], method: str, path: str
) -> None:
    direct, framework = pair
    headers = {"X-Request-Id": "same-id"}
    assert _wire(direct.request(method, path, headers=headers)) == _wire(
        framework.request(method, path, headers=headers)
    )


def test_dogs_direct_answers_are_fastapis(pair: tuple[TestClient, TestClient]) -> None:
    direct, framework = pair
    headers = {"X-Request-Id": "same-id"}
    by_framework = {_wire(framework.get("/dogs", headers=headers)) for _ in range(60)}
    by_direct = {_wire(direct.get("/dogs", headers=headers)) for _ in range(60)}
    assert len(by_framework) == 2  # Rex and Bella
    assert by_direct == by_framework


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_root_path_is_left_to_fastapi(method: str) -> None:
    app = create_app(Settings(), kennel=Kennel(ONE_DOG_EACH))
    with TestClient(app, root_path="/prefix") as client:
        response = client.request(method, "/prefix/dogs/males", headers={"X-Request-Id": "r"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "r"
    assert response.headers["content-length"] == "30"
    assert response.content == (b"" if method == "HEAD" else b'{"Name":"Rex","Gender":"male"}')


def test_a_dog_outside_the_lists_is_rendered_when_picked() -> None:
    class Stray(Kennel):
        def random_dog(self, gender: Gender | None = None) -> Dog:
            return Dog(name="Ünknown", gender=gender or "male")

    with TestClient(create_app(Settings(), kennel=Stray(ONE_DOG_EACH))) as client:
        response = client.get("/dogs/females")
    assert response.status_code == 200
    assert response.content == '{"Name":"Ünknown","Gender":"female"}'.encode()


def _scope(**overrides: object) -> Scope:
    return {"type": "http", "method": "GET", "path": "/dogs", "root_path": "", **overrides}


@pytest.mark.parametrize(
    ("scope", "direct"),
    [
        (_scope(), True),
        (_scope(method="HEAD", path="/health"), True),
        (_scope(method="POST"), False),
        (_scope(method="OPTIONS", path="/health"), False),
        (_scope(path="/dogs/"), False),
        (_scope(path="/openapi.json"), False),
        (_scope(root_path="/prefix", path="/prefix/dogs"), False),
        ({"type": "websocket", "path": "/dogs"}, False),
        ({"type": "lifespan"}, False),
    ],
)
def test_which_requests_are_answered_directly(scope: Scope, direct: bool) -> None:
    app = create_app(Settings(), kennel=Kennel(ONE_DOG_EACH))
    assert app.direct_routes.handles(scope) is direct

"""SPEC 3, Dog Names: the wire contract against the real app."""

import pytest
from dog_names import Settings, create_app
from dog_names.names import Kennel
from fastapi.testclient import TestClient

DOG_PATHS = ["/dogs", "/dogs/males", "/dogs/females"]
ALL_PATHS = [*DOG_PATHS, "/health"]
SAMPLES = 200


@pytest.mark.parametrize(("path", "gender"), [("/dogs/males", "male"), ("/dogs/females", "female")])
def test_gendered_path_only_returns_that_gender(
    client: TestClient, kennel: Kennel, path: str, gender: str
) -> None:
    for _ in range(SAMPLES):
        response = client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert list(body) == ["Name", "Gender"]
        assert body["Gender"] == gender
        assert body["Name"] in kennel.names(gender)  # type: ignore[arg-type]


def test_dogs_returns_both_genders(client: TestClient, kennel: Kennel) -> None:
    seen = set()
    for _ in range(SAMPLES):
        response = client.get("/dogs")
        assert response.status_code == 200
        body = response.json()
        assert list(body) == ["Name", "Gender"]
        assert body["Name"] in kennel.names(body["Gender"])
        seen.add(body["Gender"])
    assert seen == {"male", "female"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/dogs/males", '{"Name":"Rex","Gender":"male"}'),
        ("/dogs/females", '{"Name":"Bella","Gender":"female"}'),
    ],
)
def test_exact_body(path: str, expected: str) -> None:
    kennel = Kennel({"male": ("Rex",), "female": ("Bella",)})
    with TestClient(create_app(Settings(), kennel=kennel)) as client:
        response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == expected


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_lists_the_contract(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {path: sorted(ops) for path, ops in document["paths"].items()} == {
        path: ["get"] for path in ALL_PATHS
    }
    dog_schema = document["components"]["schemas"]["DogOut"]
    assert dog_schema["required"] == ["Name", "Gender"]
    assert dog_schema["properties"]["Gender"]["enum"] == ["male", "female"]


@pytest.mark.parametrize(
    "path",
    ["/", "/dog", "/dogs/", "/dogs/male", "/dogs/males/1", "/DOGS", "/docs", "/redoc", "/todo"],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_path_is_404_json(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize("path", [*ALL_PATHS, "/openapi.json"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_405_json(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/json"
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"message": "Method Not Allowed"}


@pytest.mark.parametrize("path", ALL_PATHS)
def test_head_is_get_without_body(client: TestClient, path: str) -> None:
    response = client.head(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


class _BrokenKennel(Kennel):
    def random_dog(self, gender=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("bug")


def test_unexpected_error_is_500_json() -> None:
    kennel = _BrokenKennel({"male": ("Rex",), "female": ("Bella",)})
    app = create_app(Settings(), kennel=kennel)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/dogs")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}

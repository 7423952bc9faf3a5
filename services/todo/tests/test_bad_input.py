"""Bad input: the documented 400/404 answer, and the store unchanged after each."""

import io
from typing import Any

import pytest
from flask.testing import FlaskClient

MISSING = 'Missing \'data\': send it as a form field (data=...) or as JSON {"data": "..."}'
EMPTY = "'data' must not be empty"
TOO_LONG = "'data' is longer than 1000 characters"
MALFORMED = "Malformed JSON body"
NOT_OBJECT = 'JSON body must be an object: {"data": "..."}'
NOT_STRING = "'data' must be a string"
NOT_UNICODE = "'data' must be valid Unicode text"
FILE_NOT_FIELD = "'data' must be a form field, not a file upload"


def _unsupported(mimetype: str) -> str:
    return (
        f"Unsupported Content-Type {mimetype}: send application/x-www-form-urlencoded, "
        "multipart/form-data or application/json"
    )


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

BAD_POSTS: list[tuple[str, dict[str, Any], str]] = [
    ("bare-post", {}, MISSING),
    ("form-without-data", {"data": {"other": "x"}}, MISSING),
    ("form-empty", {"data": {"data": ""}}, EMPTY),
    ("form-whitespace", {"data": {"data": " \t\n "}}, EMPTY),
    ("form-too-long", {"data": {"data": "x" * 1001}}, TOO_LONG),
    ("multipart-empty", {"data": {"data": ""}, "content_type": "multipart/form-data"}, EMPTY),
    (
        "multipart-file-not-field",
        {"data": {"data": (io.BytesIO(b"x"), "a.txt")}, "content_type": "multipart/form-data"},
        FILE_NOT_FIELD,
    ),
    ("json-no-data", {"json": {}}, MISSING),
    ("json-other-key", {"json": {"Data": "x"}}, MISSING),
    ("json-empty", {"json": {"data": ""}}, EMPTY),
    ("json-whitespace", {"json": {"data": "   "}}, EMPTY),
    ("json-too-long", {"json": {"data": "\u00e9" * 1001}}, TOO_LONG),
    ("json-null", {"json": {"data": None}}, NOT_STRING),
    ("json-number", {"json": {"data": 5}}, NOT_STRING),
    ("json-list", {"json": {"data": ["x"]}}, NOT_STRING),
    ("json-array-body", {"json": ["x"]}, NOT_OBJECT),
    ("json-string-body", {"json": "x"}, NOT_OBJECT),
    ("json-number-body", {"json": 5}, NOT_OBJECT),
    ("json-truncated", {"data": '{"data": "x"', "content_type": JSON}, MALFORMED),
    ("json-empty-body", {"data": "", "content_type": JSON}, MALFORMED),
    ("json-form-encoded", {"data": "data=x", "content_type": JSON}, MALFORMED),
    ("json-not-utf8", {"data": b'{"data": "\xff"}', "content_type": JSON}, MALFORMED),
    ("json-lone-surrogate", {"data": '{"data": "\\ud800"}', "content_type": JSON}, NOT_UNICODE),
    ("text-plain", {"data": "data=x", "content_type": "text/plain"}, _unsupported("text/plain")),
    (
        "xml",
        {"data": "<data>x</data>", "content_type": "application/xml"},
        _unsupported("application/xml"),
    ),
    ("no-content-type", {"data": "data=x", "content_type": ""}, _unsupported("none")),
]


@pytest.fixture
def existing(client: FlaskClient) -> list[dict[str, str]]:
    """One item stored before the bad request, so 'unchanged' is not just 'still empty'."""
    assert client.post("/todo", data={"data": "keep me"}).status_code == 201
    return client.get("/todo").get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [pytest.param(kwargs, message, id=name) for name, kwargs, message in BAD_POSTS],
)
def test_bad_post_is_400_and_stores_nothing(
    client: FlaskClient, existing: list[dict[str, str]], kwargs: dict[str, Any], message: str
) -> None:
    response = client.post("/todo", **kwargs)
    assert response.status_code == 400
    assert response.content_type == "application/json"
    assert response.get_json() == {"message": message}
    assert client.get("/todo").get_json() == existing


def test_limit_is_configurable(make_app: Any) -> None:
    client = make_app(TODO_MAX_DATA_LENGTH=5).test_client()
    assert client.post("/todo", data={"data": "12345"}).status_code == 201
    response = client.post("/todo", data={"data": "123456"})
    assert response.status_code == 400
    assert response.get_json() == {"message": "'data' is longer than 5 characters"}


# (path as sent, id as the service decodes it)
ODD_IDS = [
    ("..%2f", "../"),
    ("%2e%2e%2f%2e%2e%2fetc%2fpasswd", "../../etc/passwd"),
    ("%00", "\x00"),
    ("dead%00beef", "dead\x00beef"),
    ("%C3%BCn%C3%AFc%C3%B6d%C3%A9", "\u00fcn\u00efc\u00f6d\u00e9"),
    ("%F0%9F%90%B6", "\U0001f436"),
    ("a" * 100, "a" * 100),
    ("DEADBEEF", "DEADBEEF"),
    ("deadbee", "deadbee"),
    ("deadbeef0", "deadbeef0"),
    ("dead%20beef", "dead beef"),
    ("x/y", "x/y"),
    ("%27%3B%20DROP%20TABLE%20todos%3B--", "'; DROP TABLE todos;--"),
    ("%25", "%"),
]


@pytest.mark.parametrize(("raw", "decoded"), ODD_IDS, ids=[raw[:20] for raw, _ in ODD_IDS])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_odd_id_is_404_with_message(
    client: FlaskClient,
    existing: list[dict[str, str]],
    method: str,
    raw: str,
    decoded: str,
) -> None:
    response = client.open(f"/todo/{raw}", method=method)
    assert response.status_code == 404
    assert response.content_type == "application/json"
    assert response.get_json() == {"message": f"Todo {decoded} doesn't exist"}
    assert client.get("/todo").get_json() == existing

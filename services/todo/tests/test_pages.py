"""`GET /todo?limit=&next=`: pages of the list on each backend, the Link header, the token, and
the reference contract (a plain list, no Link) when no page is asked for."""

from typing import Any
from urllib.parse import urljoin

import pytest
from flask.testing import FlaskClient
from todo.paging import PagingError, decode_token, encode_token, next_link

from .conftest import BACKENDS

BAD_LIMIT = "'limit' must be a whole number from 1 to 1000"
BAD_TOKEN = "'next' is not a token this API issued"


def _create(client: FlaskClient, count: int, prefix: str = "item") -> list[dict[str, str]]:
    created = []
    for n in range(count):
        response = client.post("/todo", data={"data": f"{prefix} {n}"})
        assert response.status_code == 201
        created.append(response.get_json())
    return created


def _next_url(response: Any, base: str) -> str | None:
    links = response.headers.getlist("Link")
    if not links:
        return None
    [link] = links
    target, rel = link.split(";", 1)
    assert rel.strip() == 'rel="next"'
    return urljoin(base, target.strip().strip("<>"))


def _walk(client: FlaskClient, url: str) -> list[list[dict[str, str]]]:
    pages = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_json())
        next_url = _next_url(response, next_url)
        assert len(pages) < 50
    return pages


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
class TestPages:
    def test_without_limit_or_next_the_whole_list_and_no_link(self, client: FlaskClient) -> None:
        created = _create(client, 3)
        response = client.get("/todo")
        assert response.get_json() == created
        assert "Link" not in response.headers

    def test_pages_follow_the_link_to_the_end(self, client: FlaskClient) -> None:
        created = _create(client, 7)
        first = client.get("/todo?limit=3")
        assert first.status_code == 200
        assert first.get_json() == created[:3]
        assert first.headers["Link"].startswith("<?limit=3&next=")
        pages = _walk(client, "/todo?limit=3")
        assert pages == [created[:3], created[3:6], created[6:]]

    def test_a_page_that_ends_the_list_has_no_link(self, client: FlaskClient) -> None:
        created = _create(client, 4)
        assert _walk(client, "/todo?limit=4") == [created]
        assert _walk(client, "/todo?limit=1000") == [created]

    def test_empty_list_is_one_empty_page(self, client: FlaskClient) -> None:
        response = client.get("/todo?limit=5")
        assert (response.status_code, response.get_json()) == (200, [])
        assert "Link" not in response.headers

    def test_deletes_and_additions_while_paging(self, client: FlaskClient) -> None:
        created = _create(client, 6)
        first = client.get("/todo?limit=2")
        next_url = _next_url(first, "/todo?limit=2")
        assert next_url is not None
        # Delete one already shown and one not shown yet; add one at the end.
        for gone in (created[0], created[3]):
            assert client.delete(f"/todo/{gone['id']}").status_code == 204
        [added] = _create(client, 1, prefix="late")
        rest = _walk(client, next_url)
        assert [item for page in rest for item in page] == [
            created[2],
            created[4],
            created[5],
            added,
        ]

    def test_next_without_limit_takes_the_largest_page(self, client: FlaskClient) -> None:
        created = _create(client, 3)
        after_first = encode_token(1)  # items are numbered from 1 in creation order
        response = client.get(f"/todo?next={after_first}")
        assert response.get_json() == created[1:]
        assert "Link" not in response.headers

    @pytest.mark.parametrize(
        "query", ["limit=0", "limit=-1", "limit=1001", "limit=ten", "limit=", "limit=1.5"]
    )
    def test_bad_limit_is_400(self, client: FlaskClient, query: str) -> None:
        response = client.get(f"/todo?{query}")
        assert (response.status_code, response.get_json()) == (400, {"message": BAD_LIMIT})

    @pytest.mark.parametrize("token", ["", "abc", "djE6MA", "djI6NQ", "djE6NQ==", "%ff"])
    def test_bad_token_is_400(self, client: FlaskClient, token: str) -> None:
        response = client.get(f"/todo?limit=2&next={token}")
        assert (response.status_code, response.get_json()) == (400, {"message": BAD_TOKEN})


def test_token_round_trip_and_link() -> None:
    for after in (1, 42, 10**17):
        assert decode_token(encode_token(after)) == after
    assert encode_token(42) == "djE6NDI"  # base64url("v1:42"), unpadded
    assert next_link(50, 42) == '<?limit=50&next=djE6NDI>; rel="next"'
    with pytest.raises(PagingError):
        decode_token(encode_token(42) + "=")

from __future__ import annotations

import pytest
from gateway.routing import (
    ApiSelection,
    Route,
    RouteTable,
    SelectionOutcome,
    remove_dot_segments,
    select_api,
    split_stage,
)

KNOWN = ("globalapi1", "partnerap1", "mtlsapi001")


@pytest.mark.parametrize(
    "host, header, expected",
    [
        (
            "partnerap1.execute-api.us-east-1.amazonaws.com",
            None,
            ApiSelection(SelectionOutcome.SELECTED, "partnerap1", "host"),
        ),
        (
            "PartnerAP1.Execute-Api.us-east-1.amazonaws.com:443",
            None,
            ApiSelection(SelectionOutcome.SELECTED, "partnerap1", "host"),
        ),
        (
            "mtlsapi001-vpce-01111111111111111.execute-api.us-east-1.amazonaws.com",
            None,
            ApiSelection(SelectionOutcome.SELECTED, "mtlsapi001", "host"),
        ),
        # the host names the API: the header does not override it
        (
            "mtlsapi001.execute-api.us-east-1.amazonaws.com",
            "partnerap1",
            ApiSelection(SelectionOutcome.SELECTED, "mtlsapi001", "host"),
        ),
        (
            "nosuchapi1.execute-api.us-east-1.amazonaws.com",
            None,
            ApiSelection(SelectionOutcome.UNKNOWN_API, "nosuchapi1", "host"),
        ),
        (
            "partnerap1.execute-api.eu-west-1.amazonaws.com",
            None,
            ApiSelection(SelectionOutcome.UNKNOWN_API, "partnerap1", "host"),
        ),
        (
            "vpce-01111111111111111-abcdefgh.execute-api.us-east-1.vpce.amazonaws.com",
            "partnerap1",
            ApiSelection(SelectionOutcome.SELECTED, "partnerap1", "header"),
        ),
        (
            "gateway:8080",
            "mtlsapi001",
            ApiSelection(SelectionOutcome.SELECTED, "mtlsapi001", "header"),
        ),
        (
            "gateway:8080",
            "unknown123",
            ApiSelection(SelectionOutcome.UNKNOWN_API, "unknown123", "header"),
        ),
        ("127.0.0.1:8080", None, ApiSelection(SelectionOutcome.SELECTED, "globalapi1", "default")),
        (None, None, ApiSelection(SelectionOutcome.SELECTED, "globalapi1", "default")),
    ],
)
def test_select_api(host: str | None, header: str | None, expected: ApiSelection) -> None:
    selection = select_api(
        host=host,
        api_id_header=header,
        region="us-east-1",
        known_api_ids=KNOWN,
        default_api_id="globalapi1",
    )
    assert selection == expected


def test_select_api_without_default() -> None:
    selection = select_api(
        host="localhost",
        api_id_header=None,
        region="us-east-1",
        known_api_ids=KNOWN,
        default_api_id=None,
    )
    assert selection.outcome is SelectionOutcome.NO_API


@pytest.mark.parametrize(
    "path, stage_in_path, expected",
    [
        ("/prod/dogs", True, "/dogs"),
        ("/prod", True, "/"),
        ("/prod/", True, "/"),
        ("/beta/dogs", True, None),
        ("/", True, None),
        ("/production/dogs", True, None),
        ("/dogs", False, "/dogs"),
        ("", False, "/"),
    ],
)
def test_split_stage(path: str, stage_in_path: bool, expected: str | None) -> None:
    assert split_stage(path, "prod", stage_in_path=stage_in_path) == expected


REST_ROUTES = [
    Route("/", "GET", "root"),
    Route("/dogs", "GET", "dogs"),
    Route("/dogs/males", "GET", "males"),
    Route("/dogs/{id}", "ANY", "dog-any"),
    Route("/dogs/{id}", "DELETE", "dog-delete"),
    Route("/dogs/{id}/toys/{toy}", "GET", "toy"),
    Route("/files/{proxy+}", "ANY", "files"),
    Route("/{proxy+}", "GET", "catch-all"),
]


@pytest.mark.parametrize(
    "method, path, data, params",
    [
        ("GET", "/", "root", {}),
        ("GET", "/dogs", "dogs", {}),
        ("GET", "/dogs/", "dogs", {}),
        ("GET", "/dogs/males", "males", {}),  # static beats {id}
        ("GET", "/dogs/rex", "dog-any", {"id": "rex"}),
        ("PATCH", "/dogs/rex", "dog-any", {"id": "rex"}),
        ("DELETE", "/dogs/rex", "dog-delete", {"id": "rex"}),  # a method beats ANY
        ("GET", "/dogs/rex/toys/ball", "toy", {"id": "rex", "toy": "ball"}),
        ("GET", "/dogs/a%2Fb", "dog-any", {"id": "a%2Fb"}),  # raw values, still encoded
        ("PUT", "/files/a/b/c.txt", "files", {"proxy": "a/b/c.txt"}),
        ("GET", "/cats/tom", "catch-all", {"proxy": "cats/tom"}),  # {param} beats greedy
        # resolved on the resource+method pair: /dogs/males has no POST, /dogs/{id} has ANY
        ("POST", "/dogs/males", "dog-any", {"id": "males"}),
    ],
)
def test_rest_route_matching(method: str, path: str, data: str, params: dict[str, str]) -> None:
    match = RouteTable(REST_ROUTES, http_api=False).match(method, path)
    assert match is not None
    assert (match.route.data, match.path_params) == (data, params)


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/dogs"),  # no resource with POST or ANY matches /dogs
        ("POST", "/cats"),
        ("POST", "/files"),  # /files/{proxy+} needs a segment; /{proxy+} has no POST
    ],
)
def test_rest_route_misses(method: str, path: str) -> None:
    assert RouteTable(REST_ROUTES, http_api=False).match(method, path) is None


# The tree measured on API Gateway in ministackorg/ministack#1423 (MOCK integrations, no auth).
MEASURED_ROUTES = [
    Route("/{proxy+}", "ANY", "proxy"),
    Route("/jobs/{operation_type}", "GET", "jobs-op"),
    Route("/cors_only", "OPTIONS", "cors"),
]


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("GET", "/jobs/reboot", "jobs-op"),  # exact resource+verb match wins
        ("POST", "/jobs", "proxy"),
        ("POST", "/jobs/reboot", "proxy"),  # declared verb mismatch
        ("GET", "/cors_only", "proxy"),  # OPTIONS-only resource
        ("OPTIONS", "/cors_only", "cors"),
    ],
)
def test_rest_resolves_on_the_resource_and_method_pair(method: str, path: str, data: str) -> None:
    """Measured on API Gateway (ministackorg/ministack#1423; floci-io/floci#3399 for a
    parameterised sibling): only an exact resource+method match keeps a request on the specific
    resource."""
    match = RouteTable(MEASURED_ROUTES, http_api=False).match(method, path)
    assert match is not None
    assert match.route.data == data


HTTP_ROUTES = [
    Route("/pets/dog/1", "GET", "dog-1"),
    Route("/pets/dog/{id}", "GET", "dog-id"),
    Route("/pets/{proxy+}", "GET", "pets-proxy"),
    Route("/{proxy+}", "ANY", "any-proxy"),
    Route("$default", "ANY", "default"),
]


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("GET", "/pets/dog/1", "dog-1"),
        ("GET", "/pets/dog/2", "dog-id"),
        ("GET", "/pets/cat/1", "pets-proxy"),
        # HTTP APIs consider only routes with the method: POST falls through to ANY /{proxy+}
        ("POST", "/pets/dog/1", "any-proxy"),
        ("GET", "/", "default"),
    ],
)
def test_http_api_route_matching(method: str, path: str, data: str) -> None:
    match = RouteTable(HTTP_ROUTES, http_api=True).match(method, path)
    assert match is not None
    assert match.route.data == data


STATIC_ROUTES = [
    Route("/dogs", "ANY", "dogs-any"),
    Route("/dogs", "GET", "dogs-get"),
    Route("/dogs", "GET", "dogs-get-again"),
    Route("/{name}", "POST", "name-post"),
    Route("/{proxy+}", "DELETE", "proxy-delete"),
]


@pytest.mark.parametrize("http_api", [False, True])
@pytest.mark.parametrize(
    "method, path, data",
    [
        ("GET", "/dogs", "dogs-get"),  # the same resource: a method beats ANY, the first one
        ("POST", "/dogs", "dogs-any"),  # the most specific resource first, then the method
        ("DELETE", "//dogs/", "dogs-any"),
        ("POST", "/cats", "name-post"),
    ],
)
def test_a_route_without_parameters_ranks_as_the_scan_does(
    http_api: bool, method: str, path: str, data: str
) -> None:
    match = RouteTable(STATIC_ROUTES, http_api=http_api).match(method, path)
    assert match is not None
    assert (match.route.data, match.path_params) == (
        data,
        {} if data != "name-post" else {"name": "cats"},
    )


def test_http_api_miss_without_default() -> None:
    table = RouteTable([Route("/dogs", "GET", "dogs")], http_api=True)
    assert table.match("POST", "/dogs") is None
    assert table.match("GET", "/cats") is None


@pytest.mark.parametrize("template", ["/a/{proxy+}/b", "/a/x{id}"])
def test_bad_templates_are_rejected(template: str) -> None:
    with pytest.raises(ValueError, match="segment"):
        RouteTable([Route(template, "GET")], http_api=False)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/prod/dogs", "/prod/dogs"),
        ("/prod/a/../dogs", "/prod/dogs"),
        ("/prod/./dogs/.", "/prod/dogs/"),
        ("/prod/dogs/..", "/prod/"),
        ("/../../prod/dogs", "/prod/dogs"),
        ("/prod/%2E%2e/x", "/x"),
        ("/prod/.%2E/x", "/x"),
        ("/prod/..%2F/x", "/prod/..%2F/x"),  # an escaped slash is part of the segment
        ("/prod//dogs", "/prod//dogs"),
        ("/..", "/"),
    ],
)
def test_remove_dot_segments(raw: str, expected: str) -> None:
    assert remove_dot_segments(raw) == expected

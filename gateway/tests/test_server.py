"""The running gateway (uvicorn subprocess) in front of the real providers: what needs real
sockets and real servers (real clients' signatures, providers that stop, hang or answer early,
bodies over the limit, the access log on stdout). Each stage's answers are specified in process,
in gateway/tests/pipeline/."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest
import requests
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from requests_aws4auth import AWS4Auth

from .conftest import MTLS_TOKEN, Stack, client_from, start_dog_names, stop, token_for

CONSUMER = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
PARTNER_HOST = "partnerap1.execute-api.us-east-1.amazonaws.com"
MTLS_HOST = "mtlsapi001.execute-api.us-east-1.amazonaws.com"
ELEVEN_MB = 11 * 1024 * 1024


def signed(
    method: str,
    url: str,
    *,
    credentials: tuple[str, str] = CONSUMER,
    host: str = PARTNER_HOST,
    body: bytes = b"",
) -> dict[str, str]:
    """Headers botocore's SigV4 signer adds for a call to `url` (Host as the API's name)."""
    request = AWSRequest(method=method, url=url, data=body, headers={"Host": host})
    SigV4Auth(Credentials(*credentials), "execute-api", "us-east-1").add_auth(request)
    return dict(request.headers.items())


# --- global: public HTTP API ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path, genders",
    [("/dogs", {"male", "female"}), ("/dogs/males", {"male"}), ("/dogs/females", {"female"})],
)
def test_global_dogs(stack: Stack, outside: httpx.Client, path: str, genders: set[str]) -> None:
    response = outside.get(stack.gateway_url + path)
    assert response.status_code == 200
    assert set(response.json()) == {"Name", "Gender"}
    assert response.json()["Gender"] in genders
    assert response.headers["apigw-requestid"]
    assert "x-amzn-requestid" not in response.headers


def test_global_todo_created_and_read_back(stack: Stack, outside: httpx.Client) -> None:
    created = outside.post(stack.gateway_url + "/todo", data={"data": "walk the dog"})
    assert created.status_code == 201
    item = created.json()
    assert item["data"] == "walk the dog"
    read = outside.get(f"{stack.gateway_url}/todo/{item['id']}")
    assert read.status_code == 200
    assert read.json() == item


# --- partner: private REST API, IAM -------------------------------------------------------


@pytest.mark.parametrize("path", ["/prod/dogs", "/prod/todo"])
@pytest.mark.parametrize("by", ["host", "x-apigw-api-id"])
def test_partner_signed_get_from_consumer_vpc(
    stack: Stack, consumer_vpc: httpx.Client, path: str, by: str
) -> None:
    url = stack.gateway_url + path
    if by == "host":
        headers = signed("GET", url)
    else:  # as through the endpoint's own DNS name: the URL's host is signed, the header routes
        host = url.split("/")[2]
        headers = {**signed("GET", url, host=host), "x-apigw-api-id": "partnerap1"}
    response = consumer_vpc.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["x-amzn-requestid"]
    assert response.headers["x-amz-apigw-id"]


def test_partner_signed_by_requests_aws4auth(stack: Stack, consumer_vpc: httpx.Client) -> None:
    """How the consumer Lambda signs: requests-aws4auth, the URL's host, x-apigw-api-id."""
    url = stack.gateway_url + "/prod/dogs/females"
    prepared = requests.Request("GET", url, headers={"x-apigw-api-id": "partnerap1"}).prepare()
    AWS4Auth(*CONSUMER, "us-east-1", "execute-api", session_token=None)(prepared)
    response = consumer_vpc.get(url, headers=dict(prepared.headers))
    assert response.status_code == 200, response.text
    assert response.json()["Gender"] == "female"


def test_partner_presigned_url(stack: Stack, consumer_vpc: httpx.Client) -> None:
    url = stack.gateway_url + "/prod/todo"
    request = AWSRequest(method="GET", url=url, headers={"Host": PARTNER_HOST})
    SigV4QueryAuth(Credentials(*CONSUMER), "execute-api", "us-east-1", expires=60).add_auth(request)
    assert "X-Amz-Signature=" in request.url
    response = consumer_vpc.get(request.url, headers={"Host": PARTNER_HOST})
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)


# --- mtls: private REST API behind the proxy ------------------------------------------------


def test_mtls_from_proxy_vpc(stack: Stack, proxy_vpc: httpx.Client) -> None:
    headers = {"Host": MTLS_HOST, "Authorization": MTLS_TOKEN}
    dog = proxy_vpc.get(stack.gateway_url + "/prod/dogs", headers=headers)
    assert dog.status_code == 200
    assert set(dog.json()) == {"Name", "Gender"}
    created = proxy_vpc.post(
        stack.gateway_url + "/prod/todo", data={"data": "via mtls"}, headers=headers
    )
    assert created.status_code == 201
    read = proxy_vpc.get(f"{stack.gateway_url}/prod/todo/{created.json()['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == created.json()


# --- throttling, failures, limits ------------------------------------------------------------


@pytest.fixture
def flaky_provider(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    process = start_dog_names(stack.flaky_port, stack.log_dir / "flaky.log")
    try:
        yield process
    finally:
        stop(process)


@pytest.mark.parametrize(
    "api_id, source, path, failure",
    [
        ("flakyrest1", "127.0.1.10", "/prod/dogs", (502, b'{"message": "Internal server error"}')),
        ("flakyhttp1", "127.0.0.1", "/dogs", (500, b'{"message":"Internal Server Error"}')),
    ],
)
def test_provider_stopped_fails_fast_and_recovers(
    stack: Stack,
    flaky_provider: subprocess.Popen[bytes],
    api_id: str,
    source: str,
    path: str,
    failure: tuple[int, bytes],
) -> None:
    url = stack.gateway_url + path
    headers = {"x-apigw-api-id": api_id, **token_for(api_id)}
    with client_from(source) as client:
        assert client.get(url, headers=headers).status_code == 200
        stop(flaky_provider)
        started = time.monotonic()
        response = client.get(url, headers=headers)
        elapsed = time.monotonic() - started
        assert (response.status_code, response.content) == failure
        assert elapsed < 1.0
        restarted = start_dog_names(stack.flaky_port, stack.log_dir / "flaky.log")
        try:
            assert client.get(url, headers=headers).status_code == 200
        finally:
            stop(restarted)


@pytest.mark.parametrize(
    "api_id, path, failure",
    [
        ("echorest01", "/test/slow", (504, b'{"message": "Endpoint request timed out"}')),
        ("echohttp01", "/slow", (503, b'{"message":"Service Unavailable"}')),
    ],
)
def test_slow_provider_times_out_at_timeout_in_millis(
    stack: Stack, outside: httpx.Client, api_id: str, path: str, failure: tuple[int, bytes]
) -> None:
    started = time.monotonic()
    response = outside.get(stack.gateway_url + path, headers={"x-apigw-api-id": api_id})
    elapsed = time.monotonic() - started
    assert (response.status_code, response.content) == failure
    assert 1.0 <= elapsed < 2.0  # timeoutInMillis: 1000; the echo server would take 3 s


def _chunks(total: int, size: int = 1024 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@pytest.mark.parametrize(
    "api_id, source, path, chunked, expected",
    [
        ("globalapi1", "127.0.0.1", "/todo", False, b'{"message":"Request Too Long"}'),
        (
            "echorest01",
            "127.0.0.1",
            "/test/upload",
            False,
            b"HTTP content length exceeded 10485760 bytes.",
        ),
        (
            "echorest01",
            "127.0.0.1",
            "/test/upload",
            True,
            b"HTTP content length exceeded 10485760 bytes.",
        ),
        (
            "partnerap1",
            "127.0.4.10",
            "/prod/todo",
            True,
            b"HTTP content length exceeded 10485760 bytes.",
        ),
    ],
    ids=["http-api", "rest-content-length", "rest-chunked", "rest-iam-chunked"],
)
def test_body_over_10_mb_is_413(
    stack: Stack, api_id: str, source: str, path: str, chunked: bool, expected: bytes
) -> None:
    content = _chunks(ELEVEN_MB) if chunked else b"x" * ELEVEN_MB
    method = "GET" if api_id == "partnerap1" else "POST"
    with client_from(source) as client:
        response = client.request(
            method, stack.gateway_url + path, content=content, headers={"x-apigw-api-id": api_id}
        )
    assert response.status_code == 413
    assert response.content == expected


# --- what crosses the gateway ----------------------------------------------------------------


def test_access_log_line_per_request(stack: Stack, consumer_vpc: httpx.Client) -> None:
    url = stack.gateway_url + "/prod/dogs"
    response = consumer_vpc.get(url, headers=signed("GET", url))
    request_id = response.headers["x-amzn-requestid"]
    deadline = time.monotonic() + 5
    entries: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        entries = [e for e in stack.access_log() if e["requestId"] == request_id]
        if entries:
            break
        time.sleep(0.05)
    assert len(entries) == 1
    entry = entries[0]
    assert {
        k: entry[k]
        for k in (
            "apiId",
            "stage",
            "httpMethod",
            "resourcePath",
            "path",
            "status",
            "sourceIp",
            "vpceId",
            "principal",
            "errorMessage",
        )
    } == {
        "apiId": "partnerap1",
        "stage": "prod",
        "httpMethod": "GET",
        "resourcePath": "/dogs",
        "path": "/prod/dogs",
        "status": 200,
        "sourceIp": "127.0.4.10",
        "vpceId": "vpce-04444444444444444",
        "principal": "arn:aws:iam::444444444444:role/consumer-lambda",
        "errorMessage": None,
    }
    assert isinstance(entry["integrationLatency"], int)
    assert isinstance(entry["responseLatency"], int)
    json.dumps(entry)  # one JSON object per line


# --- a provider that answers before reading the whole body -----------------------------------


@pytest.mark.parametrize("size", [200 * 1024, 2 * 1024 * 1024], ids=["200KB", "2MB"])
@pytest.mark.parametrize(
    "api_id, source, path",
    [("globalapi1", "127.0.0.1", "/todo"), ("mtlsapi001", "127.0.1.10", "/prod/todo")],
    ids=["public-http-api", "mtls-rest-api"],
)
def test_todos_own_413_reaches_the_caller_and_nothing_is_stored(
    stack: Stack, size: int, api_id: str, source: str, path: str
) -> None:
    """ToDo refuses a body over its 64 KiB limit as soon as it has the head, before reading the
    body: the caller gets that answer (not the gateway's 500/502), and no item is stored."""
    with client_from(source) as client:
        headers = {"x-apigw-api-id": api_id, **token_for(api_id)}
        before = client.get(stack.gateway_url + path, headers=headers).json()
        response = client.post(stack.gateway_url + path, headers=headers, data={"data": "x" * size})
        assert response.status_code == 413, response.text
        assert response.json() == {"message": "Request body is larger than 65536 bytes"}
        assert client.get(stack.gateway_url + path, headers=headers).json() == before

"""SigV4 verification against what real signers put on the wire.

Requests are signed by botocore (`SigV4Auth`, `SigV4QueryAuth`), requests-aws4auth and awscurl
with fixed credentials at a fixed time, turned into what the HTTP client would send (path and
query as encoded on the wire, the Host header http.client adds) and handed to the verifier.
No network: awscurl's sender is replaced by a recorder.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import awscurl.awscurl
import botocore.auth
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from gateway.sigv4 import (
    Identity,
    SigV4Error,
    SigV4Verifier,
    canonical_query,
    canonical_uri,
    has_sigv4,
    verify_sigv4,
)
from requests_aws4auth import AWS4Auth

SIGNING_TIME = datetime(2024, 5, 17, 12, 0, 0, tzinfo=UTC)
AMZ_DATE = "20240517T120000Z"
REGION = "us-east-1"
REGIONS = frozenset({REGION})
BASE = "http://127.0.0.1:8080"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

CONSUMER = Identity(
    access_key_id="AKIAIOSFODNN7EXAMPLE",
    secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    principal_arn="arn:aws:iam::444444444444:role/consumer-lambda",
    account="444444444444",
)
TEMPORARY = Identity(
    access_key_id="ASIAQ4EXAMPLE7TEMPKEY",
    secret_access_key="tmpSecret/K7MDENG+bPxRfiCYEXAMPLEKEY",
    principal_arn="arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer",
    account="444444444444",
    session_token="IQoJb3JpZ2luX2VjE+/Example//Token+With/Base64=Characters==",
)
IDENTITIES = {identity.access_key_id: identity for identity in (CONSUMER, TEMPORARY)}
UNKNOWN = Identity("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "x", "1")


@dataclass(frozen=True)
class Wire:
    """A request as the gateway receives it."""

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def replace_header(self, name: str, value: str | None) -> Wire:
        kept = tuple((k, v) for k, v in self.headers if k.lower() != name.lower())
        return replace(self, headers=kept if value is None else (*kept, (name, value)))

    def header(self, name: str) -> str:
        return next(v for k, v in self.headers if k.lower() == name.lower())


def verify(wire: Wire, *, now: datetime = SIGNING_TIME) -> Identity:
    return verify_sigv4(
        method=wire.method,
        raw_path=wire.raw_path,
        raw_query=wire.raw_query,
        headers=wire.headers,
        body_sha256=hashlib.sha256(wire.body).hexdigest(),
        identities=IDENTITIES,
        now=now,
        regions=REGIONS,
    )


def _wire(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> Wire:
    parts = urlsplit(url)
    if not any(name.lower() == "host" for name, _ in headers):
        # what http.client puts in Host: the port only when it is not the scheme's default
        default_port = 443 if parts.scheme == "https" else 80
        host = parts.hostname or ""
        if parts.port is not None and parts.port != default_port:
            host = f"{host}:{parts.port}"
        headers = [("Host", host), *headers]
    return Wire(method, parts.path, parts.query, tuple(headers), body or b"")


# --- signers ------------------------------------------------------------------------------------


def _credentials(identity: Identity, token: str | None) -> Credentials:
    return Credentials(identity.access_key_id, identity.secret_access_key, token)


def botocore_signed(
    method: str,
    url: str,
    *,
    identity: Identity = CONSUMER,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    params: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    region: str = REGION,
    service: str = "execute-api",
    at: datetime = SIGNING_TIME,
) -> Wire:
    request = AWSRequest(method=method, url=url, headers=headers, data=body, params=params or {})
    signer = botocore.auth.SigV4Auth(_credentials(identity, token), service, region)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=at):
        signer.add_auth(request)
    prepared = request.prepare()
    return _wire(method, prepared.url, list(prepared.headers.items()), prepared.body)


def botocore_presigned(
    url: str,
    *,
    identity: Identity = CONSUMER,
    token: str | None = None,
    params: list[tuple[str, str]] | None = None,
    expires: int = 300,
) -> Wire:
    request = AWSRequest(method="GET", url=url, params=dict(params or []))
    signer = botocore.auth.SigV4QueryAuth(
        _credentials(identity, token), "execute-api", REGION, expires=expires
    )
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=SIGNING_TIME):
        signer.add_auth(request)
    prepared = request.prepare()
    return _wire("GET", prepared.url, list(prepared.headers.items()), prepared.body)


def _from_requests(prepared: requests.PreparedRequest) -> Wire:
    body = prepared.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    return _wire(prepared.method or "GET", prepared.url or "", list(prepared.headers.items()), body)


def aws4auth_signed(
    method: str,
    url: str,
    *,
    identity: Identity = CONSUMER,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    params: list[tuple[str, str]] | None = None,
    body: bytes | None = None,
) -> Wire:
    # A date header of our own keeps requests-aws4auth off the real clock.
    auth = AWS4Auth(
        identity.access_key_id,
        identity.secret_access_key,
        REGION,
        "execute-api",
        AMZ_DATE[:8],
        session_token=token,
    )
    request = requests.Request(
        method,
        url,
        headers={"x-amz-date": AMZ_DATE, **(headers or {})},
        params=params,
        data=body,
        auth=auth,
    )
    return _from_requests(request.prepare())


def awscurl_signed(
    method: str,
    url: str,
    *,
    identity: Identity = CONSUMER,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Wire:
    sent: list[requests.PreparedRequest] = []

    def record(uri, data, sent_headers, sent_method, *args):  # awscurl's __send_request
        sent.append(requests.Request(sent_method, uri, headers=sent_headers, data=data).prepare())

    with (
        mock.patch.object(awscurl.awscurl, "__now", return_value=SIGNING_TIME.replace(tzinfo=None)),
        mock.patch.object(awscurl.awscurl, "__send_request", side_effect=record),
    ):
        awscurl.awscurl.make_request(
            method=method,
            service="execute-api",
            region=REGION,
            uri=url,
            headers=dict(headers or {}),
            data=body or b"",
            access_key=identity.access_key_id,
            secret_key=identity.secret_access_key,
            security_token=token,
            data_binary=True,
        )
    return _from_requests(sent[0])


# --- requests that must verify ------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """One request. `encoded_path` is what botocore and awscurl users must pass (they sign the
    URL as given); requests-aws4auth users pass `user_path` and requests encodes it."""

    method: str
    user_path: str
    encoded_path: str
    canonical_uri: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()


SHAPES = [
    pytest.param(Shape("GET", "/prod/dogs", "/prod/dogs", "/prod/dogs"), id="plain"),
    pytest.param(
        Shape(
            "POST",
            "/prod/todo",
            "/prod/todo",
            "/prod/todo",
            body=b'{"data": "walk the dog \xc3\xa9"}',
            headers=(("Content-Type", "application/json"),),
        ),
        id="json-body",
    ),
    pytest.param(
        Shape(
            "GET",
            "/prod/todo/walk the dog",
            "/prod/todo/walk%20the%20dog",
            "/prod/todo/walk%2520the%2520dog",
        ),
        id="spaces",
    ),
    pytest.param(
        Shape(
            "GET",
            "/prod/dogs/été/☃",
            "/prod/dogs/%C3%A9t%C3%A9/%E2%98%83",
            "/prod/dogs/%25C3%25A9t%25C3%25A9/%25E2%2598%2583",
        ),
        id="unicode",
    ),
    pytest.param(
        Shape(
            "GET",
            "/prod/r/a:b@c!$&'()*+,;=/end",
            "/prod/r/a:b@c!$&'()*+,;=/end",
            "/prod/r/a%3Ab%40c%21%24%26%27%28%29%2A%2B%2C%3B%3D/end",
        ),
        id="reserved",
    ),
    pytest.param(
        Shape("GET", "/prod/~user/x-y_z.json", "/prod/~user/x-y_z.json", "/prod/~user/x-y_z.json"),
        id="unreserved",
    ),
    pytest.param(
        Shape(
            "GET",
            "/prod/./dogs/../dogs//males/",
            "/prod/./dogs/../dogs//males/",
            "/prod/dogs/males/",
        ),
        id="dot-segments",
    ),
]

# awscurl signs the path as given, without removing dot segments (so would AWS refuse it)
AWSCURL_SHAPES = [shape for shape in SHAPES if shape.id != "dot-segments"]

QUERY = [
    ("name", "Max"),
    ("name", "Bella"),
    ("empty", ""),
    ("q", "two words"),
    ("sym", "a+b/c=d&é"),
]
QUERY_CANONICAL = "empty=&name=Bella&name=Max&q=two%20words&sym=a%2Bb%2Fc%3Dd%26%C3%A9"


@pytest.mark.parametrize("identity", [CONSUMER, TEMPORARY], ids=["long-term", "session"])
@pytest.mark.parametrize("shape", SHAPES)
def test_botocore_sigv4auth_requests_verify(shape: Shape, identity: Identity) -> None:
    wire = botocore_signed(
        shape.method,
        BASE + shape.encoded_path,
        identity=identity,
        token=identity.session_token,
        headers=dict(shape.headers),
        body=shape.body,
    )
    assert canonical_uri(wire.raw_path) == shape.canonical_uri
    assert verify(wire) == identity


@pytest.mark.parametrize("identity", [CONSUMER, TEMPORARY], ids=["long-term", "session"])
@pytest.mark.parametrize("shape", SHAPES)
def test_requests_aws4auth_requests_verify(shape: Shape, identity: Identity) -> None:
    wire = aws4auth_signed(
        shape.method,
        BASE + shape.user_path,
        identity=identity,
        token=identity.session_token,
        headers=dict(shape.headers),
        body=shape.body,
    )
    assert canonical_uri(wire.raw_path) == shape.canonical_uri
    assert verify(wire) == identity


@pytest.mark.parametrize("identity", [CONSUMER, TEMPORARY], ids=["long-term", "session"])
@pytest.mark.parametrize("shape", AWSCURL_SHAPES)
def test_awscurl_requests_verify(shape: Shape, identity: Identity) -> None:
    wire = awscurl_signed(
        shape.method,
        BASE + shape.encoded_path,
        identity=identity,
        token=identity.session_token,
        headers=dict(shape.headers),
        body=shape.body,
    )
    assert canonical_uri(wire.raw_path) == shape.canonical_uri
    assert verify(wire) == identity


@pytest.mark.parametrize("identity", [CONSUMER, TEMPORARY], ids=["long-term", "session"])
@pytest.mark.parametrize("shape", SHAPES)
def test_botocore_presigned_urls_verify(shape: Shape, identity: Identity) -> None:
    wire = botocore_presigned(
        BASE + shape.encoded_path,
        identity=identity,
        token=identity.session_token,
        params=[("name", "Bella"), ("q", "two words")],
    )
    assert "X-Amz-Signature=" in wire.raw_query
    assert not any(name.lower() == "authorization" for name, _ in wire.headers)
    assert verify(wire) == identity


@pytest.mark.parametrize(
    "signer",
    [
        pytest.param(
            lambda: botocore_signed("GET", BASE + "/prod/dogs", params=QUERY), id="botocore"
        ),
        pytest.param(
            lambda: aws4auth_signed("GET", BASE + "/prod/dogs", params=QUERY),
            id="requests-aws4auth",
        ),
    ],
)
def test_repeated_and_empty_query_keys_verify(signer: Callable[[], Wire]) -> None:
    wire = signer()
    assert wire.raw_query.count("name=") == 2
    assert canonical_query(wire.raw_query) == QUERY_CANONICAL
    assert verify(wire) == CONSUMER


@pytest.mark.parametrize(
    "url",
    [
        # awscurl signs the query only right when it needs no encoding
        BASE + "/prod/dogs?name=Max&name=Bella&empty=&flag",
        BASE + "/prod/dogs?b=2&a=1&a=",
    ],
)
def test_awscurl_query_keys_verify(url: str) -> None:
    assert verify(awscurl_signed("GET", url)) == CONSUMER


def test_date_header_instead_of_x_amz_date_verifies() -> None:
    wire = botocore_signed("GET", BASE + "/prod/dogs", headers={"Date": "placeholder"})
    assert not any(name.lower() == "x-amz-date" for name, _ in wire.headers)
    assert wire.header("Date") == "Fri, 17 May 2024 12:00:00 -0000"
    assert verify(wire) == CONSUMER


def test_https_host_without_default_port_verifies() -> None:
    url = "https://partnerap1.execute-api.us-east-1.amazonaws.com/prod/dogs"
    wire = aws4auth_signed("GET", url)
    assert wire.header("Host") == "partnerap1.execute-api.us-east-1.amazonaws.com"
    assert verify(wire) == CONSUMER


def test_header_values_are_trimmed_and_whitespace_collapsed() -> None:
    wire = botocore_signed("GET", BASE + "/prod/dogs", headers={"X-Team": "  consumer   team  "})
    assert verify(wire) == CONSUMER
    # a proxy that re-spaces the value must not matter
    assert verify(wire.replace_header("X-Team", "consumer team")) == CONSUMER


@pytest.mark.parametrize(
    "skew",
    [timedelta(minutes=5), -timedelta(minutes=5), timedelta(seconds=0)],
    ids=["server-5min-ahead", "server-5min-behind", "in-sync"],
)
def test_clock_skew_up_to_five_minutes_passes(skew: timedelta) -> None:
    assert verify(botocore_signed("GET", BASE + "/prod/dogs"), now=SIGNING_TIME + skew) == CONSUMER


def test_presigned_url_is_valid_until_it_expires() -> None:
    wire = botocore_presigned(BASE + "/prod/dogs", expires=60)
    assert verify(wire, now=SIGNING_TIME + timedelta(seconds=60)) == CONSUMER


# AWS's published SigV4 test suite: an anchor that does not come from a client library.
SUITE_FILE = Path(__file__).parent / "sigv4_cases" / "aws_sig_v4_test_suite.json"
SUITE = json.loads(SUITE_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", SUITE["cases"], ids=[case["name"] for case in SUITE["cases"]])
def test_aws_signature_test_suite(case: dict) -> None:
    identity = Identity("AKIDEXAMPLE", SUITE["secret_access_key"], "arn:aws:iam::1:user/x", "1")
    authorization = (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={case['signed_headers']}, Signature={case['signature']}"
    )
    headers = [
        ("Host", "example.amazonaws.com"),
        *[(name, value) for name, value in case["headers"]],
        ("X-Amz-Date", "20150830T123600Z"),
        ("Authorization", authorization),
    ]
    verified = verify_sigv4(
        method=case["method"],
        raw_path=case["path"],
        raw_query=case["query"],
        headers=headers,
        body_sha256=EMPTY_SHA256,
        identities={"AKIDEXAMPLE": identity},
        now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
        regions={"us-east-1"},
        service="service",
    )
    assert verified == identity


# --- requests that must be refused --------------------------------------------------------------


def _hashed(authorization: str) -> str:
    return base64.b64encode(hashlib.sha256(authorization.encode()).digest()).decode()


def _mismatch(canonical: str) -> str:
    string_to_sign = (
        f"AWS4-HMAC-SHA256\n{AMZ_DATE}\n20240517/us-east-1/execute-api/aws4_request\n"
        f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    )
    return (
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        f"details.\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
        f"The String-to-Sign should have been\n'{string_to_sign}'\n"
    )


def _team_get(**kwargs) -> Wire:
    return botocore_signed(
        "GET",
        BASE + "/prod/dogs",
        headers={"X-Team": "consumer"},
        params=[("name", "Bella")],
        **kwargs,
    )


def _team_canonical(team_line: str) -> str:
    return (
        f"GET\n/prod/dogs\nname=Bella\nhost:127.0.0.1:8080\nx-amz-date:{AMZ_DATE}\n{team_line}\n\n"
        f"host;x-amz-date;x-team\n{EMPTY_SHA256}"
    )


TAMPERED_BODY_SHA256 = hashlib.sha256(b'{"data": "b"}').hexdigest()


def _post(body: bytes) -> Wire:
    return botocore_signed("POST", BASE + "/prod/todo", body=body)


def _edit_authorization(wire: Wire, old: str, new: str) -> Wire:
    assert old in wire.header("Authorization")
    return wire.replace_header("Authorization", wire.header("Authorization").replace(old, new))


UNSIGNED_GET = Wire("GET", "/prod/dogs", "", (("Host", "127.0.0.1:8080"), ("X-Amz-Date", AMZ_DATE)))
MISSING_ALL = (
    "Authorization header requires 'Credential' parameter. Authorization header requires "
    "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. "
)
NO_DATE = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
HASHED = "(Hashed with SHA-256 and encoded with Base64) Authorization="


def _with_authorization(value: str, *, date: bool = True) -> Wire:
    wire = UNSIGNED_GET if date else UNSIGNED_GET.replace_header("X-Amz-Date", None)
    return wire.replace_header("Authorization", value)


FAILURES = [
    pytest.param(
        lambda: _team_get(identity=replace(CONSUMER, secret_access_key="not-the-secret")),
        SIGNING_TIME,
        "InvalidSignatureException",
        _mismatch(_team_canonical("x-team:consumer")),
        id="wrong-secret",
    ),
    pytest.param(
        lambda: _team_get(identity=UNKNOWN),
        SIGNING_TIME,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        id="unknown-key",
    ),
    pytest.param(
        _team_get,
        SIGNING_TIME + timedelta(minutes=5, seconds=1),
        "InvalidSignatureException",
        "Signature expired: 20240517T120000Z is now earlier than 20240517T120001Z "
        "(20240517T120501Z - 5 min.)",
        id="signed-5min1s-ago",
    ),
    pytest.param(
        _team_get,
        SIGNING_TIME - timedelta(minutes=5, seconds=1),
        "InvalidSignatureException",
        "Signature not yet current: 20240517T120000Z is still later than 20240517T115959Z "
        "(20240517T115459Z + 5 min.)",
        id="signed-5min1s-ahead",
    ),
    pytest.param(
        lambda: _team_get(region="eu-west-1"),
        SIGNING_TIME,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'. ",
        id="wrong-region",
    ),
    pytest.param(
        lambda: _team_get(service="lambda"),
        SIGNING_TIME,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'execute-api'. ",
        id="wrong-service",
    ),
    pytest.param(
        lambda: _team_get(region="us-west-2", service="es"),
        SIGNING_TIME,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'us-west-2'. "
        "Credential should be scoped to correct service: 'execute-api'. ",
        id="wrong-region-and-service",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), "/20240517/", "/20240516/"),
        SIGNING_TIME,
        "InvalidSignatureException",
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20240516' != '20240517', from '20240517T120000Z'.",
        id="scope-date",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), "/aws4_request", "/aws5_request"),
        SIGNING_TIME,
        "InvalidSignatureException",
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
        id="scope-terminator",
    ),
    pytest.param(
        lambda: replace(_post(b'{"data": "a"}'), body=b'{"data": "b"}'),
        SIGNING_TIME,
        "InvalidSignatureException",
        _mismatch(
            f"POST\n/prod/todo\n\nhost:127.0.0.1:8080\nx-amz-date:{AMZ_DATE}\n\n"
            f"host;x-amz-date\n{TAMPERED_BODY_SHA256}"
        ),
        id="tampered-body",
    ),
    pytest.param(
        lambda: _team_get().replace_header("X-Team", "attacker"),
        SIGNING_TIME,
        "InvalidSignatureException",
        _mismatch(_team_canonical("x-team:attacker")),
        id="tampered-signed-header",
    ),
    pytest.param(
        lambda: _team_get().replace_header("X-Team", None),
        SIGNING_TIME,
        "InvalidSignatureException",
        _mismatch(_team_canonical("x-team:")),
        id="missing-signed-header",
    ),
    pytest.param(
        lambda: replace(_team_get(), raw_query="name=Max"),
        SIGNING_TIME,
        "InvalidSignatureException",
        _mismatch(_team_canonical("x-team:consumer").replace("name=Bella", "name=Max")),
        id="tampered-query",
    ),
    pytest.param(
        lambda: _with_authorization("Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with "
        f"SHA-256 and encoded with Base64): '{_hashed('Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln')}'.",
        id="bearer-token",
    ),
    pytest.param(
        lambda: _with_authorization("Basic dXNlcjpwYXNz"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with "
        f"SHA-256 and encoded with Base64): '{_hashed('Basic dXNlcjpwYXNz')}'.",
        id="basic-auth",
    ),
    pytest.param(
        lambda: _with_authorization("Basic a2V5OnNlY3JldA==", date=False),
        SIGNING_TIME,
        "IncompleteSignatureException",
        f"{MISSING_ALL}{NO_DATE}{HASHED}{_hashed('Basic a2V5OnNlY3JldA==')}",
        id="basic-auth-with-padding",
    ),
    pytest.param(
        lambda: _with_authorization("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", date=False),
        SIGNING_TIME,
        "IncompleteSignatureException",
        f"{MISSING_ALL}{NO_DATE}{HASHED}{_hashed('eyJhbGciOiJIUzI1NiJ9.e30.c2ln')}",
        id="bare-jwt",
    ),
    pytest.param(
        lambda: _with_authorization("Credential=AKIAIOSFODNN7EXAMPLE/20240517/us-east-1"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Authorization header must begin with the algorithm name, which cannot include an "
        "equal-sign",
        id="no-algorithm",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), ", Signature=", ", Nothing="),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Authorization header requires 'Signature' parameter. " + HASHED,
        id="no-signature",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), ", SignedHeaders=", ", Nothing="),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Authorization header requires 'SignedHeaders' parameter. " + HASHED,
        id="no-signed-headers",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), " Credential=", " Nothing="),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. " + HASHED,
        id="no-credential",
    ),
    pytest.param(
        lambda: _team_get().replace_header("X-Amz-Date", None),
        SIGNING_TIME,
        "IncompleteSignatureException",
        NO_DATE + HASHED,
        id="no-date",
    ),
    pytest.param(
        lambda: _team_get().replace_header("X-Amz-Date", "2024-05-17T12:00:00Z"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Date must be in ISO-8601 'basic format'. Got '2024-05-17T12:00:00Z'. "
        "See http://en.wikipedia.org/wiki/ISO_8601",
        id="bad-date",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA512 "),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ",
        id="unsupported-algorithm",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), "/execute-api/aws4_request", "/execute-api"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "Credential must have exactly 5 slash-delimited elements, e.g. "
        "keyid/date/region/service/term, got 'AKIAIOSFODNN7EXAMPLE/20240517/us-east-1/execute-api'",
        id="short-credential",
    ),
    pytest.param(
        lambda: _edit_authorization(_team_get(), "SignedHeaders=host;", "SignedHeaders="),
        SIGNING_TIME,
        "InvalidSignatureException",
        "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        id="host-not-signed",
    ),
    pytest.param(
        lambda: _team_get(identity=TEMPORARY),
        SIGNING_TIME,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        id="session-token-missing",
    ),
    pytest.param(
        lambda: _team_get(identity=TEMPORARY, token="IQoJb3JpZ2luX2VjE+/stale=="),
        SIGNING_TIME,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        id="session-token-wrong",
    ),
    pytest.param(
        lambda: _team_get(identity=CONSUMER, token="IQoJb3JpZ2luX2VjE+/unexpected=="),
        SIGNING_TIME,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        id="session-token-for-long-term-key",
    ),
    pytest.param(
        lambda: botocore_presigned(BASE + "/prod/dogs", expires=60),
        SIGNING_TIME + timedelta(seconds=61),
        "InvalidSignatureException",
        "Signature expired: 20240517T120000Z is now earlier than 20240517T120001Z "
        "(20240517T120101Z - 60 sec.)",
        id="presigned-expired",
    ),
    pytest.param(
        lambda: botocore_presigned(BASE + "/prod/dogs"),
        SIGNING_TIME - timedelta(minutes=5, seconds=1),
        "InvalidSignatureException",
        "Signature not yet current: 20240517T120000Z is still later than 20240517T115959Z "
        "(20240517T115459Z + 5 min.)",
        id="presigned-not-yet-current",
    ),
    pytest.param(
        lambda: botocore_presigned(BASE + "/prod/dogs", identity=UNKNOWN),
        SIGNING_TIME,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        id="presigned-unknown-key",
    ),
    pytest.param(
        lambda: _drop_query_param(botocore_presigned(BASE + "/prod/dogs"), "X-Amz-Signature"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "Re-examine the query-string parameters.",
        id="presigned-no-signature",
    ),
    pytest.param(
        lambda: _drop_query_param(botocore_presigned(BASE + "/prod/dogs"), "X-Amz-Date"),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "AWS query-string parameters must include 'X-Amz-Date'. "
        "Re-examine the query-string parameters.",
        id="presigned-no-date",
    ),
    pytest.param(
        lambda: _edit_query(
            botocore_presigned(BASE + "/prod/dogs"), "X-Amz-Expires=300", "X-Amz-Expires=604801"
        ),
        SIGNING_TIME,
        "IncompleteSignatureException",
        "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        id="presigned-expires-too-long",
    ),
]


def _edit_query(wire: Wire, old: str, new: str) -> Wire:
    assert old in wire.raw_query
    return replace(wire, raw_query=wire.raw_query.replace(old, new))


def _drop_query_param(wire: Wire, name: str) -> Wire:
    kept = [part for part in wire.raw_query.split("&") if not part.startswith(name + "=")]
    return replace(wire, raw_query="&".join(kept))


@pytest.mark.parametrize(("make", "now", "error_type", "message"), FAILURES)
def test_refused_with_api_gateway_answer(
    make: Callable[[], Wire], now: datetime, error_type: str, message: str
) -> None:
    wire = make()
    with pytest.raises(SigV4Error) as caught:
        verify(wire, now=now)
    error = caught.value
    if message.endswith(HASHED):  # the hash is of the header as sent
        message += _hashed(wire.header("Authorization"))
    assert (error.status, error.error_type, error.message) == (403, error_type, message)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda: replace(botocore_presigned(BASE + "/prod/dogs"), raw_path="/prod/cats"),
            id="path",
        ),
        pytest.param(
            lambda: _edit_query(
                botocore_presigned(BASE + "/prod/dogs", params=[("name", "Bella")]),
                "name=Bella",
                "name=Max",
            ),
            id="query",
        ),
        pytest.param(
            lambda: replace(botocore_presigned(BASE + "/prod/dogs"), method="DELETE"), id="method"
        ),
    ],
)
def test_tampered_presigned_url_is_a_signature_mismatch(make: Callable[[], Wire]) -> None:
    with pytest.raises(SigV4Error) as caught:
        verify(make())
    assert caught.value.error_type == "InvalidSignatureException"
    assert caught.value.message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    # the canonical string shown is the query without X-Amz-Signature
    assert "X-Amz-Signature" not in caught.value.message


def test_signed_unsigned_payload_header_is_a_mismatch() -> None:
    """execute-api hashes the body it received; UNSIGNED-PAYLOAD is S3's."""
    wire = botocore_signed(
        "POST",
        BASE + "/prod/todo",
        headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"},
        body=b'{"data": "a"}',
    )
    with pytest.raises(SigV4Error) as caught:
        verify(wire)
    assert caught.value.error_type == "InvalidSignatureException"


# --- detection and canonical forms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ([("Authorization", "AWS4-HMAC-SHA256 Credential=x")], "", True),
        ([("authorization", "Bearer x")], "", True),
        ([("Authorization", "   ")], "", False),
        ([], "X-Amz-Algorithm=AWS4-HMAC-SHA256", True),
        ([], "a=1&X-Amz-Credential=AKID%2F20240517", True),
        ([], "X-Amz-Signature=abc", True),
        ([], "X-Amz-Date=20240517T120000Z&name=x", False),
        ([("X-Amz-Date", AMZ_DATE)], "name=Bella", False),
    ],
)
def test_has_sigv4(headers: list[tuple[str, str]], query: str, expected: bool) -> None:
    assert has_sigv4(headers, query) is expected


@pytest.mark.parametrize(
    ("raw_path", "expected"),
    [
        ("", "/"),
        ("/", "/"),
        ("/prod/a%20b", "/prod/a%2520b"),
        ("/prod/a+b", "/prod/a%2Bb"),
        ("/prod/a%2Fb", "/prod/a%252Fb"),
        ("/prod/%c3%a9", "/prod/%25c3%25a9"),
        ("/prod//x/./y/../z/", "/prod/x/z/"),
        ("/prod/../../x", "/x"),
    ],
)
def test_canonical_uri(raw_path: str, expected: str) -> None:
    assert canonical_uri(raw_path) == expected


@pytest.mark.parametrize(
    ("raw_query", "expected"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1&a=", "a=&a=1&a=2"),
        ("flag", "flag="),
        ("q=two+words&r=two%20words", "q=two%20words&r=two%20words"),
        ("plus=%2B&star=*&tilde=~", "plus=%2B&star=%2A&tilde=~"),
        ("e=%c3%a9&E=1", "E=1&e=%C3%A9"),
        ("&&a=1&", "a=1"),
    ],
)
def test_canonical_query(raw_query: str, expected: str) -> None:
    assert canonical_query(raw_query) == expected


# --- SigV4Verifier: the running gateway's verifier, which remembers the requests it verified ---


def verified_by(verifier: SigV4Verifier, wire: Wire, *, now: datetime = SIGNING_TIME) -> Identity:
    return verifier.verify(
        method=wire.method,
        raw_path=wire.raw_path,
        raw_query=wire.raw_query,
        headers=wire.headers,
        body_sha256=hashlib.sha256(wire.body).hexdigest(),
        now=now,
    )


def refusal(check: Callable[..., Identity], *args: object, **kwargs: object) -> tuple[str, str]:
    """The error type and message `check(*args, **kwargs)` refuses with."""
    with pytest.raises(SigV4Error) as refused:
        check(*args, **kwargs)
    return refused.value.error_type, refused.value.message


@pytest.mark.parametrize(
    "make",
    [
        lambda: botocore_signed("GET", BASE + "/prod/dogs"),
        lambda: botocore_signed("GET", BASE + "/prod/dogs", identity=TEMPORARY,
                                token=TEMPORARY.session_token),
        lambda: aws4auth_signed("POST", BASE + "/prod/todo", body=b'{"data": "x"}'),
        lambda: botocore_presigned(BASE + "/prod/dogs", params=[("q", "a b")]),
    ],
    ids=["botocore", "session", "aws4auth-body", "presigned"],
)  # fmt: skip
def test_verifier_answers_as_verify_sigv4_and_remembers_the_request(
    make: Callable[[], Wire],
) -> None:
    verifier = SigV4Verifier(IDENTITIES, REGIONS)
    wire = make()
    assert verified_by(verifier, wire) == verify(wire)
    assert verified_by(verifier, wire, now=SIGNING_TIME + timedelta(seconds=1)) == verify(wire)
    assert len(verifier) == 1


def test_a_remembered_request_is_checked_against_the_clock_every_time() -> None:
    verifier = SigV4Verifier(IDENTITIES, REGIONS)
    wire = botocore_signed("GET", BASE + "/prod/dogs")
    assert verified_by(verifier, wire) == CONSUMER
    for now in (SIGNING_TIME + timedelta(minutes=5, seconds=1), SIGNING_TIME - timedelta(hours=1)):
        assert refusal(verified_by, verifier, wire, now=now) == refusal(verify, wire, now=now)
    assert verified_by(verifier, wire, now=SIGNING_TIME + timedelta(minutes=5)) == CONSUMER


def test_any_other_byte_is_a_new_request_verified_in_full() -> None:
    verifier = SigV4Verifier(IDENTITIES, REGIONS)
    wire = botocore_signed("GET", BASE + "/prod/dogs", headers={"X-Team": "consumer"})
    assert verified_by(verifier, wire) == CONSUMER
    unsigned_header = wire.replace_header("User-Agent", "other")
    assert verified_by(verifier, unsigned_header) == CONSUMER
    assert len(verifier) == 2
    tampered = [
        wire.replace_header("X-Team", "other"),  # a signed header, after the original was kept
        replace(wire, raw_path="/prod/dogs/males"),
        replace(wire, raw_query="x=1"),
        replace(wire, method="DELETE"),
        replace(wire, body=b"{}"),
    ]
    for changed in tampered:
        refused = refusal(verified_by, verifier, changed)
        assert refused == refusal(verify, changed)
        assert refused[0] == "InvalidSignatureException"
    assert len(verifier) == 2  # refused requests are never kept


def test_verifier_keeps_at_most_maxsize_requests() -> None:
    verifier = SigV4Verifier(IDENTITIES, REGIONS, maxsize=2)
    wires = [botocore_signed("GET", f"{BASE}/prod/dogs/{n}") for n in range(3)]
    assert [verified_by(verifier, wire) for wire in (*wires, wires[0])] == [CONSUMER] * 4
    assert len(verifier) == 2


def test_each_identity_signs_with_its_own_derived_key() -> None:
    """Keys derived from a secret for a scope are kept: a request signed with another
    identity's secret for the same day still does not verify."""
    verifier = SigV4Verifier(IDENTITIES, REGIONS)
    assert verified_by(verifier, botocore_signed("GET", BASE + "/prod/dogs")) == CONSUMER
    forged = replace(CONSUMER, secret_access_key=UNKNOWN.secret_access_key)
    wire = botocore_signed("GET", BASE + "/prod/dogs", identity=forged)
    assert refusal(verified_by, verifier, wire)[0] == "InvalidSignatureException"

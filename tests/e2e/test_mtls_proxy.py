"""The NGINX mTLS proxy in front of the private `mtls` API (SPEC 6, SPEC 9), and the API's TOKEN
authorizer behind it (the cross-account patterns post's pattern 2): a caller needs the client
certificate for the proxy and the shared secret (./secrets/authorizer-token) for the API."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import ssl
import subprocess
import time
import uuid

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .stack import (
    CERTS,
    MTLS_API,
    MTLS_API_ID,
    MTLS_HOST,
    MTLS_PORT,
    GatewayLog,
    SharedSecret,
    compose,
    header_values,
    mtls_context,
    nginx_serial,
    started_at,
    token,
)

pytestmark = pytest.mark.e2e

TODO_ID = re.compile(r"[0-9a-f]{8}")
PROXY_VPCE = "vpce-01111111111111111"
UNAUTHORIZED = (401, b'{"message":"Unauthorized"}')


def curl(*args: str, with_token: bool = True) -> tuple[int, str]:
    """curl with the valid client certificate and (unless not `with_token`) the token, as the
    README shows it; (status, body)."""
    authorization = ["-H", f"Authorization: {token()}"] if with_token else []
    result = subprocess.run(
        [
            "curl", "--silent", "--show-error", "--max-time", "10",
            "--cert", str(CERTS / "client.crt"), "--key", str(CERTS / "client.key"),
            "--cacert", str(CERTS / "ca.crt"), *authorization,
            "--write-out", "\n%{http_code}", *args,
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def test_curl_with_client_certificate_gets_a_dog() -> None:
    status, body = curl(f"https://localhost:{MTLS_PORT}/dogs")
    assert status == 200, body
    dog = json.loads(body)
    assert set(dog) == {"Name", "Gender"}
    assert dog["Gender"] in {"male", "female"}
    assert dog["Name"]


def test_curl_creates_and_reads_a_todo() -> None:
    data = f"curl e2e {uuid.uuid4()}"
    status, body = curl("--data-urlencode", f"data={data}", f"https://localhost:{MTLS_PORT}/todo")
    assert status == 201, body
    created = json.loads(body)
    assert TODO_ID.fullmatch(created["id"]), created
    assert created == {"id": created["id"], "data": data}

    status, body = curl(f"https://localhost:{MTLS_PORT}/todo/{created['id']}")
    assert status == 200, body
    assert json.loads(body) == created


@pytest.mark.parametrize("path", ["/dogs", "/dogs/males", "/dogs/females"])
def test_dogs_through_the_proxy(mtls_api: httpx.Client, path: str) -> None:
    response = mtls_api.get(path)
    assert response.status_code == 200, response.text
    dog = response.json()
    assert set(dog) == {"Name", "Gender"}
    expected = {"/dogs": {"male", "female"}, "/dogs/males": {"male"}, "/dogs/females": {"female"}}
    assert dog["Gender"] in expected[path]


@pytest.mark.parametrize("form", [True, False], ids=["form", "json"])
def test_todo_created_and_read_back_through_the_proxy(mtls_api: httpx.Client, form: bool) -> None:
    data = f"mtls e2e {uuid.uuid4()}"
    if form:
        response = mtls_api.post("/todo", data={"data": data})
    else:
        response = mtls_api.post("/todo", json={"data": data})
    assert response.status_code == 201, response.text
    created = response.json()
    assert TODO_ID.fullmatch(created["id"]), created
    assert created == {"id": created["id"], "data": data}

    read = mtls_api.get(f"/todo/{created['id']}")
    assert read.status_code == 200, read.text
    assert read.json() == created
    assert created in mtls_api.get("/todo").json()


def test_proxied_request_comes_through_the_proxy_vpc_endpoint(
    mtls_api: httpx.Client, gateway_log: GatewayLog
) -> None:
    agent = gateway_log.agent()
    assert mtls_api.get("/dogs/males", headers={"User-Agent": agent}).status_code == 200
    seen = gateway_log.seen(agent)
    assert [(e["apiId"], e["stage"], e["httpMethod"], e["path"], e["status"]) for e in seen] == [
        (MTLS_API_ID, "prod", "GET", "/prod/dogs/males", 200)
    ]
    assert seen[0]["vpceId"] == PROXY_VPCE


# --- the mtls API's TOKEN authorizer, behind the proxy ---------------------------------------


def test_curl_without_the_token_is_unauthorized() -> None:
    """The README's curl without its -H: the proxy lets the certificate in, the API's authorizer
    refuses."""
    status, body = curl(f"https://localhost:{MTLS_PORT}/dogs", with_token=False)
    assert (status, body.encode()) == UNAUTHORIZED


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/dogs"), ("POST", "/todo"), ("DELETE", "/todo/1a2b3c4d")]
)
def test_without_the_token_every_method_is_unauthorized_at_the_api(
    mtls_api: httpx.Client, gateway_log: GatewayLog, method: str, path: str
) -> None:
    agent = gateway_log.agent()
    response = mtls_api.request(method, path, headers={"User-Agent": agent}, auth=None)
    assert (response.status_code, response.content) == UNAUTHORIZED
    # the proxy forwarded it (the certificate is valid); the API answered, nothing went upstream
    [entry] = gateway_log.seen(agent)
    assert (entry["apiId"], entry["vpceId"], entry["status"], entry["integrationLatency"]) == (
        MTLS_API_ID,
        PROXY_VPCE,
        401,
        None,
    )


@pytest.mark.parametrize(
    "wrong",
    ["A" * 43, "Bearer not-the-secret", "bearer-prefix"],
    ids=["refused-by-the-authorizer", "malformed", "bearer-prefix"],
)
def test_a_wrong_token_is_unauthorized(mtls_api: httpx.Client, wrong: str) -> None:
    if wrong == "bearer-prefix":
        wrong = f"Bearer {token()}"  # the right token, but the header must be the token alone
    response = mtls_api.get("/dogs", headers={"Authorization": wrong}, auth=None)
    assert (response.status_code, response.content) == UNAUTHORIZED


def test_a_rotated_secret_refuses_the_old_token_through_the_proxy_without_a_restart(
    mtls_api: httpx.Client,
) -> None:
    old = token()
    assert mtls_api.get("/dogs", headers={"Authorization": old}, auth=None).status_code == 200
    running_since = {s: started_at(s) for s in ("token-authorizer", "gateway", "mtls-proxy")}

    rotated = compose("run", "--rm", "--no-deps", "certs", "--rotate-token", timeout=120)

    assert "rotated: /secrets/authorizer-token" in rotated.stdout
    new = token()
    assert new != old
    refused = mtls_api.get("/dogs", headers={"Authorization": old}, auth=None)
    assert (refused.status_code, refused.content) == UNAUTHORIZED
    accepted = mtls_api.get("/dogs", headers={"Authorization": new}, auth=None)
    assert accepted.status_code == 200, accepted.text
    assert set(accepted.json()) == {"Name", "Gender"}
    assert mtls_api.get("/dogs/males").status_code == 200  # the fixture's client reads it anew
    assert {s: started_at(s) for s in running_since} == running_since  # nothing restarted


# NGINX's own answers when verification fails: a 400 page, nothing proxied.
NO_CERT = "<title>400 No required SSL certificate was sent</title>"
CERT_ERROR = "<title>400 The SSL certificate error</title>"


@pytest.mark.parametrize(
    ("cert", "expected"),
    [
        (None, NO_CERT),
        ("client-other-ca", CERT_ERROR),
        ("client-expired", CERT_ERROR),
        ("client-revoked", CERT_ERROR),
    ],
    ids=["no-certificate", "other-ca", "expired", "revoked"],
)
def test_bad_client_certificate_gets_400_and_nothing_reaches_the_gateway(
    gateway_log: GatewayLog, cert: str | None, expected: str
) -> None:
    """The right token does not make up for the certificate."""
    agent = gateway_log.agent()
    with httpx.Client(
        base_url=MTLS_API,
        verify=mtls_context(cert),
        auth=SharedSecret(),
        headers={"User-Agent": agent},
        timeout=10,
    ) as client:
        responses = [client.get("/dogs"), client.post("/todo", data={"data": "must not exist"})]

    for response in responses:
        assert response.status_code == 400, response.text
        assert expected in response.text
    assert gateway_log.seen(agent) == []


def test_valid_certificate_control_reaches_the_gateway(gateway_log: GatewayLog) -> None:
    """The same client code as above, with the valid certificate, does reach the gateway."""
    agent = gateway_log.agent()
    with httpx.Client(
        base_url=MTLS_API,
        verify=mtls_context("client"),
        auth=SharedSecret(),
        headers={"User-Agent": agent},
        timeout=10,
    ) as client:
        assert client.get("/dogs").status_code == 200
    assert [(e["apiId"], e["path"]) for e in gateway_log.seen(agent)] == [
        (MTLS_API_ID, "/prod/dogs")
    ]


def handshake(version: ssl.TLSVersion) -> str:
    """A TLS handshake limited to `version`, with the valid client certificate; the protocol."""
    context = mtls_context("client")
    # Let this client offer the old versions at all: OpenSSL 3 refuses them by default, and the
    # test must see the server refuse them, not the client.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    with socket.create_connection((MTLS_HOST, MTLS_PORT), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=MTLS_HOST) as tls:
            return tls.version() or ""


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(
    "version",
    [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1],
    ids=["TLSv1.0", "TLSv1.1"],
)
def test_old_tls_versions_are_refused(version: ssl.TLSVersion) -> None:
    with pytest.raises(ssl.SSLError) as refused:
        handshake(version)
    # The server's protocol_version alert, not a client that never offered the version.
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


@pytest.mark.parametrize(
    ("version", "name"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
    ids=["TLSv1.2", "TLSv1.3"],
)
def test_modern_tls_versions_are_accepted(version: ssl.TLSVersion, name: str) -> None:
    assert handshake(version) == name


def test_plain_http_on_the_tls_port_is_refused() -> None:
    request = f"GET /dogs HTTP/1.1\r\nHost: localhost:{MTLS_PORT}\r\nConnection: close\r\n\r\n"
    chunks = []
    deadline = time.monotonic() + 10
    with socket.create_connection((MTLS_HOST, MTLS_PORT), timeout=5) as sock:
        sock.sendall(request.encode())
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    answer = b"".join(chunks).decode("latin-1")
    assert answer.startswith("HTTP/1.1 400 Bad Request\r\n"), answer
    assert "<title>400 The plain HTTP request was sent to HTTPS port</title>" in answer


def _cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS / name).read_bytes())


FORGED = {
    "X-Client-Cert-Subject": "CN=admin,O=Forged",
    "X-Client-Cert-Issuer": "CN=Forged CA",
    "X-Client-Cert-Serial": "01",
    "X-Client-Cert-Fingerprint": "00" * 20,
    "X-Client-Cert-Verify": "SUCCESS; forged",
}


@pytest.mark.usefixtures("echo_as_dog_names")
def test_forged_identity_headers_are_replaced_by_the_verified_identity(
    mtls_api: httpx.Client,
) -> None:
    client_cert = _cert("client.crt")
    expected = {
        "X-Client-Cert-Subject": client_cert.subject.rfc4514_string(),
        "X-Client-Cert-Issuer": _cert("ca.crt").subject.rfc4514_string(),
        "X-Client-Cert-Serial": nginx_serial(client_cert.serial_number),
        "X-Client-Cert-Fingerprint": hashlib.sha1(  # noqa: S324 - NGINX's fingerprint is SHA-1
            client_cert.public_bytes(serialization.Encoding.DER)
        ).hexdigest(),
        "X-Client-Cert-Verify": "SUCCESS",
    }
    response = mtls_api.get("/dogs", headers=FORGED)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert echo["path"] == "/dogs"
    for name, value in expected.items():
        assert header_values(echo, name) == [value], name


@pytest.mark.usefixtures("echo_as_dog_names")
def test_added_identity_headers_never_reach_the_backend(mtls_api: httpx.Client) -> None:
    """A caller with a valid certificate cannot add headers of its own under the proxy's prefix
    (in any spelling): the proxy drops them, and the gateway passes on only the five it sets."""
    added = {"X-Client-Cert-Role": "admin", "x-client-cert-groups": "root", "X_Client_Cert_X": "1"}
    response = mtls_api.get("/dogs", headers=added)
    assert response.status_code == 200, response.text
    names = {k.lower() for k, _ in response.json()["headers"] if "client" in k.lower()}
    assert names == {
        "x-client-cert-subject",
        "x-client-cert-issuer",
        "x-client-cert-serial",
        "x-client-cert-fingerprint",
        "x-client-cert-verify",
    }


@pytest.mark.usefixtures("echo_as_dog_names")
def test_identity_headers_never_reach_backends_of_the_public_api(public_api: httpx.Client) -> None:
    response = public_api.get("/dogs", headers=FORGED)
    assert response.status_code == 200, response.text
    echo = response.json()
    assert [k for k, _ in echo["headers"] if k.lower().startswith("x-client-cert-")] == []


@pytest.mark.usefixtures("echo_as_dog_names")
def test_client_cannot_choose_another_api_through_the_proxy(mtls_api: httpx.Client) -> None:
    # The proxy selects the mtls API by Host and drops x-apigw-api-id: a client asking for the
    # partner API still lands on the mtls API's /dogs route.
    response = mtls_api.get("/dogs", headers={"x-apigw-api-id": "partnerap1"})
    assert response.status_code == 200, response.text
    assert response.json()["path"] == "/dogs"

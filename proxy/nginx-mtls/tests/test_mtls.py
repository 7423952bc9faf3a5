"""Client certificates at the door: who gets through, what the upstream learns, who gets 400."""

import hashlib
import re
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from nginx_mtls_harness import (
    API_HOST,
    EchoServer,
    Proxy,
    client_context,
    free_port,
    header_values,
    http_get,
    https_request,
    nginx_serial,
    wait_until,
)

NO_CERT = b"400 No required SSL certificate was sent"
BAD_CERT = b"400 The SSL certificate error"


def load(certs: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((certs / name).read_bytes())


def verified_identity(certs: Path) -> dict[str, str]:
    """The five headers NGINX sets for certs/client.crt, with the values it must send."""
    client = load(certs, "client.crt")
    return {
        "X-Client-Cert-Subject": "CN=consumer-app,O=private-apis-local",
        "X-Client-Cert-Issuer": "CN=private-apis-local CA,O=private-apis-local",
        "X-Client-Cert-Serial": nginx_serial(client.serial_number),
        "X-Client-Cert-Fingerprint": hashlib.sha1(  # noqa: S324 - NGINX's fingerprint is SHA-1
            client.public_bytes(Encoding.DER)
        ).hexdigest(),
        "X-Client-Cert-Verify": "SUCCESS",
    }


def test_health(proxy: Proxy) -> None:
    assert http_get("127.0.0.1", proxy.health_port, "/health") == (200, b"ok\n")
    assert http_get("127.0.0.1", proxy.health_port, "/dogs")[0] == 404


@pytest.mark.parametrize(
    ("path", "upstream_path"),
    [
        ("/dogs", "/prod/dogs"),
        ("/dogs/males", "/prod/dogs/males"),
        ("/todo/ab12cd34?verbose=1&x=%2F", "/prod/todo/ab12cd34?verbose=1&x=%2F"),
        ("/a%2Fb/%7Euser", "/prod/a%2Fb/%7Euser"),
        ("/", "/prod/"),
    ],
)
def test_verified_client_reaches_the_upstream_with_its_identity(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path, path: str, upstream_path: str
) -> None:
    response = https_request(proxy, client_context(certs), path)
    assert response.status == 200
    seen = response.json()
    assert seen["path"] == upstream_path
    expected = {
        "Host": API_HOST,
        **verified_identity(certs),
        "X-Forwarded-For": "127.0.0.1",
        "X-Forwarded-Proto": "https",
    }
    for name, value in expected.items():
        assert header_values(seen, name) == [value], name
    (request_id,) = header_values(seen, "X-Request-Id")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    # HTTP/1.1 to the upstream with no hop-by-hop Connection header: the connection is kept.
    assert header_values(seen, "Connection") == []
    assert fresh_echo.requests == [seen]


def test_methods_and_bodies_are_forwarded(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path
) -> None:
    body = b'{"data": "walk the dog"}'
    response = https_request(
        proxy,
        client_context(certs),
        "/todo",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=body,
    )
    assert response.status == 200
    seen = response.json()
    assert (seen["method"], seen["path"], seen["body_length"]) == ("POST", "/prod/todo", len(body))
    assert header_values(seen, "Content-Type") == ["application/json"]


def test_client_sent_identity_headers_are_overwritten(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path
) -> None:
    forged = [
        ("X-Client-Cert-Subject", "CN=admin,O=private-apis-local"),
        ("x-client-cert-subject", "CN=root"),
        ("X-CLIENT-CERT-ISSUER", "CN=evil CA"),
        ("X-Client-Cert-Serial", "01"),
        ("X-Client-Cert-Fingerprint", "00" * 20),
        ("x-client-cert-verify", "SUCCESS"),
        ("X-Forwarded-For", "10.9.9.9"),
        ("X-Forwarded-Proto", "http"),
        ("X-Request-Id", "forged-id"),
        ("Host", "partnerap1.execute-api.us-east-1.amazonaws.com"),
        ("x-apigw-api-id", "partnerap1"),
    ]
    response = https_request(proxy, client_context(certs, "client-revoked"), headers=forged)
    # A revoked certificate is refused before any header is looked at ...
    assert response.status == 400
    assert fresh_echo.requests == []

    response = https_request(proxy, client_context(certs), headers=forged)
    assert response.status == 200
    seen = response.json()
    assert header_values(seen, "X-Client-Cert-Subject") == ["CN=consumer-app,O=private-apis-local"]
    assert header_values(seen, "X-Client-Cert-Issuer") == [
        "CN=private-apis-local CA,O=private-apis-local"
    ]
    assert header_values(seen, "X-Client-Cert-Serial") == [
        nginx_serial(load(certs, "client.crt").serial_number)
    ]
    assert header_values(seen, "X-Client-Cert-Fingerprint") != ["00" * 20]
    assert header_values(seen, "X-Client-Cert-Verify") == ["SUCCESS"]
    assert header_values(seen, "X-Forwarded-For") == ["127.0.0.1"]
    assert header_values(seen, "X-Forwarded-Proto") == ["https"]
    assert header_values(seen, "X-Request-Id") != ["forged-id"]
    assert len(header_values(seen, "X-Request-Id")) == 1
    assert header_values(seen, "Host") == [API_HOST]
    assert header_values(seen, "x-apigw-api-id") == []


# Client headers under the proxy's X-Client-Cert- prefix, in every spelling NGINX could see: none
# may reach the upstream, whether NGINX sets that name itself or not.
FORGED_CLIENT_CERT_HEADERS = [
    ("X-Client-Cert-Role", "admin"),
    ("x-client-cert-role", "x"),
    ("X_Client_Cert_Role", "y"),
    ("X-CLIENT-CERT-SUBJECT", "forged"),
    ("X-Client-Cert-Verify", "NONE"),
    ("x_client_cert_role", "z"),
    ("X-CLIENT-CERT-ROLE", "root"),
    ("X-Client_Cert-Subject", "CN=admin"),
    ("x-Client-cert-fingerprint", "00"),
    ("X-Client-Cert-", "empty-suffix"),
]
# Names that only look alike: they are not under the prefix and must pass unchanged.
UNRELATED_HEADERS = [
    ("X-Other", "kept"),
    ("X-Client-Certificate", "kept-too"),
    ("X-Not-Client-Cert-Role", "also-kept"),
]


def under_client_cert_prefix(name: str) -> bool:
    return name.lower().replace("_", "-").startswith("x-client-cert-")


@pytest.mark.parametrize(
    "forged",
    [pytest.param([header], id=header[0]) for header in FORGED_CLIENT_CERT_HEADERS]
    + [pytest.param(FORGED_CLIENT_CERT_HEADERS, id="all-at-once")],
)
def test_client_sent_client_cert_prefixed_headers_are_dropped(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path, forged: list[tuple[str, str]]
) -> None:
    # The unrelated headers come first, in the middle and last, around the forged ones.
    first, middle, last = UNRELATED_HEADERS
    sent = [first, *forged[: len(forged) // 2], middle, *forged[len(forged) // 2 :], last]
    response = https_request(proxy, client_context(certs), headers=sent)
    assert response.status == 200
    seen = response.json()
    prefixed = [(name, value) for name, value in seen["headers"] if under_client_cert_prefix(name)]
    # Exactly NGINX's five, once each, spelled as NGINX sets them, with the verified values.
    assert sorted(prefixed) == sorted(verified_identity(certs).items())
    for name, value in UNRELATED_HEADERS:
        assert header_values(seen, name) == [value], name
    assert fresh_echo.requests == [seen]


@pytest.mark.parametrize(
    ("cert", "message", "verify"),
    [
        (None, NO_CERT, "NONE"),
        ("client-other-ca", BAD_CERT, "FAILED:unable to verify the first certificate"),
        ("client-expired", BAD_CERT, "FAILED:certificate has expired"),
        ("client-revoked", BAD_CERT, "FAILED:certificate revoked"),
    ],
)
def test_rejected_clients_get_400_and_nothing_is_forwarded(
    proxy: Proxy,
    fresh_echo: EchoServer,
    certs: Path,
    cert: str | None,
    message: bytes,
    verify: str,
) -> None:
    uri = f"/dogs?who={cert}"
    response = https_request(proxy, client_context(certs, cert), uri)
    assert response.status == 400
    assert message in response.body
    assert fresh_echo.requests == []

    def logged() -> dict | None:
        lines = [r for r in proxy.log_lines() if r["uri"] == uri]
        return lines[-1] if lines else None

    entry = wait_until(logged, what="the access log line")
    assert entry["status"] == 400
    assert entry["client_verify"] == verify
    assert entry["upstream_addr"] == ""


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(
    "version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["TLSv1.0", "TLSv1.1"]
)
def test_tls_1_0_and_1_1_are_refused(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path, version: ssl.TLSVersion
) -> None:
    ctx = client_context(certs, min_version=version, max_version=version)
    # Let this client offer the old protocol at all (OpenSSL 3 refuses it at level 1 and up).
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError, match=r"(?i)protocol version|unsupported protocol|alert"):
            ctx.wrap_socket(raw, server_hostname="localhost")
    assert fresh_echo.requests == []


@pytest.mark.parametrize(
    ("version", "protocol"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
)
def test_tls_1_2_and_1_3_are_accepted(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path, version: ssl.TLSVersion, protocol: str
) -> None:
    ctx = client_context(certs, min_version=version, max_version=version)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() == protocol
    assert (
        https_request(proxy, client_context(certs, min_version=version, max_version=version)).status
        == 200
    )


def test_plain_http_on_the_tls_port_gets_400(proxy: Proxy, fresh_echo: EchoServer) -> None:
    with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as sock:
        sock.sendall(b"GET /dogs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"The plain HTTP request was sent to HTTPS port" in data
    assert fresh_echo.requests == []


def test_server_certificate_is_the_project_one(proxy: Proxy, certs: Path) -> None:
    ctx = client_context(certs)
    for name in ("localhost", "mtls-proxy"):
        with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as tls:
                der = tls.getpeercert(binary_form=True)
        assert der == load(certs, "server.crt").public_bytes(Encoding.DER)


@pytest.mark.parametrize(
    ("size", "status", "forwarded"),
    [(9 * 1024 * 1024, 200, True), (11 * 1024 * 1024, 413, False)],
)
def test_body_size_limit_is_10_mb(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path, size: int, status: int, forwarded: bool
) -> None:
    response = https_request(proxy, client_context(certs), "/todo", method="POST", body=b"x" * size)
    assert response.status == status
    if forwarded:
        assert response.json()["body_length"] == size
        assert len(fresh_echo.requests) == 1
    else:
        assert b"413 Request Entity Too Large" in response.body
        assert fresh_echo.requests == []


def test_access_log_is_one_json_object_per_request(
    proxy: Proxy, fresh_echo: EchoServer, certs: Path
) -> None:
    response = https_request(proxy, client_context(certs), "/dogs?who=logged")
    assert response.status == 200
    (request_id,) = header_values(response.json(), "X-Request-Id")

    def logged() -> dict | None:
        lines = [r for r in proxy.log_lines() if r["request_id"] == request_id]
        return lines[0] if lines else None

    entry = wait_until(logged, what="the access log line")
    assert entry["status"] == 200
    assert entry["method"] == "GET"
    assert entry["uri"] == "/dogs?who=logged"
    assert entry["client_verify"] == "SUCCESS"
    assert entry["client_subject"] == "CN=consumer-app,O=private-apis-local"
    assert entry["upstream_status"] == "200"
    assert entry["ssl_protocol"] == "TLSv1.3"


def test_healthcheck_script(proxy: Proxy, nginx_binary: str) -> None:
    script = str(Path(__file__).resolve().parent.parent / "healthcheck.sh")
    ok = subprocess.run(
        [script], env={"HEALTH_PORT": str(proxy.health_port)}, capture_output=True, timeout=10
    )
    assert ok.returncode == 0, ok.stderr
    down = subprocess.run(
        [script], env={"HEALTH_PORT": str(free_port())}, capture_output=True, timeout=10
    )
    assert down.returncode != 0
    # The TLS port does not answer plain HTTP with 200: the check really reads the status line.
    wrong = subprocess.run(
        [script], env={"HEALTH_PORT": str(proxy.tls_port)}, capture_output=True, timeout=10
    )
    assert wrong.returncode != 0

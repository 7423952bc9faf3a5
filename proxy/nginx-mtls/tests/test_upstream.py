"""The upstream side: keep-alive, Host and SNI for an HTTPS upstream, start-up checks."""

import http.client
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme
from nginx_mtls_harness import (
    API_HOST,
    ENTRYPOINT,
    EchoServer,
    Proxy,
    client_context,
    header_values,
    https_request,
    proxy_env,
)


@pytest.fixture
def new_echo() -> Iterator[EchoServer]:
    server = EchoServer().start()
    yield server
    server.stop()


def test_requests_reuse_one_upstream_connection(
    make_proxy: Callable[[dict[str, str]], Proxy], new_echo: EchoServer, certs: Path
) -> None:
    proxy = make_proxy(proxy_env(certs, f"http://127.0.0.1:{new_echo.port}/prod"))
    ctx = client_context(certs)
    # Five clients one after another, then three requests on one client connection.
    seen = [https_request(proxy, ctx, f"/dogs?n={i}").json() for i in range(5)]
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.tls_port, context=ctx, timeout=10)
    try:
        seen += [https_request(proxy, ctx, f"/todo?n={i}", conn=conn).json() for i in range(3)]
    finally:
        conn.close()
    assert [r["path"] for r in seen] == [f"/prod/dogs?n={i}" for i in range(5)] + [
        f"/prod/todo?n={i}" for i in range(3)
    ]
    assert {r["connection"] for r in seen} == {1}
    assert new_echo.connections == 1


@pytest.fixture(scope="module")
def api_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_echo(api_ca: trustme.CA) -> Iterator[EchoServer]:
    """An HTTPS upstream whose certificate names the execute-api host, as a real one would."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    api_ca.issue_cert(API_HOST).configure_cert(ctx)
    server = EchoServer(tls=ctx).start()
    yield server
    server.stop()


def test_https_upstream_gets_the_api_host_as_sni_and_host(
    make_proxy: Callable[[dict[str, str]], Proxy],
    tls_echo: EchoServer,
    api_ca: trustme.CA,
    certs: Path,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "api-ca.pem"
    api_ca.cert_pem.write_to_path(str(ca_file))
    proxy = make_proxy(
        proxy_env(certs, f"https://127.0.0.1:{tls_echo.port}/prod", UPSTREAM_CA=str(ca_file))
    )
    ctx = client_context(certs)
    first = https_request(proxy, ctx, "/dogs")
    second = https_request(proxy, ctx, "/dogs/females")
    assert (first.status, second.status) == (200, 200)
    assert first.json()["path"] == "/prod/dogs"
    assert header_values(first.json(), "Host") == [API_HOST]
    assert tls_echo.sni == [API_HOST]
    assert first.json()["connection"] == second.json()["connection"]


def test_https_upstream_with_a_name_its_certificate_lacks_is_not_trusted(
    make_proxy: Callable[[dict[str, str]], Proxy],
    tls_echo: EchoServer,
    api_ca: trustme.CA,
    certs: Path,
    tmp_path: Path,
) -> None:
    ca_file = tmp_path / "api-ca.pem"
    api_ca.cert_pem.write_to_path(str(ca_file))
    proxy = make_proxy(
        proxy_env(
            certs,
            f"https://127.0.0.1:{tls_echo.port}/prod",
            UPSTREAM_CA=str(ca_file),
            UPSTREAM_HOST="someone-else.example.test",
        )
    )
    response = https_request(proxy, client_context(certs), "/dogs")
    assert response.status == 502
    assert tls_echo.requests == []
    assert tls_echo.sni == ["someone-else.example.test"]


def test_upstream_by_name_defaults_host_to_that_name(
    make_proxy: Callable[[dict[str, str]], Proxy], new_echo: EchoServer, certs: Path
) -> None:
    env = proxy_env(certs, f"http://localhost:{new_echo.port}/v1")
    del env["UPSTREAM_HOST"]
    proxy = make_proxy(env)
    response = https_request(proxy, client_context(certs), "/dogs")
    assert response.status == 200
    assert response.json()["path"] == "/v1/dogs"
    assert header_values(response.json(), "Host") == ["localhost"]


@pytest.mark.parametrize(
    "missing", ["TLS_KEY", "TLS_CERT", "CLIENT_CA", "CLIENT_CRL", "HEADERS_MORE_MODULE"]
)
def test_start_fails_clearly_when_a_file_is_missing(
    nginx_binary: str, certs: Path, tmp_path: Path, missing: str
) -> None:
    env = proxy_env(certs, "http://127.0.0.1:9/prod", NGINX_RUN_DIR=str(tmp_path))
    env[missing] = str(tmp_path / "absent.pem")
    result = subprocess.run([str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=10)
    assert result.returncode == 64
    assert result.stderr.startswith(f"nginx-mtls: {missing}={tmp_path / 'absent.pem'} is missing")

"""`nginx -s reload` picks up a rotated server certificate without dropping a request in flight."""

import http.client
import shutil
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from certgen import Settings, ensure_certificates
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from nginx_mtls_harness import EchoServer, Proxy, client_context, proxy_env, wait_until


@pytest.fixture
def new_echo() -> Iterator[EchoServer]:
    server = EchoServer().start()
    yield server
    server.stop()


def der(path: Path) -> bytes:
    return x509.load_pem_x509_certificate(path.read_bytes()).public_bytes(Encoding.DER)


def test_reload_with_a_rotated_certificate_keeps_the_open_connection(
    make_proxy: Callable[[dict[str, str]], Proxy],
    new_echo: EchoServer,
    certs: Path,
    tmp_path: Path,
) -> None:
    own_certs = tmp_path / "certs"
    shutil.copytree(certs, own_certs)
    proxy = make_proxy(proxy_env(own_certs, f"http://127.0.0.1:{new_echo.port}/prod"))
    ctx = client_context(own_certs)
    old_cert = der(own_certs / "server.crt")

    # A request in flight: the upstream holds its answer back while NGINX reloads.
    in_flight = http.client.HTTPSConnection("127.0.0.1", proxy.tls_port, context=ctx, timeout=10)
    in_flight.request("GET", "/slow?delay=1.5")
    wait_until(lambda: new_echo.requests, what="the upstream to receive the slow request")
    assert in_flight.sock.getpeercert(binary_form=True) == old_cert

    # Rotate: certgen issues a new server pair from the same CA for the deleted one.
    (own_certs / "server.crt").unlink()
    (own_certs / "server.key").unlink()
    ensure_certificates(Settings(out=own_certs, chown=False))
    new_cert = der(own_certs / "server.crt")
    assert new_cert != old_cert
    master_pid = proxy.process.pid
    proxy.reload()

    response = in_flight.getresponse()
    assert response.status == 200
    assert response.read().startswith(b'{"method": "GET", "path": "/prod/slow?delay=1.5"')
    in_flight.close()

    def handshake_sees_new_certificate() -> bool:
        with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True) == new_cert

    wait_until(handshake_sees_new_certificate, what="a handshake with the new certificate")
    after = http.client.HTTPSConnection("127.0.0.1", proxy.tls_port, context=ctx, timeout=10)
    try:
        after.request("GET", "/dogs")
        response = after.getresponse()
        assert response.status == 200
        response.read()
    finally:
        after.close()
    assert proxy.process.poll() is None
    assert proxy.process.pid == master_pid

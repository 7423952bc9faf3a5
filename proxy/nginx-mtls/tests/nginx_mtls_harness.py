"""Test harness: real NGINX, started through the real entrypoint, in front of an echo server.

NGINX runs as the current user with its run directory (config, pid, temp files) in a fresh
temporary directory; the certificates come from tools/certgen. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from devstack.ports import free_port

PROXY_DIR = Path(__file__).resolve().parent.parent
ENTRYPOINT = PROXY_DIR / "entrypoint.sh"
TEMPLATE = PROXY_DIR / "nginx.conf.template"
API_HOST = "mtlsapi001.execute-api.us-east-1.amazonaws.com"
START_TIMEOUT = 10.0
# The headers-more module the configuration loads (entrypoint.sh: HEADERS_MORE_MODULE).
HEADERS_MORE_FILE = "ngx_http_headers_more_filter_module.so"


def nginx_serial(serial_number: int) -> str:
    """A certificate serial as NGINX's $ssl_client_serial writes it: uppercase hex, whole bytes
    (so a serial whose first byte is below 0x10 keeps its leading zero)."""
    digits = f"{serial_number:X}"
    return digits.rjust(len(digits) + len(digits) % 2, "0")


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy; bounded in time."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------------------- echo upstream


class EchoServer:
    """HTTP/1.1 server that answers every request with what it received, as JSON.

    It counts accepted connections and numbers them, so tests can see upstream keep-alive.
    `?delay=SECONDS` in the query holds the answer back (for the reload test).
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.sni: list[str | None] = []
        self.cond = threading.Condition()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        if tls is not None:
            tls.sni_callback = self._record_sni
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _record_sni(self, _sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.sni.append(name)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with echo.cond:
                    echo.connections += 1
                    self.connection_number = echo.connections

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                remaining = length
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    remaining -= len(chunk)
                record = {
                    "method": self.command,
                    "path": self.path,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body_length": length - remaining,
                    "connection": self.connection_number,
                }
                with echo.cond:
                    echo.requests.append(record)
                    echo.cond.notify_all()
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if "delay" in query:
                    time.sleep(min(float(query["delay"][0]), 5.0))
                data = json.dumps(record).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> EchoServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def reset(self) -> None:
        with self.cond:
            self.requests.clear()


# ---------------------------------------------------------------------------------- proxy


@dataclasses.dataclass
class Proxy:
    process: subprocess.Popen[bytes]
    run_dir: Path
    tls_port: int
    health_port: int
    env: dict[str, str]

    @property
    def conf(self) -> Path:
        return self.run_dir / "nginx.conf"

    @property
    def access_log(self) -> Path:
        return self.run_dir / "stdout.log"

    @property
    def error_log(self) -> Path:
        return self.run_dir / "stderr.log"

    def log_lines(self) -> list[dict[str, Any]]:
        text = self.access_log.read_text()
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    def reload(self) -> None:
        subprocess.run(
            ["nginx", "-e", "stderr", "-c", str(self.conf), "-s", "reload"],
            check=True,
            timeout=10,
            capture_output=True,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.run_dir, ignore_errors=True)


def proxy_env(certs: Path, upstream_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
        "NGINX_TEMPLATE": str(TEMPLATE),
        "UPSTREAM_URL": upstream_url,
        "UPSTREAM_HOST": API_HOST,
        "TLS_CERT": str(certs / "server.crt"),
        "TLS_KEY": str(certs / "server.key"),
        "CLIENT_CA": str(certs / "ca.crt"),
        "CLIENT_CRL": str(certs / "ca.crl"),
        "LISTEN_ADDRESS": "127.0.0.1",
        "LISTEN_PORT": str(free_port()),
        "HEALTH_PORT": str(free_port()),
        "WORKER_PROCESSES": "1",
        "UPSTREAM_WAIT_SECONDS": "5",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def start_proxy(env: dict[str, str]) -> Proxy:
    # Under /tmp and world-searchable: when the tests run as root NGINX's workers drop to
    # `nobody`, and they write temp files here.
    run_dir = Path(tempfile.mkdtemp(prefix="nginx-mtls-test-"))
    run_dir.chmod(0o755)
    env = {**env, "NGINX_RUN_DIR": str(run_dir)}
    with (run_dir / "stdout.log").open("wb") as out, (run_dir / "stderr.log").open("wb") as err:
        process = subprocess.Popen([str(ENTRYPOINT)], env=env, stdout=out, stderr=err)
    proxy = Proxy(process, run_dir, int(env["LISTEN_PORT"]), int(env["HEALTH_PORT"]), env)

    def healthy() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"nginx exited with {process.returncode}: {proxy.error_log.read_text()}"
            )
        try:
            status, _ = http_get("127.0.0.1", proxy.health_port, "/health")
        except OSError:
            return False
        return status == 200

    try:
        wait_until(healthy, START_TIMEOUT, "nginx to answer /health")
    except BaseException:
        proxy.stop()
        raise
    return proxy


def http_get(host: str, port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------- client


def client_context(
    certs: Path,
    cert: str | None = "client",
    *,
    min_version: ssl.TLSVersion | None = None,
    max_version: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A client that trusts the project CA and presents `certs/<cert>.crt` (None: no cert)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(certs / "ca.crt")
    if cert is not None:
        ctx.load_cert_chain(certs / f"{cert}.crt", certs / f"{cert}.key")
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


@dataclasses.dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def https_request(
    proxy: Proxy,
    ctx: ssl.SSLContext,
    path: str = "/dogs",
    *,
    method: str = "GET",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    body: bytes | None = None,
    conn: http.client.HTTPSConnection | None = None,
) -> Response:
    own = conn is None
    if conn is None:
        conn = http.client.HTTPSConnection("127.0.0.1", proxy.tls_port, context=ctx, timeout=10)
    try:
        pairs = list(headers.items() if isinstance(headers, dict) else (headers or []))
        skip_host = any(name.lower() == "host" for name, _ in pairs)
        conn.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for name, value in pairs:
            conn.putheader(name, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        if own:
            conn.close()


def header_values(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name.lower()]


def render(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`entrypoint.sh render`: the exact text the container would run NGINX with."""
    full = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin",
        "NGINX_TEMPLATE": str(TEMPLATE),
        **env,
    }
    return subprocess.run(
        [str(ENTRYPOINT), "render"], env=full, capture_output=True, text=True, timeout=10
    )

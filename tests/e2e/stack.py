"""What the end-to-end tests know about the stack, and how they reach it.

The suite treats the stack as a black box: it knows the published URLs on 127.0.0.1, the files in
./certs and ./secrets, and uses `docker compose` only to stop and start containers, read logs,
probe from inside the stack's networks and run the stack's own one-shot `certs` tool. The stack
must already be up and healthy; a stack that is not there fails the session (never skips it).

Environment: PUBLIC_API_PORT, FRONTDOOR_PORT, MTLS_PORT, LAMBDA_PORT, WIDGETS_CONSUMER_PORT (as
for compose), E2E_CERTS_DIR, E2E_SECRETS_DIR.
"""

from __future__ import annotations

import ipaddress
import json
import os
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CERTS = Path(os.environ.get("E2E_CERTS_DIR", ROOT / "certs"))
SECRETS = Path(os.environ.get("E2E_SECRETS_DIR", ROOT / "secrets"))
TOKEN_SECRET = SECRETS / "authorizer-token"  # the widgets and mtls APIs' shared secret
PUBLIC_API = f"http://127.0.0.1:{os.environ.get('PUBLIC_API_PORT', '8080')}"
FRONTDOOR_API = f"http://127.0.0.1:{os.environ.get('FRONTDOOR_PORT', '8088')}"
MTLS_PORT = int(os.environ.get("MTLS_PORT", "8443"))
# The server certificate names both localhost and 127.0.0.1; the address avoids trying ::1 first.
MTLS_HOST = "127.0.0.1"
MTLS_API = f"https://{MTLS_HOST}:{MTLS_PORT}"
LAMBDA_PORT = int(os.environ.get("LAMBDA_PORT", "9000"))
LAMBDA_INVOKE_PATH = "/2015-03-31/functions/function/invocations"
LAMBDA_URL = f"http://127.0.0.1:{LAMBDA_PORT}{LAMBDA_INVOKE_PATH}"
WIDGETS_CONSUMER_PORT = int(os.environ.get("WIDGETS_CONSUMER_PORT", "9002"))
WIDGETS_CONSUMER_URL = f"http://127.0.0.1:{WIDGETS_CONSUMER_PORT}{LAMBDA_INVOKE_PATH}"

REGION = "us-east-1"
MTLS_API_ID = "mtlsapi001"
PARTNER_API_ID = "partnerap1"
# The widgets API (the front door's producer) and the front-door VPC's endpoint it admits.
WIDGETS_API_ID = "widgetsap1"
WIDGET = {"id": "1", "value": "4.99"}
FRONTDOOR_VPCE = "vpce-0fd44444444444444"
FRONTDOOR_VPC_SUBNET = ipaddress.ip_network(os.environ.get("FRONTDOOR_VPC_SUBNET", "10.214.5.0/24"))
# Inside the stack the gateway is reached through each VPC's endpoint alias.
CONSUMER_VPCE_URL = "http://vpce-consumer:8080"

STACK_TIMEOUT_S = 60.0
RECOVERY_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.2


def nginx_serial(serial_number: int) -> str:
    """A certificate serial as NGINX's $ssl_client_serial writes it: uppercase hex, whole bytes
    (so a serial whose first byte is below 0x10 keeps its leading zero)."""
    digits = f"{serial_number:X}"
    return digits.rjust(len(digits) + len(digits) % 2, "0")


def compose(
    *args: str, timeout: float = 60, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `docker compose ARGS` in the repository root (where docker-compose.yml is); `env`:
    more environment (for `run -e NAME`, which passes NAME's value without it on a command
    line)."""
    result = subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"docker compose {' '.join(args)} exited {result.returncode}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def wait_until(probe: Callable[[], Any], what: str, timeout: float = RECOVERY_TIMEOUT_S) -> Any:
    """Call `probe` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = probe()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            last_error = exc
        else:
            if result:
                return result
        time.sleep(POLL_INTERVAL_S)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what} (last error: {last_error!r})")


def container_id(service: str) -> str:
    ids = compose("ps", "-q", service).stdout.split()
    assert len(ids) == 1, f"expected one running {service} container, got {ids}"
    return ids[0]


def inspect(service: str, template: str) -> str:
    """`docker inspect --format <template>` of the service's one running container."""
    command = ["docker", "inspect", "--format", template, container_id(service)]
    out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    return out.stdout.strip()


def container_ip(service: str, network_suffix: str) -> str:
    """The address of the service's container on the network whose name ends with the suffix."""
    networks = json.loads(inspect(service, "{{json .NetworkSettings.Networks}}"))
    [ip] = [n["IPAddress"] for name, n in networks.items() if name.endswith(network_suffix)]
    assert ip, networks
    return str(ip)


def started_at(service: str) -> str:
    return inspect(service, "{{.State.StartedAt}}")


def health(service: str) -> str:
    out = compose("ps", "--all", "--format", "json", service).stdout
    states = [json.loads(line) for line in out.splitlines() if line.strip()]
    return states[0].get("Health", "") if states else ""


def wait_healthy(service: str, timeout: float = RECOVERY_TIMEOUT_S) -> None:
    wait_until(lambda: health(service) == "healthy", f"{service} to be healthy", timeout)


def remove_container(name: str) -> None:
    """Remove a container a test started (`docker compose run --name`), whatever its state."""
    subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60, check=False)


def start_service(service: str) -> None:
    compose("start", service)
    wait_healthy(service)


def mtls_context(cert: str | None = "client", ca: str = "ca.crt") -> ssl.SSLContext:
    """A client context that trusts the project CA and presents certs/<cert>.crt (if any)."""
    context = ssl.create_default_context(cafile=str(CERTS / ca))
    if cert is not None:
        context.load_cert_chain(CERTS / f"{cert}.crt", CERTS / f"{cert}.key")
    return context


def token() -> str:
    """The shared secret now (a rotation replaces the file): the TOKEN authorizer's token."""
    return TOKEN_SECRET.read_text().strip()


class SharedSecret(httpx.Auth):
    """The token as the Authorization header of every request, read anew for each one, so a
    client outlives a rotation of the secret."""

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = token()
        yield request


class GatewayLog:
    """The gateway's JSON access log, read with `docker compose logs`.

    Requests are told apart by a unique User-Agent (the log's `userAgent`), not by their order:
    the gateway logs a request just after answering it, so two requests in flight may be logged
    in either order.
    """

    def __init__(self, public: httpx.Client) -> None:
        self._public = public

    @staticmethod
    def agent() -> str:
        return f"e2e-{uuid.uuid4().hex}"

    @staticmethod
    def entries() -> list[dict[str, Any]]:
        out = compose("logs", "--no-color", "--no-log-prefix", "gateway").stdout
        found = []
        for line in out.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and "requestId" in entry:
                found.append(entry)
        return found

    def seen(self, agent: str) -> list[dict[str, Any]]:
        """Entries of requests sent with User-Agent `agent`, once everything answered before
        this call is in the log (a sentinel request sent now has been logged)."""
        sentinel = self.agent()
        response = self._public.get("/e2e-sentinel", headers={"User-Agent": sentinel})
        assert response.status_code == 404, response.text  # the global API's unknown route

        def logged() -> tuple[list[dict[str, Any]]] | None:
            entries = self.entries()
            if not any(e.get("userAgent") == sentinel for e in entries):
                return None
            return ([e for e in entries if e.get("userAgent") == agent],)  # truthy when empty

        [found] = wait_until(logged, "the gateway to log the sentinel request", timeout=10)
        return found  # type: ignore[no-any-return]


ECHO_SERVER = r"""
import http.server, json

class Echo(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        out = json.dumps({"method": self.command, "path": self.path, "body": body,
                          "headers": [[k, v] for k, v in self.headers.items()]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("0.0.0.0", 8080), Echo).serve_forever()
"""
ECHO_CONTAINER = "private-apis-e2e-echo"


def header_values(echo: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]

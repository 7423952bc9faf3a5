"""Fixtures: certificates from certgen, an echo upstream, NGINX through the real entrypoint."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from certgen import Settings, ensure_certificates

# The harness is a plain module beside this file (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from nginx_mtls_harness import HEADERS_MORE_FILE, EchoServer, Proxy, proxy_env, start_proxy

# -------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("proxy") / "certs"
    ensure_certificates(Settings(out=out, chown=False))
    return out


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    path = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
    assert path, "nginx is not installed: apt-get install -y nginx (CI installs it in .ci/run)"
    assert shutil.which("envsubst"), "envsubst is missing: apt-get install -y gettext-base"
    version = subprocess.run([path, "-V"], capture_output=True, text=True, check=True).stderr
    found = re.search(r"--modules-path=(\S+)", version)
    module = Path(found[1] if found else "/usr/lib/nginx/modules") / HEADERS_MORE_FILE
    assert module.exists(), (
        f"{module} is missing: apt-get install -y libnginx-mod-http-headers-more-filter"
    )
    return path


@pytest.fixture(scope="module")
def echo() -> Iterator[EchoServer]:
    server = EchoServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxy(nginx_binary: str, certs: Path, echo: EchoServer) -> Iterator[Proxy]:
    started = start_proxy(proxy_env(certs, f"http://127.0.0.1:{echo.port}/prod"))
    yield started
    started.stop()


@pytest.fixture
def fresh_echo(echo: EchoServer) -> EchoServer:
    echo.reset()
    return echo


@pytest.fixture
def make_proxy(nginx_binary: str) -> Iterator[Callable[[dict[str, str]], Proxy]]:
    started: list[Proxy] = []

    def make(env: dict[str, str]) -> Proxy:
        proxy = start_proxy(env)
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()

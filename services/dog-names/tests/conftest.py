import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from devstack.ports import free_port
from devstack.processes import stop_process
from devstack.ready import wait_until_ready
from dog_names import Settings, create_app
from dog_names.names import Kennel
from fastapi import FastAPI
from fastapi.testclient import TestClient


@pytest.fixture
def settings() -> Settings:
    return Settings(host="127.0.0.1", port=8080, log_level="info")


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def kennel() -> Kennel:
    return Kennel.from_package_data()


class ServedApp:
    def __init__(self, base_url: str, stdout_path: Path, stderr_path: Path) -> None:
        self.base_url = base_url
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path


@pytest.fixture
def served_app(tmp_path: Path) -> Iterator[ServedApp]:
    """`python -m dog_names` as a real uvicorn process on a free loopback port."""
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "LOG_LEVEL": "info"}
    stdout_path, stderr_path = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dog_names"], env=env, stdout=out, stderr=err, cwd=tmp_path
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base_url}/health", proc, 20.0, name="dog_names", log=stderr_path)
        yield ServedApp(base_url, stdout_path, stderr_path)
    finally:
        stop_process(proc)

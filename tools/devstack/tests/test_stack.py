"""The launcher with the real servers: Dog Names, ToDo (gunicorn) and the gateway."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_ports, port_is_free
from devstack.ready import StartError
from devstack.stack import running_stack

from .conftest import group_gone, still_running


def test_the_gateway_answers_a_dog_through_the_default_api(
    tmp_path: Path, marked_env: dict[str, str]
) -> None:
    with running_stack(log_dir=tmp_path, env=marked_env) as stack:
        services = [stack.dog_names, stack.todo, stack.gateway]
        # a free port for the front door too: the shipped configuration listens there
        assert stack.frontdoor_port not in {s.port for s in services}
        response = httpx.get(stack.gateway.base_url + "/dogs", timeout=10)
        created = httpx.post(stack.gateway.base_url + "/todo", data={"data": "milk"}, timeout=10)

        assert response.status_code == 200
        assert set(response.json()) == {"Name", "Gender"}
        assert created.status_code == 201
        assert len({s.port for s in services}) == 3
        for service in services:
            assert service.base_url == f"http://127.0.0.1:{service.port}"
            assert service.process.poll() is None
            assert service.log_path == tmp_path / f"{service.name}.log"
        assert (tmp_path / "todo.db").exists()
        assert '"path": "/dogs"' in (tmp_path / "dog-names.log").read_text()

    for service in services:
        assert service.process.returncode is not None
        assert group_gone(service.process.pid)
        assert port_is_free(service.port)
    assert still_running(marked_env) == []


def test_fixed_ports_and_relayed_output(marked_env: dict[str, str]) -> None:
    gateway_port, frontdoor_port, dog_port, todo_port = free_ports(4)
    out = io.StringIO()

    with running_stack(
        echo=out,
        gateway_port=gateway_port,
        frontdoor_port=frontdoor_port,
        dog_names_port=dog_port,
        todo_port=todo_port,
        todo_workers=1,
        env=marked_env,
    ) as stack:
        assert [s.port for s in stack.services.values()] == [dog_port, todo_port, gateway_port]
        assert stack.log_dir is None
        assert stack.gateway.log_path is None
        male = httpx.get(f"http://127.0.0.1:{gateway_port}/dogs/males", timeout=10).json()
        assert male["Gender"] == "male"
        assert "Uvicorn running" in stack.gateway.log_tail()
        # the same gateway serves the front door's port (no token: its authorizer says no)
        assert stack.frontdoor_url == f"http://127.0.0.1:{frontdoor_port}"
        refused = httpx.get(stack.frontdoor_url + "/prod/", timeout=10)
        assert (refused.status_code, refused.content) == (401, b'{"message":"Unauthorized"}')

    lines = out.getvalue().splitlines()
    assert any(line.startswith("gateway   | ") for line in lines)
    assert any(line.startswith("dog-names | ") for line in lines)
    assert any(line.startswith("todo      | ") and "Booting worker" in line for line in lines)
    assert still_running(marked_env) == []


def test_a_provider_that_cannot_start_is_named_with_its_log(
    tmp_path: Path, marked_env: dict[str, str]
) -> None:
    (tmp_path / "not-a-folder").write_text("")

    with pytest.raises(StartError) as raised:
        with running_stack(
            log_dir=tmp_path, todo_db=tmp_path / "not-a-folder" / "todo.db", env=marked_env
        ):
            pytest.fail("the stack came up")

    assert raised.value.summary.startswith("todo exited with status ")
    assert "todo cannot start" in raised.value.tail
    assert still_running(marked_env) == []  # Dog Names, started alongside, is stopped too


def test_a_gateway_that_cannot_start_stops_the_providers(
    tmp_path: Path, marked_env: dict[str, str]
) -> None:
    with pytest.raises(StartError) as raised:
        with running_stack(
            log_dir=tmp_path, gateway_config=tmp_path / "missing.yaml", env=marked_env
        ):
            pytest.fail("the stack came up")

    assert raised.value.summary.startswith("gateway exited with status 2 before")
    assert "missing.yaml" in raised.value.tail
    assert str(tmp_path / "gateway.log") in str(raised.value)
    assert still_running(marked_env) == []


def test_a_fixed_port_in_use_fails_before_anything_starts(marked_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(StartError, match=rf"gateway cannot start: 127.0.0.1:{port} is already"):
            with running_stack(gateway_port=port, env=marked_env):
                pytest.fail("the stack came up")

    assert still_running(marked_env) == []


def test_the_front_doors_port_in_use_fails_before_anything_starts(
    marked_env: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(
            StartError, match=rf"gateway cannot start: 127.0.0.1:{port} \(the front door's port\)"
        ):
            with running_stack(frontdoor_port=port, env=marked_env):
                pytest.fail("the stack came up")

    assert still_running(marked_env) == []

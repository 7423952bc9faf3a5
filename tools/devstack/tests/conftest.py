"""What the devstack tests share: telling whether anything a test started is still running."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

MARK = "DEVSTACK_TEST_RUN"


@pytest.fixture
def marked_env() -> dict[str, str]:
    """os.environ plus a variable unique to this test: every process started with it (gunicorn's
    workers too) carries it, so left-overs can be found in /proc."""
    return {**os.environ, MARK: uuid.uuid4().hex}


def still_running(env: dict[str, str]) -> list[int]:
    """The live processes whose environment carries this test's mark (Linux: /proc)."""
    needle = f"{MARK}={env[MARK]}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # gone meanwhile, or not ours
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False

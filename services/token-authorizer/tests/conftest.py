"""Fixtures: a secret file per test, the recorded TOKEN event, a Lambda context."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"
TOKEN = "3q2-7wXZbq1uJm0cC0nJ6t8Hk2y2nY9mQ4a5vW1xY0s"  # the recorded event's token; not a secret


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@dataclass
class FakeContext:
    aws_request_id: str = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """The shared secret as certgen writes it: the token and a newline, in a folder of its own."""
    path = tmp_path / "authorizer" / "token"
    path.parent.mkdir()
    path.write_text(TOKEN + "\n")
    return path


def replace_file(path: Path, text: str) -> None:
    """A rotation: a new file moved into place (a new inode), as a secrets agent writes it."""
    new = path.with_name(path.name + ".new")
    new.write_text(text)
    new.replace(path)

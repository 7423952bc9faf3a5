"""Fixtures: recorded events (tests/events/, as the gateway sends them) and a Lambda context."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


@dataclass
class FakeContext:
    """The part of awslambdaric's LambdaContext the handler reads."""

    aws_request_id: str = "4a2b8f6e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture
def event() -> Any:
    """`event("get_widgets.json")`: a recorded event from tests/events/."""
    return load_event

"""Fixtures: the app synthesized once per session with the fixed context of deploy_harness."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# The harness is a plain module beside this file (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from deploy_harness import Synth, synth


@pytest.fixture(scope="session")
def synthed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def templates(synthed: Synth) -> dict[str, dict[str, Any]]:
    return dict(synthed.templates)

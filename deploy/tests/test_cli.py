"""The real `cdk synth` (the pinned CLI in deploy/node_modules) writes the four templates with no
network, no AWS credentials and no AWS configuration: in a network namespace of its own with
only a loopback that is down, an empty HOME and an environment without AWS_*."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_harness import REPO_ROOT
from private_apis_deploy.settings import DEPLOY_DIR, STACKS

CDK = DEPLOY_DIR / "node_modules" / ".bin" / "cdk"
OFFLINE = ["unshare", "--map-root-user", "--net"]


def _offline_or_skip() -> None:
    """CI must have its own network namespace (a missing capability must not pass unnoticed
    there); elsewhere the test is skipped with the reason."""
    result = subprocess.run([*OFFLINE, "true"], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return
    reason = f"unshare --map-root-user --net fails here: {result.stderr.strip()}"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(f"{reason} (run as root, or allow unprivileged user namespaces)")


def test_cdk_synth_needs_no_network_and_no_credentials(tmp_path: Path) -> None:
    assert CDK.exists(), f"{CDK} is missing: `make synth` (npm ci in deploy/) installs the CLI"
    _offline_or_skip()
    home = tmp_path / "home"
    home.mkdir()
    environment = {
        "PATH": f"{REPO_ROOT / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),  # no ~/.aws, no ~/.cdk.json
        "AWS_EC2_METADATA_DISABLED": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20",
    }
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        # the app under this interpreter (the venv's), as `make synth` runs it
        [
            *OFFLINE,
            str(CDK),
            "synth",
            "--all",
            "--quiet",
            "--output",
            str(out),
            "--app",
            f"{sys.executable} app.py",
        ],
        cwd=DEPLOY_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # A lookup (zones, an AMI, a VPC) would need credentials here and fail the synth.
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Successfully synthesized" in result.stderr
    for name in STACKS.values():
        template = json.loads((out / f"{name}.template.json").read_text(encoding="utf-8"))
        assert template["Resources"]

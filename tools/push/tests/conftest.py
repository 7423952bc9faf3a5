import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from image_push.docker import Result
from image_push.images import IMAGES
from moto import mock_aws

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
ECR_REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _run_cli(args: Sequence[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "image_push", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def git() -> Callable[..., str]:
    """git(root, *args): run git in `root`, return its stripped stdout."""
    return _git


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """cli(args, env, cwd): `python -m image_push` as a subprocess."""
    return _run_cli


@pytest.fixture
def isolated_env(tmp_path: Path) -> dict[str, str]:
    """os.environ without AWS settings: no profile files, no instance metadata lookups."""
    env = {k: v for k, v in os.environ.items() if k not in _AWS_VARIABLES}
    env["AWS_CONFIG_FILE"] = str(tmp_path / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "no-aws-credentials")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A committed git work tree with every image's build folder."""
    root = tmp_path / "repo"
    for image in IMAGES:
        folder = root / image.folder
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text("FROM scratch\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init")
    return root


@dataclass(frozen=True)
class FakeAws:
    account: str
    region: str
    registry: str


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAws]:
    """moto's AWS with fake credentials: no network, no real account."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield FakeAws(ACCOUNT, REGION, ECR_REGISTRY)


@dataclass
class Call:
    args: list[str]
    input: str | None
    capture: bool


@dataclass
class FakeRunner:
    """Records the docker commands; answers as a working engine would. Checks arguments only."""

    calls: list[Call] = field(default_factory=list)
    failing: dict[str, Result] = field(default_factory=dict)  # subcommand -> answer

    @staticmethod
    def digest(ref: str) -> str:
        """The digest this fake registry gives `ref`."""
        return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()

    def __call__(self, args: Sequence[str], *, input: str | None = None, capture: bool = True):
        self.calls.append(Call(list(args), input, capture))
        command = args[1]
        if command in self.failing:
            return self.failing[command]
        if command == "push":
            tag = args[2].rsplit(":", 1)[1]
            return Result(0, f"{tag}: digest: {self.digest(args[2])} size: 1570\n")
        if command == "login":
            return Result(0, "Login Succeeded\n")
        if command == "version":
            return Result(0, "20.10.24\n")
        if command == "image":
            return Result(0, "sha256:" + "0" * 64 + "\n")
        return Result(0, "")

    def commands(self, name: str) -> list[list[str]]:
        return [call.args for call in self.calls if call.args[1] == name]


@pytest.fixture
def runner() -> FakeRunner:
    return FakeRunner()


@pytest.fixture
def make_runner() -> Callable[..., FakeRunner]:
    """make_runner(failing={subcommand: Result}): a runner where those subcommands fail."""
    return FakeRunner

"""End to end: build the real images, push them to a real registry on 127.0.0.1, pull them back.

Needs the Docker engine (`.ci/docker-up.sh`) and Debian's `docker-registry` package.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from devstack.ports import free_port
from devstack.processes import stop_process
from devstack.ready import wait_until_ready

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[3]
REGISTRY_BINARY = Path("/usr/bin/docker-registry")
DEPLOYABLE = [
    "dog-names", "todo", "consumer-lambda", "nginx-mtls", "widgets-lambda", "token-authorizer"
]  # fmt: skip
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    ]
)
LINE = re.compile(r"^(?P<name>\S+) (?P<ref>\S+:[^:@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")


@dataclass(frozen=True)
class PushedLine:
    name: str
    ref: str
    digest: str


@dataclass(frozen=True)
class PushRun:
    lines: list[PushedLine]
    # The tag the work tree called for before and after the push (in CI both are the same; in a
    # development tree others may commit or edit meanwhile).
    expected_tags: set[str]

    def line(self, name: str) -> PushedLine:
        [line] = [p for p in self.lines if p.name == name]
        return line


def _docker(*args: str) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"docker {' '.join(args)}: {result.stdout}{result.stderr}"
    return result.stdout.strip()


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _current_tag() -> str:
    dirty = _git("status", "--porcelain", "--untracked-files=all")
    return _git("rev-parse", "HEAD") + ("-dirty" if dirty else "")


def _push_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # Without Docker Hub the builds need the locally built base images; .ci/docker-up.sh names
    # them here (the Makefile exports the same file). A value from the environment wins.
    images_env = REPO_ROOT / ".ci/cache/images.env"
    if images_env.exists():
        for line in images_env.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                env.setdefault(key.strip(), value.strip())
    return env | extra


def _run_push(env: dict[str, str]) -> list[PushedLine]:
    result = subprocess.run(
        [sys.executable, "-m", "image_push"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    pushed = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        assert match, f"unexpected output line {line!r}"
        pushed.append(PushedLine(match["name"], match["ref"], match["digest"]))
    return pushed


def _untag_everything_from(prefix: str) -> None:
    """Drop the local names the tests gave images of this registry; the images stay."""
    listed = _docker("image", "ls", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}")
    for line in listed.splitlines():
        repository, tag, digest = line.split()
        if repository.startswith(prefix):
            for ref in (f"{repository}:{tag}", f"{repository}@{digest}"):
                if "<none>" not in ref:
                    subprocess.run(["docker", "image", "rm", ref], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry (distribution 2.8) on a free loopback port, in a temp dir."""
    assert REGISTRY_BINARY.exists(), "apt-get install -y docker-registry"
    workdir = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'storage'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (workdir / "registry.log").open("w")
    process = subprocess.Popen(
        [str(REGISTRY_BINARY), "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}/v2/"
        wait_until_ready(url, process, 30, name="docker-registry", log=workdir / "registry.log")
        yield f"127.0.0.1:{port}"
    finally:
        _untag_everything_from(f"127.0.0.1:{port}/")
        stop_process(process)
        log.close()


@pytest.fixture(scope="module")
def pushed(registry: str) -> PushRun:
    """`REGISTRY=127.0.0.1:<port> make push` as the Makefile runs it; ALLOW_DIRTY for dev trees."""
    before = _current_tag()
    lines = _run_push(_push_env(REGISTRY=registry, ALLOW_DIRTY="1"))
    return PushRun(lines, {before, _current_tag()})


def _image_id(ref: str) -> str:
    return _docker("image", "inspect", "--format", "{{.Id}}", ref)


def _served_digest(registry: str, ref: str) -> str:
    repository, tag = ref.removeprefix(f"{registry}/").rsplit(":", 1)
    manifest = httpx.head(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        headers={"Accept": MANIFEST_TYPES},
        timeout=10,
    )
    assert manifest.status_code == 200
    return manifest.headers["Docker-Content-Digest"]


def test_every_deployable_image_is_pushed_under_the_revision(
    registry: str, pushed: PushRun
) -> None:
    [tag] = {line.ref.rsplit(":", 1)[1] for line in pushed.lines}

    assert tag in pushed.expected_tags
    assert [p.name for p in pushed.lines] == DEPLOYABLE
    assert [p.ref for p in pushed.lines] == [
        f"{registry}/private-apis/{name}:{tag}" for name in DEPLOYABLE
    ]


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_registry_serves_the_tag_with_the_printed_digest(
    registry: str, pushed: PushRun, name: str
) -> None:
    line = pushed.line(name)
    repository = f"private-apis/{name}"

    tags = httpx.get(f"http://{registry}/v2/{repository}/tags/list", timeout=10)

    assert tags.status_code == 200
    assert tags.json() == {"name": repository, "tags": [line.ref.rsplit(":", 1)[1]]}
    assert _served_digest(registry, line.ref) == line.digest


@pytest.mark.parametrize("name", DEPLOYABLE)
def test_pulled_by_digest_is_the_local_image(registry: str, pushed: PushRun, name: str) -> None:
    line = pushed.line(name)
    by_digest = f"{registry}/private-apis/{name}@{line.digest}"
    local_id = _image_id(line.ref)  # the local image the push tagged
    # Drop the pushed tag so that the image comes back through the registry's manifest.
    _docker("image", "rm", line.ref)
    try:
        _docker("pull", "--quiet", by_digest)
        assert _image_id(by_digest) == local_id
    finally:
        subprocess.run(["docker", "image", "rm", by_digest], capture_output=True, timeout=60)


def test_no_build_pushes_the_image_already_built(registry: str, pushed: PushRun) -> None:
    first = pushed.line("todo")
    local_id = _image_id("private-apis/todo:local")

    again = _run_push(_push_env(REGISTRY=registry, ALLOW_DIRTY="1", IMAGES="todo", NO_BUILD="1"))

    assert [(line.name, line.ref) for line in again] == [("todo", first.ref)]
    assert _served_digest(registry, first.ref) == again[0].digest
    assert _image_id(first.ref) == local_id

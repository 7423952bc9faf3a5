"""The Docker CLI, run as a subprocess; every failure becomes one PushError line."""

import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from image_push.errors import PushError
from image_push.images import Image


@dataclass(frozen=True)
class Result:
    returncode: int
    output: str  # stdout and stderr together; empty when the output was streamed


# runner(args, input=..., capture=...) runs one command. capture=False streams the output to
# stderr (builds: the user sees progress); capture=True returns it.
Runner = Callable[..., Result]

_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def run_subprocess(
    args: Sequence[str], *, input: str | None = None, capture: bool = True
) -> Result:
    try:
        completed = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            list(args),
            input=input,
            stdout=subprocess.PIPE if capture else sys.stderr,
            stderr=subprocess.STDOUT if capture else sys.stderr,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise PushError(
            f"{args[0]}: command not found; install Docker (https://docs.docker.com/engine/install/)"
        ) from None
    return Result(completed.returncode, completed.stdout or "")


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


class Docker:
    def __init__(self, runner: Runner = run_subprocess, binary: str = "docker") -> None:
        self._runner = runner
        self._binary = binary

    def _run(self, *args: str, input: str | None = None, capture: bool = True) -> Result:
        return self._runner([self._binary, *args], input=input, capture=capture)

    def check_daemon(self) -> None:
        result = self._run("version", "--format", "{{.Server.Version}}")
        if result.returncode != 0:
            lines = [line for line in result.output.splitlines() if "daemon" in line.lower()]
            detail = lines[-1].strip() if lines else _last_line(result.output)
            raise PushError(f"cannot reach the Docker engine: {detail}")

    def build(self, image: Image, root: Path, build_args: Mapping[str, str]) -> None:
        args = ["build", "--tag", image.local_ref]
        for key, value in build_args.items():
            args += ["--build-arg", f"{key}={value}"]
        if image.context is not None:
            args += ["--file", str(root / image.folder / "Dockerfile")]
        args.append(str(root / image.build_context))
        result = self._run(*args, capture=False)
        if result.returncode != 0:
            raise PushError(f"docker build of {image.name} ({image.folder}) failed; see above")

    def image_id(self, ref: str) -> str:
        result = self._run("image", "inspect", "--format", "{{.Id}}", ref)
        if result.returncode != 0:
            raise PushError(f"no local image {ref}: {_last_line(result.output)}")
        return result.output.strip()

    def tag(self, source: str, target: str) -> None:
        result = self._run("tag", source, target)
        if result.returncode != 0:
            raise PushError(f"docker tag {source} {target} failed: {_last_line(result.output)}")

    def login(self, registry: str, username: str, password: str) -> None:
        # The password goes through stdin: never on a command line other users can read.
        result = self._run(
            "login", "--username", username, "--password-stdin", registry, input=password
        )
        if result.returncode != 0:
            raise PushError(f"docker login to {registry} failed: {_last_line(result.output)}")

    def push(self, ref: str) -> str:
        """Push `<registry>/<repository>:<tag>`; return the digest the registry stored."""
        result = self._run("push", ref)
        if result.returncode != 0:
            raise PushError(f"docker push {ref} failed: {_last_line(result.output)}")
        match = _DIGEST.search(result.output)
        if match:
            return match.group(1)
        return self.repo_digest(ref)

    def repo_digest(self, ref: str) -> str:
        """The digest docker recorded for `ref`'s repository (for CLIs that print no digest)."""
        repository = ref.rsplit(":", 1)[0]  # a tag holds no ':' or '/', a registry port does
        result = self._run("image", "inspect", "--format", '{{join .RepoDigests "\\n"}}', ref)
        if result.returncode == 0:
            for line in result.output.splitlines():
                name, _, digest = line.strip().partition("@")
                if name == repository and digest.startswith("sha256:"):
                    return digest
        raise PushError(f"pushed {ref}, but docker reported no digest for it")

"""The command line as `make push` runs it: a subprocess, its stderr and exit code."""

import os
import shutil
from pathlib import Path

import pytest
from image_push.ecr import NO_CREDENTIALS, NO_REGION


def test_missing_credentials_is_one_clear_line(
    cli, isolated_env, repo: Path, tmp_path: Path
) -> None:
    env = dict(isolated_env)
    env["AWS_REGION"] = "us-east-1"

    result = cli([], env, cwd=repo)

    assert result.returncode == 1
    assert result.stderr == f"push: error: {NO_CREDENTIALS}\n"
    assert result.stdout == ""


def test_missing_region_is_one_clear_line(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    env = dict(isolated_env)
    env["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
    env["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    result = cli([], env, cwd=repo)

    assert (result.returncode, result.stderr) == (1, f"push: error: {NO_REGION}\n")


def test_unknown_profile_is_one_clear_line(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    env = dict(isolated_env)
    env["AWS_PROFILE"] = "no-such-profile"

    result = cli([], env, cwd=repo)

    assert (result.returncode, result.stderr) == (
        1,
        "push: error: AWS profile not found: no-such-profile\n",
    )


@pytest.mark.parametrize("images", ["cats", "todo,cats", "todo cats"])
def test_unknown_image_name(cli, isolated_env, repo: Path, tmp_path: Path, images: str) -> None:
    env = dict(isolated_env) | {"IMAGES": images}

    result = cli([], env, cwd=repo)

    assert result.returncode == 1
    assert result.stderr == (
        "push: error: unknown image 'cats' in IMAGES; "
        "choose from: dog-names, todo, consumer-lambda, nginx-mtls, widgets-lambda,"
        " token-authorizer\n"
    )


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"new.txt": "x"}, "new.txt"),
        ({"services/todo/Dockerfile": "FROM scratch\nUSER 1\n"}, "services/todo/Dockerfile"),
        ({f"f{i}.txt": "x" for i in range(5)}, "f0.txt, f1.txt, f2.txt and 2 more"),
    ],
)
def test_dirty_tree_is_refused(
    cli, isolated_env, repo: Path, tmp_path: Path, changes: dict[str, str], shown: str
) -> None:
    for path, text in changes.items():
        (repo / path).write_text(text)

    result = cli(["--registry", "127.0.0.1:5000"], dict(isolated_env), cwd=repo)

    assert result.returncode == 1
    assert result.stderr == (
        f"push: error: the work tree has uncommitted changes ({shown}): commit them, "
        "or set ALLOW_DIRTY=1 to push images tagged <revision>-dirty\n"
    )


def test_bad_allow_dirty_value(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    env = dict(isolated_env) | {"ALLOW_DIRTY": "maybe"}

    result = cli([], env, cwd=repo)

    assert (result.returncode, result.stderr) == (
        1,
        "push: error: ALLOW_DIRTY must be 1 or 0, not 'maybe'\n",
    )


def test_registry_with_a_scheme_is_refused(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    env = dict(isolated_env) | {"REGISTRY": "http://127.0.0.1:5000"}

    result = cli([], env, cwd=repo)

    assert (result.returncode, result.stderr) == (
        1,
        "push: error: REGISTRY must be host[:port][/path] without a scheme, "
        "not 'http://127.0.0.1:5000'\n",
    )


def test_not_a_git_work_tree(cli, isolated_env, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    env = dict(isolated_env) | {"GIT_CEILING_DIRECTORIES": str(tmp_path)}

    result = cli(["--registry", "127.0.0.1:5000"], env, cwd=plain)

    assert result.returncode == 1
    assert result.stderr.startswith(f"push: error: git rev-parse --verify HEAD failed in {plain}: ")
    assert result.stderr.count("\n") == 1


def test_docker_missing_is_one_line(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    # A PATH with git and the Python that runs the CLI, and no docker.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    os.symlink(git_path, bin_dir / "git")
    env = dict(isolated_env) | {"PATH": str(bin_dir), "REGISTRY": "127.0.0.1:5000"}

    result = cli([], env, cwd=repo)

    assert (result.returncode, result.stderr) == (
        1,
        "push: error: docker: command not found; "
        "install Docker (https://docs.docker.com/engine/install/)\n",
    )


def test_docker_daemon_down_is_one_line(cli, isolated_env, repo: Path, tmp_path: Path) -> None:
    assert shutil.which("docker"), "the docker CLI is part of the development environment"
    socket = tmp_path / "no-daemon.sock"
    env = dict(isolated_env) | {
        "DOCKER_HOST": f"unix://{socket}",
        "REGISTRY": "127.0.0.1:5000",
    }

    result = cli([], env, cwd=repo)

    assert result.returncode == 1
    assert result.stderr.startswith(
        f"push: error: cannot reach the Docker engine: Cannot connect to the Docker daemon at "
        f"unix://{socket}."
    )
    assert result.stderr.count("\n") == 1

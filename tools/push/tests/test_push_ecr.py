"""The ECR side against moto's ECR; docker is a recording runner (argument construction only)."""

from pathlib import Path

import boto3
import pytest
from image_push.docker import Docker, Result
from image_push.errors import PushError
from image_push.images import IMAGES, select_images
from image_push.push import Options, Pushed, push_images

DEPLOYABLE = (
    "dog-names", "todo", "consumer-lambda", "nginx-mtls", "widgets-lambda", "token-authorizer"
)  # fmt: skip
ALL_REPOSITORIES = {f"private-apis/{name}" for name in DEPLOYABLE}


def push(repo: Path, runner, **options) -> tuple[list[Pushed], list[str], list[str]]:
    images = select_images(options.pop("images", ""))
    lines: list[str] = []
    logs: list[str] = []
    pushed = push_images(
        Options(root=repo, images=images, **options),
        docker=Docker(runner),
        log=logs.append,
        report=lines.append,
    )
    return pushed, lines, logs


def repositories() -> dict[str, dict]:
    ecr = boto3.client("ecr", region_name="us-east-1")
    found = ecr.describe_repositories()["repositories"]
    return {repo["repositoryName"]: repo for repo in found}


def test_first_push_creates_every_repository_with_scan_on_push_and_immutable_tags(
    aws, repo: Path, runner
) -> None:
    push(repo, runner)

    repos = repositories()
    assert set(repos) == ALL_REPOSITORIES
    for repository in repos.values():
        assert repository["imageTagMutability"] == "IMMUTABLE"
        assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repository["repositoryUri"] == f"{aws.registry}/{repository['repositoryName']}"


def test_prints_each_image_with_its_revision_tag_and_digest(git, aws, repo: Path, runner) -> None:
    revision = git(repo, "rev-parse", "HEAD")

    pushed, lines, _ = push(repo, runner)

    refs = [f"{aws.registry}/private-apis/{image.name}:{revision}" for image in IMAGES]
    assert lines == [
        f"{image.name} {ref}@{runner.digest(ref)}" for image, ref in zip(IMAGES, refs, strict=True)
    ]
    assert [p.ref for p in pushed] == refs


def test_docker_commands_in_order(git, aws, repo: Path, runner) -> None:
    revision = git(repo, "rev-parse", "HEAD")

    push(repo, runner, build_args={"PYTHON_IMAGE": "local/python:3.11-bookworm"})

    expected = [["docker", "version", "--format", "{{.Server.Version}}"]]
    expected += [
        [
            "docker",
            "build",
            "--tag",
            f"private-apis/{image.name}:local",
            "--build-arg",
            "PYTHON_IMAGE=local/python:3.11-bookworm",
            # the Lambda functions build from services/, their Dockerfile named
            *(["--file", str(repo / image.folder / "Dockerfile")] if image.context else []),
            str(repo / (image.context or image.folder)),
        ]
        for image in IMAGES
    ]
    expected.append(["docker", "login", "--username", "AWS", "--password-stdin", aws.registry])
    for image in IMAGES:
        ref = f"{aws.registry}/private-apis/{image.name}:{revision}"
        expected += [
            ["docker", "tag", f"private-apis/{image.name}:local", ref],
            ["docker", "push", ref],
        ]
    assert [call.args for call in runner.calls] == expected
    # Builds stream their output to the user; nothing else does.
    assert [call.capture for call in runner.calls if call.args[1] == "build"] == [False] * len(
        IMAGES
    )


def test_login_password_comes_from_the_token_through_stdin(aws, repo: Path, runner) -> None:
    push(repo, runner)

    [login] = [call for call in runner.calls if call.args[1] == "login"]
    assert (
        login.input == f"{aws.account}-auth-token"
    )  # moto's token is base64("AWS:<account>-auth-token")
    assert login.input not in " ".join(login.args)


def test_second_run_reuses_the_repositories(git, aws, repo: Path, runner) -> None:
    push(repo, runner)
    before = repositories()
    (repo / "services/todo/app.py").write_text("print('changed')\n")
    git(repo, "add", ".")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "two")

    pushed, _, logs = push(repo, runner)

    assert repositories() == before
    assert [f"using ECR repository {name}" for name in sorted(ALL_REPOSITORIES)] == sorted(
        line for line in logs if line.startswith("using ECR repository")
    )
    assert len(pushed) == len(DEPLOYABLE)


def test_existing_repository_is_used_as_it_is(aws, repo: Path, runner) -> None:
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName="private-apis/todo", imageTagMutability="MUTABLE")
    before = repositories()["private-apis/todo"]

    _, _, logs = push(repo, runner)

    assert repositories()["private-apis/todo"] == before
    assert "using ECR repository private-apis/todo" in logs
    assert "created ECR repository private-apis/dog-names" in logs


def _put_image(repository: str, tag: str) -> str:
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    manifest = (
        '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json"}'
    )
    image = ecr.put_image(repositoryName=repository, imageManifest=manifest, imageTag=tag)
    return image["image"]["imageId"]["imageDigest"]


def test_revision_already_in_ecr_is_not_pushed_again(git, aws, repo: Path, runner) -> None:
    revision = git(repo, "rev-parse", "HEAD")
    digest = _put_image("private-apis/todo", revision)

    _, lines, _ = push(repo, runner)

    ref = f"{aws.registry}/private-apis/todo:{revision}"
    assert f"todo {ref}@{digest}" in lines
    assert ["docker", "push", ref] not in runner.commands("push")
    assert len(runner.commands("push")) == len(DEPLOYABLE) - 1


def test_dirty_tag_already_in_ecr_is_an_error(git, aws, repo: Path, runner) -> None:
    revision = git(repo, "rev-parse", "HEAD")
    _put_image("private-apis/dog-names", f"{revision}-dirty")
    (repo / "scratch.txt").write_text("x\n")

    with pytest.raises(PushError, match=r"already in ECR and its tags are immutable: commit"):
        push(repo, runner, allow_dirty=True)
    assert runner.commands("push") == []


def test_dirty_tree_is_refused_before_anything_else(aws, repo: Path, runner) -> None:
    (repo / "services/todo/Dockerfile").write_text("FROM scratch\nLABEL changed=1\n")

    with pytest.raises(PushError) as caught:
        push(repo, runner)

    assert str(caught.value) == (
        "the work tree has uncommitted changes (services/todo/Dockerfile): commit them, "
        "or set ALLOW_DIRTY=1 to push images tagged <revision>-dirty"
    )
    assert runner.calls == []
    assert repositories() == {}


def test_dirty_tree_allowed_is_tagged_dirty(git, aws, repo: Path, runner) -> None:
    revision = git(repo, "rev-parse", "HEAD")
    (repo / "untracked.txt").write_text("x\n")

    pushed, _, _ = push(repo, runner, allow_dirty=True)

    assert {p.ref.rsplit(":", 1)[1] for p in pushed} == {f"{revision}-dirty"}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("todo", ["todo"]),
        ("nginx-mtls,todo", ["todo", "nginx-mtls"]),
        (" consumer-lambda  dog-names ", ["dog-names", "consumer-lambda"]),
        ("todo, todo", ["todo"]),
    ],
)
def test_images_subset(aws, repo: Path, runner, spec: str, expected: list[str]) -> None:
    pushed, _, _ = push(repo, runner, images=spec)

    assert [p.name for p in pushed] == expected
    assert set(repositories()) == {f"private-apis/{name}" for name in expected}
    assert [args[3] for args in runner.commands("build")] == [
        f"private-apis/{name}:local" for name in expected
    ]


def test_registry_mode_makes_no_aws_call(git, repo: Path, runner) -> None:
    def no_aws():
        raise AssertionError("REGISTRY must not touch AWS")

    revision = git(repo, "rev-parse", "HEAD")
    lines: list[str] = []
    push_images(
        Options(root=repo, images=select_images("todo"), registry="127.0.0.1:5000/"),
        docker=Docker(runner),
        session_factory=no_aws,
        log=lambda _: None,
        report=lines.append,
    )

    ref = f"127.0.0.1:5000/private-apis/todo:{revision}"
    assert lines == [f"todo {ref}@{runner.digest(ref)}"]
    assert runner.commands("login") == []


def test_no_build_checks_the_local_images_instead(aws, repo: Path, runner) -> None:
    push(repo, runner, build=False, images="todo")

    assert runner.commands("build") == []
    assert runner.commands("image") == [
        ["docker", "image", "inspect", "--format", "{{.Id}}", "private-apis/todo:local"]
    ]


def test_no_build_without_a_local_image_is_one_line(aws, repo: Path, make_runner) -> None:
    runner = make_runner(
        failing={"image": Result(1, "Error: No such image: private-apis/todo:local\n")}
    )
    with pytest.raises(PushError) as caught:
        push(repo, runner, build=False, images="todo")
    assert str(caught.value) == (
        "no local image private-apis/todo:local: Error: No such image: private-apis/todo:local"
    )


def test_unknown_image_name() -> None:
    with pytest.raises(PushError) as caught:
        select_images("todo,cats dogs")
    assert str(caught.value) == (
        "unknown image 'cats', 'dogs' in IMAGES; "
        "choose from: dog-names, todo, consumer-lambda, nginx-mtls, widgets-lambda,"
        " token-authorizer"
    )

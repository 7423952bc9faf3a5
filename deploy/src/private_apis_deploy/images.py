"""The images a stack runs: by default those `make push` put in the account's ECR repositories.

Default (`imageSource=ecr`): `private-apis/<name>:<imageTag>` in the stack's own account and
region, the tag being the git revision `make push` tagged it with. The images deployed are then
the ones built, tested and pushed once, the repositories' tags are immutable, and neither synth
nor deploy needs Docker. `-c imageSource=asset` builds the same folders as CDK image assets
during `cdk deploy` instead (Docker needed there; synth only copies the folders).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import cast

from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from image_push.images import BASE_IMAGE_ARGS, IMAGES, Image

from private_apis_deploy.base import AccountStack
from private_apis_deploy.settings import REPO_ROOT


def _image(name: str) -> Image:
    return next(image for image in IMAGES if image.name == name)


def _repository(stack: AccountStack, name: str) -> ecr.IRepository:
    """The image's repository, one reference per stack however many functions run the image."""
    id = f"{_image(name).repository}-repo".replace("/", "-")
    found = stack.node.try_find_child(id)
    if found is not None:
        return cast(ecr.IRepository, found)
    return ecr.Repository.from_repository_name(stack, id, _image(name).repository)


def _asset(stack: AccountStack, name: str) -> ecr_assets.DockerImageAsset:
    image = _image(name)
    context = REPO_ROOT / image.build_context
    dockerfile = (REPO_ROOT / image.folder / "Dockerfile").relative_to(context)
    return ecr_assets.DockerImageAsset(
        stack,
        f"{name}-asset",
        directory=str(context),
        file=str(dockerfile),
        platform=ecr_assets.Platform.LINUX_AMD64,
        # As `make push` builds: the base images from the environment when set.
        build_args={arg: os.environ[arg] for arg in BASE_IMAGE_ARGS if os.environ.get(arg)},
    )


def container_image(stack: AccountStack, name: str) -> ecs.ContainerImage:
    if stack.settings.image_source == "asset":
        return ecs.ContainerImage.from_docker_image_asset(_asset(stack, name))
    return ecs.ContainerImage.from_ecr_repository(
        _repository(stack, name), stack.settings.image_tag
    )


def function_image(
    stack: AccountStack, name: str, cmd: Sequence[str] | None = None
) -> lambda_.DockerImageCode:
    """A function's image; `cmd` overrides the image's CMD (its handler), as Lambda's
    ImageConfig does, for a second handler in the same image."""
    command = list(cmd) if cmd else None
    if stack.settings.image_source == "asset":
        image = _image(name)
        context = REPO_ROOT / image.build_context
        return lambda_.DockerImageCode.from_image_asset(
            str(context),
            file=str((REPO_ROOT / image.folder / "Dockerfile").relative_to(context)),
            platform=ecr_assets.Platform.LINUX_AMD64,
            cmd=command,
        )
    return lambda_.DockerImageCode.from_ecr(
        _repository(stack, name), tag_or_digest=stack.settings.image_tag, cmd=command
    )


def instance_image(stack: AccountStack, name: str, role: iam.IRole) -> str:
    """The image URI for an EC2 instance's `docker pull`, pull rights granted to `role`."""
    if stack.settings.image_source == "asset":
        asset = _asset(stack, name)
        asset.repository.grant_pull(role)
        return asset.image_uri
    repository = _repository(stack, name)
    repository.grant_pull(role)
    return repository.repository_uri_for_tag(stack.settings.image_tag)


def registry_host(stack: AccountStack) -> str:
    return f"{stack.account}.dkr.ecr.{stack.region}.{stack.url_suffix}"

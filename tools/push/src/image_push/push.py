"""Build, tag with the git revision, push: to the caller's ECR registry or any registry."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from image_push import ecr
from image_push.docker import Docker
from image_push.errors import PushError
from image_push.gitrev import DIRTY_SUFFIX, image_tag
from image_push.images import Image

Log = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    root: Path
    images: Sequence[Image]
    registry: str | None = None  # None: the ECR registry of the caller's account and region
    allow_dirty: bool = False
    build: bool = True
    build_args: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pushed:
    name: str
    ref: str  # <registry>/<repository>:<tag>
    digest: str  # sha256:...

    def line(self) -> str:
        return f"{self.name} {self.ref}@{self.digest}"


def normalise_registry(registry: str) -> str:
    value = registry.strip().rstrip("/")
    if "://" in value:
        raise PushError(f"REGISTRY must be host[:port][/path] without a scheme, not {registry!r}")
    if not value:
        raise PushError("REGISTRY is empty")
    return value


def push_images(
    options: Options,
    *,
    docker: Docker,
    session_factory: Callable[[], boto3.session.Session] = boto3.session.Session,
    log: Log,
    report: Log,
) -> list[Pushed]:
    """Push every selected image; `report` gets one `<name> <ref>@<digest>` line per image."""
    tag = image_tag(options.root, allow_dirty=options.allow_dirty)

    # Find out where to push before the (slow) builds, so a missing credential fails at once.
    ecr_client: Any = None
    if options.registry is not None:
        registry = normalise_registry(options.registry)
    else:
        with ecr.aws_errors():
            session = session_factory()
            region = ecr.session_region(session)
            account = ecr.caller_account(session, region)
            registry = ecr.registry_host(account, region)
            ecr_client = session.client("ecr", region_name=region)
    docker.check_daemon()
    log(f"pushing {', '.join(i.name for i in options.images)} to {registry} with tag {tag}")

    for image in options.images:
        if options.build:
            log(f"building {image.local_ref} from {image.folder}")
            docker.build(image, options.root, options.build_args)
        else:
            docker.image_id(image.local_ref)  # fails clearly when it was never built

    if ecr_client is not None:
        for image in options.images:
            created = ecr.ensure_repository(ecr_client, image.repository)
            log(f"{'created' if created else 'using'} ECR repository {image.repository}")
        credentials = ecr.login(ecr_client)
        if credentials.registry != registry:
            raise PushError(
                f"ECR issued a token for {credentials.registry}, expected {registry}; "
                "check AWS_REGION and the profile"
            )
        docker.login(credentials.registry, credentials.username, credentials.password)
        log(f"logged in to {credentials.registry}")

    pushed = []
    for image in options.images:
        ref = f"{registry}/{image.repository}:{tag}"
        digest = None
        if ecr_client is not None:
            digest = _already_pushed(ecr_client, image, tag, log)
        if digest is None:
            docker.tag(image.local_ref, ref)
            log(f"pushing {ref}")
            digest = docker.push(ref)
        result = Pushed(image.name, ref, digest)
        report(result.line())
        pushed.append(result)
    return pushed


def _already_pushed(ecr_client: Any, image: Image, tag: str, log: Log) -> str | None:
    """The digest of an earlier push of this tag; ECR's immutable tags refuse a second push."""
    digest = ecr.pushed_digest(ecr_client, image.repository, tag)
    if digest is None:
        return None
    if tag.endswith(DIRTY_SUFFIX):
        raise PushError(
            f"{image.repository}:{tag} is already in ECR and its tags are immutable: "
            "commit your changes to push under a new revision"
        )
    log(f"{image.repository}:{tag} is already in ECR (tags are immutable): not pushing again")
    return digest

"""Amazon ECR through boto3: target account and region, repositories, registry login."""

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from image_push.errors import PushError

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), "
    "or REGISTRY=host:port to push to another registry"
)
NO_REGION = "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the AWS profile)"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    registry: str  # host name, as `docker login` and image references use it


@contextmanager
def aws_errors() -> Iterator[None]:
    """Turn botocore's exceptions into one line the user can act on."""
    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise PushError(NO_CREDENTIALS) from None
    except NoRegionError:
        raise PushError(NO_REGION) from None
    except ProfileNotFound as exc:
        raise PushError(f"AWS profile not found: {exc.kwargs.get('profile')}") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise PushError(
            f"AWS {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}"
        ) from None
    except BotoCoreError as exc:
        raise PushError(f"AWS error: {exc}") from None


def registry_host(account: str, region: str) -> str:
    """The private registry of an account in a region (China regions use amazonaws.com.cn)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"{account}.dkr.ecr.{region}.{suffix}"


def session_region(session: boto3.session.Session) -> str:
    # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what the AWS CLI v2 and
    # the SDKs of other languages read first, so honour it too.
    region = os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise PushError(NO_REGION)
    return region


def caller_account(session: boto3.session.Session, region: str) -> str:
    with aws_errors():
        return str(session.client("sts", region_name=region).get_caller_identity()["Account"])


def ensure_repository(ecr: Any, name: str) -> bool:
    """Create repository `name` when missing (scan on push, immutable tags); True if created."""
    with aws_errors():
        try:
            ecr.describe_repositories(repositoryNames=[name])
            return False
        except ecr.exceptions.RepositoryNotFoundException:
            pass
        try:
            ecr.create_repository(
                repositoryName=name,
                imageTagMutability="IMMUTABLE",
                imageScanningConfiguration={"scanOnPush": True},
            )
        except ecr.exceptions.RepositoryAlreadyExistsException:
            return False  # someone else created it in between: fine
        return True


def pushed_digest(ecr: Any, repository: str, tag: str) -> str | None:
    """The digest of `repository:tag` in ECR, or None when that tag is not there yet."""
    with aws_errors():
        try:
            found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ecr.exceptions.ImageNotFoundException:
            return None
    details = found.get("imageDetails", [])
    return str(details[0]["imageDigest"]) if details else None


def login(ecr: Any) -> Login:
    """Docker credentials for the account's registry from ecr:GetAuthorizationToken."""
    with aws_errors():
        data = ecr.get_authorization_token()["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry = data["proxyEndpoint"].removeprefix("https://").removeprefix("http://").rstrip("/")
    return Login(username=username, password=password, registry=registry)

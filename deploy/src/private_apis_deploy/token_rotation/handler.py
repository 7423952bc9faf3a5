"""Rotation of the TOKEN authorizer's shared secret, Secrets Manager's four steps.

The secret is a bare token (the whole SecretString, as the authorizer reads it with
TOKEN_SECRET_ID), made by Secrets Manager's own generator, GetRandomPassword, in the shape the
APIs' `identityValidationExpression` admits. Secrets Manager calls this function once per step
with the new version's id (ClientRequestToken), which it has already labelled AWSPENDING:

- createSecret: a new token as that version, unless a retried call made it already;
- setSecret: nothing to tell anyone: the authorizer reads the secret itself, and the front
  door's callers fetch it (there is no database password to change);
- testSecret: the new token has the shape the APIs let through to the authorizer;
- finishSecret: AWSCURRENT moves to the new version (the old one becomes AWSPREVIOUS). The
  authorizer sees it at its next fetch (TOKEN_SECRET_REFRESH_SECONDS), from then on only the new
  token is let in.

No step logs a token.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

PENDING = "AWSPENDING"
CURRENT = "AWSCURRENT"


class RotationError(RuntimeError):
    """Secrets Manager called with a version or a state this rotation cannot go on from."""


def handler(event: dict[str, Any], context: Any) -> None:
    import boto3  # the runtime's; imported here so that the tests can pass their own client

    rotate(
        boto3.client("secretsmanager"),
        event,
        length=int(os.environ["TOKEN_LENGTH"]),
        pattern=re.compile(os.environ["TOKEN_PATTERN"]),
    )


def rotate(client: Any, event: dict[str, Any], *, length: int, pattern: re.Pattern[str]) -> None:
    arn, version, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    metadata = client.describe_secret(SecretId=arn)
    if not metadata.get("RotationEnabled"):
        raise RotationError(f"rotation is not enabled for {arn}")
    stages = metadata.get("VersionIdsToStages") or {}
    if version not in stages:
        raise RotationError(f"version {version} of {arn} has no stage for rotation")
    if CURRENT in stages[version]:
        _log(step, arn, version, "already current")
        return
    if PENDING not in stages[version]:
        raise RotationError(f"version {version} of {arn} is not {PENDING}")

    if step == "createSecret":
        _create(client, arn, version, length)
    elif step == "setSecret":
        pass  # nothing holds the token but the secret itself
    elif step == "testSecret":
        _test(client, arn, version, pattern)
    elif step == "finishSecret":
        _finish(client, arn, version, stages)
    else:
        raise RotationError(f"unknown step {step!r}")
    _log(step, arn, version, "done")


def _create(client: Any, arn: str, version: str, length: int) -> None:
    client.get_secret_value(SecretId=arn, VersionStage=CURRENT)  # there is a current one
    try:
        client.get_secret_value(SecretId=arn, VersionId=version, VersionStage=PENDING)
        return  # made by an earlier try of this step
    except client.exceptions.ResourceNotFoundException:
        pass
    token = client.get_random_password(
        PasswordLength=length,
        ExcludePunctuation=True,
        IncludeSpace=False,
        RequireEachIncludedType=True,
    )["RandomPassword"]
    client.put_secret_value(
        SecretId=arn, ClientRequestToken=version, SecretString=token, VersionStages=[PENDING]
    )


def _test(client: Any, arn: str, version: str, pattern: re.Pattern[str]) -> None:
    pending = client.get_secret_value(SecretId=arn, VersionId=version, VersionStage=PENDING)
    current = client.get_secret_value(SecretId=arn, VersionStage=CURRENT)
    token = pending.get("SecretString") or ""
    if not pattern.fullmatch(token):
        raise RotationError(f"the new token of {arn} does not match {pattern.pattern}")
    if token == current.get("SecretString"):
        raise RotationError(f"the new token of {arn} is the current one")


def _finish(client: Any, arn: str, version: str, stages: dict[str, list[str]]) -> None:
    current = next((v for v, labels in stages.items() if CURRENT in labels), None)
    moves: dict[str, str] = {"MoveToVersionId": version}
    if current is not None:
        moves["RemoveFromVersionId"] = current
    client.update_secret_version_stage(SecretId=arn, VersionStage=CURRENT, **moves)


def _log(step: str, arn: str, version: str, result: str) -> None:
    record = {"step": step, "secret": arn, "version": version, "result": result}
    print(json.dumps(record), file=sys.stdout, flush=True)

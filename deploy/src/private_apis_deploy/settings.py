"""What the app is told: accounts, region, images, and the values that cross accounts.

Everything comes from cdk context (cdk.json, deploy/cdk.context.json, `-c key=value`); a
cross-account value (deploy/values.yaml, `context:`) may also come from the outputs file an
earlier `make deploy` wrote (deploy/outputs/<stack>.json). Nothing is looked up in AWS, so
`cdk synth` needs no credentials and no network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from private_apis_deploy.values import Table, load_table

DEPLOY_DIR = Path(__file__).resolve().parents[2]
REPO_ROOT = DEPLOY_DIR.parent
OUTPUTS_DIR = DEPLOY_DIR / "outputs"

# The stacks, one per account of SPEC section 2, by the name `make deploy ACCOUNT=` takes.
STACKS = {
    "dog-names": "PrivateApisDogNames",
    "todo": "PrivateApisTodo",
    "gateway": "PrivateApisGateway",
    "consumer": "PrivateApisConsumer",
}
IMAGE_SOURCES = ("ecr", "asset")
# Cross-account inputs with no local counterpart (locally the gateway joins the providers'
# networks instead of reaching their endpoint services): name -> (context key, output, stand-in).
ENDPOINT_SERVICES = {
    "dogNamesEndpointService": (
        "dogNamesEndpointService",
        "PrivateApisDogNames.EndpointServiceName",
        "com.amazonaws.vpce.{region}.vpce-svc-02222222222222222",
    ),
    "todoEndpointService": (
        "todoEndpointService",
        "PrivateApisTodo.EndpointServiceName",
        "com.amazonaws.vpce.{region}.vpce-svc-03333333333333333",
    ),
}
# The widgets consumer function's token (widgets_consumer.py): the gateway account's secret and the
# key it is encrypted with, which the function reads across accounts.
TOKEN_SECRET_INPUTS = {
    "authorizerTokenSecretArn": (
        "authorizerTokenSecretArn",
        "PrivateApisGateway.AuthorizerTokenSecretArn",
        "arn:aws:secretsmanager:{region}:111111111111:secret:authorizer-token-AbCdEf",
    ),
    "authorizerTokenKeyArn": (
        "authorizerTokenKeyArn",
        "PrivateApisGateway.AuthorizerTokenKeyArn",
        "arn:aws:kms:{region}:111111111111:key/00000000-0000-0000-0000-000000000000",
    ),
}
CROSS_ACCOUNT_INPUTS = {**ENDPOINT_SERVICES, **TOKEN_SECRET_INPUTS}
_ACCOUNT = re.compile(r"\d{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")


@dataclass(frozen=True)
class Settings:
    region: str
    accounts: Mapping[str, str]  # by STACKS key
    image_tag: str
    image_source: str  # "ecr": the repositories `make push` fills; "asset": built by cdk deploy
    availability_zones: tuple[str, ...]  # names; none: the account's first two (Fn::GetAZs)
    availability_zone_ids: tuple[str, ...]  # pins subnets to physical zones across accounts
    consumer_function: bool  # False: the consumer's first deploy, without what needs the gateway
    mtls_secret_name: str
    api_dir: Path
    # deployed values of the table's context entries: name -> (value, from where)
    deployed: Mapping[str, tuple[str, str]]
    # names still at their local value, with the step that gives the deployed one
    placeholders: Mapping[str, str] = field(default_factory=dict)


def from_context(
    get: Callable[[str], Any],
    *,
    outputs_dir: Path | None = OUTPUTS_DIR,
    table: Table | None = None,
    default_image_tag: Callable[[], str] | None = None,
) -> Settings:
    """Settings from a context getter (`node.try_get_context`). `outputs_dir`: where earlier
    deploys wrote their outputs (None: ignore them, as the tests do)."""
    table = table or load_table()
    outputs = _read_outputs(outputs_dir)

    region = str(get("region") or "us-east-1")
    if not _REGION.fullmatch(region):
        raise ValueError(f"context region={region!r} is not a region name, e.g. eu-west-1")

    inputs = {v.name: (v.context, v.output, v.local) for v in table.values.values() if v.context}
    inputs.update(
        {
            name: (key, output, local.format(region=region))
            for name, (key, output, local) in CROSS_ACCOUNT_INPUTS.items()
        }
    )
    deployed: dict[str, tuple[str, str]] = {}
    placeholders: dict[str, str] = {}
    for name, (key, output, local) in inputs.items():
        stack, _, output_key = (output or "").partition(".")
        given = get(key)
        if given not in (None, ""):
            deployed[name] = (str(given), f"context {key}")
        elif output_key in outputs.get(stack, {}):
            deployed[name] = (str(outputs[stack][output_key]), f"output {output}")
        else:
            deployed[name] = (local, "the local value")
            source = f"the output {output}" if output else "the real value"
            placeholders[name] = f"-c {key}=<{source}>"

    accounts = {
        "gateway": deployed["gatewayAccount"][0],
        "consumer": deployed["consumerAccount"][0],
        "dog-names": str(get("dogNamesAccount") or "222222222222"),
        "todo": str(get("todoAccount") or "333333333333"),
    }
    for key, account in accounts.items():
        if not _ACCOUNT.fullmatch(account):
            raise ValueError(f"the {key} account {account!r} is not 12 digits")

    image_source = str(get("imageSource") or "ecr")
    if image_source not in IMAGE_SOURCES:
        raise ValueError(f"context imageSource={image_source!r}: one of {', '.join(IMAGE_SOURCES)}")
    tag = get("imageTag") or (default_image_tag or _git_image_tag)()

    zones = _list(get("availabilityZones"))
    zone_ids = _list(get("availabilityZoneIds"))
    if zones and zone_ids and len(zone_ids) != len(zones):
        raise ValueError("availabilityZoneIds must name as many zones as availabilityZones")

    api_dir = Path(str(get("apiDir") or REPO_ROOT / "api"))
    return Settings(
        region=region,
        accounts=accounts,
        image_tag=str(tag),
        image_source=image_source,
        availability_zones=zones,
        availability_zone_ids=zone_ids,
        consumer_function=_flag(get("consumerFunction"), default=True),
        mtls_secret_name=str(get("mtlsSecretName") or "private-apis/mtls-proxy"),
        api_dir=api_dir if api_dir.is_absolute() else (DEPLOY_DIR / api_dir).resolve(),
        deployed=deployed,
        placeholders=placeholders,
    )


def _read_outputs(directory: Path | None) -> dict[str, dict[str, str]]:
    """`cdk deploy --outputs-file` files: {"<Stack>": {"<OutputKey>": "<value>"}}."""
    outputs: dict[str, dict[str, str]] = {}
    if directory is None or not directory.is_dir():
        return outputs
    for path in sorted(directory.glob("*.json")):
        for stack, values in json.loads(path.read_text(encoding="utf-8")).items():
            outputs.setdefault(stack, {}).update(values)
    return outputs


def _list(raw: Any) -> tuple[str, ...]:
    # -c passes strings ("a,b"); cdk.json and cdk.context.json may hold lists.
    if raw in (None, ""):
        return ()
    items = raw if isinstance(raw, list) else str(raw).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _flag(raw: Any, *, default: bool) -> bool:
    if raw in (None, ""):
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).lower()
    if text not in ("true", "false"):
        raise ValueError(f"expected true or false, not {raw!r}")
    return text == "true"


def _git_image_tag() -> str:
    # The tag `make push` gives the images of this work tree: the revision, `-dirty` when the
    # tree has changes (ALLOW_DIRTY=1 make push), so a deploy names what was pushed.
    from image_push.gitrev import image_tag

    return image_tag(REPO_ROOT, allow_dirty=True)

"""Where the app's values come from: context first, then the outputs of earlier deploys, else
the local stand-in (and a warning); zones, image source and the consumer's first deploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template
from deploy_harness import CONTEXT, resources
from private_apis_deploy.consumer_stack import ConsumerStack
from private_apis_deploy.dog_names_stack import DogNamesStack
from private_apis_deploy.settings import from_context


def _settings(context: dict[str, Any], outputs_dir: Path | None = None) -> Any:
    return from_context(context.get, outputs_dir=outputs_dir, default_image_tag=lambda: "rev")


def test_context_wins_over_outputs_which_win_over_the_local_value(tmp_path: Path) -> None:
    (tmp_path / "consumer.json").write_text(
        json.dumps({"PrivateApisConsumer": {"ExecuteApiEndpointId": "vpce-0from0outputs"}})
    )
    (tmp_path / "gateway.json").write_text(
        json.dumps({"PrivateApisGateway": {"PartnerApiId": "fromoutput"}})
    )
    settings = _settings({"partnerApiId": "fromcontext"}, tmp_path)
    assert settings.deployed["partnerApiId"] == ("fromcontext", "context partnerApiId")
    assert settings.deployed["consumerVpceId"] == (
        "vpce-0from0outputs",
        "output PrivateApisConsumer.ExecuteApiEndpointId",
    )
    assert settings.deployed["consumerAccount"] == ("444444444444", "the local value")
    assert "consumerAccount" in settings.placeholders
    assert "consumerVpceId" not in settings.placeholders


def test_defaults() -> None:
    settings = _settings({})
    assert settings.region == "us-east-1"
    assert settings.accounts == {
        "gateway": "111111111111",
        "consumer": "444444444444",
        "dog-names": "222222222222",
        "todo": "333333333333",
    }
    assert (settings.image_source, settings.image_tag) == ("ecr", "rev")
    assert settings.consumer_function is True
    assert settings.availability_zones == ()


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"region": "Europe"}, "not a region"),
        ({"gatewayAccount": "1234"}, "not 12 digits"),
        ({"imageSource": "docker"}, "imageSource"),
        ({"consumerFunction": "maybe"}, "true or false"),
        ({"availabilityZones": "a,b", "availabilityZoneIds": "x"}, "as many zones"),
    ],
)
def test_bad_context_is_refused(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(context)


def _dog_names(tmp_path: Path, **context: Any) -> dict[str, Any]:
    app = App(context={**CONTEXT, **context}, outdir=str(tmp_path))
    stack = DogNamesStack(app, from_context(app.node.try_get_context, outputs_dir=None))
    return Template.from_stack(stack).to_json()


def test_zones_are_not_looked_up(tmp_path: Path) -> None:
    template = _dog_names(tmp_path)
    for subnet in resources(template, "AWS::EC2::Subnet").values():
        assert subnet["Properties"]["AvailabilityZone"]["Fn::Select"][1] == {"Fn::GetAZs": ""}


def test_zone_ids_pin_the_subnets_to_physical_zones(tmp_path: Path) -> None:
    template = _dog_names(tmp_path, availabilityZoneIds="euw1-az1,euw1-az3")
    subnets = resources(template, "AWS::EC2::Subnet").values()
    assert sorted(s["Properties"]["AvailabilityZoneId"] for s in subnets) == [
        "euw1-az1",
        "euw1-az3",
    ]
    assert all("AvailabilityZone" not in s["Properties"] for s in subnets)


def test_image_assets_are_an_opt_in_that_synthesizes_without_docker(tmp_path: Path) -> None:
    app = App(context={**CONTEXT, "imageSource": "asset"}, outdir=str(tmp_path))
    stack = ConsumerStack(app, from_context(app.node.try_get_context, outputs_dir=None))
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    (function,) = [
        f
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "consumer-lambda"
    ]
    assert "cdk-hnb659fds-container-assets" in json.dumps(function["Properties"]["Code"])
    manifest = json.loads((tmp_path / f"{stack.stack_name}.assets.json").read_text())
    (image,) = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == "consumer-lambda/Dockerfile"  # built from services/

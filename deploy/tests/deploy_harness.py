"""What the deploy tests share: the fixed context, one synth of the app, and a stand-in for
CloudFormation that resolves a template's references to values of the right shape."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii's node runtime warns on every start that the machines' Node 20 is past its end of life;
# it works, and the warning would bury the tests' own output.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "18,20")
# Its unpacked copy of aws-cdk-lib stays in the tree (git-ignored), as under `make synth`.
os.environ.setdefault(
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT", str(Path(__file__).resolve().parents[1] / ".cache" / "jsii")
)

from aws_cdk import App, cx_api
from private_apis_deploy.app import build
from private_apis_deploy.settings import DEPLOY_DIR, STACKS

REPO_ROOT = DEPLOY_DIR.parent
API_DIR = REPO_ROOT / "api"
GATEWAY_CONFIG = REPO_ROOT / "gateway" / "config" / "gateway.yaml"
FEATURE_FLAGS = json.loads((DEPLOY_DIR / "cdk.json").read_text(encoding="utf-8"))["context"]

# Deployed values unlike every local one, so a local value that reached a template shows.
ACCOUNTS = {
    "gateway": "123456789012",
    "dog-names": "234567890123",
    "todo": "345678901234",
    "consumer": "456789012345",
}
CONTEXT: dict[str, Any] = {
    **FEATURE_FLAGS,
    "region": "eu-west-1",
    "gatewayAccount": ACCOUNTS["gateway"],
    "dogNamesAccount": ACCOUNTS["dog-names"],
    "todoAccount": ACCOUNTS["todo"],
    "consumerAccount": ACCOUNTS["consumer"],
    "imageTag": "0123456789abcdef0123456789abcdef01234567",
    "dogNamesEndpointService": "com.amazonaws.vpce.eu-west-1.vpce-svc-0d06a3e5b1c2d3e4f",
    "todoEndpointService": "com.amazonaws.vpce.eu-west-1.vpce-svc-0f0da3e5b1c2d3e4f",
    "consumerVpceId": "vpce-0c0a5e1b2c3d4e5f6",
    "partnerApiId": "p4rtn3r1d0",
    "frontdoorVpceId": "vpce-0f0d0a5e1b2c3d4e5",
    "widgetsApiId": "w1dg3t5ap1",
    "tokenAuthorizerArn": (
        f"arn:aws:lambda:eu-west-1:{ACCOUNTS['gateway']}:function:token-authorizer"
    ),
    "authorizerTokenSecretArn": (
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNTS['gateway']}:secret:AuthorizerToken-Xy12Ab"
    ),
    "authorizerTokenKeyArn": (
        f"arn:aws:kms:eu-west-1:{ACCOUNTS['gateway']}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    ),
}
REGION = CONTEXT["region"]


@dataclass(frozen=True)
class Synth:
    assembly: cx_api.CloudAssembly
    templates: Mapping[str, dict[str, Any]]  # by STACKS key

    def messages(self, key: str) -> list[tuple[str, str, str]]:
        """(level, construct path, text) of every annotation on the stack's constructs."""
        artifact = self.assembly.get_stack_by_name(STACKS[key])
        return [(m.level.value, m.id, str(m.entry.data)) for m in artifact.messages]


def synth(outdir: Path, **context: Any) -> Synth:
    """The whole app, with CONTEXT and `context` over it; earlier deploys' outputs ignored."""
    app = App(context={**CONTEXT, **context}, outdir=str(outdir))
    build(app, outputs_dir=None)
    assembly = app.synth()
    templates = {key: assembly.get_stack_by_name(name).template for key, name in STACKS.items()}
    return Synth(assembly, templates)


def resources(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def only(template: Mapping[str, Any], type_: str) -> tuple[str, dict[str, Any]]:
    found = resources(template, type_)
    assert len(found) == 1, f"{len(found)} resources of type {type_}: {sorted(found)}"
    return next(iter(found.items()))


class FakeCloudFormation:
    """Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split and pseudo parameters to
    plausible values, each a function of the logical id: the same reference always resolves
    the same, so two parts of a template that name one resource agree after resolution."""

    def __init__(self, template: Mapping[str, Any], *, account: str, region: str = REGION):
        self.template = template
        self.account = account
        self.region = region

    def _hash(self, *parts: str) -> str:
        return hashlib.sha256("/".join(parts).encode()).hexdigest()

    def ref(self, logical: str) -> str:
        pseudo = {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "stack",
        }
        if logical in pseudo:
            return pseudo[logical]
        if logical in self.template.get("Parameters", {}):
            return f"parameter-{logical}"
        kind = self.template["Resources"][logical]["Type"]
        h = self._hash(logical)
        if kind == "AWS::EC2::VPCEndpoint":
            return f"vpce-{h[:17]}"
        if kind == "AWS::EC2::VPC":
            return f"vpc-{h[:17]}"
        if kind in ("AWS::ApiGateway::VpcLink", "AWS::ApiGatewayV2::VpcLink"):
            return h[:6]
        if kind in ("AWS::ApiGateway::RestApi", "AWS::ApiGatewayV2::Api"):
            return h[:10]
        if kind == "AWS::ElasticLoadBalancingV2::Listener":
            return (
                f"arn:aws:elasticloadbalancing:{self.region}:{self.account}:listener/net/"
                f"nlb-{h[:8]}/{h[8:24]}/{h[24:40]}"
            )
        return f"{logical}-{h[:8]}"

    def get_att(self, logical: str, attribute: str) -> str:
        h = self._hash(logical, attribute)
        resource = self.template["Resources"].get(logical, {})
        if resource.get("Type") == "AWS::Lambda::Function" and attribute == "Arn":
            name = resource["Properties"].get("FunctionName")
            name = name if isinstance(name, str) else f"{logical}-{h[:8]}"
            return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        if attribute == "DNSName":
            return f"internal-nlb-{h[:8]}-{h[8:18]}.elb.{self.region}.amazonaws.com"
        if attribute.startswith("NetworkInterfaces.") and attribute.endswith(".PrivateIpAddress"):
            return f"10.211.{attribute.split('.')[1]}.{int(h[:2], 16)}"
        if attribute == "ApiEndpoint":
            return f"https://{self.ref(logical)}.execute-api.{self.region}.amazonaws.com"
        if attribute == "Arn":
            return f"arn:aws:fake:{self.region}:{self.account}:{logical}"
        return f"{logical}.{attribute}"

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical, attribute = value if isinstance(value, list) else value.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Join":
                separator, parts = value
                return separator.join(str(part) for part in self.resolve(parts))
            if key == "Fn::Select":
                index, items = self.resolve(value)
                return items[int(index)]
            if key == "Fn::Split":
                separator, text = self.resolve(value)
                return text.split(separator)
            if key == "Fn::GetAZs":
                return [f"{self.region}a", f"{self.region}b", f"{self.region}c"]
            if key.startswith("Fn::"):
                raise NotImplementedError(f"{key} in a template")
        return {key: self.resolve(value) for key, value in node.items()}

    def output(self, key: str) -> Any:
        return self.resolve(self.template["Outputs"][key]["Value"])

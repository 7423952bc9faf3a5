"""cfn-lint finds no error in any template, and cdk-nag's AwsSolutions pack finds nothing that
is not fixed or suppressed with a written reason."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Aspects, Stack
from aws_cdk import aws_ec2 as ec2
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import ManualArgs, lint
from deploy_harness import REGION, Synth
from private_apis_deploy.settings import STACKS

# The findings each stack accepts, each with its reason in the code (base.suppress).
SUPPRESSED = {
    "dog-names": {"AwsSolutions-ECS2", "AwsSolutions-IAM5", "AwsSolutions-ELB2"},
    "todo": {"AwsSolutions-IAM5", "AwsSolutions-AS3", "AwsSolutions-ELB2"},
    "gateway": {
        "AwsSolutions-IAM4",
        "AwsSolutions-IAM5",
        "AwsSolutions-ELB2",
        "AwsSolutions-APIG2",
        "AwsSolutions-APIG3",
        "AwsSolutions-ECS2",
    },
    "consumer": {
        "AwsSolutions-IAM4",
        "AwsSolutions-IAM5",
        "AwsSolutions-ELB2",
        "AwsSolutions-APIG2",
    },
}


def _lint_errors(template: dict[str, Any]) -> list[str]:
    matches = lint(json.dumps(template), config=ManualArgs(regions=[REGION]))
    return [f"{m.rule.id} {m.path_string}: {m.message}" for m in matches if m.rule.id[0] == "E"]


@pytest.mark.parametrize("key", list(STACKS))
def test_cfn_lint_finds_no_error(templates: dict[str, Any], key: str) -> None:
    assert _lint_errors(templates[key]) == []


def test_cfn_lint_does_find_errors() -> None:
    broken = {
        "Resources": {
            "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescriptio": "x"}}
        }
    }
    assert _lint_errors(broken)


def _nag_report(synthed: Synth, key: str) -> list[dict[str, str]]:
    path = Path(synthed.assembly.directory) / f"AwsSolutions--{STACKS[key]}-NagReport.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("key", list(STACKS))
def test_every_nag_finding_is_fixed_or_suppressed_with_a_reason(synthed: Synth, key: str) -> None:
    report = _nag_report(synthed, key)
    assert report, "cdk-nag checked nothing"
    open_findings = [row for row in report if row["Compliance"] not in ("Compliant", "Suppressed")]
    assert open_findings == []
    suppressed = [row for row in report if row["Compliance"] == "Suppressed"]
    for row in suppressed:
        assert len(row["Exception Reason"]) > 40, row  # a reason, not a placeholder
    assert {row["Rule ID"] for row in suppressed} == SUPPRESSED[key]
    nag_messages = [m for m in synthed.messages(key) if "AwsSolutions" in m[2] or "Nag" in m[2]]
    assert nag_messages == []


def test_the_nag_pack_reports_what_it_should(tmp_path: Path) -> None:
    """The same aspect on a security group open to the world: an error, so a green report
    above means something."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Open")
    vpc = ec2.Vpc(stack, "Vpc", nat_gateways=0, max_azs=1)
    group = ec2.SecurityGroup(stack, "Group", vpc=vpc)
    group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(22))
    Aspects.of(app).add(AwsSolutionsChecks())
    messages = app.synth().get_stack_by_name("Open").messages
    assert any("AwsSolutions-EC23" in str(m.entry.data) for m in messages)

"""The substitution table (deploy/values.yaml) against the local configuration, and its one
mechanism: whole-word replacement of the local values in a loaded document."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from deploy_harness import API_DIR, GATEWAY_CONFIG, REPO_ROOT
from private_apis_deploy.values import identity_policies, load_document, load_table

TABLE = load_table()
CONFIG = yaml.safe_load(GATEWAY_CONFIG.read_text(encoding="utf-8"))
# The documents this app deploys: every API of the local configuration
# (test_api_bodies.test_every_api_of_the_local_configuration_is_deployed).
DEPLOYED_APIS = tuple(CONFIG["apis"])
# What an id, an ARN or an account looks like in these files.
ID_PATTERNS = (
    re.compile(r"(?<![0-9])\d{12}(?![0-9])"),  # an account
    re.compile(r"\bvpce-[0-9a-f]+\b"),
    re.compile(r"\bvpc-[0-9a-f]+\b"),
    re.compile(r"listener/(net|app)/"),  # a load balancer listener's ARN
    re.compile(r":function:"),  # a Lambda function's ARN
)


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _without_known(text: str) -> str:
    """`text` with every local value the table knows (and the ones it lists as local-only) cut
    out, longest first."""
    known = [v.local for v in TABLE.values.values()] + list(TABLE.local_only)
    for value in sorted(known, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])", "", text)
    return text


@pytest.mark.parametrize("value", list(TABLE.values.values()), ids=lambda v: v.name)
def test_every_local_value_appears_where_the_table_says(value: Any) -> None:
    for relative in value.appears_in:
        text = (REPO_ROOT / relative).read_text(encoding="utf-8")
        assert value.local in text, f"{value.name}: {value.local} is not in {relative}"


def test_the_table_lists_no_deferred_part() -> None:
    # Everything gateway.yaml configures is deployed: nothing is left aside any more.
    raw = yaml.safe_load((REPO_ROOT / "deploy" / "values.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {"values", "local_only"}


def test_every_id_of_the_deployed_documents_is_in_the_table() -> None:
    for name in DEPLOYED_APIS:
        for text in _strings(load_document(API_DIR / f"{name}.yaml")):
            rest = _without_known(text)
            for pattern in ID_PATTERNS:
                assert not pattern.search(rest), f"{name}.yaml: {text!r} holds an unknown id"


def test_every_local_value_of_the_gateway_config_is_in_the_table() -> None:
    config = CONFIG
    locals_ = {v.local for v in TABLE.values.values()} | set(TABLE.local_only)
    found: list[str] = []
    for api in config["apis"].values():
        found += [api["id"], api["account"], *(api.get("stage_variables") or {}).values()]
        found += list(api.get("vpc_links") or {})
    for link_id, link in config["vpc_links"].items():
        found += [link_id, *(link.get("listeners") or {})]
    for endpoint in config["vpc_endpoints"]:
        found += [endpoint["id"], endpoint["vpc_id"]]
    found += list(config.get("lambda_functions") or {})
    unknown = [value for value in found if value not in locals_]
    assert not unknown, f"local values of gateway.yaml missing from deploy/values.yaml: {unknown}"
    # identities: every id in their ARNs and policies is a known value
    for identity in config["identities"]:
        for text in [identity["principal_arn"], *_strings(identity["policies"])]:
            assert not _ids(_without_known(text)), text


def _ids(text: str) -> bool:
    return any(pattern.search(text) for pattern in ID_PATTERNS)


@pytest.mark.parametrize("api", DEPLOYED_APIS)
def test_stage_variables_are_the_gateway_configs(api: str) -> None:
    """The stage variables a document uses are the ones gateway.yaml gives its API, each an
    entry of the table (kind stage-variable) with gateway.yaml's value as its local one."""
    variables = CONFIG["apis"][api].get("stage_variables") or {}
    used = set(re.findall(r"\$\{stageVariables\.(\w+)\}", (API_DIR / f"{api}.yaml").read_text()))
    assert set(variables) == used
    for name in used:
        assert TABLE[name].kind == "stage-variable"
        assert variables[name] == TABLE[name].local


def test_every_stage_variable_of_the_table_is_used() -> None:
    used = {
        name
        for api in DEPLOYED_APIS
        for name in re.findall(
            r"\$\{stageVariables\.(\w+)\}", (API_DIR / f"{api}.yaml").read_text()
        )
    }
    assert {value.name for value in TABLE.of_kind("stage-variable")} == used


def test_substitution_replaces_whole_words_only() -> None:
    document = {
        "a": "arn:aws:iam::444444444444:role/consumer-lambda",
        "b": ["vpce-04444444444444444", "x vpce-044444444444444449 y"],
        "c": "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/dog-names/"
        "0222222222222222/0222222222222222",
        "d": {"apivpc": "apivpc", "n": 3},
        "e": "https://${stageVariables.widgetsApiId}.execute-api.us-east-1.amazonaws.com/prod",
    }
    deployed = {
        "region": "eu-west-1",
        "consumerAccount": "999988887777",
        "consumerVpceId": "vpce-0abc",
        "gatewayAccount": "123456789012",
        "dogNamesListenerArn": "LISTENER",
        "httpVpcLinkId": "link01",
    }
    assert TABLE.substitute(document, deployed) == {
        "a": "arn:aws:iam::999988887777:role/consumer-lambda",
        "b": ["vpce-0abc", "x vpce-044444444444444449 y"],
        "c": "LISTENER",  # the ARN as a whole, not its account or region
        "d": {"apivpc": "link01", "n": 3},  # values only: keys are the document's structure
        "e": "https://${stageVariables.widgetsApiId}.execute-api.eu-west-1.amazonaws.com/prod",
    }


def test_a_replacement_is_not_scanned_again() -> None:
    # A deployed value that holds another local value stays as it is.
    document = {"p": "arn:aws:iam::444444444444:root", "v": "vpce-04444444444444444"}
    deployed = {"consumerAccount": "111111111111", "consumerVpceId": "vpce-0444444444444444a"}
    assert TABLE.substitute(document, deployed) == {
        "p": "arn:aws:iam::111111111111:root",
        "v": "vpce-0444444444444444a",
    }


def test_a_local_value_without_its_deployed_value_is_an_error() -> None:
    document = load_document(API_DIR / "partner.yaml")
    with pytest.raises(ValueError, match="no deployed value for consumerVpceId"):
        TABLE.substitute(document, {"consumerAccount": "999988887777"})


@pytest.mark.parametrize("name", ["dogNamesVpcLinkId", "nosuchvalue"])
def test_only_document_values_are_substituted(name: str) -> None:
    with pytest.raises(ValueError, match="is not a document value"):
        TABLE.substitute({}, {name: "x"})


def test_the_consumer_roles_identity_policy_comes_from_the_gateway_config() -> None:
    (policy,) = identity_policies("arn:aws:iam::444444444444:role/consumer-lambda")
    assert TABLE.substitute(policy, {"gatewayAccount": "123456789012", "partnerApiId": "abc"}) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "execute-api:Invoke",
                "Resource": "arn:aws:execute-api:*:123456789012:abc/*/GET/*",
            }
        ],
    }

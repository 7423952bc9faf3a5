"""The front door VPC's consumer Lambda in AWS (the cross-account patterns post's ConsumerFunction):
in the consumer account the consumer-lambda image with its widgets handler, in the VPC, calling
the widgets API through the front door's endpoint with the gateway account's secret; in the
gateway account that secret encrypted with a key of its own, both policies naming the
function's role and nothing more."""

from __future__ import annotations

from typing import Any

from deploy_harness import ACCOUNTS, CONTEXT, REGION, FakeCloudFormation, only, resources

ROLE_ARN = f"arn:aws:iam::{ACCOUNTS['consumer']}:role/widgets-consumer"
VIA_SECRETS_MANAGER = {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}


def _function(template: dict[str, Any]) -> dict[str, Any]:
    (found,) = [
        f["Properties"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "widgets-consumer"
    ]
    return found


def test_it_is_the_consumer_lambda_image_with_the_widgets_handler_in_the_vpc(
    templates: dict[str, Any],
) -> None:
    template = templates["consumer"]
    cfn = FakeCloudFormation(template, account=ACCOUNTS["consumer"])
    function = _function(template)
    assert cfn.resolve(function["Code"]["ImageUri"]) == (
        f"{ACCOUNTS['consumer']}.dkr.ecr.{REGION}.amazonaws.com/private-apis/consumer-lambda:"
        f"{CONTEXT['imageTag']}"
    )
    assert function["ImageConfig"] == {"Command": ["consumer_lambda.widgets.handler"]}
    subnets = set(resources(template, "AWS::EC2::Subnet"))
    assert {s["Ref"] for s in function["VpcConfig"]["SubnetIds"]} == subnets


def test_it_calls_the_widgets_api_through_the_front_doors_endpoint_with_the_secret(
    templates: dict[str, Any],
) -> None:
    template = templates["consumer"]
    variables = _function(template)["Environment"]["Variables"]
    # the front door endpoint's own DNS name: no private DNS there, the API chosen by its id
    endpoint = template["Outputs"]["FrontdoorVpceId"]["Value"]["Ref"]
    dns_name = {
        "Fn::Select": [
            1,
            {"Fn::Split": [":", {"Fn::Select": [0, {"Fn::GetAtt": [endpoint, "DnsEntries"]}]}]},
        ]
    }
    assert variables == {
        "WIDGETS_API_URL": {"Fn::Join": ["", ["https://", dns_name, "/prod/widgets"]]},
        "WIDGETS_API_ID": CONTEXT["widgetsApiId"],
        "WIDGETS_API_TIMEOUT": "10",
        "TOKEN_SECRET_ID": CONTEXT["authorizerTokenSecretArn"],
    }


def test_its_role_may_read_that_secret_and_decrypt_it_through_secrets_manager_only(
    templates: dict[str, Any],
) -> None:
    template = templates["consumer"]
    role = _function(template)["Role"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [{"Ref": role}]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(a.startswith(("secretsmanager:", "kms:")) for a in _actions(statement))
    ]
    assert statements == [
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": CONTEXT["authorizerTokenSecretArn"],
        },
        {
            "Action": "kms:Decrypt",
            "Condition": VIA_SECRETS_MANAGER,
            "Effect": "Allow",
            "Resource": CONTEXT["authorizerTokenKeyArn"],
        },
    ]


def test_it_reaches_only_the_front_doors_and_secrets_managers_endpoints(
    templates: dict[str, Any],
) -> None:
    template = templates["consumer"]
    (group,) = _function(template)["VpcConfig"]["SecurityGroupIds"]
    egress = [
        (r["Properties"]["DestinationSecurityGroupId"], r["Properties"]["FromPort"])
        for r in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == group
    ]
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    frontdoor = template["Outputs"]["FrontdoorVpceId"]["Value"]["Ref"]
    (secrets,) = [
        logical
        for logical, e in endpoints.items()
        if e["Properties"]["ServiceName"] == f"com.amazonaws.{REGION}.secretsmanager"
    ]
    assert sorted(egress, key=str) == sorted(
        [(endpoints[e]["Properties"]["SecurityGroupIds"][0], 443) for e in (frontdoor, secrets)],
        key=str,
    )
    group_id = group["Fn::GetAtt"][0]
    # no inline rule either (allow_all_outbound off): the two rules above are all
    assert "SecurityGroupEgress" not in template["Resources"][group_id]["Properties"]


def test_the_secret_has_a_key_of_its_own_and_both_name_the_consumer_role(
    templates: dict[str, Any],
) -> None:
    template = templates["gateway"]
    secret_id, secret = only(template, "AWS::SecretsManager::Secret")
    key_id, key = only(template, "AWS::KMS::Key")
    assert secret["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    (policy,) = [
        p["Properties"]["ResourcePolicy"]["Statement"]
        for p in resources(template, "AWS::SecretsManager::ResourcePolicy").values()
        if p["Properties"]["SecretId"] == {"Ref": secret_id}
    ]
    assert [s for s in policy if s["Effect"] == "Allow"] == [
        {
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Effect": "Allow",
            "Principal": {"AWS": ROLE_ARN},
            "Resource": {"Ref": secret_id},
        }
    ]
    cross_account = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if ROLE_ARN in str(s["Principal"]["AWS"])
    ]
    assert [(_actions(s), s["Condition"]) for s in cross_account] == [
        (["kms:Decrypt"], VIA_SECRETS_MANAGER)
    ]
    assert template["Outputs"]["AuthorizerTokenKeyArn"]["Value"] == {"Fn::GetAtt": [key_id, "Arn"]}


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)

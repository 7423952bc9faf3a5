"""Stage 6, authorize: SigV4 on AWS_IAM methods, then the resource and identity policies
(SPEC section 9's table for the partner API, in process)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.credentials import Credentials
from gateway.exchange import Exchange, RequestIds
from gateway.vpce import Attribution

from .conftest import (
    CONSUMER,
    CONSUMER_SESSION,
    CONSUMER_VPC,
    MTLS_CALLER,
    NOW,
    OUTSIDE,
    PROXY_VPC,
    Gateway,
    deny_body,
    seen_upstream,
    sign,
)

OTHER_TEAM = Credentials(
    "AKIAI44QH8DHBEXAMPLE",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEXAMPLE/local-other-team-session",
)
CONSUMER_ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"
OTHER_TEAM_SESSION = "arn:aws:sts::444444444444:assumed-role/other-team/other-team-cli"


def test_the_consumer_role_reads_through_its_endpoint(gateway: Gateway) -> None:
    seen_upstream(gateway.call("GET", "/prod/dogs", headers=sign("GET", "/prod/dogs"),
                               client=CONSUMER_VPC))  # fmt: skip
    entry = gateway.last_log()
    # $context.identity.userArn of a role's temporary credentials: the assumed-role session
    assert (entry["principal"], entry["status"], entry["resourcePath"]) == (
        CONSUMER_SESSION,
        200,
        "/dogs",
    )


def test_unsigned_is_missing_authentication_token(gateway: Gateway) -> None:
    response = gateway.call(
        "GET", "/prod/dogs", headers={"Host": "partnerap1.execute-api.us-east-1.amazonaws.com"},
        client=CONSUMER_VPC,
    )  # fmt: skip
    assert response.status_code == 403
    assert response.content == b'{"message":"Missing Authentication Token"}'


@pytest.mark.parametrize(
    "credentials, at, error_type, message",
    [
        (
            Credentials(CONSUMER.access_key, "wrong-secret", CONSUMER.token),
            NOW,
            "InvalidSignatureException",
            "The request signature we calculated does not match",
        ),
        (
            Credentials("AKIAUNKNOWNEXAMPLE00", "s", None),
            NOW,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (
            Credentials(CONSUMER.access_key, CONSUMER.secret_key, None),  # token left out
            NOW,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        (CONSUMER, NOW - timedelta(minutes=6), "InvalidSignatureException", "Signature expired"),
    ],
    ids=["wrong-secret", "unknown-key", "no-session-token", "skewed-clock"],
)
def test_bad_signatures_get_api_gateways_answers(
    gateway: Gateway, credentials: Credentials, at: object, error_type: str, message: str
) -> None:
    headers = sign("GET", "/prod/dogs", credentials=credentials, at=at)  # type: ignore[arg-type]
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == error_type
    assert response.json()["message"].startswith(message)


def test_another_role_is_not_allowed_by_the_resource_policy(gateway: Gateway) -> None:
    """The deny message names the caller's session; nothing denies it explicitly, nothing
    allows it: the answer has no "with an explicit deny"."""
    headers = sign("GET", "/prod/dogs", credentials=OTHER_TEAM)
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException"
    assert response.json() == deny_body(
        OTHER_TEAM_SESSION, "GET", "partnerap1/prod/{M}/dogs", explicit=False
    )


def test_the_consumer_from_another_vpc_is_explicitly_denied(gateway: Gateway) -> None:
    headers = sign("GET", "/prod/dogs")
    response = gateway.call("GET", "/prod/dogs", headers=headers, client=PROXY_VPC)
    assert response.status_code == 403
    assert response.json() == deny_body(
        CONSUMER_SESSION, "GET", "partnerap1/prod/{M}/dogs", explicit=True
    )


@pytest.mark.parametrize("client", [PROXY_VPC, CONSUMER_VPC], ids=["proxy-vpc", "consumer-vpc"])
def test_the_mtls_policy_admits_only_the_proxys_endpoint(
    gateway: Gateway, client: tuple[str, int]
) -> None:
    response = gateway.call("GET", "/prod/dogs", headers=MTLS_CALLER, client=client)
    if client == PROXY_VPC:
        seen_upstream(response)
    else:
        assert response.status_code == 403
        assert response.json() == deny_body(
            "anonymous", "GET", "mtlsapi001/prod/{M}/dogs", explicit=True
        )


def test_the_public_api_has_no_policy(gateway: Gateway) -> None:
    seen_upstream(gateway.call("POST", "/todo", client=OUTSIDE, content=b"data=x"))


def test_a_role_session_has_the_keys_aws_gives_it(gateway: Gateway) -> None:
    """IAM User Guide, "AWS global condition context keys" and "Principal key values": for an
    assumed role aws:PrincipalArn is the role's ARN, aws:userid `role-id:session-name`, and
    aws:username is not present."""
    app = gateway.app.pipeline

    async def never() -> dict[str, object]:
        raise AssertionError

    ex = Exchange(
        method="GET", raw_path="/prod/dogs", raw_query="", headers=[], source_ip="127.0.4.10",
        receive=never, send=never, started=0.0, request_time=NOW,  # type: ignore[arg-type]
        ids=RequestIds.new(), api=app.apis["partnerap1"], path="/dogs",
        identity=app.identities[CONSUMER.access_key],
    )  # fmt: skip
    ctx = app.request_context(ex)
    assert ctx.principal_arn == CONSUMER_SESSION
    assert (
        ctx.condition_keys["aws:PrincipalArn"] == "arn:aws:iam::444444444444:role/consumer-lambda"
    )
    assert ctx.condition_keys["aws:userid"] == "AROAEXAMPLECONSUMER01:consumer-lambda"
    assert ctx.condition_keys["aws:username"] is None


@pytest.mark.parametrize(
    "vpce, expected",
    [
        (
            Attribution("vpce-04444444444444444", "vpc-04444444444444444"),
            {"aws:SourceVpce": "vpce-04444444444444444", "aws:VpcSourceIp": "127.0.4.10"},
        ),
        (None, {"aws:SourceIp": "127.0.4.10"}),
    ],
    ids=["through-an-endpoint", "outside"],
)
def test_the_network_keys_are_the_ones_aws_sets(
    gateway: Gateway, vpce: Attribution | None, expected: dict[str, str]
) -> None:
    """IAM User Guide, "AWS global condition context keys": aws:SourceIp is "included in the
    request context, except when the requester uses a VPC endpoint" (aws:VpcSourceIp then holds
    the address); aws:SecureTransport is true, API Gateway serving HTTPS only."""
    app = gateway.app.pipeline

    async def never() -> dict[str, object]:
        raise AssertionError

    ex = Exchange(
        method="GET", raw_path="/dogs", raw_query="", headers=[], source_ip="127.0.4.10",
        receive=never, send=never, started=0.0, request_time=NOW,  # type: ignore[arg-type]
        ids=RequestIds.new(), api=app.apis["globalapi1"], path="/dogs", attribution=vpce,
    )  # fmt: skip
    keys = app.request_context(ex).condition_keys
    network = ("aws:SourceIp", "aws:SourceVpce", "aws:VpcSourceIp")
    assert {k: keys[k] for k in network if keys.get(k) is not None} == expected
    assert keys["aws:SecureTransport"] is True


@pytest.mark.parametrize(
    "path, status",
    [
        ("/test/secret", 403),
        ("/test/secret/", 403),  # routed to the same resource: the Deny must hold
        ("/test//secret", 403),
        ("/test/secretly", 200),
        ("/test/secret/x", 200),  # GET/secret does not name its children
    ],
)
def test_a_deny_holds_for_every_spelling_of_the_path_it_names(
    test_gateway: Gateway, path: str, status: int
) -> None:
    """The method ARN of `/secret/` may be `GET/secret/` or `GET/secret` (AWS does not document
    which): both are judged and the stricter answer counts, so the gateway never forwards a
    request that AWS would deny."""
    response = test_gateway.call("GET", path, headers={"x-apigw-api-id": "echopolicy"})
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["Message"].endswith("/test/GET/secret with an explicit deny")

"""A repeated caller's policy answer is remembered (`Pipeline.judge_policies`): one gateway
serving requests that differ in one fact each must answer each as a fresh gateway would."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import httpx
from gateway.app import GatewayApp
from gateway.policy import parse_policy

from .conftest import (
    CONSUMER_VPC,
    NOW,
    PROXY_VPC,
    Gateway,
    deny_body,
    echo,
    seen_upstream,
    shipped_config,
    sign,
)

CONSUMER_ROLE = "arn:aws:iam::444444444444:role/consumer-lambda"
SESSION = "arn:aws:sts::444444444444:assumed-role/consumer-lambda/consumer-lambda"


def test_the_same_signed_request_from_another_endpoint_is_judged_again(gateway: Gateway) -> None:
    headers = sign("GET", "/prod/dogs")
    for client in (CONSUMER_VPC, PROXY_VPC, CONSUMER_VPC, PROXY_VPC):
        response = gateway.call("GET", "/prod/dogs", headers=headers, client=client)
        if client == CONSUMER_VPC:
            seen_upstream(response)
        else:
            assert response.status_code == 403
            assert response.json() == deny_body(
                SESSION, "GET", "partnerap1/prod/{M}/dogs", explicit=True
            )


def _partner_with(policy: dict, clock: list[datetime]) -> Gateway:
    """The shipped gateway whose partner API has `policy` as its resource policy."""
    log: list[dict] = []
    app = GatewayApp(
        shipped_config(),
        clock=lambda: clock[0],
        access_log=log.append,
        transport=httpx.MockTransport(echo),
    )
    apis = app.pipeline.apis
    apis["partnerap1"] = replace(apis["partnerap1"], resource_policy=parse_policy(policy))
    return Gateway(app, log)


def _allow(condition: dict) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": CONSUMER_ROLE},
        "Action": "execute-api:Invoke",
        "Resource": "execute-api:/*",
        "Condition": condition,
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_a_policy_on_the_time_is_judged_each_second() -> None:
    # aws:CurrentTime carries whole seconds: within one second the answer stays, the next one
    # is judged afresh (IAM User Guide, "AWS global condition context keys", aws:CurrentTime).
    until = (NOW + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock = [NOW]
    gateway = _partner_with(_allow({"DateLessThan": {"aws:CurrentTime": until}}), clock)
    headers = sign("GET", "/prod/dogs")
    answers = []
    for moment in (NOW, NOW + timedelta(milliseconds=900), NOW + timedelta(seconds=1), NOW):
        clock[0] = moment
        response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
        answers.append(response.status_code)
    assert answers == [200, 200, 403, 200]


def test_a_policy_on_the_user_agent_tells_them_apart() -> None:
    gateway = _partner_with(_allow({"StringLike": {"aws:UserAgent": "team-a/*"}}), [NOW])
    answers = []
    for agent in ("team-a/1.0", "team-b/1.0", "team-a/2.0", "team-b/1.0"):
        headers = {**sign("GET", "/prod/dogs"), "User-Agent": agent}
        response = gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
        answers.append(response.status_code)
    assert answers == [200, 403, 200, 403]


def test_the_same_caller_on_another_path_is_judged_for_that_path() -> None:
    policy = _allow({"StringEquals": {"aws:SourceVpce": "vpce-04444444444444444"}})
    policy["Statement"][0]["Resource"] = "execute-api:/*/GET/dogs"
    gateway = _partner_with(policy, [NOW])
    answers = []
    for path in ("/prod/dogs", "/prod/todo", "/prod/dogs", "/prod/todo"):
        response = gateway.call("GET", path, headers=sign("GET", path), client=CONSUMER_VPC)
        answers.append(response.status_code)
    assert answers == [200, 403, 200, 403]

"""The cross-account patterns post's first architecture through the gateway in process, with its
own functions under the real awslambdaric: the front door (api/frontdoor.yaml, a regional API of
444444444444 on a port of its own) -> its VPC link -> the gateway itself, as the front-door VPC's
execute-api endpoint -> the private widgets API (api/widgets.yaml, 111111111111): the widgets
function (services/widgets-lambda) behind the shared-secret TOKEN authorizer
(services/token-authorizer).

The link's connections come back into the same app with the link's source address as their
peer (`IntoTheGateway`), as the real sockets do (test_frontdoor_sockets.py)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
from certgen.secret import new_token, read_token
from devstack.ports import free_port
from gateway.app import GatewayApp

from gateway.config import load_config

from ..pipeline.conftest import CONSUMER_VPC, MASKED_ARN, OUTSIDE, PROXY_VPC
from .conftest import LAMBDA_CONFIG, Clock, Functions

INVOKE = "/2015-03-31/functions/function/invocations"
FRONTDOOR_PORT = 8088  # apis.frontdoor.port in data/lambda-test.yaml
FRONTDOOR_VPC = ("127.0.5.10", 50000)  # the link's source_address
FRONTDOOR_VPCE = "vpce-0fd44444444444444"
WIDGETS_HOST = "widgetsap1.execute-api.us-east-1.amazonaws.com"
WIDGET = {"id": "1", "value": "4.99"}
# API Gateway's answers (Developer Guide, "Gateway response types"): a Lambda authorizer that
# fails with "Unauthorized" or a token missing or not matching identityValidationExpression:
# UNAUTHORIZED, 401; a private API reached without a VPC endpoint: 403 Forbidden; an explicit
# deny of the resource policy: 403 with the caller and the method ARN.
UNAUTHORIZED = b'{"message":"Unauthorized"}'
FORBIDDEN = b'{"message":"Forbidden"}'
POLICY_DENY = (
    '{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
    f'{MASKED_ARN}:widgetsap1/prod/GET/widgets with an explicit deny"}}'
).encode()
INTERNAL_ERROR = {"message": "Internal server error"}  # REST: the integration failed, 502


class IntoTheGateway(httpx.AsyncBaseTransport):
    """A connection from `local_address` that arrives at the gateway itself: the request goes
    into the same app, which sees `local_address` as the peer's address."""

    def __init__(self, app: Callable[[], GatewayApp], local_address: str | None) -> None:
        self.app = app
        self.local_address = local_address or "127.0.0.1"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app(), client=(self.local_address, 40000))  # type: ignore[arg-type]
        return await transport.handle_async_request(request)


class Pattern:
    """The gateway with both APIs; `frontdoor` calls the front door's own port from outside
    every VPC (the public), `widgets` calls the private API from `client`."""

    def __init__(self, functions: Functions, **environ: str) -> None:
        self.log: list[dict[str, Any]] = []
        self.clock = Clock()
        nowhere = f"http://127.0.0.1:{free_port()}"
        config = load_config(
            LAMBDA_CONFIG, environ={**functions.urls, "NOWHERE_URL": nowhere, **environ}
        )
        app: GatewayApp | None = None

        def gateway() -> GatewayApp:
            assert app is not None
            return app

        app = GatewayApp(
            config,
            clock=self.clock,
            access_log=self.log.append,
            transport_for=lambda local: IntoTheGateway(gateway, local),
        )
        app.pipeline.lambdas.invoker = functions.invoker
        self.app = app

    def send(
        self, method: str, url: str, client: tuple[str, int], headers: dict[str, str]
    ) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=client)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport) as http:
                return await http.request(method, url, headers=headers)

        return asyncio.run(send())

    def frontdoor(
        self, token: str | None, path: str = "/prod/", method: str = "GET", **headers: str
    ) -> httpx.Response:
        authorization = {"Authorization": token} if token is not None else {}
        url = f"http://127.0.0.1:{FRONTDOOR_PORT}{path}"
        return self.send(method, url, OUTSIDE, {**authorization, **headers})

    def widgets(self, token: str | None, client: tuple[str, int]) -> httpx.Response:
        headers = {"Host": WIDGETS_HOST, **({"Authorization": token} if token else {})}
        return self.send("GET", "http://127.0.0.1:8080/prod/widgets", client, headers)

    def logged(self, api_id: str) -> list[dict[str, Any]]:
        return [entry for entry in self.log if entry["apiId"] == api_id]


@pytest.fixture
def pattern(functions: Functions) -> Pattern:
    return Pattern(functions)


def answer(response: httpx.Response) -> tuple[int, bytes]:
    return response.status_code, response.content


# --- through the front door --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/prod/", "/prod", "/prod/widgets", "/prod/any/thing"])
def test_through_the_front_door_the_widget(
    pattern: Pattern, functions: Functions, path: str
) -> None:
    """The root ANY and the {proxy+} ANY both lead to the producer's GET /widgets."""
    response = pattern.frontdoor(functions.token, path)

    assert (response.status_code, response.json()) == (200, WIDGET), response.text
    assert response.headers["content-type"] == "application/json"
    [producer], [frontdoor] = pattern.logged("widgetsap1"), pattern.logged("frontdoor1")
    # The producer saw the request come through the front-door VPC's endpoint, from the link's
    # address, with the path and method the integration sends; its policy allowed it.
    assert {k: producer[k] for k in ("sourceIp", "vpceId", "path", "httpMethod", "status")} == {
        "sourceIp": "127.0.5.10",
        "vpceId": FRONTDOOR_VPCE,
        "path": "/prod/widgets",
        "httpMethod": "GET",
        "status": 200,
    }
    assert (producer["policyDecision"], producer["decidingStatements"]) == (
        "Allow",
        ["resource:AnyoneMayInvoke"],
    )
    # The front door: a regional API, reached from outside every VPC, on its own port.
    assert (frontdoor["sourceIp"], frontdoor["vpceId"], frontdoor["status"]) == (
        "127.0.0.1",
        None,
        200,
    )
    assert frontdoor["requestId"] != producer["requestId"]
    assert frontdoor["xrayTraceId"] == producer["xrayTraceId"]  # the trace header goes along


def test_without_a_token_the_front_door_answers_401(pattern: Pattern) -> None:
    assert answer(pattern.frontdoor(None)) == (401, UNAUTHORIZED)
    assert pattern.logged("widgetsap1") == []  # nothing went on to the producer


@pytest.mark.parametrize(
    "token",
    [
        new_token(),  # well-formed (43 URL-safe characters): the function says Unauthorized
        "Bearer something",  # refused by identityValidationExpression, no function called
    ],
    ids=["wrong", "malformed"],
)
def test_a_wrong_token_the_front_door_answers_401(pattern: Pattern, token: str) -> None:
    assert answer(pattern.frontdoor(token)) == (401, UNAUTHORIZED)
    assert pattern.logged("widgetsap1") == []


def test_only_get_widgets_is_served_behind_it(pattern: Pattern, functions: Functions) -> None:
    """The front door passes the method on; the producer has GET /widgets only, and its answer
    comes back unchanged: a REST API checks an Authorization header sent to a method it has no
    resource for as a signature, and the token is none (403 IncompleteSignatureException, as
    API Gateway answers a non-SigV4 Authorization header there)."""
    response = pattern.frontdoor(functions.token, method="POST")
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "IncompleteSignatureException"
    assert response.json()["message"].startswith(
        "Authorization header requires 'Credential' parameter."
    )
    [producer] = pattern.logged("widgetsap1")
    assert (producer["httpMethod"], producer["vpceId"]) == ("POST", FRONTDOOR_VPCE)
    # without a token the front door's authorizer answers first
    assert answer(pattern.frontdoor(None, method="POST")) == (401, UNAUTHORIZED)


def test_on_the_front_doors_port_the_private_api_stays_private(
    pattern: Pattern, functions: Functions
) -> None:
    """A Host (or x-apigw-api-id) that names the widgets API selects it on any port: from
    outside every VPC, a private API is Forbidden."""
    for header in ({"Host": WIDGETS_HOST}, {"x-apigw-api-id": "widgetsap1"}):
        assert answer(pattern.frontdoor(functions.token, "/prod/widgets", **header)) == (
            403,
            FORBIDDEN,
        )


def test_the_widgets_function_unreachable_the_front_door_answers_502(
    functions: Functions,
) -> None:
    """The producer's Lambda integration fails (502, REST's answer); the front door's http_proxy
    passes the producer's answer on as it is."""
    pattern = Pattern(functions, WIDGETS_FUNCTION_URL=f"http://127.0.0.1:{free_port()}")
    response = pattern.frontdoor(functions.token)
    assert (response.status_code, response.json()) == (502, INTERNAL_ERROR)
    [producer] = pattern.logged("widgetsap1")
    assert producer["status"] == 502


# --- the private API itself --------------------------------------------------------------------


def test_through_the_front_door_vpcs_endpoint_the_private_api_answers(
    pattern: Pattern, functions: Functions
) -> None:
    """What the front door's link does, by hand: the producer's own authorizer decides."""
    response = pattern.widgets(functions.token, FRONTDOOR_VPC)
    assert (response.status_code, response.json()) == (200, WIDGET)
    assert answer(pattern.widgets(None, FRONTDOOR_VPC)) == (401, UNAUTHORIZED)
    assert answer(pattern.widgets(new_token(), FRONTDOOR_VPC)) == (401, UNAUTHORIZED)


@pytest.mark.parametrize(
    "client, expected",
    [
        (OUTSIDE, (403, FORBIDDEN)),  # the host: no VPC endpoint at all
        (CONSUMER_VPC, (403, POLICY_DENY)),  # the consumer VPC's own endpoint
        (PROXY_VPC, (403, POLICY_DENY)),  # the API account's proxy VPC
    ],
    ids=["outside", "consumer-vpc", "proxy-vpc"],
)
def test_with_the_right_token_from_anywhere_else_the_private_api_refuses(
    pattern: Pattern, functions: Functions, client: tuple[str, int], expected: tuple[int, bytes]
) -> None:
    """The resource policy's explicit deny is answered before the authorizer is called (the
    Developer Guide's order for a Lambda authorizer with a resource policy): the token does not
    matter."""
    assert answer(pattern.widgets(functions.token, client)) == expected
    [entry] = pattern.logged("widgetsap1")
    if client is not OUTSIDE:
        assert (entry["policyDecision"], entry["decidingStatements"]) == (
            "ExplicitDeny",
            ["resource:OnlyThroughTheFrontDoorEndpoint"],
        )


# --- the shared secret rotated -----------------------------------------------------------------


def invoke_authorizer(functions: Functions, token: str) -> dict[str, object]:
    event = {
        "type": "TOKEN",
        "authorizationToken": token,
        "methodArn": "arn:aws:execute-api:us-east-1:444444444444:frontdoor1/prod/GET/",
    }
    url = functions.services["authorizer"].base_url + INVOKE
    return requests.post(url, json=event, timeout=10).json()  # type: ignore[no-any-return]


def test_a_rotated_secret_is_read_again(pattern: Pattern, functions: Functions) -> None:
    """No restart, and no cached allow of the old token: both APIs cache nothing (ttl 0)."""
    old = read_token(functions.token_secret)
    assert pattern.frontdoor(old).status_code == 200
    rotated = new_token()
    replacement = functions.token_secret.with_name(".authorizer-token.new")
    replacement.write_text(rotated + "\n")
    os.replace(replacement, functions.token_secret)  # a new file in its place, as a rotation
    try:
        assert invoke_authorizer(functions, old)["errorMessage"] == "Unauthorized"
        assert invoke_authorizer(functions, rotated)["principalId"] == "shared-secret-caller"
        response = pattern.frontdoor(rotated)
        assert (response.status_code, json.loads(response.content)) == (200, WIDGET)
        assert answer(pattern.frontdoor(old)) == (401, UNAUTHORIZED)
        # and the producer, called the way the front door calls it
        assert answer(pattern.widgets(old, FRONTDOOR_VPC)) == (401, UNAUTHORIZED)
    finally:
        replacement.write_text(old + "\n")
        os.replace(replacement, functions.token_secret)

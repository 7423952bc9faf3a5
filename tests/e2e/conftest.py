"""End-to-end tests against the running compose stack (`make e2e` starts and stops it).

The stack must already be up and healthy; a stack that is not there fails the session (never
skips it). Helpers and what the suite knows about the stack are in stack.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .stack import (
    ECHO_CONTAINER,
    ECHO_SERVER,
    MTLS_API,
    PUBLIC_API,
    STACK_TIMEOUT_S,
    GatewayLog,
    SharedSecret,
    compose,
    mtls_context,
    remove_container,
    start_service,
    wait_until,
)


@pytest.fixture(scope="session")
def public_api() -> Iterator[httpx.Client]:
    """The global (public HTTP) API on the published port; waits until the stack answers."""
    with httpx.Client(base_url=PUBLIC_API, timeout=10) as client:
        wait_until(
            lambda: client.get("/dogs").status_code == 200,
            f"the stack to answer on {PUBLIC_API} (is it up? `make up`)",
            timeout=STACK_TIMEOUT_S,
        )
        yield client


@pytest.fixture(scope="session")
def mtls_api(public_api: httpx.Client) -> Iterator[httpx.Client]:
    """The mTLS proxy with the valid client certificate, and the mtls API's TOKEN authorizer's
    token on every request (`auth=None` on a request leaves it out)."""
    with httpx.Client(
        base_url=MTLS_API, verify=mtls_context(), auth=SharedSecret(), timeout=10
    ) as client:
        wait_until(
            lambda: client.get("/dogs").status_code == 200,
            f"the mTLS proxy to answer on {MTLS_API}",
            timeout=STACK_TIMEOUT_S,
        )
        yield client


@pytest.fixture(scope="session")
def gateway_log(public_api: httpx.Client) -> GatewayLog:
    return GatewayLog(public_api)


@pytest.fixture(scope="module")
def echo_as_dog_names(public_api: httpx.Client) -> Iterator[None]:
    """Replace the Dog Names container by one that answers with the request it received.

    It runs from the dog-names service's own image and network under the same DNS name, so the
    gateway's integration reaches it exactly as it reaches the provider: the response bodies then
    show what the provider would have received.
    """
    compose("stop", "dog-names")
    try:
        compose(
            "run", "--detach", "--rm", "--no-deps", "--use-aliases",
            "--name", ECHO_CONTAINER, "dog-names", "python3", "-c", ECHO_SERVER,
        )  # fmt: skip
        wait_until(
            lambda: "headers" in public_api.get("/dogs").json(),
            "the echo server to answer as dog-names",
        )
        yield
    finally:
        remove_container(ECHO_CONTAINER)
        start_service("dog-names")
        wait_until(lambda: "Name" in public_api.get("/dogs").json(), "Dog Names to answer again")

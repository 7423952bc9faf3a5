"""The policy tools and the running gateway give the same answer: every case of every
`api/*.policy-tests.yaml` sent through the gateway (in process, from the case's address, signed
with the case's identity, at the case's time) and through `python -m gateway check --json` gets
the same decision, status, body and access-log decision. The access log carries the decision and
its statements; the response never does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from botocore.credentials import Credentials
from gateway.access import Setup
from gateway.accesslog import POLICY_DECISIONS
from gateway.cli import main
from gateway.policy import Rule
from gateway.policytests import Case, load

from gateway.config import DEFAULT_CONFIG_PATH, GatewayConfig, load_config

from .conftest import CONSUMER_VPC, MTLS_HOST, Gateway, build_gateway, echo, sign

REPO = Path(__file__).resolve().parents[3]
READS = "ConsumerRoleReadsThroughConsumerEndpoint"
FILES = sorted((REPO / "api").glob("*.policy-tests.yaml"))
CASES = [
    (path, tests.api or path.name.split(".")[0], tests.time, case)
    for path in FILES
    for tests in [load(path)]
    for case in tests.cases
]


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped configuration, plus a VPC endpoint (in a loopback subnet of its own) for each
    endpoint a case names that the configuration lacks, so the gateway can be called through it.
    `check` reads the same file."""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    known = {e["id"] for e in raw["vpc_endpoints"]}
    for n, vpce in enumerate(sorted({c.vpce for *_, c in CASES if c.vpce} - known), 20):
        raw["vpc_endpoints"].append(
            {"id": vpce, "vpc_id": vpce.replace("vpce-", "vpc-"), "subnets": [f"127.0.{n}.0/24"]}
        )
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("GATEWAY_API_DIR", str(REPO / "api"))
    return path


def check(config_file: Path, api: str, case: Case, at: datetime) -> tuple[int, list[str]]:
    argv = ["check", api, case.method, case.path, "--config", str(config_file), "--json"]
    argv += ["--time", at.isoformat()]
    for option, value in (
        ("--principal", case.principal),
        ("--identity", case.identity),
        ("--vpce", case.vpce),
        ("--source-ip", case.source_ip),
    ):
        if value is not None:
            argv += [option, value]
    for name, value in case.headers.items():
        argv += ["--header", f"{name}={value}"]
    return main(argv), argv


def message_of(answer: str | None) -> str | None:
    """The access log's errorMessage for an answer body: its message (Message for a deny)."""
    if answer is None:
        return None
    body = json.loads(answer)
    return body.get("message", body.get("Message"))


def host_of(config: GatewayConfig, api: str) -> str:
    return f"{config.apis[api].id}.execute-api.{config.region}.amazonaws.com"


@pytest.mark.parametrize(
    ("path", "api", "file_time", "case"), CASES, ids=[f"{c[1]}: {c[3].name}" for c in CASES]
)
def test_check_and_the_gateway_agree(config_file, capsys, path, api, file_time, case) -> None:
    at = (case.time or file_time or datetime(2026, 12, 1, 12, tzinfo=UTC)).astimezone(UTC)
    status, _ = check(config_file, api, case, at)
    checked = json.loads(capsys.readouterr().out)
    config = load_config(config_file)
    setup = Setup(config)
    request = setup.resolve(case.probe(at))
    assert case.principal in (None, "anonymous"), "through the gateway: an identity or anonymous"

    gateway: Gateway = build_gateway(config, httpx.MockTransport(echo))
    gateway.app.pipeline.clock = lambda: at
    api_config = config.apis[api]
    raw_path = case.path if api_config.stage == "$default" else f"/{api_config.stage}{case.path}"
    headers = {"Host": host_of(config, api), **case.headers}
    if case.identity is not None:
        identity = setup.find_identity(case.identity)
        credentials = Credentials(
            identity.access_key_id, identity.secret_access_key, identity.session_token
        )
        headers.update(sign(case.method, raw_path, host=headers["Host"], credentials=credentials,
                            at=at))  # fmt: skip
    assert request.source_ip is not None
    response = gateway.call(case.method, raw_path, client=(request.source_ip, 50000),
                            headers=headers)  # fmt: skip
    entry = gateway.last_log()

    assert (status == 0) == (response.status_code == 200) == (checked["decision"] == "allow")
    assert checked["decision"] == case.expected, checked["reason"]
    if response.status_code != 200:
        assert response.status_code == checked["status"]
        if case.method != "HEAD":  # a HEAD response has no body
            assert response.text == checked["answer"]
    assert entry["errorMessage"] == message_of(checked["answer"])
    rules = {rule.value: name for rule, name in POLICY_DECISIONS.items()}
    assert entry["policyDecision"] == rules.get(checked["rule"])
    if entry["policyDecision"] is not None:
        assert entry["decidingStatements"] == checked["decidingStatements"]
        for statement in entry["decidingStatements"]:
            assert statement.split(":", 1)[1] not in response.text  # never in the response


def test_every_case_can_go_through_the_gateway() -> None:
    """A case the gateway cannot be sent (a --principal without credentials) has no place in the
    shipped files: they are checked against the gateway, case by case."""
    assert all(c.principal in (None, "anonymous") for *_, c in CASES)
    assert len(CASES) >= 25


def test_the_access_log_names_the_decision_and_the_statements(gateway: Gateway) -> None:
    """Allowed, explicitly denied, and across accounts only one policy allowing."""
    other_team = Credentials(
        "AKIAI44QH8DHBEXAMPLE",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "IQoJb3JpZ2luX2VjEXAMPLE/local-other-team-session",
    )
    gateway.call("GET", "/prod/dogs", headers=sign("GET", "/prod/dogs"), client=CONSUMER_VPC)
    allowed = gateway.last_log()
    denied = gateway.call("POST", "/prod/todo", headers=sign("POST", "/prod/todo"),
                          client=CONSUMER_VPC)  # fmt: skip
    explicit = gateway.last_log()
    headers = sign("GET", "/prod/dogs", credentials=other_team)
    gateway.call("GET", "/prod/dogs", headers=headers, client=CONSUMER_VPC)
    cross = gateway.last_log()
    gateway.call("GET", "/prod/dogs", headers={"Host": MTLS_HOST}, client=CONSUMER_VPC)
    mtls = gateway.last_log()
    gateway.call("GET", "/dogs")
    public = gateway.last_log()
    entries = (allowed, explicit, cross, mtls, public)
    assert [(e["policyDecision"], e["decidingStatements"]) for e in entries] == [
        ("Allow", [f"resource:{READS}", "identity[0]:Statement[0]"]),
        ("ExplicitDeny", ["resource:OnlyReadMethods"]),
        ("CrossAccountNeedsBoth", ["identity[0]:Statement[0]"]),
        ("ExplicitDeny", ["resource:NothingElse"]),
        (None, None),  # no policy to decide: the public HTTP API has none
    ]  # fmt: skip
    assert b"OnlyReadMethods" not in denied.content
    assert set(POLICY_DECISIONS) == set(Rule)

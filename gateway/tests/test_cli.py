"""`python -m gateway`: serving without a subcommand, and the policy tools' exit statuses: 0
allowed, 1 denied, 2 bad input (one line on stderr, nothing on stdout)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from gateway.cli import main

from gateway import cli
from gateway.config import DEFAULT_CONFIG_PATH, load_config

REPO = Path(__file__).resolve().parents[2]
APIS = ", ".join(sorted(load_config(DEFAULT_CONFIG_PATH, environ={}).apis))
CONSUMER_KEY = "AKIAIOSFODNN7EXAMPLE"
CONSUMER_VPCE = "vpce-04444444444444444"


def test_no_subcommand_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[bool] = []
    monkeypatch.setattr(cli, "serve", lambda: served.append(True) or 0)
    assert main([]) == 0
    assert main(["serve"]) == 0
    assert served == [True, True]


def test_serve_listens_on_its_port_and_each_apis_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """One process, one app: PORT and the front door's port (apis.frontdoor.port)."""
    import uvicorn
    from devstack.ports import free_ports

    port, frontdoor_port = free_ports(2)
    bound: list[tuple[str, int]] = []

    def run(server: uvicorn.Server, sockets: list[object]) -> None:
        bound.extend(sock.getsockname() for sock in sockets)  # type: ignore[attr-defined]
        for sock in sockets:
            sock.close()  # type: ignore[attr-defined]

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)
    for name, value in (("HOST", "127.0.0.1"), ("PORT", str(port))):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("FRONTDOOR_PORT", str(frontdoor_port))
    assert cli.serve() == 0
    assert bound == [("127.0.0.1", port), ("127.0.0.1", frontdoor_port)]


def test_serve_refuses_an_api_port_that_is_its_own(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GATEWAY_CONFIG", raising=False)
    monkeypatch.setenv("PORT", "9088")
    monkeypatch.setenv("FRONTDOOR_PORT", "9088")
    assert cli.serve() == 2
    assert capsys.readouterr().err == (
        "gateway: apis.frontdoor.port: 9088 is the gateway's PORT too;"
        " give the API a port of its own\n"
    )


@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["check", "partner", "GET", "/dogs", "--identity", CONSUMER_KEY, "--vpce", CONSUMER_VPCE],
         0),
        (["check", "partner", "POST", "/todo", "--identity", CONSUMER_KEY, "--vpce", CONSUMER_VPCE],
         1),
        (["check", "api/partner.yaml", "GET", "/dogs/males", "--identity", CONSUMER_KEY,
          "--vpce", CONSUMER_VPCE], 0),
        (["check", "api/mtls.yaml", "GET", "/dogs", "--vpce", CONSUMER_VPCE], 1),
        (["check", "mtlsapi001", "GET", "/dogs", "--source-ip", "127.0.4.10"], 1),
        (["check", "global", "delete", "/todo/1"], 0),
    ],
)  # fmt: skip
def test_check_exit_status(monkeypatch, capsys, argv, status) -> None:
    monkeypatch.chdir(REPO)
    assert main(argv) == status
    out = capsys.readouterr().out
    assert out.startswith("ALLOW " if status == 0 else "DENY ")


def test_check_json(capsys) -> None:
    argv = ["check", "partner", "GET", "/dogs", "--vpce", "vpce-01111111111111111",
            "--principal", "arn:aws:iam::444444444444:role/consumer-lambda", "--json",
            "--time", "2026-12-01T12:00:00Z", "--header", "User-Agent=curl/8"]  # fmt: skip
    assert main(argv) == 1
    result = json.loads(capsys.readouterr().out)
    assert {k: result[k] for k in ("decision", "explicit", "rule", "status", "caller")} == {
        "decision": "deny",
        "explicit": True,
        "rule": "explicit deny",
        "status": 403,
        "caller": "arn:aws:sts::444444444444:assumed-role/consumer-lambda/policy-check",
    }
    assert result["decidingStatements"] == ["resource:OnlyThroughConsumerEndpoint"]
    assert result["conditionKeys"]["aws:CurrentTime"] == ["2026-12-01T12:00:00Z"]
    assert result["conditionKeys"]["aws:UserAgent"] == ["curl/8"]
    assert result["conditionKeys"]["aws:SourceVpc"] == ["vpc-01111111111111111"]
    statement = result["policies"][0]["statements"][2]
    assert (statement["sid"], statement["applies"]) == ("OnlyThroughConsumerEndpoint", True)
    assert statement["conditions"] == [
        {
            "operator": "StringNotEquals",
            "key": "aws:SourceVpce",
            "values": [CONSUMER_VPCE],
            "requestValues": ["vpce-01111111111111111"],
            "holds": True,
            "why": f"aws:SourceVpce: vpce-01111111111111111 matches none of {CONSUMER_VPCE}",
        }
    ]


def malformed_config(tmp_path: Path) -> Path:
    """The shipped configuration whose partner document has a statement without Effect."""
    document = yaml.safe_load((REPO / "api" / "partner.yaml").read_text())
    del document["x-amazon-apigateway-policy"]["Statement"][1]["Effect"]
    (tmp_path / "partner.yaml").write_text(yaml.safe_dump(document))
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    for name in raw["apis"]:
        source = tmp_path / "partner.yaml" if name == "partner" else REPO / "api" / f"{name}.yaml"
        raw["apis"][name]["openapi"] = str(source)
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


BAD = [
    (["check", "nope", "GET", "/dogs"],
     f"gateway check: nope: not a configured API; the APIs are {APIS}"),
    (["check", "README.md", "GET", "/dogs"],
     "gateway check: README.md: a document no API of the configuration serves (apis.*.openapi);"
     f" the APIs are {APIS}"),
    (["check", "partner", "GET", "/dogs", "--principal", "arn:aws:iam::4444:role/x"],
     "gateway check: 'arn:aws:iam::4444:role/x' is not 'anonymous', an account id, or an IAM"
     " role, user, root or assumed-role session ARN"),
    (["check", "partner", "GET", "/dogs", "--principal", "arn:aws:s3:::bucket"],
     "gateway check: 'arn:aws:s3:::bucket' is not 'anonymous', an account id, or an IAM role,"
     " user, root or assumed-role session ARN"),
    (["check", "partner", "GET", "/dogs", "--identity", "AKIANOBODY"],
     "gateway check: AKIANOBODY: no identity of the configuration has this access key id or"
     " principal ARN"),
    (["check", "partner", "GET", "/dogs", "--source-ip", "10.0.0.300"],
     "gateway check: '10.0.0.300' is not an IP address"),
    (["check", "partner", "GET", "/dogs", "--vpce", "vpce-x"],
     "gateway check: 'vpce-x' is not a VPC endpoint id (vpce-<8-17 hex>)"),
    (["check", "partner", "GET", "/dogs", "--time", "tomorrow"],
     "gateway check: --time 'tomorrow' is not an ISO 8601 date and time"),
    (["check", "partner", "GET", "/dogs", "--header", "User-Agent"],
     "gateway check: --header 'User-Agent': expected NAME=VALUE"),
    (["check", "partner", "BREW", "/dogs"],
     "gateway check: 'BREW' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
    (["check", "partner", "GET", "dogs"], "gateway check: 'dogs': the path must start with /"),
    (["check", "partner", "GET"], "gateway check: the following arguments are required: path"),
    (["check", "partner", "GET", "/dogs", "--principal", "anonymous", "--identity", "x"],
     "gateway check: argument --identity: not allowed with argument --principal"),
    (["analyze", "nope"],
     f"gateway analyze: nope: not a configured API; the APIs are {APIS}"),
    (["frobnicate"],
     "gateway: argument command: invalid choice: 'frobnicate' (choose from 'serve', 'check',"
     " 'analyze', 'test-policies')"),
    (["test-policies", "missing.policy-tests.yaml"],
     "gateway test-policies: missing.policy-tests.yaml: cannot read: No such file or directory"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a[:1] + a[4:]) for a, _ in BAD])
def test_bad_input_is_one_line_and_exit_2(monkeypatch, capsys, argv, message) -> None:
    monkeypatch.chdir(REPO)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message + "\n")


@pytest.mark.parametrize("command", [["check", "partner", "GET", "/dogs"], ["analyze", "mtls"]])
def test_a_malformed_policy_is_one_line_and_exit_2(tmp_path, capsys, command) -> None:
    """The document's own error, naming the API, the file, the statement and the field; `check`
    on another API of the same configuration still works."""
    config = malformed_config(tmp_path)
    status = main([*command, "--config", str(config)])
    out, err = capsys.readouterr()
    if command[1] == "mtls":
        assert status == 0 and out.startswith("mtls (mtlsapi001)") and err == ""
        return
    assert (status, out) == (2, "")
    assert err == (
        f"gateway check: apis.partner ({tmp_path / 'partner.yaml'}): x-amazon-apigateway-policy:"
        " Statement[1].Effect must be 'Allow' or 'Deny', not None\n"
    )


def test_the_module_runs_check_and_analyze() -> None:
    """`python -m gateway` as a person types it."""
    run = [sys.executable, "-m", "gateway"]
    checked = subprocess.run(
        [*run, "check", "mtls", "DELETE", "/todo/1", "--vpce", "vpce-04444444444444444"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )  # fmt: skip
    assert checked.returncode == 1, checked.stderr
    assert checked.stdout.splitlines()[1] == (
        "  rule      explicit deny: resource:NothingElse denies, whatever allows"
    )
    analyzed = subprocess.run([*run, "analyze", "partner", "--json"], capture_output=True,
                              text=True, cwd=REPO, check=False)  # fmt: skip
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(analyzed.stdout)["columns"] == [
        "P1/E1", "P1/E2", "P2/E1", "P2/E2", "P3/E1", "P3/E2"
    ]  # fmt: skip


def test_a_lambda_authorizer_leaves_check_undecided(tmp_path, capsys) -> None:
    """API Gateway Developer Guide, "Lambda authorizer and resource policy": the resource policy
    is checked for an explicit deny before the authorizer is called; the rest the authorizer's
    policy decides, which no tool can evaluate: UNDECIDED, exit status 1 (not known allowed)."""
    document = yaml.safe_load((REPO / "gateway" / "tests" / "data" / "echo-rest.yaml").read_text())
    document["components"] = {"securitySchemes": {"token": {
        "type": "apiKey", "name": "Authorization", "in": "header",
        "x-amazon-apigateway-authtype": "custom",
        "x-amazon-apigateway-authorizer": {
            "type": "token",
            "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:111111111111:function:auth/invocations",
        },
    }}}  # fmt: skip
    document["security"] = [{"token": []}]
    document["x-amazon-apigateway-policy"] = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": "execute-api:/*/DELETE/*"},
        ],
    }  # fmt: skip
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(document))
    config = {
        "region": "us-east-1",
        "apis": {"echo": {"id": "echorest01", "openapi": "api.yaml", "kind": "rest",
                          "endpoint_type": "REGIONAL", "account": "111111111111",
                          "stage": "test", "stage_variables": {"echoHost": "127.0.0.1:9",
                                                               "stageLabel": "x"}}},
        "lambda_functions": {"arn:aws:lambda:us-east-1:111111111111:function:auth":
                             {"endpoint": "http://127.0.0.1:9"}},
    }  # fmt: skip
    (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
    base = ["--config", str(tmp_path / "gateway.yaml")]
    assert main(["check", "echo", "GET", "/anything", *base]) == 1
    out = capsys.readouterr().out
    assert out.startswith("UNDECIDED GET /anything on echo (echorest01)\n  rule      Lambda ")
    assert main(["check", "echo", "DELETE", "/anything", *base]) == 1
    assert capsys.readouterr().out.startswith("DENY DELETE /anything")

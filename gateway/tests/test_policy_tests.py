"""The policy tests as files: every `api/*.policy-tests.yaml` (the shipped ones and a user's own)
runs here, so `make test` runs them; a wrong case fails with its explanation."""

from pathlib import Path

import pytest
from gateway.access import Setup
from gateway.cli import main
from gateway.policytests import run_file

from gateway.config import DEFAULT_CONFIG_PATH, ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "api").glob("*.policy-tests.yaml"))


def shipped() -> Setup:
    return Setup(load_config(DEFAULT_CONFIG_PATH, environ={}))


def test_each_shipped_api_has_policy_tests():
    assert {"global", "mtls", "partner"} <= {p.name.split(".")[0] for p in FILES}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_policy_tests(path: Path) -> None:
    result = run_file(shipped(), path)
    assert not result.failures, result.failure_message()


WRONG = """\
api: partner
time: "2026-12-01T12:00:00Z"
cases:
  - {name: reads, method: GET, path: /dogs, identity: AKIAIOSFODNN7EXAMPLE,
     vpce: vpce-04444444444444444, expected: allow}
  - {name: the consumer may write (it may not), method: POST, path: /todo,
     identity: AKIAIOSFODNN7EXAMPLE, vpce: vpce-04444444444444444, expected: allow}
  - {name: not an explicit deny (it is), method: GET, path: /dogs,
     identity: AKIAIOSFODNN7EXAMPLE, vpce: vpce-01111111111111111, expected: deny, explicit: false}
"""


def test_a_wrong_case_fails_with_the_explanation_of_the_first(tmp_path: Path) -> None:
    path = tmp_path / "partner.policy-tests.yaml"
    path.write_text(WRONG)
    result = run_file(shipped(), path)
    assert [r.case.name for r in result.failures] == [
        "the consumer may write (it may not)",
        "not an explicit deny (it is)",
    ]
    message = result.failure_message()
    first, rule = message.splitlines()[:3:2]
    assert first == (
        f"{path}: case 'the consumer may write (it may not)': expected allow, got deny (explicit)"
        " (1 more case wrong)"
    )
    assert rule == "  rule      explicit deny: resource:OnlyReadMethods denies, whatever allows"
    assert "  OnlyReadMethods (Deny): APPLIES" in message


def test_the_command_runs_files_and_exits_1_on_a_wrong_case(tmp_path, capsys) -> None:
    path = tmp_path / "partner.policy-tests.yaml"
    path.write_text(WRONG)
    status = main(["test-policies", str(FILES[0]), str(path)])
    out = capsys.readouterr().out
    assert status == 1
    assert out.splitlines()[:2] == [f"{FILES[0]}: 4 cases, ok", f"{path}: 3 cases, 2 FAILED"]
    assert "expected allow, got deny (explicit)" in out
    assert main(["test-policies"]) == 0  # the files next to the configured documents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cases: []", "cases: List should have at least 1 item after validation, not 0"),
        (
            "cases: [{name: x, method: GET, path: /dogs, expected: maybe}]",
            "cases.0.expected: Input should be 'allow' or 'deny'",
        ),
        (
            "cases: [{name: x, method: GET, path: /dogs, expected: allow, vpc: vpc-1}]",
            "cases.0.vpc: Extra inputs are not permitted",
        ),
        (
            "cases: [{name: x, method: GET, path: /dogs, expected: allow, principal: bob}]",
            "cases.0 (x): 'bob' is not 'anonymous', an account id, or an IAM role, user, root or"
            " assumed-role session ARN",
        ),
        ("api: nope\ncases: [{name: x, method: GET, path: /, expected: allow}]", "nope: not a"),
    ],
)
def test_a_malformed_file_is_one_clear_error(tmp_path, text, message) -> None:
    path = tmp_path / "partner.policy-tests.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        run_file(shipped(), path)
    assert message in str(raised.value)

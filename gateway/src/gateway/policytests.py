"""Policy tests as files: `api/<name>.policy-tests.yaml`, each case a request and the decision
it must get, run through the gateway's own view of the request (`gateway.access`). The schema is
in gateway/README.md ("Policy tests"); `python -m gateway test-policies` and
gateway/tests/test_policy_tests.py run them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gateway.access import Probe, Setup, Verdict, judge
from gateway.apis import Api
from gateway.config import HTTP_METHODS, ConfigError, format_errors, parse_yaml
from gateway.explain import explain
from gateway.reports import check_text

SUFFIX = ".policy-tests.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Case(_Model):
    name: str = Field(min_length=1)
    method: str
    path: str = Field(pattern=r"^/")
    principal: str | None = None  # "anonymous", an account id, a role/user/session ARN
    identity: str | None = None  # a configured identity: access key id or principal ARN
    vpce: str | None = None
    source_ip: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    time: datetime | None = None
    expected: Literal["allow", "deny"]
    explicit: bool | None = None  # for a deny: whether it must (not) be an explicit deny

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        if value.upper() not in HTTP_METHODS:
            raise ValueError(f"{value!r} is not one of {', '.join(HTTP_METHODS)}")
        return value.upper()

    def probe(self, default_time: datetime) -> Probe:
        return Probe(
            method=self.method,
            path=self.path,
            time=_utc(self.time or default_time),
            principal=self.principal,
            identity=self.identity,
            vpce=self.vpce,
            source_ip=self.source_ip,
            headers=self.headers,
        )


class PolicyTestFile(_Model):
    api: str | None = None  # default: the file name's <name>
    time: datetime | None = None  # default for the cases: now
    cases: list[Case] = Field(min_length=1)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    verdict: Verdict
    passed: bool
    report: str  # the check explanation, for a failure message


@dataclass(frozen=True)
class FileResult:
    path: Path
    api: Api
    results: tuple[CaseResult, ...]

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        return tuple(r for r in self.results if not r.passed)

    def failure_message(self) -> str:
        """What went wrong with the first wrong case, with its explanation."""
        first = self.failures[0]
        case = first.case
        got = "allow" if first.verdict.allowed else "deny"
        if first.verdict.undecided:
            got = "undecided (a Lambda authorizer decides)"
        elif not first.verdict.allowed:
            got += " (explicit)" if first.verdict.explicit else " (not explicit)"
        wanted: str = case.expected
        if case.explicit is not None and case.expected == "deny":
            wanted += " (explicit)" if case.explicit else " (not explicit)"
        more = len(self.failures) - 1
        tail = f" ({more} more case{'s' if more != 1 else ''} wrong)" if more else ""
        return (
            f"{self.path}: case {case.name!r}: expected {wanted}, got {got}{tail}\n{first.report}"
        )


def load(path: Path) -> PolicyTestFile:
    try:
        raw = parse_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return PolicyTestFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {format_errors(exc).strip()}") from exc


def api_of(path: Path, tests: PolicyTestFile) -> str:
    return tests.api or path.name.removesuffix(SUFFIX)


def run_file(setup: Setup, path: Path, *, now: datetime | None = None) -> FileResult:
    """Every case of the file at `path`; ConfigError/ProbeError for a file that names nothing
    real (the messages name the file and the case)."""
    tests = load(path)
    api = setup.api(api_of(path, tests))
    default_time = _utc(tests.time or now or datetime.now(UTC))
    results = []
    for index, case in enumerate(tests.cases):
        try:
            request = setup.resolve(case.probe(default_time))
        except ValueError as exc:
            raise ConfigError(f"{path}: cases.{index} ({case.name}): {exc}") from exc
        verdict = judge(api, request)
        passed = verdict.allowed == (case.expected == "allow") and not verdict.undecided
        if passed and case.expected == "deny" and case.explicit is not None:
            passed = verdict.explicit == case.explicit
        report = check_text(api, request, explain(api, request, verdict))
        results.append(CaseResult(case, verdict, passed, report))
    return FileResult(path, api, tuple(results))


def default_files(setup: Setup) -> list[Path]:
    """The `*.policy-tests.yaml` files next to the configured APIs' documents (relative to the
    working directory when they are below it)."""
    folders = {setup.config.openapi_path(name).parent for name in setup.config.apis}
    found = sorted(p for folder in folders for p in folder.glob("*" + SUFFIX))
    here = Path.cwd()
    return [p.relative_to(here) if p.is_relative_to(here) else p for p in found]


def run_files(setup: Setup, paths: Iterable[Path]) -> list[FileResult]:
    return [run_file(setup, path) for path in paths]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

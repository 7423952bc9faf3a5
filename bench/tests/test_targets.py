"""Targets on made-up results: the verdict is on the median of the per-round values."""

from typing import Any

import pytest

from bench.targets import TARGETS, Target, check_all


def run(**values: Any) -> dict[str, Any]:
    cpu = values.pop("cpu", {})
    return {"errors": 0, "p99_ms": 1.0, "rps": 100.0, "cpu_ms_per_request": cpu, **values}


def scenario(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"rounds": list(runs)}


def target(name: str) -> Target:
    return next(t for t in TARGETS if t.name == name)


GATEWAY_VS_NGINX = "gateway CPU/request / NGINX's, c=1"


def test_a_side_by_side_ratio_is_checked_on_its_median_over_the_rounds() -> None:
    results = {
        "nginx": {"installed": True},
        "scenarios": {
            "dogs-global-c1": scenario(*(run(cpu={"gateway": v}) for v in (0.9, 0.3, 0.33))),
            "nginx-c1": scenario(*(run(cpu={"nginx": v}) for v in (0.1, 0.1, 0.11))),
        },
    }
    check = target(GATEWAY_VS_NGINX).check(results)
    # per round 9.0, 3.0, 3.0: median 3.0 passes "<= 3x" though round 1 alone would fail
    assert check["values"] == pytest.approx([9.0, 3.0, 3.0])
    assert (check["value"], check["low"], check["high"]) == pytest.approx((3.0, 3.0, 9.0))
    assert check["passed"] is True
    assert check["measured"] == "0.330 vs 0.100 ms"


def test_a_missing_reference_fails_with_a_note() -> None:
    results = {"nginx": {"installed": False}, "scenarios": {}}
    check = target(GATEWAY_VS_NGINX).check(results)
    assert check["passed"] is False
    assert check["value"] is None
    assert "NGINX is not installed" in check["note"]


def test_a_scenario_that_did_not_run_fails() -> None:
    check = target("ToDo durable writes/s, c=32").check({"scenarios": {}})
    assert check["passed"] is False
    assert check["note"] == "not measured: todo-post-c32 did not run"


@pytest.mark.parametrize(
    ("rps", "passed"), [((1400.0, 1600.0, 1500.0), True), ((1499.0,) * 3, False)]
)
def test_an_at_least_target(rps: tuple[float, ...], passed: bool) -> None:
    results = {"scenarios": {"todo-post-c32": scenario(*(run(rps=v) for v in rps))}}
    assert target("ToDo durable writes/s, c=32").check(results)["passed"] is passed


def test_added_p99_is_the_per_round_difference() -> None:
    results = {
        "half_load": {"rate": 200.0},
        "scenarios": {
            "dogs-global-half": scenario(*(run(p99_ms=v) for v in (6.0, 9.0, 7.0))),
            "dogs-direct-half": scenario(*(run(p99_ms=v) for v in (2.0, 3.0, 1.0))),
        },
    }
    check = target("gateway added p99 at half load").check(results)
    assert check["values"] == pytest.approx([4.0, 6.0, 6.0])
    assert check["value"] == pytest.approx(6.0)
    assert check["passed"] is False


def test_every_target_gives_a_verdict_on_empty_results() -> None:
    checks = check_all({"scenarios": {}})
    assert len(checks) == len(TARGETS)
    assert not any(
        check["passed"] for check in checks if check["name"] != "every request answered as expected"
    )

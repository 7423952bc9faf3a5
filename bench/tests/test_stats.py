"""The arithmetic behind `target / measured / ratio` and the spread over rounds."""

import math

import pytest

from bench.stats import Summary, per_round_differences, per_round_ratios, percentiles, ratio


def test_ratio_is_a_over_b() -> None:
    assert ratio(0.9, 0.3) == pytest.approx(3.0)


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.0), (1.0, -1.0), (math.nan, 1.0), (1.0, math.nan)])
def test_ratio_without_a_positive_denominator_is_nan(a: float, b: float) -> None:
    assert math.isnan(ratio(a, b))


def test_ratios_pair_the_rounds() -> None:
    # A and B measured side by side: round 1 with round 1, never min(A) / max(B)
    assert per_round_ratios([2.0, 4.0, 9.0], [1.0, 2.0, 3.0]) == pytest.approx([2.0, 2.0, 3.0])


def test_differences_pair_the_rounds() -> None:
    assert per_round_differences([5.0, 7.0, 6.0], [1.0, 2.0, 4.0]) == pytest.approx([4.0, 5.0, 2.0])


def test_rounds_must_match() -> None:
    with pytest.raises(ValueError, match="3 rounds of A but 2 of B"):
        per_round_ratios([1.0, 2.0, 3.0], [1.0, 2.0])


def test_summary_is_median_and_spread() -> None:
    summary = Summary.of([3.0, 1.0, 2.0, 10.0])
    assert (summary.median, summary.low, summary.high) == (2.5, 1.0, 10.0)


def test_summary_of_odd_rounds() -> None:
    summary = Summary.of([12.1, 13.0, 12.6])
    assert (summary.median, summary.low, summary.high) == (12.6, 12.1, 13.0)


@pytest.mark.parametrize("values", [[], [1.0, math.nan, 2.0]])
def test_summary_with_a_missing_round_is_nan(values: list[float]) -> None:
    summary = Summary.of(values)
    assert math.isnan(summary.median) and math.isnan(summary.low) and math.isnan(summary.high)


def test_percentiles_stay_inside_the_samples() -> None:
    samples = [float(n) for n in range(1, 101)]  # 1..100
    p50, p90, p99 = percentiles(samples)
    assert p50 == pytest.approx(50.5)
    assert p90 == pytest.approx(90.1)
    assert p99 == pytest.approx(99.01)
    assert percentiles([7.0]) == (7.0, 7.0, 7.0)
    assert all(math.isnan(p) for p in percentiles([]))

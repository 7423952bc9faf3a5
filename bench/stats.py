"""The arithmetic of the bench: percentiles of one run, and the median and spread over rounds of a
value or of a ratio between two scenarios measured side by side (A and B in the same round)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

NAN = float("nan")


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    """p50, p90, p99 (inclusive method: no value outside the samples); NaN without samples."""
    if not samples:
        return NAN, NAN, NAN
    if len(samples) == 1:
        return samples[0], samples[0], samples[0]
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[89], cuts[98]


@dataclass(frozen=True)
class Summary:
    """The median of some per-round values and their spread (min and max). NaN when any round
    has no value: a missing round is not silently left out."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values or any(math.isnan(v) for v in values):
            return cls(NAN, NAN, NAN)
        return cls(float(statistics.median(values)), float(min(values)), float(max(values)))


def ratio(a: float, b: float) -> float:
    """a / b; NaN when either is missing or b is not positive."""
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return NAN
    return a / b


def per_round_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """A / B round by round (A and B were measured side by side in each round)."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} rounds of A but {len(b)} of B")
    return [ratio(x, y) for x, y in zip(a, b, strict=True)]


def per_round_differences(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """A - B round by round."""
    if len(a) != len(b):
        raise ValueError(f"{len(a)} rounds of A but {len(b)} of B")
    return [x - y for x, y in zip(a, b, strict=True)]

"""Means, spreads and 95% confidence intervals across the study's seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A metric across seeds: its mean, standard deviation and 95% interval.

    With a single value there is no spread to estimate: `std`, `ci_low` and
    `ci_high` are NaN and `has_interval` is False.
    """

    n: int
    mean: float
    std: float
    ci_low: float
    ci_high: float

    @property
    def has_interval(self) -> bool:
        return self.n >= 2 and math.isfinite(self.ci_low)

    def excludes_zero(self) -> bool:
        """Whether the interval lies wholly on one side of zero."""
        return self.has_interval and (self.ci_low > 0 or self.ci_high < 0)


def estimate(values) -> Estimate:
    """Mean and Student-t 95% interval of independent values (NaN skipped)."""
    sample = np.asarray(values, dtype=float)
    sample = sample[~np.isnan(sample)]
    n = len(sample)
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(sample.mean())
    if n == 1:
        return Estimate(1, mean, math.nan, math.nan, math.nan)

    std = float(sample.std(ddof=1))
    half_width = stats.t.ppf(0.5 + CONFIDENCE / 2, df=n - 1) * std / math.sqrt(n)
    return Estimate(n, mean, std, mean - half_width, mean + half_width)


def paired_difference(before, after) -> Estimate:
    """The mean of `after - before` over seeds where both are known, with its CI.

    Each seed gives both variants the same data, so the differences within a
    seed are what is compared, not the two groups' means.
    """
    first = np.asarray(before, dtype=float)
    second = np.asarray(after, dtype=float)
    both = ~np.isnan(first) & ~np.isnan(second)
    return estimate(second[both] - first[both])

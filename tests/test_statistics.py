import math

import numpy as np
import pytest
from scipy import stats

from tasks.statistics import estimate, paired_difference


def test_interval_worked_out_by_hand():
    # mean 2, sample std 1, t(0.975, 2 df) = 4.302653
    result = estimate([1.0, 2.0, 3.0])

    assert result.n == 3 and result.mean == pytest.approx(2.0)
    assert result.std == pytest.approx(1.0)
    half_width = 4.302653 / math.sqrt(3)
    assert result.ci_low == pytest.approx(2.0 - half_width, rel=1e-6)
    assert result.ci_high == pytest.approx(2.0 + half_width, rel=1e-6)


def test_interval_matches_scipy_one_sample_t_test():
    values = np.random.default_rng(3).normal(0.9, 0.02, size=7)
    expected = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)

    result = estimate(values)

    assert result.ci_low == pytest.approx(expected.low)
    assert result.ci_high == pytest.approx(expected.high)


def test_identical_values_give_a_zero_width_interval():
    result = estimate([0.3333] * 5)

    assert result.ci_low == result.mean == result.ci_high == pytest.approx(0.3333)
    assert result.std == 0 and result.has_interval and result.excludes_zero()
    # Two variants equal on every seed: a zero-width interval at 0, no difference.
    assert not paired_difference([0.5] * 4, [0.5] * 4).excludes_zero()


def test_one_seed_gives_a_mean_and_no_interval():
    result = estimate([0.98])

    assert result.mean == 0.98
    assert math.isnan(result.ci_low) and math.isnan(result.ci_high)
    assert not result.has_interval and not result.excludes_zero()


def test_missing_values_are_left_out_and_counted():
    assert estimate([10, float("nan"), 14]).n == 2
    assert estimate([float("nan")]).n == 0


def test_paired_difference_uses_seed_by_seed_differences():
    before = [50, 60, 70, float("nan")]
    after = [20, 31, 39, 15]

    result = paired_difference(before, after)

    # The three seeds where both are known differ by -30, -29 and -31.
    assert result.n == 3 and result.mean == pytest.approx(-30)
    assert result.excludes_zero() and result.ci_high < 0
    unpaired = stats.ttest_ind(after[:3], before[:3]).confidence_interval()
    assert result.ci_high - result.ci_low < unpaired.high - unpaired.low

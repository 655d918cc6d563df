"""kit.stats.censored_ratio (issue 15, item 6): a step ratio with censored runs is a bound in the right direction."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.kit import stats

BUDGET, LOG_EVERY = 300.0, 10.0


def _times(seed: int, scale: float, n: int = 10) -> np.ndarray:
    """Steps to a threshold, log-normal around ``scale``, on the log grid."""
    t = np.random.default_rng(seed).lognormal(np.log(scale), 0.4, n)
    return np.ceil(t / LOG_EVERY) * LOG_EVERY


def _censor(t: np.ndarray) -> np.ndarray:
    return np.where(t > BUDGET, np.inf, t)


@pytest.mark.parametrize("seed", range(5))
def test_numerator_censored_gives_a_lower_bound(seed):
    slow, fast = _times(seed, 330.0), _times(100 + seed, 100.0)  # most of the slow arm beyond the budget
    truth = stats.censored_ratio(slow, fast, BUDGET + LOG_EVERY)
    seen = stats.censored_ratio(_censor(slow), _censor(fast), BUDGET + LOG_EVERY)
    assert seen.censored_numerator > 0.2 and seen.censored_denominator == 0.0
    assert seen.bound == "lower" and truth.bound == "exact"
    est, true = seen.estimate, truth.estimate
    assert est.mean <= true.mean and est.lo <= true.lo and est.hi <= true.hi  # the truth lies at or above


@pytest.mark.parametrize("seed", range(5))
def test_denominator_censored_gives_an_upper_bound(seed):
    fast, slow = _times(seed, 100.0), _times(100 + seed, 330.0)
    truth = stats.censored_ratio(fast, slow, BUDGET + LOG_EVERY)
    seen = stats.censored_ratio(_censor(fast), _censor(slow), BUDGET + LOG_EVERY)
    assert seen.bound == "upper"
    est, true = seen.estimate, truth.estimate
    assert est.mean >= true.mean and est.lo >= true.lo and est.hi >= true.hi  # the truth lies at or below


def test_both_censored_is_no_bound_and_none_censored_is_exact():
    a, b = _times(1, 330.0), _times(2, 330.0)
    assert stats.censored_ratio(_censor(a), _censor(b), BUDGET + LOG_EVERY).bound == "none"
    c, d = _times(3, 100.0), _times(4, 50.0)
    r = stats.censored_ratio(c, d, BUDGET + LOG_EVERY)
    assert r.bound == "exact" and r.estimate.mean == pytest.approx(np.median(c) / np.median(d))
    assert r.estimate.lo <= r.estimate.mean <= r.estimate.hi and r.estimate.n == 10


def test_few_censored_counts_as_measured_and_the_median_is_exact():
    t = np.array([50.0, 60, 70, 80, 90, 100, 110, 120, 130, 400])  # one run (10%) beyond the budget
    r = stats.censored_ratio(_censor(t), np.full(10, 50.0), BUDGET + LOG_EVERY)
    assert r.bound == "exact" and r.censored_numerator == pytest.approx(0.1)
    assert r.estimate.mean == pytest.approx(np.median(t) / 50.0)  # fewer than half censored: the median is known


def test_nan_pairs_are_dropped():
    r = stats.censored_ratio([100.0, np.nan, 200.0], [50.0, 50.0, np.nan], BUDGET)
    assert r.estimate.n == 1 and r.estimate.mean == 2.0
    empty = stats.censored_ratio([np.nan], [1.0], BUDGET)
    assert empty.estimate.n == 0 and empty.bound == "none"

"""kit.stats: ``paired`` with no spread (issue 15, item 6) and the TOST ``equivalence`` (R9)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from experiments.kit import stats


def test_paired_equal_differences_are_not_p_zero():
    p = stats.paired(np.arange(10.0) + 1.0, np.arange(10.0))  # ten differences of exactly 1
    assert p.p_t == p.p_wilcoxon == pytest.approx(2 * 0.5**10)
    assert p.significant and p.diff.mean == 1.0
    assert stats.paired([3.0], [1.0]).p_t == 1.0  # one pair: no evidence
    assert stats.paired([1.0, 2.0], [1.0, 2.0]).p_t == 1.0  # all zero


def test_equivalence_matches_two_one_sided_t_tests():
    rng = np.random.default_rng(0)
    d = 0.003 + 0.004 * rng.standard_normal(12)
    eq = stats.equivalence(d, margin=0.02)
    se = d.std(ddof=1) / np.sqrt(len(d))
    assert eq.p_lower == pytest.approx(sps.ttest_1samp(d, -0.02, alternative="greater").pvalue)
    assert eq.p_upper == pytest.approx(sps.ttest_1samp(d, 0.02, alternative="less").pvalue)
    assert eq.equivalent and not eq.outside
    # the decision is the 95% CI inside the margin (alpha = 0.025 per side)
    half = sps.t.ppf(0.975, len(d) - 1) * se
    assert eq.diff.lo == pytest.approx(d.mean() - half) and eq.diff.hi == pytest.approx(d.mean() + half)
    # a margin just inside the CI's far end: not equivalent; just outside: equivalent
    far = max(abs(eq.diff.lo), abs(eq.diff.hi))
    assert not stats.equivalence(d, far * (1 - 1e-6)).equivalent
    assert stats.equivalence(d, far * (1 + 1e-6)).equivalent


def test_equivalence_outside_and_constant():
    d = np.full(8, 0.05) + np.linspace(-1e-3, 1e-3, 8)
    eq = stats.equivalence(d, margin=0.02)
    assert eq.outside and not eq.equivalent and eq.p > 0.5
    assert stats.equivalence(np.zeros(5), 0.01).equivalent
    assert not stats.equivalence(np.full(5, 0.5), 0.01).equivalent

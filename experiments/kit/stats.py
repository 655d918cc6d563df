"""Statistics for headline numbers: confidence intervals and paired comparisons.

Every headline number is a mean over >= 5 seeds with a 95% CI; comparisons between two
conditions use the same seeds (paired), so the CI is that of the per-seed differences.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import special


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A mean with its confidence interval over ``n`` finite values."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def ci(self) -> list[float]:
        return [self.lo, self.hi]

    def __str__(self) -> str:
        return f"{self.mean:.4g} [{self.lo:.4g}, {self.hi:.4g}]"


def mean_ci(values, confidence: float = 0.95) -> Estimate:
    """Student-t CI of the mean of the finite values (NaN/inf dropped; n=1 gives a zero-width CI)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    m = float(v.mean())
    if len(v) == 1 or np.all(v == v[0]):
        return Estimate(m, m, m, len(v))
    half = float(special.stdtrit(len(v) - 1, 0.5 + confidence / 2) * v.std(ddof=1) / np.sqrt(len(v)))
    return Estimate(m, m - half, m + half, len(v))


def bootstrap_ci(values, statistic=np.mean, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> Estimate:
    """Percentile bootstrap CI of ``statistic`` (for medians, ratios and other non-means)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    boots = statistic(v[rng.integers(0, len(v), size=(n_boot, len(v)))], axis=1)
    alpha = (1 - confidence) / 2
    return Estimate(float(statistic(v)), float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha)), len(v))


def proportion_ci(successes: int, n: int, confidence: float = 0.95) -> Estimate:
    """Wilson score interval of a proportion (born-dead probabilities, violation rates)."""
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    z = special.ndtri(0.5 + confidence / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return Estimate(float(p), float(max(0.0, centre - half)), float(min(1.0, centre + half)), n)


@dataclasses.dataclass(frozen=True)
class Paired:
    """A paired comparison a - b over seeds: the mean difference, its CI and p-values."""

    diff: Estimate
    p_t: float
    p_wilcoxon: float

    @property
    def significant(self) -> bool:
        """The CI of the difference excludes zero."""
        return bool(self.diff.lo > 0 or self.diff.hi < 0)


def paired(a, b, confidence: float = 0.95) -> Paired:
    """Paired t-test and Wilcoxon signed-rank test of a - b over the seeds where both are finite."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    d = a[ok] - b[ok]
    est = mean_ci(d, confidence)
    if len(d) < 2 or np.all(d == d[0]):
        # no spread: the t statistic is undefined; n equal non-zero differences are the most extreme
        # outcome of the exact sign / signed-rank test, p = 2 * 0.5**n (n = 1: p = 1), never 0
        p = 1.0 if len(d) == 0 or np.all(d == 0) else float(min(1.0, 2.0 ** (1 - len(d))))
        if len(d) and p >= 1 - confidence:  # too few runs to exclude 0 (n = 2: p = 0.5): the CI is not the point
            est = Estimate(est.mean, float(np.fmin(est.mean, 0.0)), float(np.fmax(est.mean, 0.0)), est.n)
        return Paired(est, p, p)
    from scipy import stats as sps  # imported when needed: it takes ~0.4 s (t and normal quantiles use scipy.special)

    p_t = float(sps.ttest_1samp(d, 0.0).pvalue)
    p_w = float(sps.wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    return Paired(est, p_t, p_w)


@dataclasses.dataclass(frozen=True)
class Equivalence:
    """A two one-sided test (TOST) of a mean difference against ``-margin < mean < +margin`` (R9)."""

    diff: Estimate  # the mean difference and its (1 - 2 alpha) CI
    margin: float
    p_lower: float  # H0: mean <= -margin
    p_upper: float  # H0: mean >= +margin
    alpha: float

    @property
    def p(self) -> float:
        """The TOST p-value: the larger of the two one-sided p-values."""
        return max(self.p_lower, self.p_upper)

    @property
    def equivalent(self) -> bool:
        """Both one-sided tests reject at ``alpha``: the (1 - 2 alpha) CI lies inside (-margin, margin)."""
        return self.p < self.alpha

    @property
    def outside(self) -> bool:
        """The (1 - 2 alpha) CI lies wholly beyond one side of the margin (surely not equivalent)."""
        return bool(self.diff.lo >= self.margin or self.diff.hi <= -self.margin)


def equivalence(values, margin: float, alpha: float = 0.025) -> Equivalence:
    """TOST of the finite ``values`` (paired differences) at level ``alpha`` per side (R9).

    ``alpha = 0.025`` makes the CI the 95% one of R3. With no spread the p-values are 0 or 1 by
    where the (constant) mean lies.
    """
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    est = mean_ci(v, 1 - 2 * alpha)
    if len(v) < 2 or np.all(v == v[0]):
        inside = len(v) > 0 and -margin < est.mean < margin
        p = 0.0 if inside else 1.0
        return Equivalence(est, float(margin), p, p, alpha)
    se = v.std(ddof=1) / np.sqrt(len(v))
    p_lower = float(special.stdtr(len(v) - 1, -(est.mean + margin) / se))  # Student t's sf
    p_upper = float(special.stdtr(len(v) - 1, (est.mean - margin) / se))  # and cdf
    return Equivalence(est, float(margin), p_lower, p_upper, alpha)


def holm(p_values) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (family-wise error control for many comparisons)."""
    p = np.asarray(p_values, dtype=float)
    order = [i for i in np.argsort(p) if not np.isnan(p[i])]  # a NaN p stays NaN and counts in the family
    m = len(p)
    adjusted = np.full(m, np.nan)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, (m - rank) * p[idx])
        adjusted[idx] = min(1.0, running)
    return adjusted


def ratio_ci(numerator, denominator, confidence: float = 0.95, seed: int = 0) -> Estimate:
    """Paired ratio of means, e.g. steps(tanh)/steps(relu), with a bootstrap CI over seeds."""
    a, b = np.asarray(numerator, dtype=float).ravel(), np.asarray(denominator, dtype=float).ravel()
    ok = np.isfinite(a) & np.isfinite(b) & (b != 0)
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(2000, len(a)))
    boots = a[idx].mean(1) / b[idx].mean(1)
    alpha = (1 - confidence) / 2
    return Estimate(float(a.mean() / b.mean()), float(np.quantile(boots, alpha)), float(np.quantile(boots, 1 - alpha)), len(a))


@dataclasses.dataclass(frozen=True)
class CensoredRatio:
    """A paired ratio of medians whose runs may be censored (never reached the event in budget, R7)."""

    estimate: Estimate  # ratio of medians and its bootstrap CI, censored runs entered at their censoring value
    censored_numerator: float  # fraction of the numerator's runs censored
    censored_denominator: float
    bound: str  # "exact", "lower" (the true ratio and CI lie at or above), "upper" (at or below) or "none"


def censored_ratio(numerator, denominator, censored_at: float, bound_fraction: float = 0.2, confidence: float = 0.95,
                   n_boot: int = 2000, seed: int = 0) -> CensoredRatio:
    """Ratio of medians numerator/denominator over paired seeds where some runs are censored (``inf``).

    A censored run enters at ``censored_at``, the least value it can have (e.g. the budget plus one log
    interval), so each arm's median and every bootstrap median is a lower bound on the uncensored one.
    Both are non-decreasing in every value, hence: censoring in the numerator only makes the ratio and its
    CI lower bounds (``bound="lower"``); in the denominator only, upper bounds (``"upper"``); in both,
    neither (``"none"``). An arm with at most ``bound_fraction`` of its runs censored counts as measured
    (R7; its median is exact while fewer than half are censored). Pairs with a NaN (diverged) are dropped.
    """
    a, b = np.asarray(numerator, dtype=float).ravel(), np.asarray(denominator, dtype=float).ravel()
    ok = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[ok], b[ok]
    if len(a) == 0:
        return CensoredRatio(Estimate(float("nan"), float("nan"), float("nan"), 0), float("nan"), float("nan"), "none")
    cens_a, cens_b = float(np.mean(np.isinf(a))), float(np.mean(np.isinf(b)))
    a, b = np.where(np.isinf(a), censored_at, a), np.where(np.isinf(b), censored_at, b)
    idx = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    boots = np.median(a[idx], axis=1) / np.median(b[idx], axis=1)
    alpha = (1 - confidence) / 2
    est = Estimate(float(np.median(a) / np.median(b)), float(np.quantile(boots, alpha)),
                   float(np.quantile(boots, 1 - alpha)), len(a))
    over_a, over_b = cens_a > bound_fraction, cens_b > bound_fraction
    bound = {(False, False): "exact", (True, False): "lower", (False, True): "upper", (True, True): "none"}[(over_a, over_b)]
    return CensoredRatio(est, cens_a, cens_b, bound)

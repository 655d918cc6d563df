"""Mean-field fixed points of any registered activation (claims D1-D5, G1, G2, Chaos).

The length map's fixed point q*, chi_1 there, the correlation map's stable fixed point c*, chi_c
and the depth scale xi_c = -1/ln(chi_c) (Poole et al. 2016; Schoenholz et al. 2017): see
:mod:`experiments.kit.theory` for the maps and the quadrature every expectation here uses.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import optimize

from .theory import _both, expectation, rule


@dataclasses.dataclass(frozen=True)
class MeanField:
    """Mean-field quantities of one (activation, sigma_w^2, sigma_b^2)."""

    activation: str
    sigma_w2: float
    sigma_b2: float
    q_star: float
    chi_1: float
    c_star: float
    chi_c: float
    xi_c: float
    mean_dphi: float  # E[phi'(h)] at q*: the mean derivative per layer (claim D2)
    q_converged: bool = True  # the length map reached its fixed point within the iterations

    @property
    def grad_log_decay(self) -> float:
        """Predicted d ln||dL/dh_l|| per layer going backwards: 0.5 ln chi_1."""
        return 0.5 * float(np.log(self.chi_1)) if self.chi_1 > 0 else -np.inf


def _iterate_q(phi, sigma_w2: float, sigma_b2: float, q0: float, iters: int) -> tuple[float, bool]:
    q = q0
    for _ in range(iters):
        new = sigma_w2 * float(expectation(lambda h: phi(h) ** 2, q)) + sigma_b2
        if not np.isfinite(new) or new > 1e12:
            return float("inf"), False
        if abs(new - q) < 1e-10 * max(1.0, q):
            return float(new), True
        q = new
    return float(q), False


def q_fixed_point(phi, sigma_w2: float, sigma_b2: float, q0: float = 1.0, iters: int = 500) -> float:
    """Iterate the length map to its fixed point (or to where it blows up/vanishes)."""
    return _iterate_q(phi, sigma_w2, sigma_b2, q0, iters)[0]


def pair_expectation(both, q: float, c: float) -> tuple[float, float]:
    """(E[phi(u1)phi(u2)], E[phi'(u1)phi'(u2)]) for (u1, u2) of variance q and correlation c:
    u2 | u1 ~ N(c u1, q (1 - c^2)), both integrals by :func:`rule` (outer over u1, inner over u2)."""
    z1, w1 = rule(0.0, np.sqrt(q))
    u1 = np.sqrt(q) * z1
    s = np.sqrt(max(0.0, q * (1 - c * c)))
    z2, w2 = rule(c * u1, s)
    p1, d1 = both(u1)
    p2, d2 = both(c * u1[:, None] + s * z2)
    return float(np.sum(w1 * p1 * np.sum(w2 * p2, -1))), float(np.sum(w1 * d1 * np.sum(w2 * d2, -1)))


def _c_star(both, sigma_w2: float, sigma_b2: float, q: float, chi_1: float) -> float:
    """The stable fixed point of the correlation map: 1 in the ordered phase (chi_1 <= 1), else the
    largest root below 1 of G(c) = (sigma_w^2 E[phi(u1)phi(u2)] + sigma_b^2)/q - c (brentq, to 1e-12)."""
    if not chi_1 > 1:
        return 1.0

    def gap(c):
        return (sigma_w2 * pair_expectation(both, q, c)[0] + sigma_b2) / q - c

    hi = next((1 - eps for eps in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7) if gap(1 - eps) < 0), None)
    if hi is None:  # G stays >= 0 up to 1 - 1e-7: c* within 1e-7 of 1
        return 1.0
    lo = next((c for c in (0.0, -0.5, -1.0) if gap(c) > 0), None)
    return -1.0 if lo is None else float(optimize.brentq(gap, lo, hi, xtol=1e-12))


def mean_field(activation: str, sigma_w2: float, sigma_b2: float = 0.0, **params) -> MeanField:
    """All mean-field quantities for ``activation`` at (sigma_w^2, sigma_b^2)."""
    return _mean_field_with(activation, _both(activation, **params), sigma_w2, sigma_b2)


def mean_field_many(activation: str, sigma_w2s, sigma_b2: float = 0.0, **params) -> list[MeanField]:
    """``[mean_field(activation, s, sigma_b2) for s in sigma_w2s]`` with phi, phi' compiled once (sweeps)."""
    both = _both(activation, **params)
    return [_mean_field_with(activation, both, float(s), sigma_b2) for s in sigma_w2s]


def _mean_field_with(activation: str, both, sigma_w2: float, sigma_b2: float) -> MeanField:
    q, converged = _iterate_q(lambda h: both(h)[0], sigma_w2, sigma_b2, 1.0, 500)
    q_eval = (1.0 if not np.isfinite(q) else 1e-12) if not (np.isfinite(q) and q > 0) else q
    z, w = rule(0.0, np.sqrt(q_eval))
    d = both(np.sqrt(q_eval) * z)[1]
    chi_1 = sigma_w2 * float(np.sum(w * d * d))
    mean_dphi = float(np.sum(w * d))
    c = _c_star(both, sigma_w2, sigma_b2, q_eval, chi_1)
    chi_c = chi_1 if c == 1.0 else sigma_w2 * pair_expectation(both, q_eval, c)[1]
    xi_c = -1.0 / np.log(chi_c) if 0 < chi_c < 1 and abs(np.log(chi_c)) > 1e-12 else np.inf
    return MeanField(activation, sigma_w2, sigma_b2, q, chi_1, c, chi_c, float(xi_c), mean_dphi, converged)

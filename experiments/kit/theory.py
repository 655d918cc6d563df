"""Mean-field signal propagation for any registered activation (claims D1-D5, G1, G2).

For a wide net with weights N(0, sigma_w^2/fan_in) and biases N(0, sigma_b^2)
(Poole et al. 2016; Schoenholz et al. 2017, "Deep Information Propagation"):

- length map  q_{l+1} = sigma_w^2 E_z[phi(sqrt(q_l) z)^2] + sigma_b^2, fixed point q*;
- chi_1 = sigma_w^2 E_z[phi'(sqrt(q*) z)^2]: the per-layer factor of E||dL/dh_l||^2, so a
  gradient norm changes by sqrt(chi_1) per layer backwards (vanishes if chi_1 < 1);
- correlation map c_{l+1} = (sigma_w^2 E[phi(u1)phi(u2)] + sigma_b^2)/q*, fixed point c*,
  chi_c = sigma_w^2 E[phi'(u1)phi'(u2)] at c*, and the depth scale xi_c = -1/ln(chi_c).
  Nets are trainable iff depth <~ 6 xi_c (Schoenholz et al.).

Expectations over z ~ N(0,1) use probabilists' Gauss-Hermite quadrature with an even number of
nodes, so that no node sits on the kink at 0 (where relu' would be ambiguous).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

import acts

from . import perf


@lru_cache(maxsize=4)
def _nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def gaussian_expectation(fn, n: int = 100) -> float:
    """E[fn(z)] for z ~ N(0, 1) by Gauss-Hermite quadrature."""
    z, w = _nodes(n)
    return float(np.sum(w * np.asarray(fn(z), dtype=float)))


def _phi_and_dphi(name: str, **params):
    act = acts.get(name, **params)
    fn = perf.jit(jax.vmap(act.fn))
    dfn = perf.jit(jax.vmap(jax.grad(lambda x: act.fn(x))))
    phi = lambda x: np.asarray(fn(jnp.asarray(x, jnp.float32).ravel()), float).reshape(np.shape(x))
    dphi = lambda x: np.asarray(dfn(jnp.asarray(x, jnp.float32).ravel()), float).reshape(np.shape(x))
    return phi, dphi


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

    @property
    def grad_log_decay(self) -> float:
        """Predicted d ln||dL/dh_l|| per layer going backwards: 0.5 ln chi_1."""
        return 0.5 * float(np.log(self.chi_1)) if self.chi_1 > 0 else -np.inf


def q_fixed_point(phi, sigma_w2: float, sigma_b2: float, q0: float = 1.0, iters: int = 500) -> float:
    """Iterate the length map to its fixed point (or to where it blows up/vanishes)."""
    z, w = _nodes(100)
    q = q0
    for _ in range(iters):
        new = sigma_w2 * np.sum(w * phi(np.sqrt(q) * z) ** 2) + sigma_b2
        if not np.isfinite(new) or new > 1e12:
            return float("inf")
        if abs(new - q) < 1e-10 * max(1.0, q):
            return float(new)
        q = new
    return float(q)


def _pair_expectation(fa, fb, q: float, c: float, n: int = 60) -> float:
    z, w = _nodes(n)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    ww = np.outer(w, w)
    u1 = np.sqrt(q) * z1
    u2 = np.sqrt(q) * (c * z1 + np.sqrt(max(0.0, 1 - c * c)) * z2)
    return float(np.sum(ww * fa(u1) * fb(u2)))


def mean_field(activation: str, sigma_w2: float, sigma_b2: float = 0.0, **params) -> MeanField:
    """All mean-field quantities for ``activation`` at (sigma_w^2, sigma_b^2)."""
    phi, dphi = _phi_and_dphi(activation, **params)
    return _mean_field_with(activation, phi, dphi, sigma_w2, sigma_b2)


def mean_field_many(activation: str, sigma_w2s, sigma_b2: float = 0.0, **params) -> list[MeanField]:
    """``[mean_field(activation, s, sigma_b2) for s in sigma_w2s]`` with phi, phi' compiled once (sweeps)."""
    phi, dphi = _phi_and_dphi(activation, **params)
    return [_mean_field_with(activation, phi, dphi, float(s), sigma_b2) for s in sigma_w2s]


def _mean_field_with(activation: str, phi, dphi, sigma_w2: float, sigma_b2: float) -> MeanField:
    q = q_fixed_point(phi, sigma_w2, sigma_b2)
    if not np.isfinite(q) or q <= 0:
        q_eval = 1.0 if not np.isfinite(q) else 1e-12
    else:
        q_eval = q
    z, w = _nodes(100)
    h = np.sqrt(q_eval) * z
    chi_1 = sigma_w2 * float(np.sum(w * dphi(h) ** 2))
    mean_dphi = float(np.sum(w * dphi(h)))
    c = 0.5
    for _ in range(300):
        new = (sigma_w2 * _pair_expectation(phi, phi, q_eval, c) + sigma_b2) / q_eval
        new = float(np.clip(new, -1.0, 1.0))
        if abs(new - c) < 1e-9:
            c = new
            break
        c = new
    chi_c = sigma_w2 * _pair_expectation(dphi, dphi, q_eval, c)
    xi_c = -1.0 / np.log(chi_c) if 0 < chi_c and abs(np.log(chi_c)) > 1e-12 else np.inf
    return MeanField(activation, sigma_w2, sigma_b2, q, chi_1, c, chi_c, float(abs(xi_c)), mean_dphi)

"""Sections ``properties`` and ``theory`` of the scorecard: computed properties, the derivative
against autodiff, and mean-field signal propagation (claims B1-B12, C3-C5 and D1-D5 ask these).

- ``properties``: :func:`acts.properties.properties` (range, zero-centring E[f(z)], monotonicity,
  smoothness, f(0), f'(0), max |f'|), and the derivative (the user's, or the registry's closed form)
  against ``jax.grad`` with experiments.derivatives' comparison;
- ``theory``: :func:`experiments.kit.meanfield.mean_field` at Xavier and He (sigma_b^2 = 0), the
  critical sigma_w^2 where chi_1 = 1 at ``theory.sigma_b2`` (the edge of chaos; first crossing from
  below on a log grid, refined on a finer grid and interpolated), mean field there (q*, chi_c, the depth
  scale xi_c), and the correlation map c -> c' at that init (at He where there is no edge).
"""

from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import meanfield, theory

from . import adapter
from .common import activations

SEARCH_DEPTH = 500  # layers of the length map in the search (kit.meanfield.mean_field iterates as many)


def derivative_of(name: str) -> tuple[object | None, str]:
    """The closed-form derivative to check and where it comes from."""
    if acts.user.is_user_spec(name):
        given = acts.user.given_derivative(name)
        return given, ("given (module:function:derivative)" if given else "none given (autodiff used)")
    d = acts.get(name).derivative
    return d, ("registered closed form" if d else "none registered (autodiff used)")


def measure_properties(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``properties`` (one row per activation) and ``derivative`` (formula vs autodiff)."""
    props, checks = [], []
    for name in activations(config):
        row = dataclasses.asdict(acts.properties.properties(name))
        row.pop("params")
        props.append({"activation": row.pop("name"), **row})
        derivative, source = derivative_of(name)
        check = adapter.derivative_check(name, derivative, config.derivative) if derivative else {}
        checks.append({"activation": name, "source": source, "n_points": check.get("n_points", 0),
                       "max_abs_err": check.get("max_abs_err", np.nan), "max_rel_err": check.get("max_rel_err", np.nan),
                       "worst_x": check.get("worst_x", np.nan), "agrees": check.get("agrees")})
    return {"properties": pd.DataFrame(props), "derivative": pd.DataFrame(checks)}


def _chi_1(name: str, grid: np.ndarray, sigma_b2: float) -> np.ndarray:
    """chi_1 at each sigma_w^2 after the length map's 500 layers from q = 1 (kit.theory.layerwise_many, R10)."""
    rows = theory.layerwise_many(name, grid, np.ones(len(grid)), SEARCH_DEPTH, sigma_b2)
    return np.array([r.chi_1[-1] for r in rows])


def critical_sigma_w2(name: str, cfg: ml_collections.ConfigDict) -> float:
    """sigma_w^2 where chi_1 first reaches 1 from below at sigma_b^2 = ``cfg.sigma_b2`` (NaN: none in range)."""
    grid = np.geomspace(cfg.search_lo, cfg.search_hi, cfg.search_points)
    for _ in range(3):  # a coarse log grid, then twice a finer one inside the bracket
        chi = _chi_1(name, grid, cfg.sigma_b2)
        above = np.flatnonzero(np.isfinite(chi) & (chi >= 1.0))
        if not len(above) or above[0] == 0:
            return float(grid[0]) if len(above) and chi[0] == 1.0 else float("nan")
        i = above[0]
        lo, hi = grid[i - 1], grid[i]
        grid = np.geomspace(lo, hi, 9)
    w = (1.0 - chi[i - 1]) / (chi[i] - chi[i - 1])  # linear in log sigma_w^2 between the bracketing points
    return float(np.exp(np.log(lo) + w * (np.log(hi) - np.log(lo))))


def _mf_row(name: str, init: str, mf) -> dict:
    return {"activation": name, "init": init, "sigma_w2": mf.sigma_w2, "sigma_b2": mf.sigma_b2, "q_star": mf.q_star,
            "chi_1": mf.chi_1, "c_star": mf.c_star, "chi_c": mf.chi_c, "xi_c": mf.xi_c, "mean_dphi": mf.mean_dphi, "q_converged": mf.q_converged}


def correlation_map(name: str, mf: meanfield.MeanField, n: int) -> list[dict]:
    """c -> c' = (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q at kit.theory's q (q*, or where it stopped)."""
    q = mf.q_star if np.isfinite(mf.q_star) and mf.q_star > 0 else 1.0

    def step(c: float) -> float:
        return (mf.sigma_w2 * adapter.pair_expectations(name, q, c)[0] + mf.sigma_b2) / q

    cs = np.linspace(-1.0, 1.0, n)
    nxt = [step(float(c)) for c in cs]
    h = 1e-4
    slope = (nxt[-1] - step(1.0 - h)) / h  # the map's slope at c = 1: chi_1 where q is the fixed point
    return [{"activation": name, "sigma_w2": mf.sigma_w2, "sigma_b2": mf.sigma_b2, "q": q, "c": float(c),
             "c_next": float(v), "slope_at_1": float(slope), "chi_1": mf.chi_1} for c, v in zip(cs, nxt)]


def measure_theory(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``signal_theory`` (Xavier, He, critical rows) and ``correlation_map``; artefact ``_critical``."""
    cfg = config.theory
    rows, cmap, critical = [], [], {}
    for name in activations(config):
        xavier = meanfield.mean_field(name, cfg.xavier_sigma_w2, 0.0)
        he = meanfield.mean_field(name, cfg.he_sigma_w2, 0.0)
        rows += [_mf_row(name, "xavier", xavier), _mf_row(name, "he", he)]
        s2 = critical_sigma_w2(name, cfg)
        critical[name] = s2
        if np.isfinite(s2):
            crit = meanfield.mean_field(name, s2, cfg.sigma_b2)
            rows.append(_mf_row(name, "critical", crit))
            cmap += [{**r, "init": "critical"} for r in correlation_map(name, crit, cfg.correlation_points)]
        else:
            rows.append({"activation": name, "init": "critical", "sigma_w2": np.nan, "sigma_b2": cfg.sigma_b2})
            cmap += [{**r, "init": "he"} for r in correlation_map(name, he, cfg.correlation_points)]
    return {"signal_theory": pd.DataFrame(rows), "correlation_map": pd.DataFrame(cmap), "_critical": critical}

"""Properties of an activation COMPUTED by code, never typed in (claims B1, B2, C3–C5, E3).

For an elementwise activation f (test-time form for rrelu, initial slope for prelu):

- output range over a wide grid (min, max) and boundedness below/above, decided by comparing the
  extreme value at |x| = 1e4 with that at |x| = 1e2 (growth beyond ``growth_tol`` = unbounded);
- E[f(z)], z ~ N(0, 1), by Gauss–Hermite quadrature, and ``zero_centred`` = |E[f(z)]| < tol (E3);
- ``monotonic``: f' ≥ −tol on a dense grid (C3);
- ``smooth`` (C¹): f and f' continuous, judged by their largest jump across tiny steps [x−h, x+h]
  on a grid that includes 0. The jump of f is f(x+h) − f(x−h) minus its trapezoid estimate
  h·(f'(x+h) + f'(x−h)) (likewise for f' with f''), relative to max(1, |value|): O(h³) where
  smooth, O(1) across a discontinuity, so steep but smooth functions are not flagged;
- f(0), f'(0) with jax's autodiff convention at kinks (relu'(0) = 0, step'(0) = 0);
- max |f'| over the grid and where it is attained (ties within a relative 1e-6: the point
  nearest 0) (B1: 0.25 at 0; B2: 1);
- ``identity_near_zero``: |f(0)| < 1e-6 and |f'(0) − 1| < 1e-3, i.e. f ≈ x near 0 (C4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from acts import registry
from acts.registry import Activation

__all__ = ["PROPERTY_KINDS", "Properties", "properties", "properties_table"]

PROPERTY_KINDS = ("elementwise", "parametric", "stochastic")

_EDGES = np.array([1e2, 1e3, 1e4])
# dense grid for range, monotonicity and max |f'|: step 1e-3 on [-50, 50], 0 included exactly
_DENSE = np.union1d(np.linspace(-50.0, 50.0, 100001), np.concatenate([[0.0], _EDGES, -_EDGES]))
# grid for the continuity checks: step 5e-3 on [-10, 10], plus 0 and tiny magnitudes
_SMOOTH = np.union1d(np.linspace(-10.0, 10.0, 4001), [0.0, 1e-7, -1e-7])


@dataclass(frozen=True)
class Properties:
    """Computed properties of one activation (see the module docstring for definitions)."""

    name: str
    params: tuple[tuple[str, float], ...]
    f_min: float
    f_max: float
    bounded_below: bool
    bounded_above: bool
    gaussian_mean: float
    zero_centred: bool
    monotonic: bool
    min_derivative: float
    smooth: bool
    max_jump_f: float
    max_jump_df: float
    f0: float
    df0: float
    max_abs_derivative: float
    argmax_abs_derivative: float
    identity_near_zero: bool


def _resolve(act: Activation | str) -> Activation:
    a = registry.get(act) if isinstance(act, str) else act
    if a.kind not in PROPERTY_KINDS:
        raise ValueError(f"properties are defined for elementwise activations; '{a.name}' is of kind '{a.kind}'")
    return a


def properties(
    act: Activation | str,
    *,
    zero_centred_tol: float = 0.05,
    n_quad: int = 128,
    growth_tol: float = 0.1,
    monotonic_tol: float = 1e-6,
    jump_tol: float = 1e-3,
    h: float = 1e-4,
) -> Properties:
    """Compute the ``Properties`` of an activation (an ``Activation`` or a registered name)
    (claims B1, B2, C3, C4, C5, E3)."""
    if n_quad < 64:
        raise ValueError(f"n_quad must be >= 64, got {n_quad}")
    a = _resolve(act)
    grad = jax.grad(lambda x: a.fn(x))
    nodes, weights = np.polynomial.hermite_e.hermegauss(n_quad)
    xs = _SMOOTH
    # every point is evaluated in ONE call each of f, f', f'' (one compile per function)
    parts = [_DENSE, np.array([-1e4, 1e4, -1e2, 1e2, 0.0]), nodes, xs + h, xs - h]
    pts = jnp.asarray(np.concatenate(parts), dtype=jnp.float32)
    evals = jax.jit(lambda x: (a.fn(x), jax.vmap(grad)(x), jax.vmap(jax.grad(grad))(x)))(pts)
    bounds = np.cumsum([len(q) for q in parts])[:-1]
    f_all, g_all, g2_all = (np.split(np.asarray(e, dtype=np.float64), bounds) for e in evals)
    y, special, fq, f_p, f_m = f_all
    g, gspecial, _, g_p, g_m = g_all
    _, _, _, g2_p, g2_m = g2_all

    # range and boundedness: extreme at |x| = 1e4 against the extreme at |x| = 1e2
    big, mid = special[:2], special[2:4]
    finite = bool(np.all(np.isfinite(big)))
    bounded_above = finite and big.max() <= mid.max() + growth_tol * max(1.0, abs(mid.max()))
    bounded_below = finite and big.min() >= mid.min() - growth_tol * max(1.0, abs(mid.min()))

    # E[f(z)], z ~ N(0, 1): probabilists' Gauss-Hermite, weight exp(-x^2/2)
    mean = float(np.sum(weights * fq) / np.sqrt(2.0 * np.pi))

    # max |f'| on the dense grid; ties resolved towards 0
    abs_g = np.abs(g)
    gmax = float(abs_g.max())
    ties = np.flatnonzero(abs_g >= gmax * (1.0 - 1e-6))
    arg = float(_DENSE[ties[np.argmin(np.abs(_DENSE[ties]))]])

    # continuity of f and f' across [x0 - h, x0 + h]: trapezoid residual, relative
    scale_f = np.maximum(1.0, np.maximum(np.abs(f_p), np.abs(f_m)))
    scale_g = np.maximum(1.0, np.maximum(np.abs(g_p), np.abs(g_m)))
    jump_f = np.abs(f_p - f_m - h * (g_p + g_m)) / scale_f
    jump_g = np.abs(g_p - g_m - h * (g2_p + g2_m)) / scale_g
    max_jump_f, max_jump_g = float(np.nanmax(jump_f)), float(np.nanmax(jump_g))

    f0, df0 = float(special[4]), float(gspecial[4])
    return Properties(
        name=a.name,
        params=tuple((k, v if isinstance(v, (int, float)) else np.asarray(v).tolist()) for k, v in a.params.items()),
        f_min=float(np.min(y)),
        f_max=float(np.max(y)),
        bounded_below=bool(bounded_below),
        bounded_above=bool(bounded_above),
        gaussian_mean=mean,
        zero_centred=bool(abs(mean) < zero_centred_tol),
        monotonic=bool(np.all(g >= -monotonic_tol)),
        min_derivative=float(np.min(g)),
        smooth=bool(max_jump_f < jump_tol and max_jump_g < jump_tol),
        max_jump_f=max_jump_f,
        max_jump_df=max_jump_g,
        f0=f0,
        df0=df0,
        max_abs_derivative=gmax,
        argmax_abs_derivative=arg,
        identity_near_zero=bool(abs(f0) < 1e-6 and abs(df0 - 1.0) < 1e-3),
    )


def properties_table(names: Sequence[str | Activation] | None = None, **kwargs: float) -> pd.DataFrame:
    """One row of ``properties`` per activation (default: every registered elementwise,
    parametric and stochastic one), indexed by name (claims C3–C5, E3)."""
    if names is None:
        names = [n for n in registry.names() if registry.get(n).kind in PROPERTY_KINDS]
    rows = [dataclasses.asdict(properties(n, **kwargs)) for n in names]
    return pd.DataFrame(rows).set_index("name")

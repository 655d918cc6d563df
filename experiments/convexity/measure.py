"""The measurements of experiments.convexity (claim C3): random lines through a one-layer net's loss.

:func:`measure_lines` evaluates ``L(f(xW+b))`` along random lines in weight space (seeds, weight
scales and lines one vmapped axis; one compile per activation x loss), counts midpoint-convexity
violations (:func:`midpoint_violations`) with Wilson 95% CIs (tables ``violation_rates``,
``violation_rates_by_scale``) and traces the loss along one violating line of a monotonic
activation (table ``example_line``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, perf, stats

SPANS = (1, 2, 4, 8)


def is_monotonic(name: str, x_range: float, tol: float) -> tuple[bool, float]:
    """(monotonic?, min f'(x)) of activation ``name`` on a dense grid, from autodiff (claim C3)."""
    fn = acts.get(name).fn
    x = jnp.linspace(-x_range, x_range, 20001, dtype=jnp.float32)
    slope = float(jnp.min(jax.vmap(jax.grad(fn))(x)))
    return slope >= -tol, slope


def one_layer_loss(fn, loss: str, n_classes: int):
    """``L(theta, x, y)`` of the single-layer model f(x W + b), theta = concat(W.ravel(), b)."""

    def value(theta: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
        d = x.shape[1]
        w = theta[: d * n_classes].reshape(d, n_classes)
        out = fn(x @ w + theta[d * n_classes :])
        if loss == "mse":
            return 0.5 * jnp.mean(jnp.sum((out - jax.nn.one_hot(y, n_classes)) ** 2, -1))
        if loss == "xent":
            return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None], 1))
        raise ValueError(f"unknown loss {loss!r}; valid: mse, xent")

    return value


def midpoint_violations(profile: jax.Array, abs_tol: float, rel_tol: float) -> tuple[jax.Array, jax.Array]:
    """For loss profiles (..., T) on an even grid: (any violation?, largest excess) per line.

    A violation at centre i and span h: L[i] > (L[i-h] + L[i+h])/2 + abs_tol + rel_tol*max|L| (C3).
    """
    t = profile.shape[-1]
    excess = []
    for h in SPANS:
        if 2 * h >= t:
            continue
        left, mid, right = profile[..., : t - 2 * h], profile[..., h : t - h], profile[..., 2 * h :]
        scale = jnp.maximum(jnp.maximum(jnp.abs(left), jnp.abs(right)), jnp.abs(mid))
        excess.append(mid - 0.5 * (left + right) - (abs_tol + rel_tol * scale))
    worst = jnp.max(jnp.concatenate(excess, axis=-1), axis=-1)
    return worst > 0, worst


def _line_profiles(config, fn, loss: str, n_classes: int, x: np.ndarray, y: np.ndarray):
    """Jitted, vmapped over (seed, scale, line): loss profiles (S, G, N, T) and endpoints."""
    d = x.shape[1]
    n_par = d * n_classes + n_classes
    value = one_layer_loss(fn, loss, n_classes)
    ts = jnp.linspace(0.0, 1.0, config.points_per_line)

    def one_line(key, scale, xx, yy):
        ka, kb = jax.random.split(key)
        a = scale / np.sqrt(d) * jax.random.normal(ka, (n_par,))
        b = scale / np.sqrt(d) * jax.random.normal(kb, (n_par,))
        return jax.vmap(lambda t: value((1 - t) * a + t * b, xx, yy))(ts), a, b

    def population(seeds, scales, xx, yy):
        def per_seed(seed):
            keys = jax.random.split(jax.random.PRNGKey(seed), len(config.weight_scales) * config.lines_per_seed)
            keys = keys.reshape(len(config.weight_scales), config.lines_per_seed, -1)
            return jax.vmap(lambda ks, s: jax.vmap(lambda k: one_line(k, s, xx, yy))(ks))(keys, scales)

        return jax.vmap(per_seed)(seeds)

    seeds = jnp.arange(config.seeds)
    scales = jnp.asarray(config.weight_scales, jnp.float32)
    n_lines = config.seeds * len(config.weight_scales) * config.lines_per_seed
    flops = 2.0 * n_lines * config.points_per_line * x.shape[0] * n_par * 2
    return perf.execute(perf.jit(population), seeds, scales, jnp.asarray(x), jnp.asarray(y), flops=flops)


def _rows(config, name: str, loss: str, mono: bool, min_slope: float, viol: np.ndarray, worst: np.ndarray,
          finite: np.ndarray) -> tuple[dict, list[dict]]:
    """The ``violation_rates`` row and the ``violation_rates_by_scale`` rows of one activation x loss."""
    ci = stats.proportion_ci(int(viol.sum()), int(viol.size))
    row = {
        "activation": name,
        "loss": loss,
        "monotonic": mono,
        "min_slope": min_slope,
        "lines": int(viol.size),
        "violations": int(viol.sum()),
        "rate": ci.mean,
        "rate_lo": ci.lo,
        "rate_hi": ci.hi,
        "max_excess": float(np.max(worst)),
        "nonfinite_lines": int((~finite).sum()),
    }
    scale_rows = []
    for g, scale in enumerate(config.weight_scales):
        v = viol[:, g]
        ci_g = stats.proportion_ci(int(v.sum()), int(v.size))
        scale_rows.append(
            {
                "activation": name,
                "loss": loss,
                "weight_scale": scale,
                "lines": int(v.size),
                "violations": int(v.sum()),
                "rate": ci_g.mean,
                "rate_lo": ci_g.lo,
                "rate_hi": ci_g.hi,
            }
        )
    return row, scale_rows


def measure_lines(config, tables=None) -> dict:
    """Violation rates per activation x loss (C3), and the loss along one violating line.

    Tables ``violation_rates``, ``violation_rates_by_scale`` and (when a monotonic activation
    violates) ``example_line``; artefact ``example`` = (activation, loss) of that line.
    """
    crit = config.criteria.c3
    ds = data.load(config.dataset, n_train=config.n_train, seed=0)
    x, y = ds.x_train.reshape(len(ds.x_train), -1), ds.y_train
    rows, scale_rows, example = [], [], None
    for name in config.activations:
        mono, min_slope = is_monotonic(name, crit.monotone_range, crit.monotone_tol)
        fn = acts.get(name).fn
        for loss in config.losses:
            prof, a, b = _line_profiles(config, fn, loss, ds.n_classes, x, y)
            viol, worst = midpoint_violations(prof, crit.abs_tol, crit.rel_tol)
            viol, worst = np.asarray(viol), np.asarray(worst)
            finite = np.all(np.isfinite(np.asarray(prof)), axis=-1)
            row, by_scale = _rows(config, name, loss, mono, min_slope, viol, worst, finite)
            rows.append(row)
            scale_rows.extend(by_scale)
            if mono and viol.any() and (example is None or (name, loss) == ("sigmoid", "mse")):
                idx = np.unravel_index(np.argmax(worst), worst.shape)
                example = (name, loss, np.asarray(a)[idx], np.asarray(b)[idx])
    out = {"violation_rates": pd.DataFrame(rows), "violation_rates_by_scale": pd.DataFrame(scale_rows)}
    if example is not None:
        out["example_line"] = example_profile(example, ds.n_classes, x, y)
        out["example"] = example[:2]
    return out


def example_profile(example, n_classes: int, x, y) -> pd.DataFrame:
    """The loss along the line from a to b (201 points) and the chord between its end points (C3)."""
    name, loss, a, b = example
    value = one_layer_loss(acts.get(name).fn, loss, n_classes)
    ts = np.linspace(0, 1, 201, dtype=np.float32)
    thetas = (1 - ts[:, None]) * a[None] + ts[:, None] * b[None]
    prof = np.asarray(perf.jit(jax.vmap(lambda th: value(th, x, y)))(jnp.asarray(thetas)))
    chord = (1 - ts) * prof[0] + ts * prof[-1]
    return pd.DataFrame({"t": ts, "loss": prof, "chord": chord})

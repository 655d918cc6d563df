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


def min_slopes(names, x_range: float) -> np.ndarray:
    """min f'(x) of each activation on a dense grid of [-x_range, x_range], by autodiff, in ONE program (C3)."""
    fns = [acts.get(n).fn for n in names]

    def mins(lo, hi):  # the grid made inside: lifting it outside would compile programs of its own (issue 16)
        x = jnp.linspace(lo, hi, 20001, dtype=jnp.float32)
        return jnp.stack([jnp.min(jax.vmap(jax.grad(fn))(x)) for fn in fns])

    return np.asarray(perf.jit(mins)(np.float32(-x_range), np.float32(x_range)))


def is_monotonic(name: str, x_range: float, tol: float) -> tuple[bool, float]:
    """(monotonic?, min f'(x)) of activation ``name`` on a dense grid, from autodiff (claim C3)."""
    slope = float(min_slopes([name], x_range)[0])
    return slope >= -tol, slope


def one_layer_loss(fn, loss: str, n_classes: int):
    """``L(theta, x, y)`` of the single-layer model f(x W + b), theta = concat(W.ravel(), b)."""

    of = _loss_of(loss, n_classes)

    def value(theta: jax.Array, x: jax.Array, y: jax.Array) -> jax.Array:
        d = x.shape[1]
        w = theta[: d * n_classes].reshape(d, n_classes)
        return of(fn(x @ w + theta[d * n_classes :]), y)

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


def _loss_of(loss: str, n_classes: int):
    """The loss of the outputs ``out`` (n, C) against integer labels ``y``."""
    if loss == "mse":
        return lambda out, y: 0.5 * jnp.mean(jnp.sum((out - jax.nn.one_hot(y, n_classes)) ** 2, -1))
    if loss == "xent":
        return lambda out, y: -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(out), y[:, None], 1))
    raise ValueError(f"unknown loss {loss!r}; valid: mse, xent")


def _all_profiles(config, combos: list[tuple[str, str]], n_classes: int, x: np.ndarray, y: np.ndarray):
    """ONE program for every (activation, loss): ``lax.map`` over the combinations with a ``lax.switch``
    index (only the chosen branch runs), vmapped over (seed, scale, line) inside.

    Along the line theta(t) = (1-t) a + t b the pre-activations are (1-t) z_a + t z_b (the model is
    linear in theta before f), so two matmuls per line serve every point. Returns per combination:
    violation flags and largest excess (S, G, N), all-finite flags, and the worst line's end points.
    """
    crit, d = config.criteria.c3, x.shape[1]
    n_par = d * n_classes + n_classes
    acts_ = sorted({a for a, _ in combos}, key=[a for a, _ in combos].index)
    losses = sorted({loss for _, loss in combos}, key=[loss for _, loss in combos].index)
    fns, loss_fns = [acts.get(a).fn for a in acts_], [_loss_of(loss, n_classes) for loss in losses]
    index = np.asarray([[acts_.index(a), losses.index(loss)] for a, loss in combos], np.int32)

    def pre(theta, xx):
        return xx @ theta[: d * n_classes].reshape(d, n_classes) + theta[d * n_classes:]

    def one_line(ij, key, scale, xx, yy, ts):
        ka, kb = jax.random.split(key)
        a = scale / np.sqrt(d) * jax.random.normal(ka, (n_par,))
        b = scale / np.sqrt(d) * jax.random.normal(kb, (n_par,))
        za, zb = pre(a, xx), pre(b, xx)

        def value(t):
            out = jax.lax.switch(ij[0], fns, (1 - t) * za + t * zb)
            return jax.lax.switch(ij[1], loss_fns, out, yy)

        return jax.vmap(value)(ts), a, b

    def combo(ij, seeds, scales, xx, yy, ts):
        def per_seed(seed):
            keys = jax.random.split(jax.random.PRNGKey(seed), len(config.weight_scales) * config.lines_per_seed)
            keys = keys.reshape(len(config.weight_scales), config.lines_per_seed, -1)
            return jax.vmap(lambda ks, s: jax.vmap(lambda k: one_line(ij, k, s, xx, yy, ts))(ks))(keys, scales)

        prof, a, b = jax.vmap(per_seed)(seeds)
        viol, worst = midpoint_violations(prof, crit.abs_tol, crit.rel_tol)
        at = jnp.argmax(worst.ravel())
        return viol, worst, jnp.all(jnp.isfinite(prof), axis=-1), a.reshape(-1, n_par)[at], b.reshape(-1, n_par)[at]

    def population(seeds, scales, xx, yy, ends):
        ts = jnp.linspace(ends[0], ends[1], config.points_per_line)  # the points along each line
        return jax.lax.map(lambda ij: combo(ij, seeds, scales, xx, yy, ts), index)

    n_lines = config.seeds * len(config.weight_scales) * config.lines_per_seed
    flops = len(combos) * n_lines * (2 * 2.0 * x.shape[0] * n_par + 10.0 * config.points_per_line * x.shape[0] * n_classes)
    # numpy arguments: lifting them with jnp first would compile a program per conversion (issue 16)
    seeds, scales, ends = np.arange(config.seeds), np.asarray(config.weight_scales, np.float32), np.asarray([0.0, 1.0], np.float32)
    out = perf.execute(perf.jit(population), seeds, scales, x, y, ends, flops=flops)
    return [np.asarray(o) for o in out]


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
    names = list(config.activations)
    slopes = dict(zip(names, min_slopes(names, crit.monotone_range), strict=True))
    combos = [(name, loss) for name in names for loss in config.losses]
    viol, worst, finite, a_worst, b_worst = _all_profiles(config, combos, ds.n_classes, x, y)
    rows, scale_rows, example = [], [], None
    for i, (name, loss) in enumerate(combos):
        mono = bool(slopes[name] >= -crit.monotone_tol)
        row, by_scale = _rows(config, name, loss, mono, float(slopes[name]), viol[i], worst[i], finite[i])
        rows.append(row)
        scale_rows.extend(by_scale)
        if mono and viol[i].any() and (example is None or (name, loss) == (crit.headline_activation, crit.headline_loss)):
            example = (name, loss, a_worst[i], b_worst[i])
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
    prof = np.asarray(perf.jit(jax.vmap(lambda th: value(th, x, y)))(thetas))
    chord = (1 - ts) * prof[0] + ts * prof[-1]
    return pd.DataFrame({"t": ts, "loss": prof, "chord": chord})

"""The measurements of claim G3: born-dead deep narrow ReLU nets and the |x| fit (Lu et al. 2019).

A net is *born dead* when its output is constant over the input domain: some hidden layer is
constant on a grid of ``n_points`` inputs covering [-sqrt3, sqrt3]^d. ``n_init`` He
initialisations per width, every width in one compile: a width-w net is the leading w x w block
of a ``max(widths)``-wide one (the other units are masked to 0, which is constant, so they never
change whether a layer is constant), and the layers are a ``lax.scan``. The |x| fit trains
``fit_nets`` width-2 depth-10 nets at once with Adam; a net whose output is exactly constant at
init (a dead hidden layer, zero biases) gets exactly zero gradients except at the read-out bias,
so it stays collapsed and is counted without training (tested).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from experiments.kit import models, perf, stats

from .derive import sel


def lu_bound(widths_per_layer) -> float:
    """Lu et al. (2019) upper bound on P(born dead): 1 - prod_l (1 - 2^-N_l) over hidden layers."""
    n = np.asarray(widths_per_layer, dtype=float)
    return float(1.0 - np.prod(1.0 - 0.5**n))


def born_dead_by_depth(layer_constant: np.ndarray) -> np.ndarray:
    """Net of depth L (L-1 hidden layers) is born dead iff some hidden layer < L-1 is constant.

    ``layer_constant`` (n_init, n_layers): every unit of the layer constant on the input grid.
    Returns (n_init, n_layers) where column k is depth k + 2 (k + 1 hidden layers).
    """
    return np.logical_or.accumulate(np.asarray(layer_constant, bool), axis=1)


def _grid(g3) -> np.ndarray:
    s = np.sqrt(3.0)
    if g3.input_dim == 1:
        return np.linspace(-s, s, g3.n_points, dtype=np.float32)[:, None]
    rng = np.random.default_rng(0)
    return rng.uniform(-s, s, (g3.n_points, g3.input_dim)).astype(np.float32)


def constant_layers(key: jax.Array, width: jax.Array, x: jax.Array, hidden: int, wide: int, bias_std: float) -> jax.Array:
    """(hidden,) booleans: hidden layer l of a He-initialised width-``width`` ReLU net is constant on ``x``.

    The net is the leading ``width`` units of a ``wide`` one (the rest masked to 0). Constant =
    every unit's spread over ``x`` <= 1e-6 x its largest |activation| (relative, so that the tiny
    but varying activations of deep narrow nets do not count as constant).
    """
    mask = (jnp.arange(wide) < width).astype(jnp.float32)

    def relu_layer(a, k, fan_in, in_mask):
        kw, kb = jax.random.split(k)
        w = jax.random.normal(kw, (a.shape[1], wide)) * jnp.sqrt(2.0 / fan_in) * in_mask[:, None] * mask[None, :]
        out = jnp.maximum(a @ w + bias_std * jax.random.normal(kb, (wide,)) * mask, 0.0)
        spread = jnp.max(out, 0) - jnp.min(out, 0)
        return out, jnp.all(spread <= 1e-6 * jnp.max(jnp.abs(out), 0))

    keys = jax.random.split(key, hidden)
    first, c0 = relu_layer(x, keys[0], x.shape[1], jnp.ones(x.shape[1]))
    _, rest = jax.lax.scan(lambda a, k: relu_layer(a, k, width, mask), first, keys[1:])
    return jnp.concatenate([c0[None], rest])


def born_dead_table(config) -> pd.DataFrame:
    """P(net born dead) vs depth for each width, from ``n_init`` He initialisations per width (one compile)."""
    g3 = config.g3
    x = _grid(g3)
    hidden, wide, widths = g3.max_depth - 1, max(g3.widths), list(g3.widths)
    def width_nets(width):
        keys = jax.random.split(jax.random.PRNGKey(1000 + width), g3.n_init)
        return jax.vmap(lambda k: constant_layers(k, width, x, hidden, wide, float(g3.bias_std)))(keys)

    fn = perf.jit(jax.vmap(width_nets))
    flops = 2.0 * len(widths) * g3.n_init * g3.n_points * hidden * wide * wide
    const = np.asarray(perf.execute(fn, np.asarray(widths, np.int32), flops=flops))  # (W, n, hidden)
    rows = []
    for i, width in enumerate(widths):
        dead = born_dead_by_depth(const[i])
        for depth in range(2, g3.max_depth + 1):
            est = stats.proportion_ci(int(dead[:, depth - 2].sum()), len(dead))
            rows.append({"width": width, "depth": depth, "n_seeds": len(dead), "born_dead": est.mean,
                         "born_dead_lo": est.lo, "born_dead_hi": est.hi, "lu_bound": lu_bound([width] * (depth - 1))})
    return pd.DataFrame(rows)


def _fit_model(g3) -> models.MLP:
    return models.build("mlp", 1, widths=(g3.fit_width,) * (g3.fit_depth - 1), activation="relu",
                        initializer="he_normal", bias_std=g3.bias_std)


def fit_nets(model, params, ids: np.ndarray, g3, x_grid: jax.Array):
    """Train the nets ``params`` (run axis first) on y = |x| (Adam, MSE, fresh uniform batches drawn
    from the nets' ``ids``).

    Returns (collapsed: output range over ``x_grid`` <= ``collapse_tol``, MSE on the grid).
    """
    tx = optax.adam(g3.fit_learning_rate)
    s3 = float(np.sqrt(3.0))

    def one(p, net):
        key = jax.random.fold_in(jax.random.PRNGKey(8), net)

        def step(carry, i):
            q, s = carry
            xb = jax.random.uniform(jax.random.fold_in(key, i), (g3.fit_batch, 1), minval=-s3, maxval=s3)
            grad = jax.grad(lambda r: jnp.mean((model.apply({"params": r}, xb) - jnp.abs(xb)) ** 2))(q)
            upd, s = tx.update(grad, s, q)
            return (optax.apply_updates(q, upd), s), None

        (p, _), _ = jax.lax.scan(step, (p, tx.init(p)), jnp.arange(g3.fit_steps))
        out = model.apply({"params": p}, x_grid)[:, 0]
        return jnp.ptp(out) <= g3.collapse_tol, jnp.mean((out - jnp.abs(x_grid[:, 0])) ** 2)

    per_step = 6.0 * g3.fit_batch * (g3.fit_depth - 1) * g3.fit_width**2 * len(ids)
    return perf.execute(perf.jit(jax.vmap(one)), params, ids, flops=per_step * g3.fit_steps)


def abs_fit(config) -> dict:
    """``fit_nets`` width-2 depth-10 ReLU nets on y = |x|: which are born dead, which collapse after Adam."""
    g3 = config.g3
    model = _fit_model(g3)
    x_grid = np.linspace(-np.sqrt(3), np.sqrt(3), 513, dtype=np.float32)[:, None]
    def born(i):
        p = models.init_variables(model, jax.random.fold_in(jax.random.PRNGKey(7), i), x_grid[:1])["params"]
        out, state = model.apply({"params": p}, x_grid, mutable=["intermediates"])
        zero = [jnp.all(a[0] == 0) for name, a in state["intermediates"].items() if name.startswith("act_")]
        return p, jnp.ptp(out) <= g3.collapse_tol, jnp.any(jnp.stack(zero))

    params, born_dead, frozen = perf.execute(perf.jit(jax.vmap(born)), np.arange(g3.fit_nets, dtype=np.int32))
    params = jax.tree_util.tree_map(np.asarray, params)
    frozen = np.asarray(frozen)
    if g3.bias_std:
        frozen = np.zeros_like(frozen)  # with random biases the frozen argument does not hold: train every net
    live = np.flatnonzero(~frozen)
    collapsed, mse = np.ones(g3.fit_nets, bool), np.full(g3.fit_nets, np.nan)
    if len(live):
        pad = np.resize(live, -(-len(live) // 16) * 16)  # a multiple of 16: the compile does not follow the count
        c, m = fit_nets(model, jax.tree_util.tree_map(lambda a: a[pad], params), pad.astype(np.int32), g3, x_grid)
        collapsed[live], mse[live] = np.asarray(c)[: len(live)], np.asarray(m)[: len(live)]
    return {"collapsed": collapsed, "born": np.asarray(born_dead), "mse": mse, "trained": ~frozen}


def g3(config, t) -> dict:
    """G3: the born-dead table, depth 10 beside the published bounds, and the |x| fit (artefact ``g3_fit``)."""
    born = born_dead_table(config)
    fit = abs_fit(config)
    d10 = sel(born, depth=10)[["width", "born_dead", "born_dead_lo", "born_dead_hi", "n_seeds", "lu_bound"]].copy()
    pub = {2: "w2", 3: "w3", 5: "w5", 10: "w10"}
    d10["lu_bound_as_printed"] = [config.published.lu_bound_depth10.get(pub.get(int(w), ""), np.nan) for w in d10["width"]]
    n, k = len(fit["collapsed"]), int(fit["collapsed"].sum())
    est = stats.proportion_ci(k, n)
    fit_table = pd.DataFrame([{
        "n_seeds": n, "n_collapsed": k, "collapsed": est.mean, "collapsed_lo": est.lo, "collapsed_hi": est.hi,
        "born_dead": float(fit["born"].mean()), "n_collapsed_and_born_dead": int((fit["collapsed"] & fit["born"]).sum()),
        "n_trained": int(fit["trained"].sum()),
        "median_mse_trained": float(np.nanmedian(fit["mse"])) if np.isfinite(fit["mse"]).any() else float("nan"),
        "published_collapse": config.published.lu_collapse_fraction,
    }])
    return {"g3_born_dead": born, "g3_depth10_vs_published": d10, "g3_abs_fit": fit_table}

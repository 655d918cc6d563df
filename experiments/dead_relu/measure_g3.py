"""The measurements of claim G3: born-dead deep narrow ReLU nets and the |x| fit (Lu et al. 2019).

A net is *born dead* when its output is constant over the input domain: some hidden layer is
constant on a grid of ``n_points`` inputs covering [-sqrt3, sqrt3]^d. ``n_init`` He
initialisations per width are vmapped; the |x| fit trains ``fit_nets`` width-2 depth-10 nets at once.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from experiments.kit import models, perf, probes, stats

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


def _mlp(width: int, hidden: int, bias_std: float) -> models.MLP:
    return models.build("mlp", 1, widths=(width,) * hidden, activation="relu", initializer="he_normal",
                        bias_std=bias_std)


def born_dead_table(config) -> pd.DataFrame:
    """P(net born dead) vs depth for each width, from ``n_init`` vmapped He initialisations."""
    g3 = config.g3
    x = jnp.asarray(_grid(g3))
    hidden = g3.max_depth - 1
    rows = []
    for width in g3.widths:
        model = _mlp(width, hidden, g3.bias_std)

        def layer_constant(key, model=model):
            variables = models.init_variables(model, key, x[:1])
            return jnp.all(probes.dead_units(model, variables, x)["constant"], axis=-1)  # (hidden,)

        keys = jax.random.split(jax.random.PRNGKey(1000 + width), g3.n_init)
        fn = perf.jit(lambda k, f=layer_constant: jax.lax.map(jax.vmap(f), k.reshape(-1, 100, *k.shape[1:])))
        flops = 2.0 * g3.n_init * g3.n_points * hidden * width * width
        const = np.asarray(perf.execute(fn, keys[: (g3.n_init // 100) * 100], flops=flops)).reshape(-1, hidden)
        dead = born_dead_by_depth(const)
        for depth in range(2, g3.max_depth + 1):
            k = int(dead[:, depth - 2].sum())
            est = stats.proportion_ci(k, len(dead))
            rows.append({"width": width, "depth": depth, "n_seeds": len(dead), "born_dead": est.mean,
                         "born_dead_lo": est.lo, "born_dead_hi": est.hi, "lu_bound": lu_bound([width] * (depth - 1))})
    return pd.DataFrame(rows)


def abs_fit(config) -> dict:
    """Train ``fit_nets`` vmapped width-2 depth-10 ReLU nets on y = |x| (Adam, MSE); count collapses."""
    g3 = config.g3
    model = _mlp(g3.fit_width, g3.fit_depth - 1, g3.bias_std)
    x_grid = jnp.asarray(np.linspace(-np.sqrt(3), np.sqrt(3), 513, dtype=np.float32)[:, None])
    tx = optax.adam(g3.fit_learning_rate)

    def one(key):
        init_key, data_key = jax.random.split(key)
        params = models.init_variables(model, init_key, x_grid[:1])["params"]
        born = jnp.ptp(model.apply({"params": params}, x_grid)) <= g3.collapse_tol

        def step(carry, i):
            p, s = carry
            xb = jax.random.uniform(jax.random.fold_in(data_key, i), (g3.fit_batch, 1), minval=-np.sqrt(3),
                                    maxval=np.sqrt(3))
            loss, grad = jax.value_and_grad(lambda q: jnp.mean((model.apply({"params": q}, xb) - jnp.abs(xb)) ** 2))(p)
            upd, s = tx.update(grad, s, p)
            return (optax.apply_updates(p, upd), s), loss

        (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(g3.fit_steps))
        out = model.apply({"params": params}, x_grid)
        mse = jnp.mean((out[:, 0] - jnp.abs(x_grid[:, 0])) ** 2)
        return jnp.ptp(out) <= g3.collapse_tol, born, mse

    keys = jax.random.split(jax.random.PRNGKey(7), g3.fit_nets)
    per_step = 6.0 * g3.fit_batch * (g3.fit_depth - 1) * g3.fit_width**2 * g3.fit_nets
    collapsed, born, mse = perf.execute(perf.jit(jax.vmap(one)), keys, flops=per_step * g3.fit_steps)
    collapsed, born, mse = np.asarray(collapsed), np.asarray(born), np.asarray(mse)
    return {"collapsed": collapsed, "born": born, "mse": mse}


def g3(config, t) -> dict:
    """G3: the born-dead table, depth 10 beside the published bounds, and the |x| fit (artefact ``g3_fit``)."""
    born = born_dead_table(config)
    fit = abs_fit(config)
    d10 = sel(born, depth=10)[["width", "born_dead", "born_dead_lo", "born_dead_hi", "lu_bound"]].copy()
    pub = {2: "w2", 3: "w3", 5: "w5", 10: "w10"}
    d10["published_bound"] = [config.published.lu_bound_depth10.get(pub.get(int(w), ""), np.nan) for w in d10["width"]]
    fit_table = pd.DataFrame([{
        "n_seeds": len(fit["collapsed"]), "n_collapsed": int(fit["collapsed"].sum()),
        "collapsed_fraction": float(fit["collapsed"].mean()),
        "born_dead_fraction": float(fit["born"].mean()),
        "n_collapsed_and_born_dead": int((fit["collapsed"] & fit["born"]).sum()),
        "median_mse": float(np.nanmedian(fit["mse"])), "published_collapse": config.published.lu_collapse_fraction,
    }])
    return {"g3_born_dead": born, "g3_depth10_vs_published": d10, "g3_abs_fit": fit_table, "g3_fit": fit}

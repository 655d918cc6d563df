"""The measurements of experiments.initialization at initialisation (claims G1, G2).

Part ``profile``: 50-layer MLPs, every (activation, init) of the config (N(0,1) also at a second
width): per-layer log-variance of activations and of back-propagated gradients dL/dh_l, their gain
over the depth, and the per-layer ratio E[h_(l+1)^2]/E[h_l^2]; in float64, so that gains of 10^100
stay finite (R10); one compile per width (:mod:`.net`: activations and inits are array arguments).
Part ``gb``: Glorot & Bengio 2010's 5-layer tanh nets at init: the mean singular value of the
Jacobians J_l = d a_(l+1)/d a_l and per-layer histograms (their Figs 6-7), with inputs standardised
and in [0, 1]. The training parts are in :mod:`.measure_train`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, ondevices, perf, probes, stats

from . import net

QUARTER_CIRCLE_MEAN = 8.0 / (3.0 * np.pi)  # mean singular value of an n x n matrix of iid unit-variance/n entries


@perf.once
def _fn(activations, depth, width, n_classes, dtype, keep, jac_examples=0):
    """The jitted (seeds, conditions, x, y) -> per-seed, per-condition outputs of :func:`net.forward_backward`."""
    one = net.forward_backward(activations, depth, width, n_classes, dtype, keep)

    def per_seed(seed, cond, x, y):
        out = one(jax.random.PRNGKey(seed), cond, x, y)
        kernel = out.pop("kernel", None)
        if jac_examples:  # J_l = diag(phi'(h_(l+1))) W_(l+1)^T, l = 1 .. depth-1
            d = out["dphi"][:, 1:, :jac_examples]  # (C, depth-1, n, width)
            jac = d[..., :, None] * jnp.swapaxes(kernel, -1, -2)[:, :, None]
            out["jac_sv"] = jnp.linalg.svd(jac, compute_uv=False).mean(axis=(2, 3))
        return out

    return perf.jit(lambda seeds, cond, x, y: jax.lax.map(lambda s: per_seed(s, cond, x, y), seeds))


def evaluate(pairs, depth, width, x, y, n_classes, seeds, *, dtype="float64", keep=0,
             jac_examples=0) -> dict[str, np.ndarray]:
    """Outputs of every (activation, init) in ``pairs`` for seeds 0..seeds-1: arrays (seeds, pairs, ...)."""
    dims = [int(np.prod(x.shape[1:]))] + [width] * depth + [n_classes]
    cond = net.conditions(pairs, dims)
    with jax.enable_x64(dtype == "float64"):
        fn = _fn(tuple(a for a, _ in pairs), depth, width, n_classes, dtype, keep, jac_examples)
        out = perf.execute(fn, np.arange(seeds), {k: np.asarray(v, dtype) for k, v in cond.items()},
                           np.asarray(x, dtype), np.asarray(y))
        return {k: np.asarray(v) for k, v in out.items()}


def _ci_cols(values: np.ndarray, name: str) -> dict:
    e = stats.mean_ci(values)
    return {name: e.mean, f"{name}_lo": e.lo, f"{name}_hi": e.hi}


def abs_interval(mean, lo, hi):
    """(|mean|, lo, hi) of |x| where x has CI [lo, hi]: the CI's image under abs (nearest point to 0
    when the CI contains 0, else the nearer end; the farther end), elementwise."""
    mean, lo, hi = (np.asarray(v, dtype=float) for v in (mean, lo, hi))
    near = np.where((lo <= 0) & (hi >= 0), 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    return np.abs(mean), near, np.maximum(np.abs(lo), np.abs(hi))


def _put_abs(frame, name: str, mean, lo, hi) -> None:
    frame[name], frame[f"{name}_lo"], frame[f"{name}_hi"] = abs_interval(mean, lo, hi)


def _gain_row(base: dict, p: dict, j: int, depth: int) -> dict:
    """G1's numbers of condition j: log10 gains over the depth (activations forwards, gradients backwards)."""
    la, lg, lh = p["ln_act_var"][:, j], p["ln_grad_var"][:, j], p["ln_preact_sq"][:, j]
    finite = np.isfinite(la).all(1) & np.isfinite(lg).all(1) & np.isfinite(lh).all(1)
    act_gain = (la[:, -1] - la[:, 0]) / np.log(10)  # Var(a_L) / Var(a_1)
    grad_gain = (lg[:, 0] - lg[:, -1]) / np.log(10)  # Var(dL/dh_1) / Var(dL/dh_L): backwards
    hidden = np.exp(lh[:, 1:])  # hidden-to-hidden layers (fan_in = fan_out = width)
    ratio = np.exp(probes.log_slope(hidden)) if hidden.shape[1] > 1 else np.full(len(hidden), np.nan)
    row = {**base, **_ci_cols(act_gain[finite], "log10_act_gain"), **_ci_cols(grad_gain[finite], "log10_grad_gain")}
    for q in ("act", "grad"):
        c = f"log10_{q}_gain"
        row.update(zip((f"abs_{c}", f"abs_{c}_lo", f"abs_{c}_hi"),
                       map(float, abs_interval(row[c], row[f"{c}_lo"], row[f"{c}_hi"])), strict=True))
    row.update({"act_gain_nats_per_layer": row["log10_act_gain"] * np.log(10) / max(depth - 1, 1),
                "grad_gain_nats_per_layer": row["log10_grad_gain"] * np.log(10) / max(depth - 1, 1),
                **_ci_cols(ratio[finite], "preact_sq_ratio_per_layer"), "n_seeds": int(finite.sum()),
                "n_nonfinite": int((~finite).sum()), "status": "ok" if finite.all() else "nonfinite"})
    return row


def _layer_rows(base: dict, p: dict, j: int) -> list[dict]:
    rows = []
    for layer in range(p["ln_act_var"].shape[2]):
        row = {**base, "layer": layer + 1}
        for q, col in (("ln_act_var", "log10_act_var"), ("ln_grad_var", "log10_grad_var"),
                       ("ln_preact_sq", "log10_preact_sq")):
            row.update(_ci_cols(p[q][:, j, layer] / np.log(10), col))
        for q in ("act_mean", "dphi_mean"):
            row.update(_ci_cols(p[q][:, j, layer], q))
        row["n_seeds"] = int(np.isfinite(p["ln_grad_var"][:, j, layer]).sum())
        rows.append(row)
    return rows


def _inputs(name: str, n: int, scaling: str = "standardised"):
    d = data.load(name, scaling=scaling)
    order = np.random.default_rng(0).permutation(len(d.x_train))[:n]
    return d.x_train[order], d.y_train[order], d.n_classes


def profile(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``profile`` (G1, G2): per-layer tables, gains over the depth and G2's ratios."""
    cfg = config.profile
    x, y, n_classes = _inputs(cfg.dataset, cfg.n_examples)
    names = tuple(cfg.activations)
    runs = [(cfg.width, [(a, i) for a in names for i in cfg.inits])]
    if cfg.extra_inits:
        runs.append((cfg.extra_width, [(a, i) for a in names for i in cfg.extra_inits]))
    layer_rows, gain_rows = [], []
    outs = ondevices.on_devices([functools.partial(evaluate, pairs, cfg.depth, width, x, y, n_classes, cfg.seeds)
                                 for width, pairs in runs])  # a program per width, compiled while another runs
    for (width, pairs), p in zip(runs, outs, strict=True):
        for j, (act, init) in enumerate(pairs):
            base = {"activation": act, "init": init, "width": width}
            layer_rows += _layer_rows(base, p, j)
            gain_rows.append(_gain_row(base, p, j, cfg.depth))
    gains = pd.DataFrame(gain_rows)
    out = {"profile_layers": pd.DataFrame(layer_rows), "profile_gains": gains}
    crit = config.criteria.g2
    g2 = gains[(gains["activation"] == crit.activation) & (gains["width"] == cfg.width)
               & gains["init"].isin(crit.inits)]
    if len(g2) == len(crit.inits):
        pred = dict(zip(crit.inits, (crit.xavier_ratio, crit.he_ratio), strict=True))
        cols = ["init", "width", "preact_sq_ratio_per_layer", "preact_sq_ratio_per_layer_lo",
                "preact_sq_ratio_per_layer_hi", "n_seeds"]
        g2 = g2[cols].reset_index(drop=True)
        g2["predicted"] = g2["init"].map(pred)
        rel = {k: g2[f"preact_sq_ratio_per_layer{k}"] / g2["predicted"] - 1 for k in ("", "_lo", "_hi")}
        _put_abs(g2, "rel_dev", rel[""], rel["_lo"], rel["_hi"])
        out["g2_ratios"] = g2
    return out


def _hist_rows(values: np.ndarray, edges: np.ndarray, base: dict) -> list[dict]:
    """Per-layer histogram (fraction of values per bin) of values (seeds, layers, ...)."""
    per_layer = np.swapaxes(values, 0, 1).reshape(values.shape[1], -1)
    rows = []
    for layer, v in enumerate(per_layer):
        counts = np.histogram(v, bins=edges)[0] / v.size
        rows += [{**base, "layer": layer + 1, "bin_lo": edges[b], "bin_hi": edges[b + 1], "fraction": counts[b]}
                 for b in range(len(counts))]
    return rows


def gb(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``gb``: Glorot & Bengio's 5-layer tanh nets at init (Jacobian singular values, histograms)."""
    cfg, pub = config.gb, dict(config.published.glorot_jacobian)
    pairs = [(cfg.activation, i) for i in cfg.inits]
    jac_rows, sum_rows, hist_rows = [], [], []
    for scaling in cfg.scalings:
        x, y, n_classes = _inputs(cfg.dataset, cfg.n_examples, scaling)
        p = evaluate(pairs, cfg.depth, cfg.width, x, y, n_classes, cfg.seeds, dtype="float32",
                     keep=cfg.n_examples, jac_examples=cfg.jac_examples)
        a_edges = np.linspace(*np.quantile(p["act"], [0.0005, 0.9995]), cfg.hist_bins + 1)
        g_hi = float(np.quantile(np.abs(p["grad"]), 0.999)) or 1.0
        g_edges = np.linspace(-g_hi, g_hi, cfg.hist_bins + 1)
        for j, (act, init) in enumerate(pairs):
            base = {"scaling": scaling, "activation": act, "init": init}
            sv, dphi = p["jac_sv"][:, j], p["dphi_mean"][:, j]  # (seeds, depth-1), (seeds, depth)
            for layer in range(sv.shape[1]):
                jac_rows.append({**base, "jacobian": f"J_{layer + 1}->{layer + 2}", "layer": layer + 1,
                                 **_ci_cols(sv[:, layer], "mean_sv"), **_ci_cols(dphi[:, layer + 1], "dphi_mean"),
                                 "n_seeds": len(sv)})
            dims = [x[0].size] + [cfg.width] * cfg.depth + [n_classes]
            std = net.layer_stds(init, dims)[0][1]  # a hidden-to-hidden kernel
            sum_rows.append({**base, **_ci_cols(sv.mean(1), "jac_mean_sv"),
                             "published_jac_mean_sv": pub.get(f"{act}_{init}", np.nan),
                             "linear_regime_sv": QUARTER_CIRCLE_MEAN * std * np.sqrt(cfg.width),
                             **_ci_cols(dphi[:, 1:].mean(1), "dphi_mean_layers_2_on"),
                             **_ci_cols(np.exp(p["ln_preact_sq"][:, j, 0]), "preact_sq_layer_1"),
                             "n_seeds": len(sv)})
            hist_rows += _hist_rows(p["act"][:, j], a_edges, {**base, "quantity": "activation"})
            hist_rows += _hist_rows(p["grad"][:, j], g_edges, {**base, "quantity": "gradient dL/dh"})
    return {"gb_jacobian": pd.DataFrame(jac_rows), "gb_summary": pd.DataFrame(sum_rows),
            "gb_histograms": pd.DataFrame(hist_rows)}

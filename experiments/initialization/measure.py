"""The measurements of experiments.initialization, part 1 (claims G1, G2): signal propagation at init.

Per-layer variance of activations and back-propagated gradients dL/dh_l at initialisation, their
histograms and the mean singular value of the layer-to-layer Jacobians J_l = d a_{l+1}/d a_l, for
activations x initialisers; one jitted function per (activation, init), vmapped over seeds.
Parts 2 and 3 (Glorot & Bengio's Table 1, He et al.'s deep-ReLU stall) are in :mod:`.measure_train`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, models, perf, probes, stats, train

_CLAMP = (1e-38, 1e38)  # variances that under/overflow float32 are clamped before the log-slope
_PROFILE_FNS: dict = {}


def _profile_fn(model, cfg: ml_collections.ConfigDict, n_classes: int):
    """One jitted probe per activation (the initialiser only changes the parameter values)."""
    key = (model, cfg.jac_examples, n_classes)
    if key not in _PROFILE_FNS:
        loss_fn = train.loss_function("xent", n_classes)

        def one(variables, xb, yb):
            raw = models.layer_stats(model, variables, xb, loss_fn, yb)
            prof = probes.layer_profile(model, variables, xb, loss_fn, yb)
            if len(model.widths) > 1:
                sv = probes.jacobian_singular_values(model, variables["params"], raw["preact"][:, : cfg.jac_examples])
                prof["jac_sv"] = sv.mean(axis=(1, 2))
            return prof, raw["act"], raw["grad_preact"]

        _PROFILE_FNS[key] = perf.jit(jax.vmap(one, in_axes=(0, None, None)))
    return _PROFILE_FNS[key]


def profile_variant(activation: str, init: str, cfg: ml_collections.ConfigDict, x: np.ndarray, y: np.ndarray,
                    n_classes: int) -> dict[str, np.ndarray]:
    """Per-layer statistics of one (activation, init) over seeds (claims G1, G2).

    Returns per-seed arrays: the :func:`probes.layer_profile` moments (S, L), ``jac_sv`` (S, L-1)
    the mean singular value of J_l, and the raw ``act`` and ``grad`` values (S, L, n, width).
    The parameters are drawn outside the jitted probe (seed s -> PRNGKey(s)), so all inits of
    one activation share one compile.
    """
    widths = (cfg.width,) * cfg.depth
    probe_model = models.build("mlp", n_classes, widths=widths, activation=activation)
    init_model = models.build("mlp", n_classes, widths=widths, activation=activation, initializer=init)
    keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(cfg.seeds))
    variables = jax.vmap(lambda k: models.init_variables(init_model, k, jnp.asarray(x[:1])))(keys)
    fn = _profile_fn(probe_model, cfg, n_classes)
    prof, act, grad = perf.execute(fn, variables, jnp.asarray(x), jnp.asarray(y))
    out = {k: np.asarray(v) for k, v in prof.items()}
    out["act"], out["grad"] = np.asarray(act), np.asarray(grad)
    return out


def _clamped_slope(values: np.ndarray) -> np.ndarray:
    return probes.log_slope(np.clip(np.nan_to_num(values, nan=_CLAMP[1], posinf=_CLAMP[1]), *_CLAMP))


def _category(slope: float, crit) -> str:
    if not np.isfinite(slope):
        return "non-finite"
    if abs(slope) <= crit.steady:
        return "steady"
    if abs(slope) >= crit.vanish_explode:
        return "explodes" if slope > 0 else "vanishes"
    return "drifts"


def _hist_rows(values: np.ndarray, lo: float, hi: float, bins: int, base: dict) -> list[dict]:
    """Per-layer histogram (fraction of values per bin) of values (S, L, n, w) on [lo, hi]."""
    edges = np.linspace(lo, hi, bins + 1)
    per_layer = np.swapaxes(values, 0, 1)
    counts = np.asarray(probes.histograms(per_layer, edges))
    total = per_layer[0].size
    rows = []
    for layer in range(counts.shape[0]):
        for b in range(bins):
            rows.append({**base, "layer": layer + 1, "bin_lo": edges[b], "bin_hi": edges[b + 1],
                         "fraction": counts[layer, b] / total})
    return rows


def run_profiles(config: ml_collections.ConfigDict) -> dict:
    """Part 1: tables of per-layer moments, log-variance slopes, Jacobians and histograms."""
    cfg = config.profile
    d = data.load(cfg.dataset)
    order = np.random.default_rng(0).permutation(len(d.x_train))[: cfg.n_examples]
    x, y = d.x_train[order], d.y_train[order]
    layer_rows, slope_rows, hist_rows, jac_rows = [], [], [], []
    per_seed = {}
    crit = config.criteria.g1
    for act in cfg.activations:
        for init in cfg.inits:
            p = profile_variant(act, init, cfg, x, y, d.n_classes)
            base = {"activation": act, "init": init}
            for layer in range(cfg.depth):
                row = {**base, "layer": layer + 1}
                for q in ("act_var", "grad_var", "preact_sq", "act_mean", "dphi_mean"):
                    if q in p:
                        e = stats.mean_ci(p[q][:, layer])
                        row.update({q: e.mean, f"{q}_lo": e.lo, f"{q}_hi": e.hi})
                layer_rows.append(row)
            # activations: slope going forwards (input -> output); gradients: going backwards (output -> input),
            # so for both a positive slope grows along the direction the signal travels (explodes)
            s_act, s_grad = _clamped_slope(p["act_var"]), _clamped_slope(p["grad_var"][:, ::-1])
            hidden = p["preact_sq"][:, 1:]  # hidden-to-hidden layers (fan_in = fan_out = width)
            ratio = np.exp(probes.log_slope(hidden)) if hidden.shape[1] > 1 else np.full(len(hidden), np.nan)
            per_seed[(act, init)] = {"slope_act": s_act, "slope_grad": s_grad, "ratio": ratio}
            ea, eg, er = stats.mean_ci(s_act), stats.mean_ci(s_grad), stats.mean_ci(ratio)
            row = {**base, "slope_act_var": ea.mean, "slope_act_var_lo": ea.lo, "slope_act_var_hi": ea.hi,
                   "act_status": _category(ea.mean, crit),
                   "slope_grad_var": eg.mean, "slope_grad_var_lo": eg.lo, "slope_grad_var_hi": eg.hi,
                   "grad_status": _category(eg.mean, crit),
                   "preact_ratio": er.mean, "preact_ratio_lo": er.lo, "preact_ratio_hi": er.hi, "n_seeds": ea.n}
            if "jac_sv" in p:
                k = min(cfg.jac_layers, p["jac_sv"].shape[1])
                ej = stats.mean_ci(p["jac_sv"][:, :k].mean(1))
                row.update({"jac_mean_sv": ej.mean, "jac_mean_sv_lo": ej.lo, "jac_mean_sv_hi": ej.hi})
                for layer in range(p["jac_sv"].shape[1]):
                    e = stats.mean_ci(p["jac_sv"][:, layer])
                    jac_rows.append({**base, "jacobian": f"J_{layer + 1}->{layer + 2}", "layer": layer + 1,
                                     "mean_sv": e.mean, "mean_sv_lo": e.lo, "mean_sv_hi": e.hi})
                pub = config.published.glorot_jacobian.get(f"{act}_{init}")
                row["published_jac_mean_sv"] = np.nan if pub is None else pub
            slope_rows.append(row)
            a_lo, a_hi = np.quantile(p["act"][:, 0], [0.001, 0.999])
            g_top = np.abs(p["grad"][:, -1])
            g_hi = float(np.quantile(g_top, 0.999)) or 1.0
            hist_rows += _hist_rows(p["act"], a_lo, a_hi, cfg.hist_bins, {**base, "quantity": "activation"})
            hist_rows += _hist_rows(p["grad"], -g_hi, g_hi, cfg.hist_bins, {**base, "quantity": "gradient dL/dh"})
    return {"layers": pd.DataFrame(layer_rows), "slopes": pd.DataFrame(slope_rows), "per_seed": per_seed,
            "histograms": pd.DataFrame(hist_rows), "jacobian": pd.DataFrame(jac_rows), "width": cfg.width}


def g2_ratio_rows(config: ml_collections.ConfigDict, per_seed: dict) -> list[dict]:
    """G2: E[h_(l+1)^2]/E[h_l^2] per layer for every init of the G2 activation, with the predicted ratio."""
    crit = config.criteria.g2
    xavier_init, he_init = crit.inits
    pred = {xavier_init: crit.xavier_ratio, he_init: crit.he_ratio}
    rows = []
    for (act, init), v in per_seed.items():
        if act == crit.activation:
            e = stats.mean_ci(v["ratio"])
            rows.append({"init": init, "preact_sq_ratio_per_layer": e.mean, "preact_sq_ratio_per_layer_lo": e.lo,
                         "preact_sq_ratio_per_layer_hi": e.hi, "predicted": pred.get(init, np.nan), "n_seeds": e.n})
    return rows


def profile(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``profile`` (G1, G2): the per-layer tables; ``g2_ratios`` when G2's activation and both its inits ran."""
    prof = run_profiles(config)
    out = {"profile_layers": prof["layers"], "profile_slopes": prof["slopes"], "histograms": prof["histograms"],
           "jacobian": prof["jacobian"]}
    crit = config.criteria.g2
    if all((crit.activation, init) in prof["per_seed"] for init in crit.inits):
        out["g2_ratios"] = pd.DataFrame(g2_ratio_rows(config, prof["per_seed"]))
    return out

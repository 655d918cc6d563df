"""The gradient profile at initialisation of experiments.vanishing (claims D1, D2, D3, D5).

Per-layer ln||dL/dh_l|| (computed in log space, :mod:`.profile_net`), the
activation derivatives phi'(h_l) and q_l = E[h_l^2], for every activation x initialisation, on
Gaussian inputs and real data. One compiled program per data set serves every activation,
init and seed (seeds and inits vmapped, the activation a traced index); the inits of one seed
share one standard draw. Against n log10 of the derivative bound (``criteria.d1.bound``) and
against mean field layer by layer from the measured q_1 (:func:`experiments.kit.theory.layerwise_many`),
with the tolerance ``criteria.theory``. The training measurements are in :mod:`.measure_training`.
"""

from __future__ import annotations

import functools

import jax
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, inits, ondevices, perf, stats, theory

from . import net, profile_net

D2_TABLE = "sigmoid_mean_derivative"  # the table of D2 (named after the activation of criteria.d2)
LN10 = float(np.log(10.0))
Q_UNDERFLOW = "q underflow"  # a layer row whose pre-activations are exactly 0 in float32 for some seed (log10_q empty)


@perf.once
def _profile_fn(activations: tuple[str, ...], groups):
    return profile_net.make_profile(activations, groups)


def _fit_log_gain(log_grad_h: np.ndarray, skip: int) -> np.ndarray:
    """Per row, minus the least-squares slope of ln||dL/dh_l|| against l over layers skip..L-1-skip."""
    depth = log_grad_h.shape[-1]
    layers = np.arange(depth)
    keep = (layers >= skip) & (layers <= depth - 1 - skip)
    if keep.sum() < 3:
        keep = np.ones(depth, bool)
    xs = layers[keep] - layers[keep].mean()
    ys = log_grad_h[..., keep]
    return -np.sum(xs * (ys - ys.mean(-1, keepdims=True)), -1) / np.sum(xs * xs)


def _mean(values: np.ndarray, axis=0) -> np.ndarray:
    """Mean over ``axis`` that is NaN (not a warning) where there is nothing to average."""
    values = np.asarray(values, float)
    n = values.shape[axis]
    return np.full(np.delete(values.shape, axis), np.nan) if n == 0 else values.mean(axis)


def sigma_w2_of(init: str, width: int) -> float:
    """The hidden layers' sigma_w^2 = fan_in Var(W) of ``init`` (population value)."""
    kind, scale = inits.form(init, (width, width))
    return {"normal": width * scale**2, "uniform": width * scale**2 / 3, "orthogonal": 1.0}[kind]


def _measure(cfg) -> tuple[dict, dict]:
    """({(data set, init, activation): dict of (S, L) arrays}, {same key: theory.Layerwise}): one
    program per data set; each activation's theory runs in the task that measured it on the last
    data set, so it overlaps the other activations' profiles."""
    measured, lws = {}, {}
    shares = {ds: _input_shares(cfg, ds) for ds in cfg.datasets}
    for n, ds_name in enumerate(cfg.datasets):
        then = functools.partial(_theory_after, cfg, shares, dict(measured)) if n == len(cfg.datasets) - 1 else None
        got, theories = _measure_dataset(cfg, ds_name, prepare_theory=n == 0, then=then)
        measured.update(got)
        lws.update(theories)
    return measured, {k: lws[k] for k in measured}


def _theory_after(cfg, shares: dict, earlier: dict, activation: str, got: dict) -> dict:
    """:func:`_theory_of` one activation, its conditions on the earlier data sets first, then ``got``."""
    return _theory_of(cfg, activation, {**{k: v for k, v in earlier.items() if k[2] == activation}, **got}, shares)


def _measure_dataset(cfg, ds_name: str, prepare_theory: bool, then=None) -> tuple[dict, dict]:
    """:func:`_measure` on one data set. The standard draws run while the profile program (and,
    with ``prepare_theory``, the theory's programs) compile on the other thread; then the
    activations run over the threads, each followed by ``then(activation, its measurements)``
    (a dict of theories) in the same task."""
    names, kinds = tuple(cfg.activations), profile_net.kinds_of(cfg.inits)
    depth, width = cfg.depth, cfg.width
    seeds = np.arange(cfg.seeds, dtype=np.int32)
    ds = data.load(ds_name)
    x = np.asarray(ds.x_train[: cfg.batch_size].reshape(cfg.batch_size, -1), np.float32)
    y = np.asarray(ds.y_train[: cfg.batch_size], np.int32)
    mats = ((ds.n_features, width), (width, width), (width, ds.n_classes))
    draws = profile_net.make_draws((mats[0], (depth - 1, width, width), mats[2]), kinds)
    ordered = profile_net.by_kind(cfg.inits)
    coef = profile_net.coefficients(ordered, mats, kinds)
    fn = _profile_fn(names, profile_net.groups_of(coef))
    tasks = [lambda: ondevices.execute(draws, seeds),
             lambda: ondevices.compile_ahead(fn, np.int32(0), coef, *jax.eval_shape(draws, seeds), x, y)]
    if prepare_theory:
        tasks += theory.compile_tasks(names, depth, _n_pairs(cfg))
    base = ondevices.on_devices(tasks)[0]
    n_nets = len(cfg.inits) * cfg.seeds
    flops = n_nets * (4 * cfg.batch_size * net.macs(ds.n_features, width, depth, ds.n_classes)
                      + 4 * depth * cfg.batch_size**2 * width)

    def task(i: int, activation: str) -> tuple[dict, dict]:
        out = ondevices.execute(fn, np.int32(i), coef, *base, x, y, flops=flops)
        out = {k: np.asarray(v, float) for k, v in out.items()}
        got = {(ds_name, init, activation): {k: v[:, j] for k, v in out.items()} for j, init in enumerate(ordered)}
        return got, (then(activation, got) if then else {})

    measured, theories = {}, {}
    for got, lws in ondevices.on_devices([functools.partial(task, i, a) for i, a in enumerate(names)]):
        measured.update(got)
        theories.update(lws)
    return measured, theories


def _n_pairs(cfg) -> int:
    """(sigma_w^2, q_1) pairs per activation in :func:`_theory`: per condition its batch mean and its examples."""
    return len(cfg.datasets) * len(cfg.inits) * (1 + cfg.batch_size)


def _input_shares(cfg, ds_name: str) -> np.ndarray:
    """||x_b||^2 / mean_b ||x_b||^2 over the profile's batch: each example's share of the measured q_1."""
    ds = data.load(ds_name)
    x = np.asarray(ds.x_train[: cfg.batch_size].reshape(cfg.batch_size, -1), float)
    sq = (x**2).sum(-1)
    return sq / sq.mean()


def _per_example(lw_all: list, batch: int) -> theory.Layerwise:
    """One condition's theory from its examples' mean fields (issue 13, defect 1).

    The measured ||dL/dh_l||^2 sums over the batch, so examples whose q stays where the length map
    is relu-like dominate it; with equal top-layer gradients per example it follows
    S_l = sum_b prod_(k>=l) chi_1,b(q_k,b), i.e. an effective chi_1(l) = S_l / S_(l+1). ``q`` and
    ``mean_dphi`` are batch means; ``kappa`` and ``q_star`` are those of the batch-mean q_1 (the first
    entry), so the tolerance is the one the config states.
    """
    chis = np.stack([lw.chi_1 for lw in lw_all[1:]])  # (B, L)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        log_chi = np.log(chis[:, :-1])
        tail = np.cumsum(log_chi[:, ::-1], axis=1)[:, ::-1]  # ln prod_(k>=l), l = 1..L-1
        log_s = np.concatenate([np.logaddexp.reduce(tail, axis=0), [np.log(batch)]])
        chi_eff = np.exp(log_s[:-1] - log_s[1:])
    base = lw_all[0]
    chi = np.concatenate([chi_eff, base.chi_1[-1:]])
    q = np.mean([lw.q for lw in lw_all[1:]], axis=0)
    dphi = np.mean([lw.mean_dphi for lw in lw_all[1:]], axis=0)
    return theory.Layerwise(q, chi, dphi, base.kappa, base.q_star)


def _theory_of(cfg, activation: str, measured: dict, shares: dict) -> dict:
    """{key: theory.Layerwise} of one activation's conditions (``measured``: its keys over every
    data set; ``shares``: :func:`_input_shares` per data set): mean field from each example's
    q_1 = measured q_1 x its input share, combined over the batch (:func:`_per_example`); one
    vectorised evaluation."""
    q1, sw, sizes = [], [], [0]
    for k, m in measured.items():
        ok = _finite_seeds(m)
        mean_q1 = float(np.exp(m["log_q"][ok, 0]).mean()) if ok.any() else 1.0
        share = shares[k[0]]
        q1 += [mean_q1, *(mean_q1 * share)]
        sw += [sigma_w2_of(k[1], cfg.width)] * (1 + len(share))
        sizes.append(sizes[-1] + 1 + len(share))
    lws = theory.layerwise_many(activation, sw, q1, cfg.depth, group=tuple(cfg.activations))
    return {k: _per_example(lws[lo:hi], hi - lo - 1) for k, lo, hi in zip(measured, sizes[:-1], sizes[1:])}


def _finite_seeds(m: dict) -> np.ndarray:
    return m["finite"].astype(bool) & np.isfinite(m["log_grad_h"]).all(-1)


def _theory_gain(lw: theory.Layerwise, skip: int) -> float:
    """The theory's log-gain by the same fit as the measurement: ln||d_l|| - ln||d_(l+1)|| = 0.5 ln chi_1(q_l)."""
    half_log = 0.5 * np.log(lw.chi_1[:-1])
    curve = np.concatenate([np.cumsum(half_log[::-1])[::-1], [0.0]])
    return float(_fit_log_gain(curve[None], skip)[0])


def _summary_row(key, m, lw, cfg, crit, log10_bound) -> dict:
    ds_name, init, activation = key
    depth, n = cfg.depth, cfg.depth - 1
    ok = _finite_seeds(m)
    lg = m["log_grad_h"][ok]
    ratio = stats.mean_ci((lg[:, 0] - lg[:, -1]) / LN10)
    gain = stats.mean_ci(_fit_log_gain(lg, cfg.fit_skip))
    dphi = stats.mean_ci(m["mean_dphi"][ok, 1:].mean(-1)) if ok.any() else stats.mean_ci([])
    with np.errstate(divide="ignore"):
        prod_max = np.log10(m["max_abs_dphi"][ok, 1:]).sum(-1)
        prod_mean = np.log10(m["mean_abs_dphi"][ok, 1:]).sum(-1)
    window = slice(cfg.fit_skip, depth - cfg.fit_skip)
    theory_gain = _theory_gain(lw, cfg.fit_skip) if np.isfinite(lw.chi_1).all() else np.nan
    kappa = float(np.nanmean(lw.kappa[window])) if np.isfinite(lw.kappa[window]).any() else np.nan
    tol = crit.abs_tol + (3 * kappa - 1) / (4 * cfg.width)
    both = np.isfinite(gain.mean) and np.isfinite(theory_gain)
    check = ("agrees" if abs(gain.mean - theory_gain) <= tol else "disagrees") if both else "not finite"
    n_over = int((~ok).sum())
    status = "ok" if n_over == 0 else ("overflow" if not ok.any() else f"overflow in {n_over} seeds")
    return {
        "dataset": ds_name, "init": init, "activation": activation, "sigma_w2": sigma_w2_of(init, cfg.width),
        "status": status, "n_overflow": n_over, "n_layers_backprop": n, "log10_bound": n * log10_bound,
        "log10_ratio": ratio.mean, "log10_ratio_lo": ratio.lo, "log10_ratio_hi": ratio.hi,
        "factor": 10 ** (ratio.mean / n), "factor_lo": 10 ** (ratio.lo / n), "factor_hi": 10 ** (ratio.hi / n),
        "log10_prod_mean_dphi": float(prod_mean.mean()) if ok.any() else np.nan,
        "log10_prod_max_dphi": float(prod_max.max()) if ok.any() else np.nan,
        "mean_dphi": dphi.mean, "mean_dphi_lo": dphi.lo, "mean_dphi_hi": dphi.hi,
        "log_gain": gain.mean, "log_gain_lo": gain.lo, "log_gain_hi": gain.hi, "log_gain_theory": theory_gain,
        "theory_tol": tol, "theory_check": check, "kappa": kappa, "chi_1": float(np.mean(lw.chi_1[window])),
        "q_1": float(lw.q[0]), "q_star": lw.q_star, "n_seeds": int(ok.sum()),
    }  # fmt: skip


def _layer_rows(key, m, lw) -> list[dict]:
    ok = _finite_seeds(m)
    lg10 = m["log_grad_h"][ok] / LN10
    top = _mean(lg10[:, -1]) if ok.any() else np.nan
    theory_curve = top + np.concatenate([np.cumsum((0.5 * np.log(lw.chi_1[:-1]) / LN10)[::-1])[::-1], [0.0]])
    rows = []
    for layer in range(m["log_grad_h"].shape[-1]):
        log_q = m["log_q"][ok, layer]
        underflow = bool(np.isneginf(log_q).any())  # pre-activations exactly 0 in float32: no q to report
        rows.append({
            "dataset": key[0], "init": key[1], "activation": key[2], "layer": layer + 1,
            "log10_grad_h": float(_mean(lg10[:, layer])),
            "log10_grad_h_theory": float(theory_curve[layer]), "mean_dphi": float(_mean(m["mean_dphi"][ok, layer])),
            "max_abs_dphi": float(m["max_abs_dphi"][ok, layer].max()) if ok.any() else np.nan,
            "log10_q": np.nan if underflow else float(_mean(log_q / LN10)), "q_theory": float(lw.q[layer]),
            "saturated": float(_mean(m["saturated"][ok, layer])), "n_seeds": int(ok.sum()),
            "status": "overflow" if not ok.all() else (Q_UNDERFLOW if underflow else "ok"),
        })  # fmt: skip
    return rows


def measure_profile(cfg: ml_collections.ConfigDict, crit, log10_bound: float) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Per-layer (long) and per-condition tables of the gradient profile, and the raw per-seed arrays."""
    measured, lws = _measure(cfg)
    layers, summary = [], []
    for key, m in measured.items():
        layers.extend(_layer_rows(key, m, lws[key]))
        summary.append(_summary_row(key, m, lws[key], cfg, crit, log10_bound))
    return pd.DataFrame(layers), pd.DataFrame(summary), measured


def mean_derivative_table(summary: pd.DataFrame, measured: dict, cfg, activation: str) -> pd.DataFrame:
    """D2: measured mean phi'(h_l) per (data, init) vs E[phi'(sqrt(q_l) z)] at the measured q_l (layers 2..L)."""
    rows = []
    for (ds_name, init, act), m in measured.items():
        if act != activation:
            continue
        ok = _finite_seeds(m)
        if not ok.any():
            continue
        q = np.exp(m["log_q"][ok, 1:]).mean(0)
        want = theory.moments(activation, q, group=tuple(cfg.activations))["dphi"]
        got = m["mean_dphi"][ok, 1:].mean(0)
        rel = np.abs(got - want) / want
        s = summary[(summary.dataset == ds_name) & (summary.init == init) & (summary.activation == act)].iloc[0]
        rows.append({"dataset": ds_name, "init": init, "mean_dphi": s.mean_dphi, "mean_dphi_lo": s.mean_dphi_lo,
                     "mean_dphi_hi": s.mean_dphi_hi, "theory_mean_dphi": float(want.mean()),
                     "max_layer_mean_dphi": float(got.max()), "max_rel_err": float(rel.max()),
                     "mean_rel_err": float(rel.mean()), "factor": s.factor, "factor_lo": s.factor_lo,
                     "factor_hi": s.factor_hi, "n_seeds": int(ok.sum())})
    return pd.DataFrame(rows)


def run_profile(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``profile``: ``profile_summary``, ``profile_<data set>`` and D2's table."""
    crit = config.criteria
    layers, summary, measured = measure_profile(config.profile, crit.theory, float(np.log10(crit.d1.bound)))
    out = {"profile_summary": summary}
    d2 = mean_derivative_table(summary, measured, config.profile, crit.d2.activation)
    if len(d2):  # no row of that activation: no table, and D2 is not decided
        out[D2_TABLE] = d2
    out.update({f"profile_{d}": layers[layers.dataset == d] for d in config.profile.datasets})
    return out

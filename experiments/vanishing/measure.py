"""The gradient profile at initialisation of experiments.vanishing (claims D1, D2, D3, D5).

Per-layer ||dL/dh_l||, ||dL/dW_l||, the activation derivatives phi'(h_l) and q_l = E[h_l^2], for
every activation x initialisation, on Gaussian inputs and real data; seeds are vmapped, one
compile per (activation, data set), the same drawn weights serve every activation (paired).
Against n log10 of the derivative bound (``criteria.d1.bound``) and against mean field. The
training measurements (D4, D6, the edge-of-chaos map) are in :mod:`.measure_training`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, perf, stats, theory

from . import net

D2_TABLE = "sigmoid_mean_derivative"  # the table of D2 (named after the activation of criteria.d2)


def _profile_fn(activation: str):
    """jit(vmap over seeds) of one net's per-layer gradient and derivative statistics."""
    act = acts.get(activation)

    def one(params, x, y):
        depth, width = params["b"].shape
        eps = jnp.zeros((depth, x.shape[0], width))

        def loss(e):
            logits, hs, a = net.forward(params, x, act.fn, False, e)
            return net.xent(logits, y), (hs, a)

        g, (hs, a) = jax.grad(loss, has_aux=True)(eps)
        gram_g = jnp.einsum("lbi,lci->lbc", g, g)
        inputs_gram = jnp.concatenate([(x @ x.T)[None], jnp.einsum("lbi,lci->lbc", a[:-1], a[:-1])])
        dphi = act.derivative(hs)
        return {
            "grad_h": jnp.sqrt(jnp.sum(g**2, axis=(1, 2))),
            "grad_w": jnp.sqrt(jnp.abs(jnp.sum(gram_g * inputs_gram, axis=(1, 2)))),
            "mean_dphi": jnp.mean(dphi, axis=(1, 2)),
            "mean_abs_dphi": jnp.mean(jnp.abs(dphi), axis=(1, 2)),
            "max_abs_dphi": jnp.max(jnp.abs(dphi), axis=(1, 2)),
            "q": jnp.mean(hs**2, axis=(1, 2)),
            "saturated": jnp.mean(jnp.abs(hs) > 2.0, axis=(1, 2)),
        }

    return perf.jit(jax.vmap(one, in_axes=(0, None, None)))


def _fit_log_gain(grad_h: np.ndarray, skip: int) -> np.ndarray:
    """Per seed, minus the slope of ln||dL/dh_l|| against l: the backward per-layer log-gain."""
    depth = grad_h.shape[1]
    layers = np.arange(depth)
    keep = (layers >= skip) & (layers <= depth - 1 - skip)
    out = np.full(grad_h.shape[0], np.nan)
    for s, row in enumerate(grad_h):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(row)
        ok = keep & np.isfinite(y)
        if ok.sum() >= 3:
            out[s] = -np.polyfit(layers[ok], y[ok], 1)[0]
    return out


def _log10_ratio(grad_h: np.ndarray) -> np.ndarray:
    """log10 ||dL/dh_1|| / ||dL/dh_L|| per seed; -inf where the bottom gradient underflows to 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log10(grad_h[:, 0]) - np.log10(grad_h[:, -1])
    bad = ~np.isfinite(grad_h).all(axis=1)
    return np.where(bad, np.nan, r)


def _ci_or_inf(values: np.ndarray) -> stats.Estimate:
    """Mean CI of the finite values; all -inf (underflow) gives -inf."""
    v = np.asarray(values, float)
    if len(v) and np.all(np.isneginf(v)):
        return stats.Estimate(-np.inf, -np.inf, -np.inf, len(v))
    return stats.mean_ci(v)


def measure_profile(cfg: ml_collections.ConfigDict, log10_bound: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-layer (long) and per-condition tables of the gradient profile at initialisation.

    ``log10_bound``: log10 of the per-layer derivative bound (0.25 for the sigmoid), times n in
    the table's ``log10_bound``.
    """
    layers_rows, summary_rows, measured = [], [], {}
    depth, width, n_seeds = cfg.depth, cfg.width, cfg.seeds
    fns = {a: _profile_fn(a) for a in cfg.activations}
    keys = jnp.stack([jax.random.split(jax.random.PRNGKey(s), 3)[0] for s in range(n_seeds)])
    for ds_name in cfg.datasets:
        ds = data.load(ds_name)
        x = jnp.asarray(ds.x_train[: cfg.batch_size].reshape(cfg.batch_size, -1))
        y = jnp.asarray(ds.y_train[: cfg.batch_size])
        dims = (ds.n_features, width, depth, ds.n_classes)
        flops = 4 * cfg.batch_size * net.macs(*dims) * n_seeds + 4 * depth * cfg.batch_size**2 * width * n_seeds
        for init in cfg.inits:
            draw = perf.jit(jax.vmap(lambda k, init=init, dims=dims: net.init_params(k, init, *dims)))
            params = draw(keys)
            sigma_w2 = float(jnp.mean(params["w_hid"] ** 2) * width) if depth > 1 else float("nan")
            for activation in cfg.activations:
                out = perf.execute(fns[activation], params, x, y, flops=flops)
                measured[(ds_name, init, activation)] = ({k: np.asarray(v, float) for k, v in out.items()}, sigma_w2)
    for activation in cfg.activations:  # mean field: phi compiled once per activation
        keys_ = [k for k in measured if k[2] == activation]
        mfs = theory.mean_field_many(activation, [measured[k][1] for k in keys_])
        for key, mf in zip(keys_, mfs):
            fields = {"dataset": key[0], "init": key[1], "sigma_w2": measured[key][1]}
            _profile_rows(layers_rows, summary_rows, fields, activation, measured[key][0], mf, cfg, log10_bound)
    return pd.DataFrame(layers_rows), pd.DataFrame(summary_rows)


def _profile_rows(layers_rows, summary_rows, fields, activation, m, mf, cfg, log10_bound) -> None:
    depth = cfg.depth
    n = depth - 1
    finite = np.isfinite(m["grad_h"]).all(axis=1) & np.isfinite(m["q"]).all(axis=1)
    for layer in range(depth):
        layers_rows.append(dict(
            **fields, activation=activation, layer=layer + 1,
            grad_h=float(np.mean(m["grad_h"][:, layer])), grad_w=float(np.mean(m["grad_w"][:, layer])),
            mean_dphi=float(np.mean(m["mean_dphi"][:, layer])), max_abs_dphi=float(np.max(m["max_abs_dphi"][:, layer])),
            q=float(np.mean(m["q"][:, layer])), saturated=float(np.mean(m["saturated"][:, layer])),
        ))  # fmt: skip
    ratio = _ci_or_inf(_log10_ratio(m["grad_h"]))
    gain = stats.mean_ci(_fit_log_gain(m["grad_h"], cfg.fit_skip))
    with np.errstate(divide="ignore", invalid="ignore"):  # overflowed seeds give NaN, kept out by nan-means
        prod_mean = np.sum(np.log10(m["mean_abs_dphi"][:, 1:]), axis=1)  # layers 2..L: n factors
        prod_max = np.sum(np.log10(m["max_abs_dphi"][:, 1:]), axis=1)
    if not np.isfinite(prod_max).any():
        prod_mean = prod_max = np.array([np.nan])
    status = "ok" if finite.all() else ("overflow" if not finite.any() else f"overflow in {int((~finite).sum())} seeds")
    summary_rows.append(dict(
        **fields, activation=activation, status=status, n_layers_backprop=n,
        log10_bound=n * log10_bound,
        log10_ratio=ratio.mean, log10_ratio_lo=ratio.lo, log10_ratio_hi=ratio.hi,
        log10_prod_mean_dphi=float(np.nanmean(prod_mean)), log10_prod_max_dphi=float(np.nanmax(prod_max)),
        log_gain=gain.mean, log_gain_lo=gain.lo, log_gain_hi=gain.hi,
        log_gain_theory=mf.grad_log_decay if np.isfinite(mf.chi_1) else np.nan,
        q_star=mf.q_star, chi_1=mf.chi_1, mean_dphi_theory_qstar=mf.mean_dphi,
        mean_dphi=float(np.nanmean(m["mean_dphi"][:, 1:])), n_seeds=int(finite.sum()),
    ))  # fmt: skip


def mean_derivative_table(summary: pd.DataFrame, layers: pd.DataFrame, activation: str) -> pd.DataFrame:
    """D2: measured mean phi'(h_l) per (data, init) vs E[phi'(sqrt(q_l) z)] at the measured q_l."""
    lay = layers[(layers.activation == activation) & (layers.layer > 1)].copy()
    if lay.empty:
        return pd.DataFrame()
    dphi = acts.get(activation).derivative
    lay["theory_mean_dphi"] = [theory.gaussian_expectation(lambda z, q=q: np.asarray(dphi(np.sqrt(q) * z)))
                               for q in lay.q]
    lay["rel_err"] = (lay.mean_dphi - lay.theory_mean_dphi).abs() / lay.theory_mean_dphi
    table = lay.groupby(["dataset", "init"], sort=False).agg(
        mean_dphi=("mean_dphi", "mean"), theory_mean_dphi=("theory_mean_dphi", "mean"),
        max_layer_mean_dphi=("mean_dphi", "max"), max_rel_err=("rel_err", "max"), mean_rel_err=("rel_err", "mean"),
    ).reset_index()
    s = summary[summary.activation == activation].set_index(["dataset", "init"])
    table["mean_dphi_ci_hi"] = [float(s.loc[(r.dataset, r.init)].mean_dphi) for r in table.itertuples()]
    return table


def run_profile(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``profile``: ``profile_summary``, ``profile_<data set>`` and D2's table."""
    layers, summary = measure_profile(config.profile, float(np.log10(config.criteria.d1.bound)))
    out = {"profile_summary": summary}
    d2 = mean_derivative_table(summary, layers, config.criteria.d2.activation)
    if len(d2):  # no row of that activation: no table, and D2 is not decided
        out[D2_TABLE] = d2
    out.update({f"profile_{d}": layers[layers.dataset == d] for d in config.profile.datasets})
    return out

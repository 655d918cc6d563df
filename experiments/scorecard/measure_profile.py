"""Section ``profile`` of the scorecard: the gradient through a deep MLP at init (claims D1-D5, G1, G2).

At Xavier and He: experiments.vanishing's own measurement (``run_profile``: per-layer ln||dL/dh_l||
over the batch, the fitted per-layer log-gain with its CI over seeds, beside mean field's). At each
activation's critical init (sigma_w^2 from the ``theory`` section, biases N(0, sigma_b^2)) the
vanishing profile net has no biases, so the same quantities are measured here on experiments.vanishing's
scan net (``net.init_params`` with ``bias_std``, lecun_normal scaled by sqrt(sigma_w^2), as its
edge-of-chaos map draws them): ln of the Frobenius norm of dL/dh_l over the batch (the gradient stays
within float32 at criticality), the log-gain fitted over layers ``fit_skip``..L-1-``fit_skip``, and
mean field layer by layer from the measured q_1 (:func:`experiments.kit.theory.layerwise`, R10) fitted
the same way.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, perf, stats, theory

from . import adapter
from .common import activations
from .measure_theory import critical_sigma_w2

LN10 = float(np.log(10.0))


@functools.cache
def _critical_fn(activation: str):
    """jit(vmap over seeds): ln||dL/dh_l|| and ln E[h_l^2] per layer, and whether h stayed finite."""
    net, phi = adapter.vanishing_net(), acts.get(activation).fn

    def log_norm(g):
        m = jnp.max(jnp.abs(g))
        return jnp.log(m) + 0.5 * jnp.log(jnp.sum((g / jnp.where(m > 0, m, 1.0)) ** 2))

    def one(params, x, y):
        eps = jnp.zeros((params["b"].shape[0], x.shape[0], params["b"].shape[1]))

        def loss(e):
            logits, hs, _ = net.forward(params, x, phi, False, e)
            return net.xent(logits, y), hs

        g, hs = jax.grad(loss, has_aux=True)(eps)
        return {"log_grad_h": jax.vmap(log_norm)(g), "log_q": jnp.log(jnp.mean(hs**2, axis=(1, 2))),
                "finite": jnp.all(jnp.isfinite(hs)) & jnp.all(jnp.isfinite(g))}

    return perf.jit(jax.vmap(one, in_axes=(0, None, None)))


def fit_log_gain(log_values: np.ndarray, skip: int) -> np.ndarray:
    """Per row, minus the least-squares slope of ``log_values`` against the layer (layers skip..L-1-skip)."""
    layers = np.arange(log_values.shape[-1])
    keep = (layers >= skip) & (layers < len(layers) - skip)
    keep = keep if keep.sum() >= 3 else np.ones_like(keep)
    return -np.polyfit(layers[keep], np.atleast_2d(log_values)[:, keep].T, 1)[0]


def _critical_rows(activation: str, s2: float, config, x, y, dims) -> tuple[list[dict], dict]:
    p, net, sigma_b2 = config.profile, adapter.vanishing_net(), config.theory.sigma_b2
    keys = jnp.stack([jax.random.split(jax.random.PRNGKey(s), 3)[0] for s in range(config.seeds)])
    draw = perf.jit(jax.vmap(lambda k: net.scale_weights(
        net.init_params(k, "lecun_normal", *dims, bias_std=float(np.sqrt(sigma_b2))), float(np.sqrt(s2)))))
    m = {k: np.asarray(v, float) for k, v in perf.execute(_critical_fn(activation), draw(keys), x, y).items()}
    ok = m["finite"].astype(bool) & np.isfinite(m["log_grad_h"]).all(-1)
    lg = m["log_grad_h"][ok]
    lw = theory.layerwise(activation, s2, float(np.exp(m["log_q"][ok, 0]).mean()) if ok.any() else 1.0, p.depth, sigma_b2)
    curve = np.concatenate([np.cumsum((0.5 * np.log(lw.chi_1[:-1]))[::-1])[::-1], [0.0]])  # ln||d_l|| - ln||d_L||
    gain, ratio = stats.mean_ci(fit_log_gain(lg, p.fit_skip)), stats.mean_ci((lg[:, 0] - lg[:, -1]) / LN10)
    top = float(lg[:, -1].mean()) if ok.any() else np.nan
    layers = [{"dataset": p.dataset, "init": "critical", "activation": activation, "layer": layer + 1,
               "log10_grad_h": float(lg[:, layer].mean() / LN10) if ok.any() else np.nan,
               "log10_grad_h_theory": (top + curve[layer]) / LN10, "q_theory": float(lw.q[layer]), "n_seeds": int(ok.sum())}
              for layer in range(p.depth)]
    summary = {"dataset": p.dataset, "init": "critical", "activation": activation, "sigma_w2": s2, "sigma_b2": sigma_b2,
               "status": "ok" if ok.all() else f"overflow in {int((~ok).sum())} seeds",
               "log10_ratio": ratio.mean, "log10_ratio_lo": ratio.lo, "log10_ratio_hi": ratio.hi,
               "log_gain": gain.mean, "log_gain_lo": gain.lo, "log_gain_hi": gain.hi,
               "log_gain_theory": float(fit_log_gain(curve[None], p.fit_skip)[0]) if np.isfinite(curve).all() else np.nan,
               "chi_1": float(np.nanmean(lw.chi_1)), "q_1": float(lw.q[0]), "n_seeds": int(ok.sum())}
    return layers, summary


def profile_at_critical(config: ml_collections.ConfigDict, critical: dict[str, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-layer and summary rows at each activation's critical init (none where it has no edge of chaos)."""
    p = config.profile
    ds = data.load(p.dataset)
    x = jnp.asarray(ds.x_train[: p.batch_size].reshape(p.batch_size, -1))
    y = jnp.asarray(ds.y_train[: p.batch_size])
    dims = (ds.n_features, p.width, p.depth, ds.n_classes)
    layers, summary = [], []
    for activation in activations(config):
        if np.isfinite(critical.get(activation, np.nan)):
            rows, row = _critical_rows(activation, critical[activation], config, x, y, dims)
            layers += rows
            summary.append(row)
    return pd.DataFrame(layers), pd.DataFrame(summary)


def _log10_layers(layers: pd.DataFrame) -> pd.DataFrame:
    """vanishing's per-layer table with ``log10_grad_h`` (older versions carry ``grad_h``)."""
    if "log10_grad_h" not in layers and "grad_h" in layers:
        with np.errstate(divide="ignore"):
            layers = layers.assign(log10_grad_h=np.log10(layers.grad_h.to_numpy(float)))
    return layers


def measure_profile(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``gradient_profile`` (per activation x init) and ``gradient_layers`` (per layer)."""
    names = activations(config)
    layers, summary = adapter.gradient_profile(adapter.vanishing_config(config, names, ("xavier_normal", "he_normal")))
    critical = t["_critical"] if "_critical" in t else {n: critical_sigma_w2(n, config.theory) for n in names}
    crit_layers, crit_summary = profile_at_critical(config, critical)
    return {"gradient_profile": pd.concat([summary, crit_summary], ignore_index=True),
            "gradient_layers": pd.concat([_log10_layers(layers), crit_layers], ignore_index=True)}

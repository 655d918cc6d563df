"""The training measurements of experiments.vanishing: saturation (D4), depth sweep (D6), edge of chaos.

2. Saturation during training (D4): Glorot & Bengio's 4-hidden-layer MLP with standard init and
   SGD on Fashion-MNIST; per-layer fraction |h| > 2 and the lowest layer's gradient norm, through
   the kit trainer's probe hook.
3. Trainability vs depth (D6) with and without BatchNorm, learning rates vmapped, best per condition.
4. Edge-of-chaos map: tanh, sigma_w^2 x depth, trainable iff depth < 6 xi_c (Schoenholz et al. 2017).
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, stats, theory, train

from . import net


def _saturation_probe(loss_fn):
    def probe(model, variables, x, y):
        st = models.layer_stats(model, variables, x, loss_fn, y)
        kernel = st["grad_params"]["dense_0"]["kernel"]
        return {
            "saturated": jnp.mean(jnp.abs(st["preact"]) > 2.0, axis=(1, 2)),
            "top_below_0.1": jnp.mean(st["act"][-1] < 0.1),
            "mean_act": jnp.mean(st["act"], axis=(1, 2)),
            "grad_lowest": jnp.sqrt(jnp.sum(kernel**2)),
        }

    return probe


def measure_saturation(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, dict]:
    """Per activation, step and layer: the saturated fraction and the lowest layer's gradient norm."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    spec = train.TrainSpec(optimizer="sgd", steps=cfg.steps, batch_size=cfg.batch_size, log_every=cfg.log_every,
                           n_eval=cfg.n_eval)
    probe = _saturation_probe(train.loss_function("xent", ds.n_classes))
    rows, raw = [], {}
    for activation in cfg.activations:
        model = models.build("mlp", ds.n_classes, widths=(cfg.width,) * cfg.hidden_layers, activation=activation,
                             initializer=cfg.init)
        pop = train.train_population(model, ds, spec, range(cfg.seeds), cfg.learning_rate, probe=probe)
        raw[activation] = (pop.steps, pop.metrics)
        sat = pop.metrics["saturated"]  # (R, T, L)
        for t, step in enumerate(pop.steps):
            for layer in range(cfg.hidden_layers):
                rows.append({
                    "activation": activation, "step": int(step), "layer": layer + 1,
                    "saturated": float(np.nanmean(sat[:, t, layer])),
                    "mean_act": float(np.nanmean(pop.metrics["mean_act"][:, t, layer])),
                    "top_below_0_1": float(np.nanmean(pop.metrics["top_below_0.1"][:, t])),
                    "grad_lowest": float(np.nanmean(pop.metrics["grad_lowest"][:, t])),
                    "train_acc": float(np.nanmean(pop.metrics["train_acc"][:, t])),
                })  # fmt: skip
    return pd.DataFrame(rows), raw


def _train_grid(activation, batch_norm, init, ds, cfg, depths, seeds, lrs, scales, bias_std=0.0):
    """Final training accuracy and divergence, shape (seeds, depths, lrs, scales); one jit per call.

    The net is built at the largest depth and each depth keeps its first ``depth`` layers (the
    rest are skipped), so every depth shares one compiled function (one compile per activation
    and BatchNorm setting).
    """
    x = ds.x_train.reshape(len(ds.x_train), -1)
    order = np.random.default_rng(0).permutation(len(x))[: cfg.n_eval]
    dims = (ds.n_features, cfg.width, max(depths), ds.n_classes)
    fn = net.make_trainer(acts.get(activation).fn, batch_norm, init, dims, cfg.steps, cfg.batch_size, bias_std)
    runs, shape = train.run_grid(seeds, learning_rate=lrs, weight_scale=scales)
    args = (jnp.asarray(runs["seed"]), jnp.asarray(runs["learning_rate"], jnp.float32),
            jnp.asarray(runs["weight_scale"], jnp.float32), jnp.asarray(depths, jnp.int32),
            jnp.asarray(x), jnp.asarray(ds.y_train), jnp.asarray(x[order]), jnp.asarray(ds.y_train[order]))
    d_in, width, _, n_out = dims
    macs = sum(net.macs(d_in, width, d, n_out) for d in depths)  # executed layers only
    flops = len(runs["seed"]) * (6 * macs * cfg.batch_size * cfg.steps + 2 * macs * cfg.n_eval)
    acc, _, diverged = perf.execute(fn, *args, flops=flops)  # (D, R)
    full = (len(depths), *shape)
    acc = np.moveaxis(np.asarray(acc, float).reshape(full), 0, 1)
    return acc, np.moveaxis(np.asarray(diverged).reshape(full), 0, 1)


def measure_depth(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, dict, dict, dict]:
    """Best-lr training accuracy per (activation, BatchNorm, depth) over seeds (D6).

    Also, per condition: the per-seed accuracies, the best learning rate and which seeds diverged there.
    """
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    rows, per_seed, best_lrs, diverged = [], {}, {}, {}
    for activation, init in zip(cfg.activations, cfg.inits):
        for bn in (False, True):
            acc_all, div_all = _train_grid(activation, bn, init, ds, cfg, cfg.depths, range(cfg.seeds),
                                           cfg.learning_rates, [1.0])
            for j, depth in enumerate(cfg.depths):
                acc, div = acc_all[:, j, :, 0], div_all[:, j, :, 0]  # (S, n_lr)
                score = np.where(np.isfinite(acc), acc, 0.0).mean(0)
                best = int(np.argmax(score))
                est = stats.mean_ci(np.nan_to_num(acc[:, best], nan=0.0))
                per_seed[(activation, bn, depth)] = np.nan_to_num(acc[:, best], nan=0.0)
                best_lrs[(activation, bn, depth)] = float(cfg.learning_rates[best])
                diverged[(activation, bn, depth)] = div[:, best]
                rows.append({"activation": activation, "init": init, "batch_norm": bn, "depth": depth,
                             "best_learning_rate": float(cfg.learning_rates[best]), "train_acc": est.mean, "train_acc_lo": est.lo,
                             "train_acc_hi": est.hi, "n_diverged": int(div.sum()), "n_seeds": cfg.seeds})
    return pd.DataFrame(rows), per_seed, best_lrs, diverged


def measure_chaos(cfg: ml_collections.ConfigDict, criteria) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training accuracy over the (sigma_w^2, depth) grid, beside depth < 6 xi_c from mean field."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    mfs = theory.mean_field_many(cfg.activation, cfg.sigma_w2, cfg.sigma_b2)
    scales = [float(np.sqrt(s)) for s in cfg.sigma_w2]
    rows = []
    acc_all, div_all = _train_grid(cfg.activation, False, "lecun_normal", ds, cfg, cfg.depths, range(cfg.seeds),
                                   [cfg.learning_rate], scales, bias_std=float(np.sqrt(cfg.sigma_b2)))
    for d, depth in enumerate(cfg.depths):
        acc, div = acc_all[:, d, 0, :], div_all[:, d, 0, :]  # (S, n_sigma)
        for j, (s2, mf) in enumerate(zip(cfg.sigma_w2, mfs)):
            est = stats.mean_ci(np.nan_to_num(acc[:, j], nan=0.0))
            trainable = bool(est.mean > criteria.trainable_acc)
            predicted = bool(depth < criteria.multiple_of_xi * mf.xi_c)
            rows.append({"sigma_w2": s2, "depth": depth, "train_acc": est.mean, "train_acc_lo": est.lo, "train_acc_hi": est.hi,
                             "n_diverged": int(div.sum()), "xi_c": mf.xi_c, "six_xi_c": criteria.multiple_of_xi * mf.xi_c,
                             "chi_1": mf.chi_1, "trainable": trainable, "predicted_trainable": predicted,
                             "agree": trainable == predicted, "n_seeds": cfg.seeds})
    lo, hi = min(cfg.sigma_w2), max(cfg.sigma_w2)
    fine = np.linspace(lo, hi, 25)
    curve = pd.DataFrame([{"sigma_w2": float(s), "xi_c": m.xi_c, "six_xi_c": criteria.multiple_of_xi * m.xi_c, "chi_1": m.chi_1}
                          for s, m in zip(fine, theory.mean_field_many(cfg.activation, fine, cfg.sigma_b2))])
    return pd.DataFrame(rows), curve


def saturation_summary(raw: dict, layer: str) -> pd.DataFrame:
    """D4 per activation: rise (max over training - init) of the |h|>2 fraction of the top (or first) layer."""
    rows = []
    for activation, (steps, m) in raw.items():
        sat = m["saturated"][:, :, -1 if layer == "top" else 0]  # (R, T)
        rise = np.nanmax(sat, axis=1) - sat[:, 0]
        g = m["grad_lowest"]
        est = stats.mean_ci(rise)
        gratio = stats.mean_ci(np.log10(g[:, -1] / g[:, 0]))
        below = m["top_below_0.1"]
        rows.append({"activation": activation, "sat_top_init": float(np.nanmean(sat[:, 0])),
                         "sat_top_max": float(np.nanmean(np.nanmax(sat, 1))), "sat_top_final": float(np.nanmean(sat[:, -1])),
                         "rise": est.mean, "rise_lo": est.lo, "rise_hi": est.hi,
                         "step_of_max": float(np.mean(steps[np.nanargmax(sat, 1)])),
                         "top_below_0_1_init": float(np.nanmean(below[:, 0])),
                         "top_below_0_1_max": float(np.nanmean(np.nanmax(below, 1))),
                         "top_below_0_1_final": float(np.nanmean(below[:, -1])),
                         "log10_grad_lowest_final_over_init": gratio.mean, "log10_grad_lowest_final_over_init_lo": gratio.lo,
                         "log10_grad_lowest_final_over_init_hi": gratio.hi,
                         "final_train_acc": float(np.nanmean(m["train_acc"][:, -1])), "n_seeds": len(rise)})
    return pd.DataFrame(rows)


def per_seed_table(per_seed: dict, learning_rates: dict, diverged: dict) -> pd.DataFrame:
    """D6: one row per (activation, BatchNorm, depth, seed) at that condition's best learning rate."""
    rows = []
    for (activation, bn, depth), acc in per_seed.items():
        for seed, (a, bad) in enumerate(zip(acc, diverged[(activation, bn, depth)])):
            rows.append({"activation": activation, "batch_norm": bn, "depth": depth, "seed": seed,
                         "learning_rate": learning_rates[(activation, bn, depth)],
                         "status": "diverged" if bad else "ok", "train_acc": float(a)})
    return pd.DataFrame(rows)


def run_saturation(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``saturation`` (D4): tables ``saturation`` and ``saturation_summary``."""
    table, raw = measure_saturation(config.saturation)
    return {"saturation": table, "saturation_summary": saturation_summary(raw, config.criteria.d4.layer)}


def run_depth(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``depth`` (D6): tables ``depth_sweep`` and ``depth_sweep_seeds``."""
    table, per_seed, lrs, diverged = measure_depth(config.depth_sweep)
    return {"depth_sweep": table, "depth_sweep_seeds": per_seed_table(per_seed, lrs, diverged)}


def run_chaos(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``chaos``: tables ``chaos_map`` and ``chaos_theory``."""
    table, curve = measure_chaos(config.chaos, config.criteria.chaos)
    return {"chaos_map": table, "chaos_theory": curve}

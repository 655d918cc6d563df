"""Measurements of claim E4 (mean activations): median unit mean per layer over training.

Clevert et al.'s 8x128 set-up scaled down, each activation with its customary init (R6; SELU with
LeCun normal, DECISIONS.md E4). One trainer per base initialiser: the MLP's activation is the
kit's ``switch`` over the activations sharing it, and LeCun normal is He normal with every kernel
scaled by 1/sqrt(2) (the same distribution, as a per-run weight scale), so the He family and SELU
share one compile and tanh / sigmoid (Glorot) another. A probe records, per hidden layer, the
median over units of each unit's mean output and the std of the layer's outputs. Decision tables:
``e4_close`` (|median unit mean| / std, averaged over layers, per activation at init and at the
end) and ``e4_below`` (|mean| of the baseline minus the near-zero activation's, per layer, paired).
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import models, stats, train

from .measure import mean_activation_probe, mean_or_nan
from .measure_centring import load

# An initialiser that is another one with every kernel scaled (the same distribution): (base, scale)
RESCALED = {"lecun_normal": ("he_normal", float(np.sqrt(0.5)))}


def groups(config) -> dict[str, list[tuple[str, float]]]:
    """Base initialiser -> [(activation, weight scale)]: the activations that share one trainer."""
    out: dict[str, list[tuple[str, float]]] = {}
    for act in config.e4.activations:
        base, scale = RESCALED.get(config.e4.init_by_activation[act], (config.e4.init_by_activation[act], 1.0))
        out.setdefault(base, []).append((act, scale))
    return out


def _train(config, ds) -> dict[str, dict]:
    """Per activation: (R, T, L) probe arrays, losses, accuracies and divergence over seeds."""
    e4c, seeds = config.e4, np.arange(config.seeds)
    spec = train.TrainSpec(optimizer="sgd", steps=e4c.steps, batch_size=e4c.batch_size, log_every=e4c.log_every,
                           n_eval=config.n_eval)
    out = {}
    for base, members in groups(config).items():
        names = tuple(a for a, _ in members)
        model = models.build("mlp", ds.n_classes, widths=(e4c.width,) * e4c.depth, activation=models.SWITCH,
                             act_params=models.switch_params(names), initializer=base)
        runs = {"seed": np.tile(seeds, len(members)), "learning_rate": np.full(len(seeds) * len(members), e4c.learning_rate),
                "variant": np.repeat(np.arange(len(members)), len(seeds)),
                "weight_scale": np.repeat(np.asarray([s for _, s in members], float), len(seeds))}
        pop = train.train_runs(model, ds, spec, runs, probe=mean_activation_probe)
        for v, (act, _) in enumerate(members):
            sel = np.arange(v * len(seeds), (v + 1) * len(seeds))
            out[act] = {k: pop.metrics[k][sel] for k in ("median_unit_mean", "layer_std", "train_loss", "train_acc")}
            out[act] |= {"diverged": pop.diverged[sel, -1], "steps": pop.steps,
                         "learned": pop.metrics["train_acc"][sel, -1] >= 1.0 / ds.n_classes + float(config.criteria.learned_margin)}
    return out


def _curves(pops: dict) -> pd.DataFrame:
    rows = []
    for act, p in pops.items():
        for t_i, step in enumerate(p["steps"]):
            for layer in range(p["median_unit_mean"].shape[2]):
                est = stats.bootstrap_ci(p["median_unit_mean"][:, t_i, layer])
                rows.append({"activation": act, "step": int(step), "layer": layer + 1, "median_unit_mean": est.mean,
                             "median_unit_mean_lo": est.lo, "median_unit_mean_hi": est.hi, "n_seeds": est.n,
                             "layer_std": mean_or_nan(p["layer_std"][:, t_i, layer]),
                             "train_loss": mean_or_nan(p["train_loss"][:, t_i])})
    return pd.DataFrame(rows)


def _stage(p: dict, stage: str) -> tuple[int, np.ndarray]:
    """(log index, seeds kept): init keeps every seed, the end only those that learned (R8)."""
    return (0, np.ones(len(p["learned"]), bool)) if stage == "init" else (-1, p["learned"] & ~p["diverged"])


def _close(pops: dict, config) -> pd.DataFrame:
    """Per activation and stage: |median unit mean| / layer std averaged over layers, bootstrap CI over seeds."""
    rows = []
    for act, p in pops.items():
        for stage in ("init", "end"):
            t_i, keep = _stage(p, stage)
            ratio = (np.abs(p["median_unit_mean"][:, t_i]) / p["layer_std"][:, t_i]).mean(axis=1)
            est = stats.bootstrap_ci(ratio[keep])
            rows.append({"activation": act, "init": config.e4.init_by_activation[act], "stage": stage,
                         "step": int(p["steps"][t_i]), "close_ratio": est.mean, "close_ratio_lo": est.lo,
                         "close_ratio_hi": est.hi, "n_seeds": est.n, "n_excluded": int((~keep).sum()),
                         "abs_median_unit_mean": mean_or_nan(np.abs(p["median_unit_mean"][keep, t_i])),
                         "layer_std": mean_or_nan(p["layer_std"][keep, t_i])})
    return pd.DataFrame(rows)


def _below(pops: dict, config) -> pd.DataFrame:
    """Per stage and layer: |median unit mean| of the baseline minus the near-zero activation's, paired over seeds."""
    near, base = config.e4.near_zero_activation, config.e4.baseline_activation
    if near not in pops or base not in pops:
        return pd.DataFrame()
    rows = []
    for stage in ("init", "end"):
        (t_i, k_n), (_, k_b) = _stage(pops[near], stage), _stage(pops[base], stage)
        keep = k_n & k_b
        a_n, a_b = np.abs(pops[near]["median_unit_mean"][keep, t_i]), np.abs(pops[base]["median_unit_mean"][keep, t_i])
        for layer in range(a_n.shape[1]):
            est = stats.bootstrap_ci(a_b[:, layer] - a_n[:, layer])
            rows.append({"stage": stage, "step": int(pops[near]["steps"][t_i]), "layer": layer + 1, "near_zero": near,
                         "baseline": base, "gap": est.mean, "gap_lo": est.lo, "gap_hi": est.hi, "n_seeds": est.n,
                         "near_zero_abs_mean": mean_or_nan(a_n[:, layer]), "baseline_abs_mean": mean_or_nan(a_b[:, layer])})
    return pd.DataFrame(rows)


def _summary(pops: dict, config) -> pd.DataFrame:
    rows = []
    for act, p in pops.items():
        loss, acc = stats.bootstrap_ci(p["train_loss"][:, -1]), stats.bootstrap_ci(p["train_acc"][:, -1])
        rows.append({"activation": act, "init": config.e4.init_by_activation[act], "learning_rate": float(config.e4.learning_rate),
                     "final_train_loss": loss.mean, "final_train_loss_lo": loss.lo, "final_train_loss_hi": loss.hi,
                     "final_train_acc": acc.mean, "final_train_acc_lo": acc.lo, "final_train_acc_hi": acc.hi,
                     "mean_train_loss_over_training": mean_or_nan(p["train_loss"]), "n_seeds": len(p["learned"]),
                     "n_learned": int(p["learned"].sum()), "n_diverged": int(p["diverged"].sum()),
                     "status": "diverged" if p["diverged"].mean() > 0.5 else ("collapsed" if p["learned"].mean() < 0.5 else "ok")})
    return pd.DataFrame(rows)


def _per_seed(pops: dict, config) -> pd.DataFrame:
    rows = []
    for act, p in pops.items():
        for t_i in dict.fromkeys((0, len(p["steps"]) - 1)):
            for r in range(len(p["learned"])):
                status = "diverged" if p["diverged"][r] else ("ok" if p["learned"][r] else "collapsed")
                rows += [{"activation": act, "seed": r, "step": int(p["steps"][t_i]), "layer": layer + 1,
                          "median_unit_mean": float(p["median_unit_mean"][r, t_i, layer]),
                          "layer_std": float(p["layer_std"][r, t_i, layer]), "status": status}
                         for layer in range(p["median_unit_mean"].shape[2])]
    return pd.DataFrame(rows)


def measure_e4(config: ml_collections.ConfigDict, t) -> dict:
    """E4: train each activation's deep MLP with the mean-activation probe; tables per layer, stage and seed."""
    pops = _train(config, load(config, config.e4.dataset, "standardised"))
    return {"e4_mean_activation": _curves(pops), "e4_summary": _summary(pops, config), "e4_close": _close(pops, config),
            "e4_below": _below(pops, config), "e4_per_seed_layers": _per_seed(pops, config), "e4_pop": pops}

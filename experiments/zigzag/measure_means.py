"""Measurements of claim E4 (mean activations): median unit mean per layer over training.

Clevert et al.'s 8x128 set-up scaled down: one ``train.train_population`` call per activation
(seeds vmapped) with a probe recording, per hidden layer, the median over units of each unit's
mean activation. Besides the tables over seeds, two per-seed tables carry what E4 decides from:
``e4_per_seed`` (|median unit mean| averaged over layers and log points) and
``e4_per_seed_layers`` (the median unit mean per layer at init and at the end).
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import models, stats, train

from .measure import mean_activation_probe
from .measure_centring import load


def _curve_rows(e4_pop: dict) -> list[dict]:
    rows = []
    for act, pop in e4_pop.items():
        med = pop.metrics["median_unit_mean"]  # (R, T, L)
        for t_i, step in enumerate(pop.steps):
            for layer in range(med.shape[2]):
                est = stats.mean_ci(med[:, t_i, layer])
                rows.append({"activation": act, "step": int(step), "layer": layer + 1,
                             "median_unit_mean": est.mean, "median_unit_mean_lo": est.lo, "median_unit_mean_hi": est.hi,
                             "layer_mean": float(np.nanmean(pop.metrics["layer_mean"][:, t_i, layer])),
                             "train_loss": float(np.nanmean(pop.metrics["train_loss"][:, t_i]))})
    return rows


def _summary_rows(e4_pop: dict) -> list[dict]:
    rows = []
    for act, pop in e4_pop.items():
        absmean = np.abs(pop.metrics["median_unit_mean"]).mean(axis=(1, 2))  # per seed
        est = stats.mean_ci(absmean)
        loss = stats.mean_ci(pop.metrics["train_loss"][:, -1])
        auc = stats.mean_ci(np.nanmean(pop.metrics["train_loss"], axis=1))
        rows.append({"activation": act, "abs_median_unit_mean": est.mean, "abs_median_unit_mean_lo": est.lo,
                     "abs_median_unit_mean_hi": est.hi, "final_train_loss": loss.mean, "final_train_loss_lo": loss.lo,
                     "final_train_loss_hi": loss.hi, "mean_train_loss_over_training": auc.mean,
                     "n_diverged": int(pop.diverged[:, -1].sum()), "n_seeds": est.n})
    return rows


def _per_seed(e4_pop: dict, seeds: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per seed: |median unit mean| averaged over layers and log points; the value per layer at
    init and at the end (E4 pairs the activations over these seeds)."""
    means, layers = [], []
    for act, pop in e4_pop.items():
        med = pop.metrics["median_unit_mean"]  # (R, T, L)
        absmean = np.abs(med).mean(axis=(1, 2))
        for r, seed in enumerate(seeds):
            status = "diverged" if bool(pop.diverged[r, -1]) else "ok"
            means.append({"activation": act, "seed": seed, "abs_median_unit_mean": float(absmean[r]), "status": status})
            for t_i in dict.fromkeys((0, len(pop.steps) - 1)):
                for layer in range(med.shape[2]):
                    layers.append({"activation": act, "seed": seed, "step": int(pop.steps[t_i]), "layer": layer + 1,
                                   "median_unit_mean": float(med[r, t_i, layer]), "status": status})
    return pd.DataFrame(means), pd.DataFrame(layers)


def measure_e4(config: ml_collections.ConfigDict, t) -> dict:
    """E4: train each activation's deep MLP with the mean-activation probe; tables per layer and step."""
    e4c = config.e4
    seeds = list(range(config.seeds))
    e4_data = load(config, e4c.dataset, "standardised")
    e4_spec = train.TrainSpec(optimizer="sgd", steps=e4c.steps, batch_size=e4c.batch_size,
                              log_every=e4c.log_every, n_eval=config.n_eval)
    e4_pop = {}
    for act in e4c.activations:
        model = models.build("mlp", e4_data.n_classes, widths=(e4c.width,) * e4c.depth, activation=act,
                             initializer=e4c.init)
        e4_pop[act] = train.train_population(model, e4_data, e4_spec, seeds, e4c.learning_rate, probe=mean_activation_probe)
    per_seed, per_seed_layers = _per_seed(e4_pop, seeds)
    return {"e4_mean_activation": pd.DataFrame(_curve_rows(e4_pop)), "e4_summary": pd.DataFrame(_summary_rows(e4_pop)),
            "e4_per_seed": per_seed, "e4_per_seed_layers": per_seed_layers, "e4_pop": e4_pop}

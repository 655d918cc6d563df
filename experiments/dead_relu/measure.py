"""The training sweeps of experiments.dead_relu (claims F1-F4): dead units over training.

Definitions (in code: :func:`experiments.kit.probes.dead_units`, :func:`dead_summary`):
- a unit is *dead* when it outputs exactly 0 on every example of the evaluation set, which here
  is the whole training set (Fashion-MNIST subsampled to 4096 examples, mnist1d's 4000), checked
  every ``log_every`` steps; for Leaky ReLU / PReLU / ELU (no hard zero) a unit is counted when
  its derivative max_n |phi'(h_n)| <= ``grad_tol`` on the whole set (no gradient reaches its
  incoming weights); for ReLU both definitions coincide;
- *born dead*: dead at step 0; *revived*: dead at one check and alive at a later one.

Every (data set, activation, optimiser, init group) is one ``train.train_population`` call
(seeds x learning rates vmapped). Per-run rows carry ``status`` (``ok`` or ``diverged``).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd

from experiments.kit import data, models, probes, stats, train
from experiments.kit.config import ConfigError

from . import derive

SCALED = {"normal": 1.0, "small_normal": 0.01}  # small_normal = 0.01 x the same N(0,1) draw (paired)
CELL = ["dataset", "activation", "optimizer", "init", "learning_rate"]


# ----------------------------------------------------------------------------------------------
# Measurement logic (pure numpy on probe outputs; unit-tested on known cases)
# ----------------------------------------------------------------------------------------------
def dead_summary(dead: np.ndarray, diverged: np.ndarray) -> dict[str, np.ndarray]:
    """Dead fractions and revival from per-check dead masks (claims F1, F2).

    ``dead`` (R, T, L, U) booleans (check 0 = init); ``diverged`` (R, T). Returns per run:
    ``per_layer`` (R, T, L) dead fraction, ``overall`` (R, T), ``born`` (R,) dead fraction at
    init, ``final`` (R,), ``revival`` (R,) = units dead at some check and alive at a later one,
    over units dead at some check before the last (NaN when none), ``ever_dead`` (R,).
    A diverged run reads NaN from its divergence on (and its final/revival are NaN).
    """
    dead = np.asarray(dead, bool)
    bad = np.asarray(diverged, bool)
    per_layer = dead.mean(-1).astype(float)
    per_layer = np.where(bad[..., None], np.nan, per_layer)
    overall = dead.reshape(*dead.shape[:2], -1).mean(-1).astype(float)
    overall = np.where(bad, np.nan, overall)
    later_alive = np.flip(np.logical_or.accumulate(np.flip(~dead, 1), 1), 1)  # alive at t' >= t
    later_alive = np.concatenate([later_alive[:, 1:], np.zeros_like(later_alive[:, :1])], 1)  # t' > t
    dead_before_last = dead[:, :-1].any(1)  # (R, L, U)
    revived = (dead & later_alive).any(1)
    n_dead = dead_before_last.reshape(len(dead), -1).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        revival = np.where(n_dead > 0, revived.reshape(len(dead), -1).sum(-1) / n_dead, np.nan)
    run_bad = bad.any(1)
    return {
        "per_layer": per_layer,
        "overall": overall,
        "born": overall[:, 0],
        "final": np.where(run_bad, np.nan, overall[:, -1]),
        "revival": np.where(run_bad, np.nan, revival),
        "ever_dead": np.where(run_bad, np.nan, dead.any(1).reshape(len(dead), -1).mean(-1)),
    }


# ----------------------------------------------------------------------------------------------
# F1-F4: training sweeps
# ----------------------------------------------------------------------------------------------
def _cells(config) -> list[tuple[str, str, str, str]]:
    cells = []
    for sweep in config.sweeps.values():
        for opt in sweep.optimizers:
            if opt not in train.OPTIMIZERS:
                raise ConfigError(f"unknown optimiser {opt!r}; valid: {', '.join(train.OPTIMIZERS)}")
        for cell in itertools.product(sweep.datasets, sweep.activations, sweep.optimizers, sweep.inits):
            if cell not in cells:
                cells.append(cell)
    return cells


def _groups(inits: list[str]) -> list[tuple[str, tuple[str, ...], tuple[float, ...]]]:
    """Compile groups: (model initializer, init names, weight scales)."""
    scaled = tuple(i for i in inits if i in SCALED)
    out = [("normal", scaled, tuple(SCALED[i] for i in scaled))] if scaled else []
    return out + [(i, (i,), (1.0,)) for i in inits if i not in SCALED]


def _load(name: str, config) -> data.Dataset:
    ds = data.load(name, n_train=config.n_train)
    return dataclasses.replace(ds, x_test=ds.x_test[: config.n_test], y_test=ds.y_test[: config.n_test])


def train_sweeps(config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train every cell; return (runs table, per-layer-over-training table, data-set info)."""
    cells = _cells(config)
    seeds = list(range(config.seeds))
    lrs = [float(v) for v in config.learning_rates]
    tol = float(config.grad_tol)

    def probe(model, variables, x, y):
        d = probes.dead_units(model, variables, x, tol)
        return {"dead_out": d["zero_output"], "dead_grad": d["zero_grad"], "neg_only": d["never_positive"]}

    rows, layer_rows, info = [], [], []
    datasets = {}
    by_struct: dict[tuple, list[str]] = {}
    for ds, act, opt, init in cells:
        by_struct.setdefault((ds, act, opt), []).append(init)
    for (ds_name, act, opt), inits in by_struct.items():
        if ds_name not in datasets:
            datasets[ds_name] = _load(ds_name, config)
            d = datasets[ds_name]
            info.append({"dataset": ds_name, "n_train": len(d.x_train), "n_eval": min(config.n_eval, len(d.x_train)),
                         "eval_is_whole_training_set": config.n_eval >= len(d.x_train)})
        ds = datasets[ds_name]
        spec = train.TrainSpec(optimizer=opt, steps=config.steps, batch_size=config.batch_size,
                               log_every=config.log_every, n_eval=config.n_eval)
        for base, names, scales in _groups(inits):
            model = models.build("mlp", ds.n_classes, widths=(config.width,) * config.depth, activation=act,
                                 initializer=base)
            pop = train.train_population(model, ds, spec, seeds, lrs, list(scales), probe=probe)
            key = "dead_out" if act == "relu" else "dead_grad"
            summ = dead_summary(pop.metrics[key], pop.diverged)
            neg = dead_summary(pop.metrics["neg_only"], pop.diverged)
            for r in range(len(pop.runs["seed"])):
                scale = float(pop.runs["weight_scale"][r])
                init = names[scales.index(scale)]
                base_row = {"dataset": ds_name, "activation": act, "optimizer": opt, "init": init,
                            "seed": int(pop.runs["seed"][r]), "learning_rate": float(pop.runs["learning_rate"][r])}
                rows.append({**base_row,
                             "born_dead": summ["born"][r], "final_dead": summ["final"][r],
                             "revival": summ["revival"][r], "ever_dead": summ["ever_dead"][r],
                             "final_negative_only": neg["final"][r],
                             "final_train_acc": float(pop.metrics["train_acc"][r, -1]),
                             "status": "diverged" if bool(pop.diverged[r, -1]) else "ok"})
                for t, step in enumerate(pop.steps):
                    for layer in range(config.depth):
                        layer_rows.append({**base_row, "step": int(step), "layer": layer,
                                           "dead": summ["per_layer"][r, t, layer]})
    return pd.DataFrame(rows), pd.DataFrame(layer_rows), pd.DataFrame(info)


def aggregate(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI over seeds per (dataset, activation, optimiser, init, lr); diverged runs counted."""
    out = []
    for key, g in runs.groupby(CELL, sort=False):
        row = dict(zip(CELL, key))
        for col in ("born_dead", "final_dead", "revival", "final_negative_only", "final_train_acc"):
            e = stats.mean_ci(g[col].to_numpy())
            row[col], row[f"{col}_lo"], row[f"{col}_hi"] = e.mean, e.lo, e.hi
        row["n_seeds"] = len(g)
        row["n_diverged"] = int((g["status"] == "diverged").sum())
        row["status"] = "diverged" if row["n_diverged"] == len(g) else ("partly diverged" if row["n_diverged"] else "done")
        out.append(row)
    return pd.DataFrame(out)


def sweeps(config, t) -> dict:
    """Train the sweeps (one compile per dataset x activation x optimiser x init group) (F1-F4).

    Tables: ``runs`` (per run), the per-cell aggregate (as ``f2_dead_vs_lr``, ``f3_optimisers``
    and ``f4_leaky``), ``f1_dead_over_training``, ``eval_sets`` and the derived tables of
    :mod:`.derive`; artefact ``_layers`` (per-run dead fraction per layer and check).
    """
    if config.g3.max_depth < 2:
        raise ConfigError(f"config.g3.max_depth = {config.g3.max_depth}: must be >= 2")
    runs, layers, info = train_sweeps(config)
    agg = aggregate(runs)
    over_training = layers.groupby([*CELL, "layer", "step"])["dead"].mean().reset_index()
    return {
        "f2_dead_vs_lr": agg, "runs": runs, "f1_dead_over_training": over_training,
        "f3_optimisers": agg[agg["activation"] == config.roles.activation],
        "f3_remedies": derive.remedies(runs, config), "f4_leaky": agg,
        "cs231n_40_percent": derive.cs231n(agg, config), "divergence": derive.divergence(agg),
        "eval_sets": info, "_layers": layers,
    }

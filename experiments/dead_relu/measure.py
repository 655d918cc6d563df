"""The training sweeps of experiments.dead_relu (claims F1-F4): dead units over training, in two stages.

*locate*: every ReLU arm (data set x optimiser x init, ``config.arms``) on its lr grid with
``locate_seeds`` seeds; :func:`select` picks each arm's best, edge and low lr from these runs.
*decide*: ``decide_seeds`` new seeds at the picked lrs (F3(a): also at ``lr_factors`` x best),
and the leaky variants one grid step below the edge lrs of ``roles.f4_optimizers`` (F4). The claims read the
decide runs only. Every data set is one compile (:mod:`.trainer`).

Definitions (checks = step 0 and every ``log_every`` steps, on the whole training set):
dead / stuck unit = pre-activation <= 0 on every example; *permanently dead* (column ``dead``) =
dead at each of the last ``criteria.f1.last_checks`` checks; ``born_dead`` = dead at step 0;
``n_revived`` of ``n_dead_before_last`` units = dead at a check and alive at a later one.
A run is ``ok`` (learned, R8), ``collapsed`` (final train accuracy < chance + margin) or
``diverged`` (non-finite loss or parameters); dead fractions of diverged runs are NaN.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from experiments.kit import data, stats, train
from experiments.kit.config import ConfigError

from . import derive, trainer

CELL = ["dataset", "activation", "optimizer", "init", "learning_rate"]


def dead_summary(negative: np.ndarray, diverged: np.ndarray, last: int) -> dict[str, np.ndarray]:
    """Per-run dead-unit numbers from per-check masks ``negative`` (R, T, L, U) and ``diverged`` (R, T).

    ``per_layer`` (R, T, L) fraction dead at each check (NaN from divergence on); ``born`` (R,);
    ``final`` (R,) at the last check; ``dead`` (R,) dead at each of the last ``last`` checks;
    ``n_dead_before_last`` (R,) units dead at some check before the last and ``n_revived`` (R,) of
    them alive at a later check (F1(b)); ``n_dead_run_before_last`` / ``n_revived_run``: the same
    for units dead at ``last`` consecutive checks ending before the last one (a sensitivity check:
    "dead" as in "permanently dead"). Everything but ``born`` and ``per_layer`` is NaN for a diverged run.
    """
    neg, bad = np.asarray(negative, bool), np.asarray(diverged, bool)
    runs, checks = neg.shape[:2]
    per_layer = np.where(bad[..., None], np.nan, neg.mean(-1))
    alive_after = np.flip(np.logical_or.accumulate(np.flip(~neg, 1), 1), 1)  # alive at t' >= t
    alive_after = np.concatenate([alive_after[:, 1:], np.zeros_like(alive_after[:, :1])], 1)  # t' > t
    # a run of `last` dead checks ending at t (t >= last - 1), followed by an alive check
    ends = np.zeros_like(neg)
    if checks >= last:
        ends[:, last - 1:] = np.all([neg[:, k:checks - last + 1 + k] for k in range(last)], axis=0)
    run_bad = bad.any(1)

    def count(mask):
        return np.where(run_bad, np.nan, mask.reshape(runs, -1).sum(-1).astype(float))

    return {
        "per_layer": per_layer,
        "born": neg[:, 0].reshape(runs, -1).mean(-1),
        "final": np.where(run_bad, np.nan, neg[:, -1].reshape(runs, -1).mean(-1)),
        "dead": np.where(run_bad, np.nan, neg[:, -last:].all(1).reshape(runs, -1).mean(-1)),
        "n_dead_before_last": count(neg[:, :-1].any(1)),
        "n_revived": count((neg & alive_after).any(1)),
        "n_dead_run_before_last": count(ends[:, :-1].any(1)),
        "n_revived_run": count((ends & alive_after).any(1)),
    }


@dataclasses.dataclass(frozen=True)
class Run:
    """One planned run."""

    stage: str
    arm: str
    dataset: str
    activation: str
    optimizer: str
    init: str
    learning_rate: float
    seed: int


def _check(config) -> None:
    if config.steps % config.log_every:
        raise ConfigError(f"config.steps = {config.steps} must be a multiple of config.log_every = {config.log_every}")
    if config.criteria.f1.last_checks > config.steps // config.log_every + 1:
        raise ConfigError(f"config.criteria.f1.last_checks = {config.criteria.f1.last_checks}: more than the checks")
    arms = [(a.dataset, a.optimizer, a.init) for a in config.arms.values()]
    if len(set(arms)) < len(arms):
        raise ConfigError("config.arms: two arms with the same (dataset, optimizer, init)")
    for name, arm in config.arms.items():
        if arm.optimizer not in trainer.HYPER:
            raise ConfigError(f"config.arms.{name}.optimizer = {arm.optimizer!r}; valid: {', '.join(train.OPTIMIZERS)}")
    for act in (config.roles.activation, *config.roles.variants):
        if act not in trainer.FAMILY:
            raise ConfigError(f"config.roles: activation {act!r} is not of the ReLU family; valid: {', '.join(trainer.FAMILY)}")


def plan_locate(config) -> list[Run]:
    """Every arm on its grid, ``locate_seeds`` seeds (0, 1, ...)."""
    act = config.roles.activation
    return [Run("locate", name, arm.dataset, act, arm.optimizer, arm.init, float(lr), seed)
            for name, arm in config.arms.items() for lr in arm.learning_rates for seed in range(config.locate_seeds)]


def decide_lrs(arm, config) -> list[float]:
    """The lrs a ``selected`` arm is run at with the decide seeds: the edge lr of every He arm and
    of the F2 arms (F1, F2, G3), the low lr of the F2 arms (F2), the best lr of F3's arms, F3(a)'s
    multiples of the best lr (snapped to the arm's grid within 1%), and the lr below the edge of
    F4's arms (where the variants are trained too)."""
    roles, crit = config.roles, config.criteria
    sgd, f3 = arm.optimizer == roles.optimizer, arm.dataset == roles.f3_dataset
    lrs = []
    if arm.init == roles.init or (sgd and arm.init in roles.f2_inits):
        lrs.append(arm.edge_learning_rate)
    if sgd and arm.init in roles.f2_inits:
        lrs.append(arm.low_learning_rate)
    if f3 and ((sgd and arm.init in (roles.init, roles.xavier_init, *roles.naive_inits))
               or (arm.optimizer == roles.remedy_optimizer and arm.init == roles.init)):
        lrs.append(arm.best_learning_rate)
    if arm.dataset == roles.f4_dataset and arm.init == roles.init and arm.optimizer in roles.f4_optimizers:
        lrs.append(arm.below_edge_learning_rate)
    if f3 and sgd and arm.init == roles.init:
        grid = config.arms[arm.arm].learning_rates
        lrs += [derive.snap(arm.best_learning_rate * f, grid) for f in crit.f3.lr_factors]
    return list(dict.fromkeys(float(v) for v in lrs if np.isfinite(v)))


def plan_decide(selected: pd.DataFrame, config) -> list[Run]:
    """The decide runs: new seeds at each arm's :func:`decide_lrs` and F4's variant cells."""
    roles = config.roles
    seeds = range(config.locate_seeds, config.locate_seeds + config.decide_seeds)
    plan = []
    for r in selected.itertuples():
        for lr in decide_lrs(r, config):
            plan += [Run("decide", r.arm, r.dataset, roles.activation, r.optimizer, r.init, lr, s) for s in seeds]
        if r.dataset == roles.f4_dataset and r.init == roles.init and r.optimizer in roles.f4_optimizers \
                and np.isfinite(r.below_edge_learning_rate):
            plan += [Run("decide", r.arm, r.dataset, act, r.optimizer, r.init, float(r.below_edge_learning_rate), s)
                     for act in roles.variants for s in seeds]
    return plan


def _spec(config, inits: tuple[str, ...]) -> trainer.Spec:
    return trainer.Spec((config.width,) * config.depth, 10, config.steps, config.batch_size, config.log_every, inits,
                        config.chunk)


def train_plan(plan: list[Run], config, datasets: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train every planned run (one trainer call per data set); (per-run rows, per-run per-layer rows)."""
    inits = tuple(sorted({arm.init for arm in config.arms.values()}))
    rows, layer_rows = [], []
    chance = lambda n: 1.0 / n
    for ds_name in dict.fromkeys(r.dataset for r in plan):
        part = [r for r in plan if r.dataset == ds_name]
        ds = datasets[ds_name]
        runs = {"seed": np.array([r.seed for r in part]), "init_index": np.array([inits.index(r.init) for r in part]),
                "draw": np.array([trainer.draw_id(r.init, r.learning_rate) for r in part]),
                "optimizer": [r.optimizer for r in part], "learning_rate": np.array([r.learning_rate for r in part]),
                "activation": [r.activation for r in part]}
        out = trainer.train(ds.x_train, ds.y_train, _spec(config, inits), runs)
        s = dead_summary(out["negative"], out["diverged"], config.criteria.f1.last_checks)
        acc, loss = out["acc"][:, -1], out["loss"][:, -1]
        learned_at = chance(ds.n_classes) + config.criteria.chance_margin
        steps = np.arange(out["acc"].shape[1]) * config.log_every
        for i, r in enumerate(part):
            status = "diverged" if out["diverged"][i, -1] else ("ok" if acc[i] >= learned_at else "collapsed")
            rows.append({**dataclasses.asdict(r), "born_dead": s["born"][i], "final_dead": s["final"][i],
                         "dead": s["dead"][i], "n_dead_before_last": s["n_dead_before_last"][i],
                         "n_revived": s["n_revived"][i], "n_dead_run_before_last": s["n_dead_run_before_last"][i],
                         "n_revived_run": s["n_revived_run"][i], "final_train_acc": acc[i], "final_train_loss": loss[i],
                         "chance": chance(ds.n_classes), "status": status})
            for t, step in enumerate(steps):
                for layer in range(config.depth):
                    layer_rows.append({**dataclasses.asdict(r), "step": int(step), "layer": layer,
                                       "dead": s["per_layer"][i, t, layer], "train_acc": out["acc"][i, t],
                                       "status": status})
    return pd.DataFrame(rows), pd.DataFrame(layer_rows)


def cells(runs: pd.DataFrame, config) -> pd.DataFrame:
    """Per cell: dead fraction over the seeds that learned (bootstrap CI), counts, accuracy, revival."""
    out = []
    for key, g in runs.groupby(CELL, sort=False):
        ok, finite = g[g["status"] == "ok"], g[g["status"] != "diverged"]
        row = {**dict(zip(CELL, key)), "n_runs": len(g), "n_seeds": len(ok),
               "n_diverged": int((g["status"] == "diverged").sum()), "n_collapsed": int((g["status"] == "collapsed").sum())}
        for name, values in (("dead", ok["dead"]), ("dead_finite", finite["dead"]), ("final_train_acc", finite["final_train_acc"]),
                             ("born_dead", g["born_dead"])):
            e = stats.bootstrap_ci(values.to_numpy(float), confidence=config.criteria.confidence)
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = e.mean, e.lo, e.hi
        row["n_finite"] = len(finite)
        row["learned_train_acc"] = float(ok["final_train_acc"].mean()) if len(ok) else float("nan")
        row["score"] = float(np.where(g["status"] == "diverged", g["chance"], g["final_train_acc"]).mean())
        rev = stats.ratio_ci(ok["n_revived"], ok["n_dead_before_last"], confidence=config.criteria.confidence)
        row["revival"], row["revival_lo"], row["revival_hi"], row["n_seeds_revival"] = rev.mean, rev.lo, rev.hi, rev.n
        row["n_dead_units"] = float(ok["n_dead_before_last"].sum())
        run = stats.ratio_ci(ok["n_revived_run"], ok["n_dead_run_before_last"], confidence=config.criteria.confidence)
        row["revival_run"], row["revival_run_lo"], row["revival_run_hi"] = run.mean, run.lo, run.hi
        row["n_dead_run_units"] = float(ok["n_dead_run_before_last"].sum())
        share = len(ok) / len(g)
        worst = "diverged" if row["n_diverged"] >= row["n_collapsed"] else "collapsed"
        row["status"] = "ok" if share >= config.criteria.learned_share else worst
        out.append(row)
    return pd.DataFrame(out)


def _load(name: str, config) -> data.Dataset:
    return data.load(name, n_train=config.n_train)


def sweeps(config, t) -> dict:
    """Locate, select, decide (F1-F4). Tables: ``locate_runs``, ``locate_cells``, ``selected``, ``runs``,
    ``cells``, ``f1_dead_over_training``, ``f1_revival``, ``cs231n_40_percent``, ``f3_pairs``, ``eval_sets``."""
    _check(config)
    if config.g3.max_depth < 2:
        raise ConfigError(f"config.g3.max_depth = {config.g3.max_depth}: must be >= 2")
    datasets = {name: _load(name, config) for name in dict.fromkeys(a.dataset for a in config.arms.values())}
    locate_runs, _ = train_plan(plan_locate(config), config, datasets)
    locate_cells = cells(locate_runs, config)
    selected = derive.select(locate_cells, config)
    runs, layers = train_plan(plan_decide(selected, config), config, datasets)
    decide_cells = cells(runs, config)
    info = pd.DataFrame([{"dataset": k, "n_train": len(d.x_train), "n_eval": len(d.x_train),
                          "eval_is_whole_training_set": True} for k, d in datasets.items()])
    return {
        "locate_runs": locate_runs, "locate_cells": locate_cells, "selected": selected, "runs": runs, "cells": decide_cells,
        "f1_dead_over_training": derive.over_training(layers), "f1_revival": derive.revival_table(decide_cells, selected, config),
        "cs231n_40_percent": derive.cs231n(decide_cells, pd.concat([locate_runs, runs], ignore_index=True), config),
        "f3_pairs": derive.f3_pairs(runs, selected, config), "eval_sets": info,
    }

"""The numbers the claims and the summary share (pure functions of the tables and the config).

Every function reads only DataFrame tables of :mod:`.measure` / :mod:`.measure_g3` (as written
to CSV) and ``config``, so a results folder can be decided again without training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats

from .derive import XAVIER, optimizer_remedy, relu_sgd, sel


def fmt(e: stats.Estimate) -> str:
    return f"{e.mean:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


def trained(agg: pd.DataFrame) -> pd.DataFrame:
    """Cells in which no seed diverged."""
    return agg[agg["n_diverged"] == 0]


def high_lr_dead(t, config) -> float:
    """The largest mean dead fraction of a ReLU + SGD cell with no diverged seed (G3, summary)."""
    return float(trained(relu_sgd(t.f2_dead_vs_lr, config))["final_dead"].max())


def f1_numbers(t, config) -> tuple[pd.Series, stats.Estimate, stats.Estimate, int]:
    """F1: the ReLU + SGD cell with the largest dead fraction, its estimate over seeds, and revival.

    Revival is pooled over every non-diverged ReLU run (any optimiser) that had dead units.
    """
    roles, runs = config.roles, t.runs
    sub = trained(relu_sgd(t.f2_dead_vs_lr, config))
    best = sub.loc[sub["final_dead"].idxmax()]
    g = sel(runs, dataset=best["dataset"], activation=roles.activation, optimizer=roles.optimizer, init=best["init"],
            learning_rate=best["learning_rate"])
    dead = stats.mean_ci(g["final_dead"])
    rev_all = sel(runs, activation=roles.activation, status="ok")["revival"].to_numpy()
    return best, dead, stats.mean_ci(rev_all), int(np.isfinite(rev_all).sum())


def f2_numbers(t, config) -> tuple[stats.Estimate, tuple]:
    """F2: the born-dead fraction (ReLU + SGD runs) and the largest high-vs-smallest-lr paired increase.

    Returns ``(born, (dataset, init, high lr, smallest lr, Paired))``.
    """
    roles, runs = config.roles, t.runs
    relu = {"activation": roles.activation, "optimizer": roles.optimizer}
    born = stats.mean_ci(sel(runs, **relu)["born_dead"])
    effects = []
    for (ds, init), g in relu_sgd(t.f2_dead_vs_lr, config).groupby(["dataset", "init"], sort=False):
        ok = trained(g).sort_values("learning_rate")
        if len(ok) < 2:
            continue
        hi = ok.loc[ok["final_dead"].idxmax()]
        lo_lr = ok["learning_rate"].iloc[0]
        a = sel(runs, dataset=ds, init=init, learning_rate=hi["learning_rate"], **relu).sort_values("seed")
        b = sel(runs, dataset=ds, init=init, learning_rate=lo_lr, **relu).sort_values("seed")
        p = stats.paired(a["final_dead"].to_numpy(), b["final_dead"].to_numpy())
        effects.append((ds, init, hi["learning_rate"], lo_lr, p))
    return born, max(effects, key=lambda e: e[4].diff.mean)


def remedy_works(t, label: str) -> tuple[bool, bool]:
    """(works, works somewhere): it lowers the dead fraction at >= 1 lr and raises it at none / at >= 1 lr."""
    r = t.f3_remedies[t.f3_remedies["remedy"] == label]
    some = bool(len(r) and (r["n_learning_rates_helps"] > 0).any())
    return bool(some and (r["n_learning_rates_hurts"] == 0).all()), some


def f3_numbers(t, config) -> dict:
    """F3: whether each remedy (smaller lr, Xavier init, the optimiser remedy) works; how many do."""
    lr = min(float(v) for v in config.learning_rates)
    smallest = sel(relu_sgd(t.f2_dead_vs_lr, config), learning_rate=lr)
    small_ok = bool((smallest["final_dead"] <= config.criteria.f3.dead_threshold).all())
    xav, xav_some = remedy_works(t, XAVIER)
    opt, opt_some = remedy_works(t, optimizer_remedy(config.roles.remedy_optimizer))
    return {"smallest_lr": lr, "smallest": smallest, "small_ok": small_ok, "xav": xav, "xav_some": xav_some,
            "opt": opt, "opt_some": opt_some, "n_ok": sum([xav, opt, small_ok])}


def f4_numbers(t, config) -> dict:
    """F4: per leaky variant its cells without divergence; ReLU's largest dead fraction in the same cells."""
    relu, agg = config.roles.activation, t.f4_leaky
    ok = trained(agg)
    leaky_cells = ok[ok["activation"] != relu]
    mx = leaky_cells.loc[leaky_cells["final_dead"].idxmax()]
    where = ["dataset", "optimizer", "init"]
    relu_common = ok[(ok["activation"] == relu) & ok.set_index(where).index.isin(leaky_cells.set_index(where).index)]
    relu_max = float(relu_common["final_dead"].max()) if len(relu_common) else float("nan")
    g = sel(t.runs, dataset=mx["dataset"], activation=mx["activation"], optimizer=mx["optimizer"], init=mx["init"],
            learning_rate=mx["learning_rate"])
    return {"cells": leaky_cells, "largest": mx, "estimate": stats.mean_ci(g["final_dead"]), "relu_max": relu_max,
            "negative_only": leaky_cells["final_negative_only"].max()}

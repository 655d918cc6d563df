"""The numbers and parts the claims share (pure functions of the tables and the config).

Every function reads only DataFrame tables of :mod:`.measure` / :mod:`.measure_g3` (as written
to CSV) and ``config``, so a results folder can be decided again without training.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Part, compare, part

from .derive import paired_drop, sel


def n_checks(config) -> int:
    """Checks of a run, step 0 included."""
    return config.steps // config.log_every + 1


def say(p: Part) -> str:
    """A part in a statement: name, verdict, value [CI] (n)."""
    ci = "" if p.ci is None or not np.all(np.isfinite(p.ci)) else f" [{p.ci[0]:.3g}, {p.ci[1]:.3g}]"
    value = "n/a" if p.value is None or not np.isfinite(p.value) else f"{p.value:.3g}"
    return f"{p.part} {p.verdict} ({value}{ci}, n = {p.n_seeds})"


def arms(t, config, optimizer: str | None = None, inits=None) -> list:
    """Rows of ``selected`` (config order), filtered by optimiser and init."""
    s = t.selected
    rows = [r for r in s.itertuples() if (optimizer is None or r.optimizer == optimizer) and (inits is None or r.init in inits)]
    return rows


def cell(t, config, arm, learning_rate: float, activation: str | None = None):
    """The decide-stage cell of ``arm`` at ``learning_rate`` (None when not run)."""
    if not np.isfinite(learning_rate):
        return None
    c = sel(t.cells, dataset=arm.dataset, activation=activation or config.roles.activation, optimizer=arm.optimizer,
            init=arm.init, learning_rate=float(learning_rate))
    return None if len(c) == 0 else c.iloc[0]


def edge_cells(t, config, init: str) -> list:
    """(arm, its decide cell at the edge lr) for every arm with ``init``: plain SGD first, F3's data set first."""
    rows = [r for r in arms(t, config, inits=(init,))]
    rows.sort(key=lambda r: (r.optimizer != config.roles.optimizer, r.dataset != config.roles.f3_dataset))
    return [(r, cell(t, config, r, r.edge_learning_rate)) for r in rows]


def edge_condition(arm, c, config) -> str:
    if c is None:
        return f"{arm.dataset}, {arm.optimizer}, {arm.init}: no lr at which >= {config.criteria.learned_share:g} of the seeds learn"
    flag = "; edge at the grid's end (R6: extend)" if arm.edge_at_grid_end else ""
    return (f"{arm.dataset}, {arm.optimizer}, {arm.init}, edge lr {c['learning_rate']:g}; {int(c['n_seeds'])} of "
            f"{int(c['n_runs'])} decide seeds learned ({int(c['n_diverged'])} diverged, {int(c['n_collapsed'])} collapsed), "
            f"train acc {c['learned_train_acc']:.2f}{flag}")


def fraction_part(name: str, c, config, threshold: str, side: str, unit: str, condition: str, value: str = "dead",
                  n_col: str = "n_seeds") -> Part:
    """``compare`` on a cell's ``value`` CI; inconclusive when the cell is missing or too few seeds learned (R8)."""
    if c is None or c[n_col] < config.criteria.min_learned:
        n = 0 if c is None else int(c[n_col])
        return part(name, "inconclusive", None if c is None else c[value], n_seeds=n, unit=unit,
                    condition=f"{condition}; fewer than {config.criteria.min_learned:g} seeds to decide (R8)")
    est = stats.Estimate(c[value], c[f"{value}_lo"], c[f"{value}_hi"], int(c[n_col]))
    return compare(name, est, config, threshold, side, unit=unit, condition=condition)


def born_dead(t, config, arm) -> tuple[stats.Estimate, int]:
    """Born-dead fraction of ``arm``'s ReLU runs, both stages: each (seed, lr) is an independent init draw."""
    runs = pd.concat([t.locate_runs, t.runs], ignore_index=True)
    r = sel(runs, dataset=arm.dataset, activation=config.roles.activation, optimizer=arm.optimizer, init=arm.init)
    r = r.drop_duplicates(["seed", "learning_rate"])
    est = stats.bootstrap_ci(r["born_dead"].to_numpy(float), confidence=config.criteria.confidence)
    return est, config.width * config.depth


def lr_effect_part(t, config, arm) -> Part:
    """F2(b): dead at the edge lr minus at the low lr, paired over decide seeds that learned at both."""
    name = f"lr kills units: {arm.dataset}, {arm.init}"
    unit = "permanently dead fraction, edge lr minus low lr (paired over seeds)"
    if not np.isfinite(arm.edge_learning_rate) or arm.edge_learning_rate == arm.low_learning_rate:
        return part(name, "inconclusive", unit=unit, condition=f"{arm.dataset}, {arm.init}: fewer than two lrs train")
    base = {"dataset": arm.dataset, "activation": config.roles.activation, "optimizer": arm.optimizer, "init": arm.init}
    est, n = paired_drop(t.runs, {**base, "learning_rate": arm.edge_learning_rate},
                         {**base, "learning_rate": arm.low_learning_rate}, config.criteria.confidence)
    cond = f"{arm.dataset}, {arm.init}, {arm.optimizer}: lr {arm.edge_learning_rate:g} (edge) vs {arm.low_learning_rate:g} (low)"
    if n < config.criteria.min_learned:
        return part(name, "inconclusive", est.mean, n_seeds=n, unit=unit, condition=f"{cond}; only {n} seeds learned at both")
    return compare(name, est, config, "criteria.f2.min_lr_effect", ">=", unit=unit, condition=cond)


def f4_power_cells(t, config) -> tuple[list, list]:
    """F4's cells (the ``f4_optimizers`` He arms one grid step below their edge lr, where nets learn with a
    margin): (cells where ReLU's dead CI lo >= relu_min_dead over >= min_learned seeds, all)."""
    roles, crit = config.roles, config.criteria.f4
    refs = []
    for arm in arms(t, config, inits=(roles.init,)):
        if arm.dataset == roles.f4_dataset and arm.optimizer in roles.f4_optimizers:
            c = cell(t, config, arm, arm.below_edge_learning_rate)
            if c is not None:
                refs.append(c)
    power = [c for c in refs if c["n_seeds"] >= config.criteria.min_learned and c["dead_lo"] >= crit.relu_min_dead]
    return power, refs


def f4_variant_part(t, config, act: str, power: list, refs: list) -> Part:
    """A variant's stuck fraction (finite seeds) in every power cell; the deciding cell: refuted first, else largest CI hi."""
    name, unit = f"{act} units do not get stuck", "fraction of units on the negative branch for every example (finite seeds)"
    if not power:
        return part(name, "inconclusive", unit=unit, condition=f"no cell where ReLU's dead fraction CI lo >= "
                    f"{config.criteria.f4.relu_min_dead:g} ({len(refs)} cells): no power")
    found = []
    for c in power:
        v = sel(t.cells, dataset=c["dataset"], activation=act, optimizer=c["optimizer"], init=c["init"],
                learning_rate=float(c["learning_rate"]))
        if len(v):
            v = v.iloc[0]
            cond = (f"{v['dataset']}, {v['optimizer']}, {v['init']}, lr {v['learning_rate']:g}: {int(v['n_finite'])} of "
                    f"{int(v['n_runs'])} seeds finite, {int(v['n_seeds'])} learned; ReLU there {c['dead']:.1%} dead")
            found.append(fraction_part(name, v, config, "criteria.f4.max_stuck", "<=", unit, cond, value="dead_finite",
                                       n_col="n_finite"))
    if not found:
        return part(name, "inconclusive", unit=unit, condition="not run in the power cells")
    rank = {"refuted": 0, "inconclusive": 1, "supported": 2}
    return min(found, key=lambda p: (rank[p.verdict], -(p.ci[1] if p.ci and np.isfinite(p.ci[1]) else np.inf)))


def g3_rarer_part(t, config, arm) -> Part:
    """G3(b): dead after training at the edge lr minus born dead at init, paired over decide seeds that learned."""
    name = f"init is the rarer cause: {arm.dataset}"
    unit = "permanently dead fraction after training minus born-dead fraction (same runs)"
    r = sel(t.runs, dataset=arm.dataset, activation=config.roles.activation, optimizer=arm.optimizer, init=arm.init,
            learning_rate=float(arm.edge_learning_rate)) if np.isfinite(arm.edge_learning_rate) else t.runs.iloc[:0]
    r = r[r["status"] == "ok"]
    cond = f"{arm.dataset}, width {config.width}, {arm.init}, {arm.optimizer}, edge lr {arm.edge_learning_rate:g}"
    if len(r) < config.criteria.min_learned:
        return part(name, "inconclusive", n_seeds=len(r), unit=unit, condition=f"{cond}; fewer than "
                    f"{config.criteria.min_learned:g} seeds learned")
    est = stats.mean_ci((r["dead"] - r["born_dead"]).to_numpy(float), config.criteria.confidence)
    return compare(name, est, config, "criteria.g3.min_gap", ">", unit=unit, condition=cond)


def f4_cell_summary(t, config, power: list) -> str:
    """Each variant's stuck fraction (or why none) in each power cell, for F4's statement."""
    out = []
    for c in power:
        items = []
        for act in config.roles.variants:
            v = sel(t.cells, dataset=c["dataset"], activation=act, optimizer=c["optimizer"], init=c["init"],
                    learning_rate=float(c["learning_rate"]))
            if len(v) == 0:
                items.append(f"{act} not run")
                continue
            v = v.iloc[0]
            items.append(f"{act} {v['dead_finite']:.1%} ({int(v['n_finite'])} finite)" if v["n_finite"]
                         else f"{act} all {int(v['n_runs'])} diverged")
        out.append(f"{c['optimizer']} lr {c['learning_rate']:g} (ReLU {c['dead']:.1%}): " + ", ".join(items))
    return "; ".join(out) or "none"

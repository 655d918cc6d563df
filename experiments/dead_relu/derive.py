"""Tables derived from the sweeps' runs (claims F1, F3): remedies, CS231n's 40 %, divergence.

Pure pandas on the ``runs`` and per-cell tables of :mod:`.measure`; the claims read these tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats

XAVIER = "Xavier init"  # the remedy label of F3(b) in ``f3_remedies``


def optimizer_remedy(opt: str) -> str:
    """The remedy label of optimiser ``opt`` in ``f3_remedies`` (F3(c))."""
    return f"{opt} optimiser"


def sel(df: pd.DataFrame, **kw) -> pd.DataFrame:
    """The rows of ``df`` whose columns equal the given values."""
    mask = np.ones(len(df), bool)
    for k, v in kw.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask]


def relu_sgd(agg: pd.DataFrame, config) -> pd.DataFrame:
    """The cells of the activation whose units die (ReLU) trained with plain SGD (config.roles)."""
    return sel(agg, activation=config.roles.activation, optimizer=config.roles.optimizer)


def _paired_at(runs: pd.DataFrame, a: dict, b: dict, lr: float) -> stats.Paired | None:
    """Paired difference final_dead(a) - final_dead(b) over seeds at one lr (None if not both trained)."""
    ga = sel(runs, learning_rate=lr, **a).sort_values("seed")
    gb = sel(runs, learning_rate=lr, **b).sort_values("seed")
    if len(ga) == 0 or len(gb) == 0 or (ga["status"] == "diverged").any() or (gb["status"] == "diverged").any():
        return None
    return stats.paired(ga["final_dead"].to_numpy(), gb["final_dead"].to_numpy())


def _remedy(runs, treated: dict, baseline: dict, lrs) -> tuple[int, int, list[str]]:
    helps, hurts, notes = 0, 0, []
    for lr in lrs:
        p = _paired_at(runs, baseline, treated, lr)
        if p is None:
            continue
        if p.significant and p.diff.mean > 0:
            helps += 1
        elif p.significant and p.diff.mean < 0:
            hurts += 1
            notes.append(f"lr {lr:.3g}: {p.diff.mean:+.3f}")
    return helps, hurts, notes


def remedies(runs: pd.DataFrame, config) -> pd.DataFrame:
    """F3: per remedy and data set, at how many common non-divergent lrs it lowers / raises the dead fraction."""
    roles, lrs = config.roles, [float(v) for v in config.learning_rates]
    rows = []
    for ds in runs["dataset"].unique():
        relu = {"dataset": ds, "activation": roles.activation}
        for naive in roles.naive_inits:
            if len(sel(runs, init=roles.xavier_init, optimizer=roles.optimizer, **relu)) and len(sel(runs, init=naive, **relu)):
                rows.append((XAVIER, ds, f"{roles.xavier_init} vs {naive} (SGD)",
                             *_remedy(runs, dict(init=roles.xavier_init, optimizer=roles.optimizer, **relu),
                                      dict(init=naive, optimizer=roles.optimizer, **relu), lrs)))
        for opt in roles.optimizers:
            for init in sel(runs, optimizer=opt, **relu)["init"].unique():
                if len(sel(runs, optimizer=roles.optimizer, init=init, **relu)):
                    rows.append((optimizer_remedy(opt), ds, f"{opt} vs {roles.optimizer} ({init}, equal base lr)",
                                 *_remedy(runs, dict(optimizer=opt, init=init, **relu),
                                          dict(optimizer=roles.optimizer, init=init, **relu), lrs)))
    columns = ["remedy", "dataset", "comparison", "n_learning_rates_helps", "n_learning_rates_hurts", "hurts_at"]
    table = pd.DataFrame(rows, columns=columns)
    table["hurts_at"] = table["hurts_at"].map(lambda v: "; ".join(v))
    return table.reset_index(drop=True)


def cs231n(agg: pd.DataFrame, config) -> pd.DataFrame:
    """CS231n's "as much as 40%": the cells (not all diverged) whose mean dead fraction reaches it."""
    cs = float(config.published.cs231n_dead_fraction)
    forty = agg[(agg["final_dead"] >= cs) & (agg["n_diverged"] < agg["n_seeds"])][
        ["dataset", "activation", "optimizer", "init", "learning_rate", "final_dead", "final_dead_lo", "final_dead_hi",
         "n_diverged"]
    ].assign(published=cs)
    return forty.reset_index(drop=True)


def divergence(agg: pd.DataFrame) -> pd.DataFrame:
    """The smallest lr at which at least half the seeds of a cell diverged."""
    return (agg[agg["n_diverged"] * 2 >= agg["n_seeds"]].groupby(["dataset", "activation", "optimizer", "init"])["learning_rate"]
            .min().rename("first_learning_rate_half_diverged").reset_index())

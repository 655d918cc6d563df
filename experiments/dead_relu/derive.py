"""Tables derived from the runs (claims F1-F4): the picked lrs, F3's paired drops, CS231n's 40 %.

Pure pandas on the ``runs`` / ``cells`` tables of :mod:`.measure`; the claims read these tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats

ARM = ["dataset", "optimizer", "init"]


def sel(df: pd.DataFrame, **kw) -> pd.DataFrame:
    """The rows of ``df`` whose columns equal the given values (floats compared to 6 digits)."""
    mask = np.ones(len(df), bool)
    for k, v in kw.items():
        col = df[k].to_numpy()
        mask &= np.isclose(col.astype(float), float(v), rtol=1e-6) if isinstance(v, float) else (col == v)
    return df[mask]


def lr_round(x: float) -> float:
    """A learning rate to 3 significant digits (the grids' spelling: 3.16 x 0.316 = 1.0)."""
    return float(f"{x:.3g}")


def snap(lr: float, grid) -> float:
    """``lr`` as the grid's own spelling when within 1% of a grid value (0.316 x 3.16 = 1.0), else 3 digits."""
    near = [float(g) for g in grid if abs(float(g) / lr - 1.0) < 0.01]
    return near[0] if near else lr_round(lr)


def select(locate_cells: pd.DataFrame, config) -> pd.DataFrame:
    """Per arm, from its locate runs: best lr (highest mean final train accuracy, diverged runs at
    chance), edge and low lr (largest and smallest lr at which >= learned_share of the seeds learned),
    and the grid's lr below the edge (F4's cells: a high lr at which nets learn with a margin).

    ``best_at_grid_end`` / ``edge_at_grid_end`` flag a pick at the grid's end (R6: extend the grid).
    """
    share, rows = config.criteria.learned_share, []
    for name, arm in config.arms.items():
        g = sel(locate_cells, dataset=arm.dataset, activation=config.roles.activation, optimizer=arm.optimizer,
                init=arm.init).sort_values("learning_rate")
        grid = g["learning_rate"].to_numpy(float)
        best = g.loc[g["score"].idxmax()]
        trains = g[g["n_seeds"] >= share * g["n_runs"]]
        edge = float(trains["learning_rate"].max()) if len(trains) else float("nan")
        low = float(trains["learning_rate"].min()) if len(trains) else float("nan")
        below = grid[grid < edge]
        below_edge = float(below.max()) if len(trains) and len(below) else float("nan")
        rows.append({"arm": name, **{k: arm[k] for k in ARM}, "best_learning_rate": float(best["learning_rate"]),
                     "best_score": float(best["score"]), "edge_learning_rate": edge, "low_learning_rate": low,
                     "below_edge_learning_rate": below_edge,
                     "edge_dead": float(sel(g, learning_rate=edge)["dead"].iloc[0]) if len(trains) else float("nan"),
                     "best_at_grid_end": bool(best["learning_rate"] in (grid.min(), grid.max())),
                     "edge_at_grid_end": bool(len(trains) and edge == grid.max()),
                     "n_learning_rates": len(grid), "n_seeds": int(g["n_runs"].max())})
    return pd.DataFrame(rows)


def arm_row(selected: pd.DataFrame, dataset: str, optimizer: str, init: str):
    """The ``selected`` row of an arm, or None."""
    r = sel(selected, dataset=dataset, optimizer=optimizer, init=init)
    return None if len(r) == 0 else r.iloc[0]


def over_training(layers: pd.DataFrame) -> pd.DataFrame:
    """Per decide cell, layer and check: the mean dead (stuck) fraction and train accuracy over the seeds that learned."""
    ok = layers[layers["status"] == "ok"]
    keys = ["dataset", "activation", "optimizer", "init", "learning_rate", "layer", "step"]
    return ok.groupby(keys, sort=False).agg(dead=("dead", "mean"), train_acc=("train_acc", "mean"),
                                            n_seeds=("seed", "nunique")).reset_index()


def revival_table(cells: pd.DataFrame, selected: pd.DataFrame, config) -> pd.DataFrame:
    """Unit-weighted revival at every arm's edge lr (decide seeds that learned); SGD decides F1(b), the rest reported."""
    rows = []
    for r in selected.itertuples():
        c = sel(cells, dataset=r.dataset, activation=config.roles.activation, optimizer=r.optimizer, init=r.init,
                learning_rate=r.edge_learning_rate) if np.isfinite(r.edge_learning_rate) else cells.iloc[:0]
        if len(c):
            c = c.iloc[0]
            rows.append({k: c[k] for k in ["dataset", "optimizer", "init", "learning_rate", "revival", "revival_lo",
                                           "revival_hi", "n_seeds_revival", "n_dead_units", "revival_run", "revival_run_lo",
                                           "revival_run_hi", "n_dead_run_units", "dead", "n_seeds", "status"]})
    return pd.DataFrame(rows)


def cs231n(cells: pd.DataFrame, all_runs: pd.DataFrame, config) -> pd.DataFrame:
    """CS231n's "as much as 40%" beside the largest dead fraction in nets that learned: the decide cell
    with the largest mean (over >= min_learned learned seeds) and the single learned net with the largest."""
    relu = cells[(cells["activation"] == config.roles.activation) & (cells["n_seeds"] >= config.criteria.min_learned)]
    c = relu.loc[relu["dead"].idxmax()]
    ok = all_runs[(all_runs["status"] == "ok") & (all_runs["activation"] == config.roles.activation)]
    r = ok.loc[ok["dead"].idxmax()]
    keep = ["dataset", "optimizer", "init", "learning_rate"]
    return pd.DataFrame([
        {"what": "largest cell mean (decide seeds that learned)", **{k: c[k] for k in keep}, "dead": c["dead"],
         "dead_lo": c["dead_lo"], "dead_hi": c["dead_hi"], "n_seeds": int(c["n_seeds"]),
         "train_acc": c["learned_train_acc"], "published": config.published.cs231n_dead_fraction},
        {"what": f"largest single net that learned ({r['stage']} stage)", **{k: r[k] for k in keep}, "dead": r["dead"],
         "dead_lo": np.nan, "dead_hi": np.nan, "n_seeds": 1, "train_acc": r["final_train_acc"],
         "published": config.published.cs231n_dead_fraction},
    ])


def paired_drop(runs: pd.DataFrame, base: dict, treated: dict, confidence: float) -> tuple[stats.Estimate, int]:
    """dead(base) - dead(treated) paired over the seeds that learned in both (t interval)."""
    a = sel(runs, **base).set_index("seed")
    b = sel(runs, **treated).set_index("seed")
    both = a.index.intersection(b.index)
    both = [s for s in both if a.loc[s, "status"] == "ok" and b.loc[s, "status"] == "ok"]
    d = (a.loc[both, "dead"] - b.loc[both, "dead"]).to_numpy(float)
    return stats.mean_ci(d, confidence), len(both)


def _f3_comparisons(selected, config) -> list[tuple[str, str, bool, tuple | None, tuple | None]]:
    """(name, remedy, in the family, baseline (optimizer, init, lr), treated (optimizer, init, lr))."""
    roles, ds, crit = config.roles, config.roles.f3_dataset, config.criteria.f3

    def best(opt, init):
        r = arm_row(selected, ds, opt, init)
        return None if r is None else (opt, init, float(r["best_learning_rate"]))

    sgd_he = best(roles.optimizer, roles.init)
    he_arm = arm_row(selected, ds, roles.optimizer, roles.init)
    grid = () if he_arm is None else config.arms[he_arm["arm"]].learning_rates
    out = []
    for f in crit.lr_factors:
        high = None if sgd_he is None else (roles.optimizer, roles.init, snap(sgd_he[2] * f, grid))
        out.append((f"best lr vs {f:g}x best", "smaller lr", True, high, sgd_he))
    for naive in roles.naive_inits:
        out.append((f"{roles.xavier_init} vs {naive}", "Xavier init", True, best(roles.optimizer, naive),
                    best(roles.optimizer, roles.xavier_init)))
    out.append((f"{roles.remedy_optimizer} vs {roles.optimizer}", f"{roles.remedy_optimizer} optimiser", True, sgd_he,
                best(roles.remedy_optimizer, roles.init)))
    return out


def f3_pairs(runs: pd.DataFrame, selected: pd.DataFrame, config) -> pd.DataFrame:
    """F3: each remedy's paired drop in dead fraction at matched training quality (each arm at its best lr;
    smaller lr: best vs its multiples), Bonferroni intervals over the family (criteria.f3)."""
    crit, ds, act = config.criteria, config.roles.f3_dataset, config.roles.activation
    family = [c for c in _f3_comparisons(selected, config) if c[2]]
    confidence = 1.0 - crit.f3.family_alpha / max(1, len(family))
    rows = []
    for name, remedy, in_family, base, treated in _f3_comparisons(selected, config):
        row = {"comparison": name, "remedy": remedy, "in_family": in_family, "dataset": ds, "confidence": confidence}
        if base is None or treated is None:
            rows.append({**row, "drop": np.nan, "drop_lo": np.nan, "drop_hi": np.nan, "n_seeds": 0, "status": "censored",
                         "note": "arm not run"})
            continue
        b, t = ({"dataset": ds, "activation": act, "optimizer": o, "init": i, "learning_rate": lr} for o, i, lr in (base, treated))
        est, n = paired_drop(runs, b, t, confidence)
        acc = [sel(runs, **c).query("status == 'ok'")["final_train_acc"].mean() for c in (b, t)]
        n_base, n_treated = (int((sel(runs, **c)["status"] == "ok").sum()) for c in (b, t))
        note, status = "", "ok"
        if n < crit.min_learned:
            est = stats.Estimate(est.mean, float("nan"), float("nan"), n)
            failed = pd.concat([sel(runs, **c) for c in (b, t)]).query("status != 'ok'")["status"]
            status = "diverged" if (failed == "diverged").sum() >= (failed == "collapsed").sum() else "collapsed"
            note = f"only {n} seeds learned in both (R8; the others {status})"
        rows.append({**row, "baseline": f"{base[0]}, {base[1]}, lr {base[2]:g}", "treated": f"{treated[0]}, {treated[1]}, "
                     f"lr {treated[2]:g}", "drop": est.mean, "drop_lo": est.lo, "drop_hi": est.hi, "n_seeds": n,
                     "n_learned_baseline": n_base, "n_learned_treated": n_treated, "acc_baseline": acc[0],
                     "acc_treated": acc[1], "status": status, "note": note})
    return pd.DataFrame(rows)

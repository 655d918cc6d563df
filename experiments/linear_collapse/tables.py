"""The tables of experiments.linear_collapse from the trained populations (claims A1, C1).

``best_loss`` (per data set and condition, at its best learning rate), ``best_loss_seeds`` (the
same per seed: what the equivalence tests of A1 read), ``lr_sweep`` (every learning rate tried,
R6), ``paired_differences`` (each deep net minus the single layer, paired over seeds),
``collapse`` and ``scalar_collapse`` (A1 (a)); artefacts ``curves`` and ``boundary`` for figures.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from experiments.kit import stats

from .measure import ONE_LAYER, best_rate, edge_beats_neighbour, scalar_collapse


def _condition_rows(config, conds, ds_name, name, entry) -> tuple[dict, list[dict], list[dict]]:
    by_lr = entry["by_lr"]
    lr = best_rate(by_lr)
    r, rates = by_lr[lr], sorted(by_lr)
    est = stats.mean_ci(r["best"])
    row = {
        "dataset": ds_name, "condition": name, "activation": conds[name]["activation"], "initializer": conds[name]["init"],
        "best_learning_rate": lr, "learning_rates_tried": " ".join(f"{v:.3g}" for v in rates),
        "lr_at_edge": bool(lr in (rates[0], rates[-1])), "lr_edge_beats_neighbour": edge_beats_neighbour(by_lr, config.lr_min_gain), "best_loss": est.mean, "best_loss_lo": est.lo,
        "best_loss_hi": est.hi, "n_seeds": est.n, "n_diverged": int(r["diverged"].sum()),
        "final_train_acc": float(np.nanmean(r["train_acc"])), "final_test_acc": float(np.nanmean(r["test_acc"])),
    }
    seeds = [{"dataset": ds_name, "condition": name, "seed": s, "best_loss": float(v),
              "status": "diverged" if d else "ok"} for s, (v, d) in enumerate(zip(r["best"], r["diverged"], strict=True))]
    sweep = []
    for v in rates:
        e = stats.mean_ci(by_lr[v]["best"])
        sweep.append({"dataset": ds_name, "condition": name, "learning_rate": v, "best_loss": e.mean, "best_loss_lo": e.lo,
                      "best_loss_hi": e.hi, "n_seeds": e.n, "n_diverged": int(by_lr[v]["diverged"].sum()),
                      "status": "diverged" if by_lr[v]["diverged"].all() else "ok"})
    return row, seeds, sweep


def tables(config, conds, found) -> dict:
    """Every table and artefact of the experiment from ``found[(data set, condition)]``."""
    rows, seed_rows, sweep_rows, diff_rows, collapse_rows, curves, boundary = [], [], [], [], [], {}, None
    for ds_name in config.datasets:
        models_, best = {}, {}
        for name in conds:
            entry = found[(ds_name, name)]
            row, seeds, sweep = _condition_rows(config, conds, ds_name, name, entry)
            rows.append(row)
            seed_rows += seeds
            sweep_rows += sweep
            r = entry["by_lr"][row["best_learning_rate"]]
            best[name] = r["best"]
            curves[(ds_name, name)] = (r["steps"], r["curve"])
            models_[name] = (entry["model"], jax.tree_util.tree_map(lambda a: a[0], r["final"]))
            errs = [v["collapse"] for v in entry["by_lr"].values() if "collapse" in v]
            if errs:
                err = np.concatenate(errs)
                collapse_rows.append({"dataset": ds_name, "condition": name, "c": float(conds[name]["params"].get("c", 1.0)),
                                      "runs": len(err), "max_rel_err": float(np.max(err)), "median_rel_err": float(np.median(err))})
        for name in conds:
            if name == ONE_LAYER:
                continue
            p = stats.paired(best[name], best[ONE_LAYER])
            diff_rows.append({"dataset": ds_name, "condition": name, "minus": ONE_LAYER, "difference": p.diff.mean,
                              "difference_lo": p.diff.lo, "difference_hi": p.diff.hi, "p_t": p.p_t, "n_seeds": p.diff.n})
        if ds_name == "two_moons" or boundary is None:
            boundary = (found[(ds_name, ONE_LAYER)]["ds"], models_)
    return {
        "best_loss": pd.DataFrame(rows),
        "best_loss_seeds": pd.DataFrame(seed_rows),
        "lr_sweep": pd.DataFrame(sweep_rows),
        "paired_differences": pd.DataFrame(diff_rows),
        "collapse": pd.DataFrame(collapse_rows),
        "scalar_collapse": pd.DataFrame([scalar_collapse(config.linear_c, config.depth)]),
        "curves": curves,
        "boundary": boundary,
    }

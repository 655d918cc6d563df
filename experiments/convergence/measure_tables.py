"""The tables of experiments.convergence, one builder per claim, from the populations of :mod:`.measure`.

Everything a claim decides from is here, as a table: per-seed quantities (paired differences,
step ratios, the data-set-averaged PReLU gain) are reduced to estimates with their 95% CI and
``n_seeds`` before a claim sees them, so :meth:`Experiment.redecide` can decide again from the CSVs.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import stats

from .measure import Runner, mlp_pairs

SMALL_NORMAL_STD = 0.01  # small_normal's standard deviation (C4: weight_scales multiply it)


def h1_table(runner: Runner, config: ml_collections.ConfigDict) -> pd.DataFrame:
    """H1: steps to the threshold of every activation over the baseline's, per (model, data set)."""
    pairs, baseline = mlp_pairs(config), config.baseline
    cells = [("mlp", d) for d in dict.fromkeys(d for d, _ in pairs)] + [("cnn", d) for d in config.cnn.datasets]
    rows = []
    for model_kind, key in cells:  # the table lists every activation trained; the verdict reads criteria.h1.activations
        acts_here = [a for d, a in pairs if d == key] if model_kind == "mlp" else config.cnn.activations
        base = runner.tuned(runner.cell(model_kind, key, baseline))
        for label in acts_here:
            if label == baseline:
                continue
            t = runner.tuned(runner.cell(model_kind, key, label))
            if base is None or t is None:
                rows.append({"model": model_kind, "dataset": key, "activation": label, "ratio": np.nan, "ratio_lo": np.nan,
                             "ratio_hi": np.nan, "n_seeds": 0, "steps": np.nan, "relu_steps": np.nan, "n_reached": 0,
                             "relu_n_reached": 0, "learning_rate": np.nan, "relu_learning_rate": np.nan, "status": "diverged"})
                continue
            r = stats.ratio_ci(t["steps"], base["steps"])
            rows.append({"model": model_kind, "dataset": key, "activation": label, "ratio": r.mean, "ratio_lo": r.lo,
                         "ratio_hi": r.hi, "n_seeds": r.n, "steps": float(t["steps"].mean()),
                         "relu_steps": float(base["steps"].mean()), "n_reached": t["reached"],
                         "relu_n_reached": base["reached"], "learning_rate": t["learning_rate"],
                         "relu_learning_rate": base["learning_rate"], "status": "done"})
    return pd.DataFrame(rows)


def f5_table(runner: Runner, config: ml_collections.ConfigDict) -> pd.DataFrame:
    """F5: paired final test accuracy of each rival minus the baseline's, Holm-corrected over the rivals."""
    rows, skip = [], {config.baseline, *config.f5.excluded}
    for key, label in mlp_pairs(config):
        if label in skip:
            continue  # F5 is about ReLU's rivals of the same family (H3 and H4 cover PReLU and RReLU)
        base = runner.tuned(runner.cell("mlp", key, config.baseline))
        t = runner.tuned(runner.cell("mlp", key, label))
        if base is None or t is None:
            rows.append({"dataset": key, "activation": label, "diff_pct": np.nan, "diff_pct_lo": np.nan,
                         "diff_pct_hi": np.nan, "p_t": np.nan, "status": "diverged"})
            continue
        p = stats.paired(t["test_acc"], base["test_acc"])
        rows.append({"dataset": key, "activation": label, "acc": float(np.mean(t["test_acc"])),
                     "relu_acc": float(np.mean(base["test_acc"])), "diff_pct": 100 * p.diff.mean,
                     "diff_pct_lo": 100 * p.diff.lo, "diff_pct_hi": 100 * p.diff.hi, "p_t": p.p_t, "status": "done"})
    df = pd.DataFrame(rows)
    ok = df.p_t.notna()
    df["p_holm"] = np.nan
    df.loc[ok, "p_holm"] = stats.holm(df.loc[ok, "p_t"].to_numpy())
    alpha = config.criteria.f5.alpha
    df["better"] = (df.p_holm < alpha) & (df.diff_pct > 0)
    df["worse"] = (df.p_holm < alpha) & (df.diff_pct < 0)
    return df


def h3_tables(runner: Runner, config: ml_collections.ConfigDict) -> dict[str, pd.DataFrame]:
    """H3: PReLU vs the baseline per data set, the learned slopes, and the data-set-averaged gain."""
    rows, slope_rows, diffs = [], [], []
    confidence = config.criteria.h3.confidence
    for key in config.grid.datasets:
        base = runner.tuned(runner.cell("mlp", key, config.baseline))
        t = runner.tuned(runner.cell("mlp", key, config.h3.activation))
        if base is None or t is None:
            continue
        p = stats.paired(t["test_acc"], base["test_acc"], confidence)
        r = stats.ratio_ci(base["steps"], t["steps"], confidence)
        diffs.append(t["test_acc"] - base["test_acc"])
        rows.append({"dataset": key, "prelu_acc": float(t["test_acc"].mean()), "relu_acc": float(base["test_acc"].mean()),
                     "diff_pct": 100 * p.diff.mean, "diff_pct_lo": 100 * p.diff.lo, "diff_pct_hi": 100 * p.diff.hi,
                     "p_t": p.p_t, "steps_relu_over_prelu": r.mean, "steps_relu_over_prelu_lo": r.lo,
                     "steps_relu_over_prelu_hi": r.hi, "prelu_learning_rate": t["learning_rate"],
                     "relu_learning_rate": base["learning_rate"], "published_gain_pct": config.published.h3_gain_pct})
        for layer in range(t["slopes"].shape[-1]):
            s = stats.mean_ci(t["slopes"][:, layer], confidence)
            slope_rows.append({"dataset": key, "layer": layer, "mean_slope": s.mean, "mean_slope_lo": s.lo,
                               "mean_slope_hi": s.hi, "init": 0.25})
    # per seed, the accuracy gain averaged over data sets; its CI is over seeds (R4)
    pooled = stats.mean_ci(100 * np.mean(diffs, axis=0), confidence) if diffs else stats.mean_ci([], confidence)
    pooled_row = {"datasets": len(diffs), "diff_pct": pooled.mean, "diff_pct_lo": pooled.lo, "diff_pct_hi": pooled.hi,
                  "n_seeds": pooled.n}
    return {"h3_prelu_vs_relu": pd.DataFrame(rows), "prelu_slopes": pd.DataFrame(slope_rows),
            "h3_pooled": pd.DataFrame([pooled_row])}


def _h4_row(key: str, label: str, t: dict, base: dict | None, rr: dict | None) -> dict:
    acc, gap = stats.mean_ci(t["test_acc"]), stats.mean_ci(t["gap"])
    vs_relu = stats.paired(t["test_acc"], base["test_acc"]) if base is not None else None
    vs_rr = stats.paired(t["gap"], rr["gap"]) if rr is not None else None
    return {"dataset": key, "variant": label, "learning_rate": t["learning_rate"], "test_acc": acc.mean,
            "test_acc_lo": acc.lo, "test_acc_hi": acc.hi, "gap": gap.mean, "gap_lo": gap.lo, "gap_hi": gap.hi,
            "acc_minus_relu_pct": None if vs_relu is None else 100 * vs_relu.diff.mean,
            "acc_minus_relu_pct_lo": None if vs_relu is None else 100 * vs_relu.diff.lo,
            "acc_minus_relu_pct_hi": None if vs_relu is None else 100 * vs_relu.diff.hi,
            "gap_minus_rrelu": None if vs_rr is None else vs_rr.diff.mean,
            "gap_minus_rrelu_lo": None if vs_rr is None else vs_rr.diff.lo,
            "gap_minus_rrelu_hi": None if vs_rr is None else vs_rr.diff.hi, "status": "done"}


def h4_tables(runner: Runner, config: ml_collections.ConfigDict) -> dict[str, pd.DataFrame]:
    """H4: every variant on the small training sets, and RReLU minus the baseline (accuracy, gap) per set."""
    rows, paired_rows = [], []
    for key in h4_datasets(config):
        base = runner.tuned(runner.cell("mlp", key, config.baseline))
        rr = runner.tuned(runner.cell("mlp", key, config.h4.activation))
        for label in config.h4.variants:
            t = runner.tuned(runner.cell("mlp", key, label))
            if t is None:
                rows.append({"dataset": key, "variant": label, "status": "diverged"})
                continue
            rows.append(_h4_row(key, label, t, base, rr))
        if base is not None and rr is not None:
            win, gap = stats.paired(rr["test_acc"], base["test_acc"]), stats.paired(rr["gap"], base["gap"])
            paired_rows.append({"dataset": key, "activation": config.h4.activation, "baseline": config.baseline,
                                "acc_diff_pct": 100 * win.diff.mean, "acc_diff_pct_lo": 100 * win.diff.lo,
                                "acc_diff_pct_hi": 100 * win.diff.hi, "gap_diff_pct": 100 * gap.diff.mean,
                                "gap_diff_pct_lo": 100 * gap.diff.lo, "gap_diff_pct_hi": 100 * gap.diff.hi,
                                "n_seeds": win.diff.n})
    columns = ["dataset", "activation", "baseline", "acc_diff_pct", "acc_diff_pct_lo", "acc_diff_pct_hi",
               "gap_diff_pct", "gap_diff_pct_lo", "gap_diff_pct_hi", "n_seeds"]
    return {"h4_small_data": pd.DataFrame(rows), "h4_paired": pd.DataFrame(paired_rows, columns=columns)}


def h4_datasets(config: ml_collections.ConfigDict) -> list[str]:
    """H4's small training sets: ``h4.datasets`` and Fashion-MNIST subsampled to ``h4.fashion_sizes``."""
    return list(config.h4.datasets) + [f"fashion_{n // 1000}k" for n in config.h4.fashion_sizes]


def c4_tables(runner: Runner, config: ml_collections.ConfigDict) -> dict[str, pd.DataFrame]:
    """C4: steps from small initial weights per activation and scale, and each one's ratio to the reference's."""
    c4, rows, per_scale = config.c4, [], {}
    for key in c4.datasets:
        for label in c4.activations:
            cell = runner.cell("mlp", key, label, init=c4.init, scales=tuple(c4.weight_scales))
            for j, scale in enumerate(c4.weight_scales):
                t = runner.tuned(cell, j)
                per_scale[(key, label, j)] = t
                if t is None:
                    rows.append({"dataset": key, "activation": label, "init_std": SMALL_NORMAL_STD * scale,
                                 "status": "diverged"})
                    continue
                s = stats.mean_ci(t["steps"])
                rows.append({"dataset": key, "activation": label, "init_std": SMALL_NORMAL_STD * scale,
                             "learning_rate": t["learning_rate"], "mean_steps": s.mean, "mean_steps_lo": s.lo,
                             "mean_steps_hi": s.hi, "n_reached": t["reached"], "status": "done"})
    ratio_rows = []
    for key in c4.datasets:
        for j, scale in enumerate(c4.weight_scales):
            ref = per_scale.get((key, c4.reference, j))
            for other in c4.activations:
                o = per_scale.get((key, other, j))
                if other == c4.reference or ref is None or o is None:
                    continue
                r = stats.ratio_ci(o["steps"], ref["steps"])
                ratio_rows.append({"dataset": key, "init_std": SMALL_NORMAL_STD * scale, "activation": other,
                                   "reference": c4.reference, "ratio": r.mean, "ratio_lo": r.lo, "ratio_hi": r.hi,
                                   "n_seeds": r.n})
    columns = ["dataset", "init_std", "activation", "reference", "ratio", "ratio_lo", "ratio_hi", "n_seeds"]
    return {"c4_small_init": pd.DataFrame(rows), "c4_step_ratios": pd.DataFrame(ratio_rows, columns=columns)}


def c5_table(sweep: pd.DataFrame, config: ml_collections.ConfigDict) -> pd.DataFrame:
    """C5: per (data set, activation) of the MLP at the default init, the largest stable rate and best loss."""
    bounded = set(config.criteria.c5.bounded)
    base = sweep[(sweep.init == config.init) & (sweep.model == "mlp")]
    rows = []
    for (key, label), g in base.groupby(["dataset", "activation"]):
        stable = g[g.n_diverged == 0]
        rows.append({"dataset": key, "activation": label, "bounded": label in bounded,
                     "max_stable_learning_rate": float(stable.learning_rate.max()) if len(stable) else float("nan"),
                     "stable_at_top": bool(len(stable) and stable.learning_rate.max() == g.learning_rate.max()),
                     "best_loss": float(stable.final_train_loss.min()) if len(stable) else float("nan"),
                     })
    return pd.DataFrame(rows)

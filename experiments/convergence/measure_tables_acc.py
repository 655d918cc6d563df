"""Tables of experiments.convergence for F5, H4 and C5 (final accuracy, train-test gap, stable rates).

Accuracies are compared at each arm's best *validation* rate (picked on held-out training images, then
measured on the test set), paired by seed. C5's rates are bootstrapped over seeds (the same resampled seeds
for both arms of a pair) to give CIs to "the largest rate that trains" and "the best rate".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats

from . import sweep as sw
from .measure import Runner, mlp_pairs

N_BOOT = 1000


def _paired_pp(a: sw.Arm, b: sw.Arm, margin: float, confidence: float = 0.95):
    """Test accuracy of ``a`` minus ``b`` in percentage points, each at its best validation rate, seeds where both
    learned (R8); (row, per-seed differences) or (None, None) when an arm has no stable rate."""
    lr_a, lr_b = sw.best_val(a), sw.best_val(b)  # picked on the first seeds' validation accuracy
    if lr_a is None or lr_b is None:
        return None, None
    a, b = sw.paired_arms(a, lr_a, b, lr_b)  # every seed both have at those rates (config.accuracy_seeds)
    d, n_out = sw.learned_diff(a, lr_a, b, lr_b, "test_acc", margin)
    est = stats.mean_ci(100 * d, confidence)
    return {"learning_rate": lr_a, "baseline_learning_rate": lr_b, "diff_pp": est.mean, "diff_pp_lo": est.lo,
            "diff_pp_hi": est.hi, "n_seeds": est.n, "n_not_learned": n_out, "acc": float(np.mean(a.get(lr_a, "test_acc"))),
            "baseline_acc": float(np.mean(b.get(lr_b, "test_acc")))}, 100 * d


def f5_table(runner: Runner, config) -> pd.DataFrame:
    """F5: every MLP activation's test accuracy minus the baseline's per data set; the named rivals' one-sided
    tests (better: diff > 0; not better: diff < +margin, TOST's upper test), Holm over the named ones only."""
    crit, base = config.criteria.f5, config.baseline
    margin, rows = float(crit.margin_pp), []
    margin_r8 = float(config.criteria.trained.accuracy_margin)
    for key, label in mlp_pairs(config):
        if label == base:
            continue
        arm, ref = runner.arm("mlp", key, label), runner.arm("mlp", key, base)
        row, d = _paired_pp(arm, ref, margin_r8)
        base_row = {"dataset": key, "activation": label, "baseline": base, "init": arm.init, "named": label in crit.named}
        if row is None:
            rows.append({**base_row, "status": "diverged"})
            continue
        better, within = stats.equivalence(d, 0.0, float(crit.alpha)), stats.equivalence(d, margin, float(crit.alpha))
        rows.append({**base_row, **row, "p_better": better.p_lower, "p_not_better": within.p_upper,
                     "p_equivalent": within.p, "status": "ok"})
    df = pd.DataFrame(rows)
    named = df.named & (df.status == "ok")
    for col in ("p_better", "p_not_better", "p_equivalent"):
        df[f"{col}_holm"] = np.nan
        if named.any():
            df.loc[named, f"{col}_holm"] = stats.holm(df.loc[named, col].to_numpy())
    return df


def h4_tables(runner: Runner, config) -> dict[str, pd.DataFrame]:
    """H4 on each small training set: every variant's test accuracy and train-test gap (pp), and per set the
    baseline's gap (does ReLU overfit?) with RReLU - ReLU test accuracy (95% CI and TOST's 90% CI)."""
    rows, paired_rows, act, base = [], [], config.h4.activation, config.baseline
    crit = config.criteria.h4
    for d in config.h4.datasets:
        key = f"{d}_{int(config.h4.train_sizes[d])}"
        for label in config.h4.variants:
            arm = runner.arm("mlp", key, label)
            lr = sw.best_val(arm)
            arm = arm.decided()  # the compared arms have config.accuracy_seeds seeds at lr
            if lr is None:
                rows.append({"dataset": key, "activation": label, "status": "diverged"})
                continue
            acc, train = arm.get(lr, "test_acc"), arm.get(lr, "train_acc")[:, -1]
            a, g, tr = stats.mean_ci(100 * acc), stats.mean_ci(100 * (train - acc)), stats.mean_ci(100 * train)
            rows.append({"dataset": key, "activation": label, "init": arm.init, "learning_rate": lr,
                         "test_acc_pp": a.mean, "test_acc_pp_lo": a.lo, "test_acc_pp_hi": a.hi,
                         "train_acc_pp": tr.mean, "train_acc_pp_lo": tr.lo, "train_acc_pp_hi": tr.hi,
                         "gap_pp": g.mean, "gap_pp_lo": g.lo, "gap_pp_hi": g.hi, "n_seeds": a.n, "status": "ok",
                         "at_edge": bool(lr in (arm.lrs[0], arm.lrs[-1]))})
        rr, ref = runner.arm("mlp", key, act), runner.arm("mlp", key, base)
        row, diff = _paired_pp(rr, ref, float(config.criteria.trained.accuracy_margin))
        lr_ref = sw.best_val(ref)
        if row is None or lr_ref is None:
            continue
        ref = ref.decided()
        gap = stats.mean_ci(100 * (ref.get(lr_ref, "train_acc")[:, -1] - ref.get(lr_ref, "test_acc")))
        tost = stats.equivalence(diff, float(crit.margin_pp), 0.05)
        paired_rows.append({"dataset": key, "n_train": int(config.h4.train_sizes[d]), "activation": act, "baseline": base,
                            **row, "baseline_gap_pp": gap.mean, "baseline_gap_pp_lo": gap.lo, "baseline_gap_pp_hi": gap.hi,
                            "tost_lo": tost.diff.lo, "tost_hi": tost.diff.hi, "p_tost": tost.p,
                            "equivalent": bool(tost.equivalent)})
    columns = ["dataset", "n_train", "activation", "baseline", "learning_rate", "baseline_learning_rate", "diff_pp",
               "diff_pp_lo", "diff_pp_hi", "n_seeds", "acc", "baseline_acc", "baseline_gap_pp", "baseline_gap_pp_lo",
               "baseline_gap_pp_hi", "tost_lo", "tost_hi", "p_tost", "equivalent"]
    return {"h4_small_data": pd.DataFrame(rows), "h4_paired": pd.DataFrame(paired_rows, columns=columns)}


def _c5_arrays(arm: sw.Arm, loss_fraction: float):
    """(rates, trains (seeds, rates), final loss, diverged) of an arm, rates ascending."""
    lrs = np.array(arm.lrs)
    trains = np.stack([arm.trains(lr, loss_fraction) for lr in arm.lrs], 1)
    loss = np.stack([arm.final_loss(lr) for lr in arm.lrs], 1)
    div = np.stack([arm.diverged(lr) for lr in arm.lrs], 1)
    return lrs, trains, loss, div


def _c5_boot(arrays, idx: np.ndarray, mtf: float) -> tuple[np.ndarray, np.ndarray]:
    """Per resample of seeds (rows of ``idx``): the largest training rate and the best-loss rate (NaN: none)."""
    lrs, trains, loss, div = arrays
    frac = trains[idx].mean(1)  # (B, rates)
    ok_train = frac >= mtf
    top = np.where(ok_train.any(1), lrs[np.where(ok_train, np.arange(len(lrs)), -1).max(1)], np.nan)
    usable = ok_train & ~div[idx].any(1)
    mean_loss = np.where(usable, np.nan_to_num(loss[idx], nan=np.inf).mean(1), np.inf)
    best = np.where(usable.any(1), lrs[np.argmin(mean_loss, 1)], np.nan)
    return top, best


def _log_ratio_ci(num: np.ndarray, den: np.ndarray) -> tuple[float, float]:
    r = np.log10(num / den)
    r = r[np.isfinite(r)]
    return (float(np.quantile(r, 0.025)), float(np.quantile(r, 0.975))) if len(r) else (np.nan, np.nan)


def c5_tables(runner: Runner, config) -> dict[str, pd.DataFrame]:
    """C5 per data set: each named activation's largest training rate and best loss; per (bounded, unbounded)
    pair (a) log10 ratio of largest training rates, (b) loss gap at own best rates, (c) log10 ratio of best rates."""
    crit = config.criteria.c5
    mtf, lf = float(crit.min_train_fraction), float(config.criteria.trained.loss_fraction)
    named = [*crit.bounded, *crit.unbounded]
    rows, pairs = [], []
    idx = np.random.default_rng(0).integers(0, int(config.seeds), size=(N_BOOT, int(config.seeds)))
    for key in config.grid.datasets:
        arms = {a: runner.arm("mlp", key, a) for d, a in mlp_pairs(config) if d == key and a in named}
        info = {}
        for a, arm in arms.items():
            top, best = sw.max_training_lr(arm, mtf, lf), sw.best_loss(arm, mtf, lf)
            boot = _c5_boot(_c5_arrays(arm, lf), idx, mtf)
            info[a] = (top, best, boot)
            loss = stats.mean_ci(arm.final_loss(best)) if best is not None else stats.mean_ci([])
            rows.append({"dataset": key, "activation": a, "bounded": a in crit.bounded, "init": arm.init,
                         "max_train_learning_rate": top, "top_tried": arm.lrs[-1],
                         "lower_bound": bool(top is not None and top == arm.lrs[-1]),
                         "best_learning_rate": best, "best_loss": loss.mean, "best_loss_lo": loss.lo,
                         "best_loss_hi": loss.hi, "n_seeds": loss.n,
                         "n_trained_at_top": int(arm.trains(arm.lrs[-1], lf).sum())})
        for b in crit.bounded:
            for u in crit.unbounded:
                if b in info and u in info:
                    pairs.append(_c5_pair(key, b, u, info, arms, config))
    return {"c5_stability": pd.DataFrame(rows), "c5_pairs": pd.DataFrame(pairs)}


def _c5_pair(key: str, b: str, u: str, info: dict, arms: dict, config) -> dict:
    (top_b, best_b, boot_b), (top_u, best_u, boot_u) = info[b], info[u]
    row = {"dataset": key, "bounded": b, "unbounded": u, "n_seeds": int(config.seeds)}
    if None in (top_b, top_u, best_b, best_u):
        return {**row, "status": "diverged"}
    lo, hi = _log_ratio_ci(boot_b[0], boot_u[0])
    blo, bhi = _log_ratio_ci(boot_b[1], boot_u[1])
    d, _ = sw.learned_diff(arms[b], best_b, arms[u], best_u, "final_loss", float(config.criteria.trained.accuracy_margin))
    gap = stats.mean_ci(d)
    return {**row, "stability_log10": float(np.log10(top_b / top_u)), "stability_log10_lo": lo, "stability_log10_hi": hi,
            "bounded_at_top": bool(top_b == arms[b].lrs[-1]), "unbounded_at_top": bool(top_u == arms[u].lrs[-1]),
            "loss_gap": gap.mean, "loss_gap_lo": gap.lo, "loss_gap_hi": gap.hi,
            "best_lr_log10": float(np.log10(best_b / best_u)), "best_lr_log10_lo": blo, "best_lr_log10_hi": bhi,
            "status": "ok"}

"""Tables of experiments.convergence from the swept arms: the sweep, H1, H3 and C4 (speed).

Everything a claim decides from is reduced here to estimates with their 95% CI and ``n_seeds`` (CIs over
seeds of one condition, R4), so :meth:`Experiment.redecide` decides again from the CSVs. Step ratios are
ratios of medians with censored seeds entered at budget + one log interval (:func:`stats.censored_ratio`):
``bound`` says whether the ratio is exact or a lower/upper bound (R7). Tables of F5, H4 and C5 are in
:mod:`.measure_tables_acc`.
"""

from __future__ import annotations

import functools

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import stats

from . import sweep as sw
from .measure import Runner, mlp_pairs


def _crit(config):
    c = config.criteria
    return float(c.censoring.bound_fraction), float(c.c5.min_train_fraction), float(c.trained.loss_fraction)


def _mean_where(values: np.ndarray, ok: np.ndarray) -> float:
    return float(np.mean(values[ok])) if ok.any() else float("nan")


def sweep_rows(arm: sw.Arm, config: ml_collections.ConfigDict) -> list[dict]:
    """One row per learning rate of ``arm``: counts by status (R8), medians and means over seeds, best flags."""
    bound, mtf, lf = _crit(config)
    margin = float(config.criteria.trained.accuracy_margin)
    bests = {"best_speed": sw.best_speed(arm, bound), "best_val": sw.best_val(arm), "best_loss": sw.best_loss(arm, mtf, lf)}
    rows = []
    for lr in arm.lrs:
        div, steps = arm.diverged(lr), arm.steps_to(lr)
        collapsed, censored = ~div & ~arm.learned(lr, margin), ~div & ~np.isfinite(steps)
        ok = ~div
        mean = functools.partial(_mean_where, ok=ok)
        status = "diverged" if div.any() else "collapsed" if collapsed.any() else "censored" if censored.any() else "ok"
        rows.append({
            "model": arm.model, "dataset": arm.dataset, "activation": arm.activation, "init": arm.init,
            "init_scale": arm.init_scale, "learning_rate": lr, "n_seeds": len(div), "n_diverged": int(div.sum()),
            "n_collapsed": int(collapsed.sum()), "n_censored": int(censored.sum()),
            "n_trained": int(arm.trains(lr, lf).sum()), "median_steps": sw.median_inf(np.where(div, np.inf, steps)),
            "final_train_loss": mean(arm.final_loss(lr)), "final_train_acc": mean(arm.get(lr, "train_acc")[:, -1]),
            "val_acc": mean(arm.get(lr, "val_acc")), "test_acc": mean(arm.get(lr, "test_acc")), "status": status,
            **{k: bool(v == lr) for k, v in bests.items()},
            **{f"{k}_at_edge": bool(v == lr and lr in (arm.lrs[0], arm.lrs[-1])) for k, v in bests.items()},
        })
    return rows


def ratio_row(num: sw.Arm, den: sw.Arm, lr_num: float | None, lr_den: float | None, steps_num, steps_den,
              config, confidence: float = 0.95) -> dict:
    """Censoring-aware ratio of median steps num/den at the given rates (status ``diverged`` if either has none)."""
    bound = float(config.criteria.censoring.bound_fraction)
    if lr_num is None or lr_den is None:
        return {"ratio": np.nan, "ratio_lo": np.nan, "ratio_hi": np.nan, "n_seeds": 0, "bound": "none",
                "status": "diverged"}
    a, b = steps_num(lr_num), steps_den(lr_den)
    r = stats.censored_ratio(a, b, num.budget + (num.steps[1] - num.steps[0]), bound, confidence)
    return {"learning_rate": lr_num, "baseline_learning_rate": lr_den, "ratio": r.estimate.mean, "ratio_lo": r.estimate.lo,
            "ratio_hi": r.estimate.hi, "n_seeds": r.estimate.n, "steps": sw.median_inf(a), "baseline_steps": sw.median_inf(b),
            "n_censored": int(np.isinf(a).sum()), "baseline_n_censored": int(np.isinf(b).sum()), "bound": r.bound,
            "status": "ok" if r.bound == "exact" else "censored",
            "at_edge": bool(lr_num in (num.lrs[0], num.lrs[-1]) or lr_den in (den.lrs[0], den.lrs[-1]))}


def h1_table(runner: Runner, config) -> pd.DataFrame:
    """H1: steps to the threshold of every activation over the baseline's, per (model, data set), each at its
    fastest stable rate and customary init (R6)."""
    bound, base = _crit(config)[0], config.baseline
    cells = [("mlp", d, a) for d, a in mlp_pairs(config)] + [("cnn", d, a) for d in config.cnn.datasets
                                                              for a in config.cnn.activations]
    rows = []
    for model, key, label in cells:
        if label == base:
            continue
        arm, ref = runner.arm(model, key, label), runner.arm(model, key, base)
        row = ratio_row(arm, ref, sw.best_speed(arm, bound), sw.best_speed(ref, bound), arm.steps_to, ref.steps_to, config)
        rows.append({"model": model, "dataset": key, "activation": label, "baseline": base, "init": arm.init,
                     "baseline_init": ref.init, **row})
    return pd.DataFrame(rows)


def h3_tables(runner: Runner, config) -> dict[str, pd.DataFrame]:
    """H3 per data set: (a) ReLU/PReLU steps at the fastest rates; (b) PReLU - ReLU test accuracy (pp) at the
    best validation rates; the learned slopes per layer at PReLU's best validation rate."""
    bound, act, base = _crit(config)[0], config.h3.activation, config.baseline
    confidence = float(config.criteria.h3.confidence)
    rows, slope_rows = [], []
    for key in config.grid.datasets:
        p_arm, r_arm = runner.arm("mlp", key, act), runner.arm("mlp", key, base)
        speed = ratio_row(r_arm, p_arm, sw.best_speed(r_arm, bound), sw.best_speed(p_arm, bound), r_arm.steps_to,
                          p_arm.steps_to, config, confidence)
        lr_p, lr_r = sw.best_val(p_arm), sw.best_val(r_arm)
        row = {"dataset": key, "activation": act, "baseline": base, "init": p_arm.init, "baseline_init": r_arm.init,
               "speedup": speed["ratio"], "speedup_lo": speed["ratio_lo"], "speedup_hi": speed["ratio_hi"],
               "speed_n_seeds": speed["n_seeds"], "speed_bound": speed["bound"],
               "speed_learning_rate": speed.get("baseline_learning_rate"), "speed_baseline_learning_rate":
               speed.get("learning_rate"), "speed_n_censored": speed.get("baseline_n_censored"),
               "speed_baseline_n_censored": speed.get("n_censored")}
        if lr_p is not None and lr_r is not None:
            p_arm, r_arm = sw.paired_arms(p_arm, lr_p, r_arm, lr_r)  # config.accuracy_seeds seeds at those rates
            diff, n_out = sw.learned_diff(p_arm, lr_p, r_arm, lr_r, "test_acc", float(config.criteria.trained.accuracy_margin))
            d = stats.mean_ci(100 * diff, confidence)
            row.update({"learning_rate": lr_p, "baseline_learning_rate": lr_r, "gain_pp": d.mean, "gain_pp_lo": d.lo,
                        "gain_pp_hi": d.hi, "n_seeds": d.n, "n_not_learned": n_out, "acc": float(np.mean(p_arm.get(lr_p, "test_acc"))),
                        "baseline_acc": float(np.mean(r_arm.get(lr_r, "test_acc")))})
            slopes = p_arm.get(lr_p, "slopes")
            for layer in range(slopes.shape[1]):
                s = stats.mean_ci(slopes[:, layer], confidence)
                slope_rows.append({"dataset": key, "layer": layer, "learning_rate": lr_p, "mean_slope": s.mean,
                                   "mean_slope_lo": s.lo, "mean_slope_hi": s.hi, "n_seeds": s.n, "init_slope": 0.25})
        rows.append(row)
    return {"h3_prelu_vs_relu": pd.DataFrame(rows), "prelu_slopes": pd.DataFrame(slope_rows)}


def c4_target(arm: sw.Arm, lr: float, fraction: float) -> float:
    """The training loss the arm's median seed has at ``fraction`` of the budget (C4's target)."""
    i = int(np.argmin(np.abs(arm.steps - fraction * arm.budget)))
    return float(np.nanmedian(arm.get(lr, "train_loss")[:, i]))


def c4_tables(runner: Runner, config, targets: dict) -> dict[str, pd.DataFrame]:
    """C4: per activation and init (reference, small std), steps to the target loss at each arm's fastest rate for
    it and the final loss there; and small-init over reference step ratios (censoring-aware)."""
    c4, bound = config.c4, _crit(config)[0]
    rows, ratio_rows = [], []
    for label in c4.activations:
        target = targets[label]
        ref = runner.arm("mlp", c4.dataset, label, c4.reference_init)
        def steps_of(arm, target=target):
            return functools.partial(arm.steps_to_loss, target=target)

        lr_ref = sw.best_by_steps(ref, steps_of(ref), bound)
        for arm in [ref] + [runner.arm("mlp", c4.dataset, label, c4.init, s) for s in c4.weight_scales]:
            lr = sw.best_by_steps(arm, steps_of(arm), bound)
            std = np.nan if arm is ref else 0.01 * arm.init_scale
            row = {"dataset": c4.dataset, "activation": label, "init": arm.init, "init_std": std, "target_loss": target}
            if lr is not None:
                s, loss = steps_of(arm)(lr), stats.mean_ci(arm.final_loss(lr))
                row.update({"learning_rate": lr, "median_steps": sw.median_inf(s), "n_censored": int(np.isinf(s).sum()),
                            "final_loss": loss.mean, "final_loss_lo": loss.lo, "final_loss_hi": loss.hi, "n_seeds": loss.n,
                            "final_train_acc": float(np.nanmean(arm.get(lr, "train_acc")[:, -1]))})
            rows.append(row)
            if arm is not ref:
                r = ratio_row(arm, ref, lr, lr_ref, steps_of(arm), steps_of(ref), config)
                ratio_rows.append({"dataset": c4.dataset, "activation": label, "init_std": std,
                                   "reference_init": c4.reference_init, "target_loss": target, **r})
    return {"c4_small_init": pd.DataFrame(rows), "c4_step_ratios": pd.DataFrame(ratio_rows)}

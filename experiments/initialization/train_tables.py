"""Tables of He et al.'s experiment (G2) from the trained populations of :mod:`.measure_train`.

Per (depth, init) at that arm's own best learning rate (R6): every seed's final training loss and
accuracy, whether it trained (R8: accuracy >= chance + the config's margin) and its steps to the
target loss (``censored`` when it never got there in budget, R7), and their summaries; per depth
the paired ratio of mean steps to target, Xavier / He, a censored seed counted at the budget.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import stats, train


def _seed_status(diverged: np.ndarray, trained: np.ndarray, censored: np.ndarray) -> np.ndarray:
    return np.where(diverged, "diverged", np.where(~trained, "collapsed", np.where(censored, "censored", "ok")))


def best_rate(by_lr: dict[float, dict]) -> float:
    """The learning rate with the lowest mean final training loss over seeds (diverged = inf, R6)."""
    def score(lr):
        final = by_lr[lr]["loss"][:, -1]
        return float(np.mean(np.where(np.isfinite(final), final, np.inf)))

    return min(by_lr, key=lambda lr: (score(lr), lr))


def _arm(config, by_lr: dict, n_classes: int) -> dict:
    """Per-seed arrays of one arm at its best learning rate."""
    cfg, crit = config.he, config.criteria.he
    best = best_rate(by_lr)
    r = by_lr[best]
    loss, acc, div = r["loss"], r["acc"], r["diverged"]
    final_acc = np.where(np.isfinite(acc[:, -1]), acc[:, -1], 0.0)
    trained = ~div & (final_acc >= 1.0 / n_classes + crit.train_margin)
    steps = train.first_step_below(loss, r["steps"], cfg.target_loss)
    tried = sorted(by_lr)
    return {"lr": best, "edge": best in (tried[0], tried[-1]), "tried": tried, "loss": loss, "acc": acc,
            "final_acc": final_acc, "diverged": div, "trained": trained, "steps": steps,
            "censored": ~np.isfinite(steps), "steps_axis": r["steps"]}


def _summary_row(config, depth: int, j: int, a: dict, chance: float) -> dict:
    cfg = config.he
    n = len(a["trained"])
    frac = stats.proportion_ci(int(a["trained"].sum()), n)
    first, last = a["loss"][:, 0], a["loss"][:, -1]
    drop = stats.mean_ci(np.where(np.isfinite(last), (first - last) / first, 0.0))
    reached = a["steps"][~a["censored"]]
    return {"depth": depth, "init": cfg.labels[j], "weights": f"{cfg.base_init} x {cfg.weight_scales[j]:.4g}",
            "best_learning_rate": a["lr"], "best_at_grid_edge": bool(a["edge"]),
            "learning_rates_tried": " ".join(f"{lr:.3g}" for lr in a["tried"]),
            "trained_fraction": frac.mean, "trained_fraction_lo": frac.lo, "trained_fraction_hi": frac.hi,
            "n_trained": int(a["trained"].sum()), "n_seeds": n,
            "n_diverged": int(a["diverged"].sum()), "n_collapsed": int((~a["diverged"] & ~a["trained"]).sum()),
            "n_censored": int(a["censored"].sum()),
            "final_train_acc": float(np.mean(a["final_acc"])), "chance": chance, "initial_loss": float(np.nanmean(first)),
            "final_loss": float(np.nanmean(np.where(np.isfinite(last), last, np.nan))) if np.isfinite(last).any() else np.nan,
            "loss_drop": drop.mean, "loss_drop_lo": drop.lo, "loss_drop_hi": drop.hi,
            "steps_to_target_median_reached": float(np.median(reached)) if len(reached) else np.nan,
            "status": "ok" if a["trained"].all() else ("diverged" if a["diverged"].any() else "collapsed")}


def _speed_row(config, depth: int, arms: list[dict]) -> dict:
    """Steps to the target loss, Xavier / He, paired over seeds; censored seeds at the budget (R7)."""
    cfg = config.he
    budget = float(cfg.steps)
    xs, hs = (np.where(a["censored"], budget, a["steps"]) for a in arms)
    cx, ch = (float(a["censored"].mean()) for a in arms)
    # a ratio of means needs a positive denominator: a seed reaching the target at step 0 counts as one log interval
    est = stats.ratio_ci(np.maximum(xs, cfg.log_every), np.maximum(hs, cfg.log_every))
    bound = ("none" if max(cx, ch) <= config.criteria.he.censor_bound else
             "lower" if ch <= config.criteria.he.censor_bound else
             "upper" if cx <= config.criteria.he.censor_bound else "undetermined")
    return {"depth": depth, "steps_ratio": est.mean, "steps_ratio_lo": est.lo, "steps_ratio_hi": est.hi,
            "n_seeds": est.n, "censored_fraction_xavier": cx, "censored_fraction_he": ch, "bound": bound,
            "target_loss": cfg.target_loss, "budget_steps": int(budget),
            "learning_rate_xavier": arms[0]["lr"], "learning_rate_he": arms[1]["lr"],
            "status": "ok" if bound == "none" else "censored"}


def he_tables(config: ml_collections.ConfigDict, found: dict, n_classes: int) -> dict:
    """``he_summary``, ``he_seeds``, ``he_speed`` and the curves ``he_deep_relu`` (G2)."""
    cfg = config.he
    summary, seeds, speed, curves = [], [], [], []
    for depth, per_arm in found.items():
        arms = [_arm(config, by_lr, n_classes) for by_lr in per_arm]
        for j, a in enumerate(arms):
            summary.append(_summary_row(config, depth, j, a, 1.0 / n_classes))
            status = _seed_status(a["diverged"], a["trained"], a["censored"])
            for s in range(len(a["trained"])):
                seeds.append({"depth": depth, "init": cfg.labels[j], "seed": s, "learning_rate": a["lr"],
                              "final_train_acc": float(a["final_acc"][s]), "trained": bool(a["trained"][s]),
                              "steps_to_target": float(a["steps"][s]) if not a["censored"][s] else float(cfg.steps),
                              "censored": bool(a["censored"][s]), "status": status[s]})
            for t, step in enumerate(a["steps_axis"]):
                el, ea = stats.mean_ci(a["loss"][:, t]), stats.mean_ci(a["acc"][:, t])
                curves.append({"depth": depth, "init": cfg.labels[j], "learning_rate": a["lr"], "step": int(step),
                               "train_loss": el.mean, "train_loss_lo": el.lo, "train_loss_hi": el.hi,
                               "train_acc": ea.mean, "train_acc_lo": ea.lo, "train_acc_hi": ea.hi, "n_seeds": el.n})
        speed.append(_speed_row(config, depth, arms))
    return {"he_summary": pd.DataFrame(summary), "he_seeds": pd.DataFrame(seeds), "he_speed": pd.DataFrame(speed),
            "he_deep_relu": pd.DataFrame(curves)}

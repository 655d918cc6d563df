"""Claims F5, H4 and C5 of experiments.convergence: final accuracy, train-test gap, stable learning rates.

Each claim is a pure function of the tables of :mod:`.measure_tables` and the config.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit.claim import Decision, Part, claim, on_interval, part

from .claims_speed import with_parts
from .figures import c5_stability, f5_accuracy_vs_relu, h4_small_data
from .measure_tables import h4_datasets


def f5_flags(t, config) -> pd.DataFrame:
    """F5's table with ``better``/``worse`` decided again from ``p_holm`` and ``criteria.f5.alpha``."""
    df, alpha = t.f5_accuracy_vs_relu.copy(), config.criteria.f5.alpha
    df["better"] = (df.p_holm < alpha) & (df.diff_pct > 0)
    df["worse"] = (df.p_holm < alpha) & (df.diff_pct < 0)
    return df


def _f5_part(label: str, g: pd.DataFrame, config) -> Part:
    crit = config.criteria.f5
    consistent = len(g) >= crit.min_datasets and bool(g.better.all())
    verdict = ("refuted" if label in crit.named else "qualified") if consistent else "supported"
    top = g.loc[g.diff_pct.idxmax()] if g.diff_pct.notna().any() else None
    value, ci = (np.nan, None) if top is None else (top.diff_pct, (top.diff_pct_lo, top.diff_pct_hi))
    where = "" if top is None else f", best on {top.dataset}"
    return part(f"{label} does not beat {config.baseline} consistently", verdict, value, ci, config.seeds,
                "pp test accuracy", f"{len(g)} data set(s){where}; Holm over every rival")


@claim("F5", reads=("f5_accuracy_vs_relu",), figure=f5_accuracy_vs_relu, evidence="f5_accuracy_vs_relu.csv")
def f5(t, config) -> Decision:
    """Leaky ReLU and ELU have not been shown to beat ReLU consistently: a part per rival activation."""
    df, crit = f5_flags(t, config), config.criteria.f5
    groups = list(df.groupby("activation"))
    parts = [_f5_part(label, g, config) for label, g in groups]
    consistent = [label for (label, _), p in zip(groups, parts) if p.verdict != "supported"]
    top = df.loc[df.diff_pct.idxmax()] if df.p_t.notna().any() else None
    wins = "; ".join(f"{r.activation} on {r.dataset} {r.diff_pct:+.2f} pp (Holm p={r.p_holm:.3g})"
                     for r in df[df.better].itertuples()) or "none"
    losses = "; ".join(f"{r.activation} on {r.dataset} {r.diff_pct:+.2f} pp" for r in df[df.worse].itertuples()) or "none"
    stmt = (f"Paired final test accuracy minus {config.baseline}'s over {config.seeds} seeds, {len(df)} comparisons, "
            f"Holm-corrected. Significantly better: {wins}. Significantly worse: {losses}. Consistent winners (better "
            f"on every data set where run, >= {crit.min_datasets:g} data sets): {', '.join(consistent) or 'none'}.")
    return Decision(
        parts=parts or [part("rivals", "inconclusive", unit="pp test accuracy", condition="no rival trained")],
        statement=with_parts(stmt, parts),
        criterion=(f"a rival 'beats {config.baseline} consistently' if it is better with Holm-adjusted paired-t p < "
                   f"{crit.alpha:g} on every data set where it was run (>= {crit.min_datasets:g}); a part per rival: "
                   f"refuted if {'/'.join(crit.named)} does, qualified if another does, else supported; the claim by R2"),
        key=None if top is None else f"{top.activation} does not beat {config.baseline} consistently",
    )


def h4_flags(t) -> tuple[pd.Series, pd.Series]:
    """Per small set: RReLU's accuracy beats the baseline's (CI > 0); its train-test gap is smaller (CI < 0)."""
    paired = t.h4_paired
    return paired.acc_diff_pct_lo > 0, paired.gap_diff_pct_hi < 0


@claim("H4", reads=("h4_small_data", "h4_paired"), figure=h4_small_data, evidence="h4_small_data.csv")
def h4(t, config) -> Decision:
    """RReLU's random slope regularises on small data: an accuracy part and a gap part per small set."""
    paired, act, baseline = t.h4_paired, config.h4.activation, config.baseline
    better, smaller = h4_flags(t)
    parts = []
    for r, b, s in zip(paired.itertuples(), better, smaller):  # legacy rule per part: supported if the CI is clear of 0
        parts.append(part(f"{act} - {baseline} test accuracy on {r.dataset}", "supported" if b else "refuted",
                          r.acc_diff_pct, (r.acc_diff_pct_lo, r.acc_diff_pct_hi), r.n_seeds, "pp test accuracy",
                          f"{r.dataset}, each at its tuned learning rate"))
        parts.append(part(f"{act} - {baseline} train-test gap on {r.dataset}", "supported" if s else "refuted",
                          r.gap_diff_pct, (r.gap_diff_pct_lo, r.gap_diff_pct_hi), r.n_seeds, "pp train - test accuracy",
                          f"{r.dataset}, each at its tuned learning rate"))
    per = "; ".join(f"{r.dataset}: {act}-{baseline} acc {r.acc_diff_pct:+.2f} pp [{r.acc_diff_pct_lo:+.2f}, "
                    f"{r.acc_diff_pct_hi:+.2f}], gap diff {r.gap_diff_pct:+.2f} pp [{r.gap_diff_pct_lo:+.2f}, "
                    f"{r.gap_diff_pct_hi:+.2f}]" for r in paired.itertuples())
    stmt = (f"On small training sets ({', '.join(h4_datasets(config))}): {per}. The other variants' accuracies and "
            "train-test gaps (and their gap minus RReLU's) are in h4_small_data.csv.")
    return Decision(
        parts=parts or [part(f"{act} vs {baseline}", "inconclusive", unit="pp test accuracy", condition="no small set")],
        statement=with_parts(stmt, parts),
        criterion=(f"per small set, {act}'s test accuracy beats {baseline}'s (paired CI > 0) and its train-test gap is "
                   f"smaller (CI < 0), each a part, supported if so, else refuted; supported on min_fraction = "
                   f"{config.criteria.h4.min_fraction:g} of the sets means every part (R2); qualified if some hold"),
        key=0,
    )


def c5_fractions(t, config) -> tuple[float, float, int, int, int, list[str]]:
    """Fractions of data sets where the bounded have the larger median stable rate / the unbounded the lower
    median best loss, those counts, the number of data sets with both kinds, and one line per data set."""
    df, bounded = t.c5_stability, set(config.criteria.c5.bounded)
    stable_wins, loss_wins, n, details = 0, 0, 0, []
    for key, g in df.groupby("dataset"):
        is_b = g.activation.isin(bounded)
        b, u = g[is_b], g[~is_b]
        if not len(b) or not len(u):
            continue
        n += 1
        lr_b, lr_u = float(np.median(b.max_stable_learning_rate)), float(np.median(u.max_stable_learning_rate))
        loss_b, loss_u = float(np.median(b.best_loss)), float(np.median(u.best_loss))
        stable_wins += lr_b > lr_u
        loss_wins += loss_u < loss_b
        details.append(f"{key}: median max stable lr bounded {lr_b:g} vs unbounded {lr_u:g}, median best loss "
                       f"bounded {loss_b:.3g} vs unbounded {loss_u:.3g}")
    fractions = (stable_wins / n, loss_wins / n) if n else (float("nan"), float("nan"))
    return (*fractions, stable_wins, loss_wins, n, details)


@claim("C5", reads=("c5_stability", "sweep"), figure=c5_stability, evidence="c5_stability.csv")
def c5(t, config) -> Decision:
    """Bounded activations allow larger stable learning rates; unbounded reach a lower loss: one part each."""
    frac_stable, frac_loss, stable_wins, loss_wins, n, details = c5_fractions(t, config)
    m, bounded = config.criteria.c5.min_fraction, sorted(config.criteria.c5.bounded)
    cond = f"{n} data set(s), MLP at {config.init} init, learning rates {tuple(config.learning_rates)}"
    parts = [Part(name, on_interval(frac, frac, m, ">"), frac, None, config.seeds, "fraction of data sets", cond,
                  "criteria.c5.min_fraction", ">")
             for name, frac in (("bounded allow a larger stable learning rate", frac_stable),
                                ("unbounded reach a lower best loss", frac_loss))]
    stmt = ("; ".join(details) + f". Bounded allow a larger stable rate on {stable_wins}/{n} data sets; "
            f"unbounded reach a lower loss on {loss_wins}/{n}. Grid {tuple(config.learning_rates)} (momentum "
            f"{config.momentum}); a stable rate equal to the grid's top is a lower bound.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"supported if on more than min_fraction = {m:g} of data sets the bounded {bounded} have a larger "
                   "median largest stable learning rate AND the unbounded a lower median best final training loss "
                   "(one part each); qualified if one of the two"),
        key=0,
    )


CLAIMS = (f5, h4, c5)

"""Claims F5, H4 and C5 of experiments.convergence: final accuracy, train-test gap, stable rates (revision 2).

Each claim is a pure function of the tables of :mod:`.measure_tables_acc` and the config.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from experiments.kit.claim import Decision, claim, compare, part

from .figures import c5_stability, f5_accuracy_vs_relu, h4_small_data
from .parts import bounded, ci_text, seeds_to_clear, with_parts


def _f5_part(label: str, g: pd.DataFrame, config):
    """A named rival: refuted if better on every data set, qualified if on some, supported if on none and not
    better by the margin anywhere (TOST's upper test), else inconclusive; the value is its largest difference."""
    crit, base = config.criteria.f5, config.baseline
    alpha = float(crit.alpha)
    better, not_better = (g.p_better_holm < alpha).to_numpy(), (g.p_not_better_holm < alpha).to_numpy()
    if better.all():
        verdict = "refuted"
    elif better.any():
        verdict = "qualified"
    else:
        verdict = "supported" if not_better.all() else "inconclusive"
    top = g.loc[g.diff_pp_hi.idxmax()]
    need = max(seeds_to_clear(r.diff_pp, r.diff_pp_lo, r.diff_pp_hi, int(r.n_seeds), float(crit.margin_pp) if
                              r.diff_pp < float(crit.margin_pp) else 0.0) for r in g.itertuples())
    decide = f"; would decide: about {need:g} seeds (CI half-width ~ 1/sqrt(n))" if verdict == "inconclusive" else ""
    where = ", ".join(f"{r.dataset} {r.diff_pp:+.2f} [{r.diff_pp_lo:+.2f}, {r.diff_pp_hi:+.2f}] (lr {r.learning_rate:g} "
                      f"vs {r.baseline_learning_rate:g})" for r in g.itertuples())
    return part(f"{label} does not beat {base} consistently", verdict, top.diff_pp, (top.diff_pp_lo, top.diff_pp_hi),
                int(top.n_seeds), "pp test accuracy (rival - ReLU)",
                f"MLP, {top.dataset} (largest upper bound), {top.init}, best validation rates{decide}; per data set {where}")


@claim("F5", reads=("f5_accuracy_vs_relu",), figure=f5_accuracy_vs_relu, evidence="f5_accuracy_vs_relu.csv",
       revised_by="R4, R9; DECISIONS.md F5 row: named rivals only, Holm over them, 'not better' by TOST's upper test "
       "at +0.5 pp")
def f5(t, config) -> Decision:
    """Leaky ReLU and ELU have not been shown to beat ReLU consistently: a part per named rival."""
    df, crit = t.f5_accuracy_vs_relu, config.criteria.f5
    named = df[df.named & (df.status == "ok")]
    parts = [_f5_part(label, named[named.activation == label], config) for label in crit.named
             if (named.activation == label).any()]
    if not parts:
        parts = [part("named rivals", "inconclusive", unit="pp test accuracy", condition="no named rival trained")]
    others = df[~df.named & (df.status == "ok")]
    beside = "; ".join(f"{r.activation} on {r.dataset} {r.diff_pp:+.2f} pp" for r in others.itertuples()) or "none"
    stmt = (f"Test accuracy minus {config.baseline}'s at each arm's best validation rate (picked on {config.seeds} "
            f"seeds), paired over {config.accuracy_seeds} seeds: {'; '.join(p.condition.split('per data set ')[-1] for p in parts)} (pp). Holm over the "
            f"{len(named)} named comparisons. Not in the verdict (R4): {beside}. Published: "
            f"{config.published.f5}.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per named rival ({', '.join(crit.named)}) and data set: better if the Holm-adjusted one-sided "
                   f"p (rival - {config.baseline} > 0) < alpha = {crit.alpha:g}; not better if the Holm-adjusted p of "
                   f"TOST's upper test (difference < +margin_pp = {crit.margin_pp:g}) < {crit.alpha:g} (R9); a rival's "
                   "part is refuted if better on every data set, qualified if on some, supported if on none and not "
                   "better on all, else inconclusive; the claim by R2"),
    )


@claim("H4", reads=("h4_small_data", "h4_paired"), figure=h4_small_data, evidence="h4_paired.csv",
       revised_by="R1, R9; DECISIONS.md H4 row: decided only where ReLU overfits (gap >= 10 pp), equivalence by TOST "
       "within +-0.5 pp; non-significance is not a refutation")
def h4(t, config) -> Decision:
    """RReLU's random slope regularises: a part per small training set where ReLU overfits."""
    crit, act, base = config.criteria.h4, config.h4.activation, config.baseline
    parts = []
    for _, r in t.h4_paired.iterrows():
        cond = (f"MLP on {r.dataset} (first {int(r.n_train)} training images): {act} lr {r.learning_rate:g} vs {base} "
                f"lr {r.baseline_learning_rate:g} (he_normal, best validation rates); {base} train - test gap "
                f"{ci_text(r, 'baseline_gap_pp', 1)} pp")
        name = f"{act} - {base} test accuracy on {r.dataset}"
        if not r.baseline_gap_pp_lo >= crit.min_gap_pp:
            parts.append(part(name, "inconclusive", r.diff_pp, (r.diff_pp_lo, r.diff_pp_hi), int(r.n_seeds),
                              "pp test accuracy", cond + f": not the regime (gap CI lo < {crit.min_gap_pp:g} pp); a "
                              "smaller training set or longer training would decide"))
            continue
        p = compare(name, dict(r), config, "criteria.h4.min_gain_pp", ">", unit="pp test accuracy", value_key="diff_pp",
                    condition=cond)
        if p.verdict == "inconclusive" and bool(r.equivalent):
            p = dataclasses.replace(p, verdict="refuted", condition=cond + f"; equivalent within +-{crit.margin_pp:g} pp "
                                    f"(TOST 90% CI [{r.tost_lo:+.2f}, {r.tost_hi:+.2f}])")
        elif p.verdict == "inconclusive":
            need = seeds_to_clear(r.diff_pp, r.diff_pp_lo, r.diff_pp_hi, int(r.n_seeds), float(crit.min_gain_pp))
            p = dataclasses.replace(p, condition=cond + f"; would decide: about {need:g} seeds (CI half-width ~ 1/sqrt(n))")
        parts.append(p)
    if not parts:
        parts = [part(f"{act} vs {base}", "inconclusive", unit="pp test accuracy", condition="no small set trained")]
    small = t.h4_small_data
    others = "; ".join(f"{r.dataset} {r.activation}: test {r.test_acc_pp:.1f} pp, gap {ci_text(r, 'gap_pp', 1)} pp"
                       for r in small.itertuples() if r.status == "ok")
    per = "; ".join(f"{r.dataset}: {act} - {base} {ci_text(r, 'diff_pp', 2, True)} pp (TOST 90% CI "
                    f"[{r.tost_lo:+.2f}, {r.tost_hi:+.2f}]), {base} gap {ci_text(r, 'baseline_gap_pp', 1)} pp"
                    for r in t.h4_paired.itertuples())
    stmt = (f"On small training sets, each variant at its best validation rate: {per}. Every variant: {others}. "
            f"Published: {config.published.h4}.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per small set, only where {base} overfits (train - test gap CI lo >= min_gap_pp = "
                   f"{crit.min_gap_pp:g} pp, else inconclusive): {act} - {base} test accuracy supported if its 95% CI "
                   f"lies above min_gain_pp = {crit.min_gain_pp:g}, refuted if at or below it or equivalent within "
                   f"+-margin_pp = {crit.margin_pp:g} pp (TOST at 5%, R9), else inconclusive; the claim by R2"),
    )


def _c5_bound(r) -> str:
    top_b, top_u = bool(r.bounded_at_top), bool(r.unbounded_at_top)
    return {(False, False): "exact", (True, False): "lower", (False, True): "upper"}.get((top_b, top_u), "none")


def _c5_parts(r, config) -> list:
    inits = config.customary_init
    pair = f"{r.bounded} vs {r.unbounded} on {r.dataset}"
    cond = f"MLP on {r.dataset}, customary inits ({r.bounded} {inits[r.bounded]}, {r.unbounded} {inits[r.unbounded]})"
    if r.status != "ok":
        return [part(f"({q}) {pair}", "inconclusive", unit=u, condition=cond + "; no rate trains")
                for q, u in (("a", "log10 lr ratio"), ("b", "nats"), ("c", "log10 lr ratio"))]
    return [
        bounded(f"(a) stability: {pair}", dict(r), config, "criteria.c5.min_lr_decades", ">=", value_key="stability_log10",
                unit="log10 (largest training lr, bounded/unbounded)", bound=_c5_bound(r), condition=cond),
        compare(f"(b) efficiency: {pair}", dict(r), config, "criteria.c5.min_loss_gap", ">", value_key="loss_gap",
                unit="nats (final training loss, bounded - unbounded)", condition=cond + ", each at its best-loss rate"),
        compare(f"(c) smaller lr: {pair}", dict(r), config, "criteria.c5.min_lr_decades", ">=", value_key="best_lr_log10",
                unit="log10 (best lr, bounded/unbounded)", condition=cond),
    ]


@claim("C5", reads=("c5_stability", "c5_pairs"), figure=c5_stability, evidence="c5_stability.csv",
       revised_by="R2, R8; DECISIONS.md C5 row: 'stable' = >= 80% of seeds train (loss below half its initial value), "
       "named sets fixed before running, every pair decided on its CI")
def c5(t, config) -> Decision:
    """Bounded outputs train at larger rates; unbounded reach lower losses and need smaller rates: parts per pair."""
    crit = config.criteria.c5
    parts = [p for _, r in t.c5_pairs.iterrows() for p in _c5_parts(r, config)]
    if not parts:
        parts = [part("bounded vs unbounded", "inconclusive", condition="no named pair trained")]
    act = "; ".join(f"{r.dataset} {r.activation}: trains up to lr {r.max_train_learning_rate:g}"
                    f"{' (a lower bound: the largest tried)' if r.lower_bound else ''}, best lr {r.best_learning_rate:g}, "
                    f"loss {ci_text(r, 'best_loss', 3)}" for r in t.c5_stability.itertuples()
                    if r.max_train_learning_rate == r.max_train_learning_rate)
    counts = "; ".join(f"({q}) {sum(p.verdict == 'supported' for p in parts if p.part.startswith(f'({q})'))}/"
                       f"{sum(p.part.startswith(f'({q})') for p in parts)} pairs supported" for q in "abc")
    inits = ", ".join(f"{a} {config.customary_init[a]}" for a in (*crit.bounded, *crit.unbounded))
    stmt = (f"Bounded {', '.join(crit.bounded)} vs unbounded {', '.join(crit.unbounded)} (named before running), "
            f"momentum {config.momentum:g}, each at its customary init ({inits}): {act}. {counts}.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per data set and (bounded, unbounded) pair: (a) the largest lr at which >= min_train_fraction = "
                   f"{crit.min_train_fraction:g} of seeds train (final loss < {config.criteria.trained.loss_fraction:g} x "
                   f"initial) is larger for the bounded: log10 ratio CI (bootstrap over seeds) at or above "
                   f"min_lr_decades = {crit.min_lr_decades:g}, the largest rate tried a bound (R7-like); (b) "
                   f"the unbounded reaches a lower final training loss at its best rate: bounded - unbounded CI above "
                   f"min_loss_gap = {crit.min_loss_gap:g}; (c) the unbounded's best rate is no larger: log10 ratio CI at "
                   f"or above {crit.min_lr_decades:g}; refuted when the CI lies on the other side, else "
                   "inconclusive; the claim by R2"),
    )


CLAIMS = (f5, h4, c5)

"""Claims A1 and C1: without a nonlinearity, depth collapses to one linear layer.

Each claim is a pure function of the tables of :mod:`.measure` and the config's criteria.
"""

from __future__ import annotations

import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, compare, part

from .figures import decision_boundaries, loss_curves
from .measure import DEEP_C, DEEP_LINEAR


def _deep(t, config) -> pd.DataFrame:
    return t.paired_differences[t.paired_differences.condition.isin([DEEP_LINEAR, DEEP_C])]


def _nonlinear(t, config) -> pd.DataFrame:
    return t.paired_differences[t.paired_differences.condition.isin(list(config.nonlinear))]


def _equivalence_parts(t, config) -> list:
    """(b) deep linear - one layer inside ±equiv_tol (qualified: worse, but not better, than one layer)."""
    tol, out = config.criteria.a1.equiv_tol, []
    for r in _deep(t, config).itertuples():
        inside = r.difference_lo >= -tol and r.difference_hi <= tol
        verdict = "supported" if inside else ("refuted" if r.difference_lo < -tol else "qualified")
        out.append(part(f"{r.condition} ≡ one layer on {r.dataset}", verdict, r.difference, (r.difference_lo, r.difference_hi), r.n_seeds,
                        "nats", f"{r.dataset}, best lr per condition"))
    return out


def _better_parts(t, config) -> list:
    """(c) a nonlinear net of the same size beats the single layer: improvement > better_margin."""
    out = []
    for r in _nonlinear(t, config).itertuples():
        gain = stats.Estimate(-r.difference, -r.difference_hi, -r.difference_lo, r.n_seeds)
        out.append(compare(f"{r.condition} beats one layer on {r.dataset}", gain, config, "criteria.a1.better_margin",
                           ">", unit="nats", condition=f"{r.dataset}, best lr per condition"))
    return out


@claim("A1", reads=("paired_differences", "collapse", "scalar_collapse"), figure=(loss_curves, decision_boundaries),
       evidence="paired_differences.csv")
def a1(t, config) -> Decision:
    """A deep c·x net is one linear layer: equal maps (a), equal best loss (b), nonlinear nets better (c)."""
    crit, collapse, scalar = config.criteria.a1, t.collapse, t.scalar_collapse.iloc[0]
    err = max(float(collapse.max_rel_err.max()), float(scalar.max_rel_err))
    collapsed = compare("trained deep linear net = product of its weights", stats.Estimate(err, err, err, int(collapse.runs.sum())),
                        config, "criteria.a1.collapse_rel_tol", "<=", unit="relative error", condition="every trained run")
    equivalent = _equivalence_parts(t, config)
    deep, diffs = _deep(t, config), t.paired_differences
    per_ds = "; ".join(
        f"{r.dataset}: {r.condition} − one layer = {r.difference:+.4f} [{r.difference_lo:+.4f}, {r.difference_hi:+.4f}]"
        for r in diffs.itertuples()
    )
    statement = (
        f"(a) Trained deep linear nets equal the product of their weights: max relative error "
        f"{collapse.max_rel_err.max():.2e} over {int(collapse.runs.sum())} runs; {int(scalar.depth)} layers of "
        f"c·x vs one layer of c^{int(scalar.depth)}·x (c={scalar.c}): max relative error {scalar.max_rel_err:.2e}. "
        f"(b) Best-loss differences (nats, paired 95% CI): {per_ds}."
    )
    outside = [p for p in equivalent if p.verdict != "supported"]
    if outside:
        statement += (
            f" Deep linear nets NOT within ±{crit.equiv_tol} of the single layer on: "
            + ", ".join(p.part.split(" ≡ ")[0] + " on " + p.condition.split(",")[0] for p in outside)
            + " (a deep linear net has the same function class, so a worse value is an optimisation "
            "effect of depth, not expressivity)."
        )
    worst = deep.loc[deep["difference"].abs().idxmax()]
    return Decision(
        parts=[collapsed, *equivalent, *_better_parts(t, config)],
        statement=statement,
        criterion=(
            f"(a) collapse rel. error <= {crit.collapse_rel_tol:g}; (b) paired CI of deep-linear − one-layer best "
            f"loss inside ±{crit.equiv_tol:g} on every data set, and relu/tanh − one-layer CI < −{crit.better_margin:g}"
        ),
        key=f"{worst.condition} ≡ one layer on {worst.dataset}",
    )


@claim("C1", reads=("paired_differences",), figure=loss_curves, criteria=("criteria.a1.better_margin",))
def c1(t, config) -> Decision:
    """Nonlinearity is needed: same-size nonlinear nets beat one layer where deep linear nets cannot (C1)."""
    nonlin = _nonlinear(t, config)
    worst = nonlin.loc[nonlin.difference_hi.idxmax()]
    return Decision(
        parts=[*_better_parts(t, config), *_equivalence_parts(t, config)],
        statement=(
            f"Without a nonlinearity, depth adds nothing (deep linear ≈ one layer); with one, the same "
            f"size net reaches a lower loss on every task: least improvement {worst.condition} on "
            f"{worst.dataset}: {worst['difference']:+.4f} nats [{worst.difference_lo:+.4f}, {worst.difference_hi:+.4f}]."
        ),
        criterion=f"relu and tanh − one-layer best-loss CI < −{config.criteria.a1.better_margin:g} on every data set, and A1(b) equivalence",
        key=f"{worst.condition} beats one layer on {worst.dataset}",
        published="none published",
    )


CLAIMS = (a1, c1)

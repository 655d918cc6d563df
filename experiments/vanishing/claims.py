"""Claims D1, D2, D3, D5 of experiments.vanishing: gradients through depth at initialisation.

Each claim is a pure function of the tables of :mod:`.measure` and the config's criteria; the
activation (and inits) each claim is about come from ``config.criteria.<id>``. Every part is one
(data set, init) condition with its 95% CI over seeds (DECISIONS.md R2-R4); gradient norms are
computed in log space (R10), so no condition is dropped. D4 and D6 (the training claims) are in
:mod:`.claims_training`; ``CLAIMS`` lists all six.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, compare

from . import claims_training
from .claims_training import describe_parts
from .measure import D2_TABLE


def _rows(summary: pd.DataFrame, activation: str) -> pd.DataFrame:
    return summary[summary.activation == activation]


def _factor(r) -> stats.Estimate:
    """The per-layer gradient factor (||dL/dh_1|| / ||dL/dh_L||)^(1/n) of a row, CI over seeds."""
    return stats.Estimate(float(r.factor), float(r.factor_lo), float(r.factor_hi), int(r.n_seeds))


def factor_parts(s: pd.DataFrame, config, threshold: str, side: str, act: str, prefix: str = "") -> list:
    """One part per (data set, init): the per-layer gradient factor against ``threshold`` (R4: CI over seeds)."""
    return [compare(f"{prefix}{r.dataset}/{r.init}", _factor(r), config, threshold, side,
                    unit="per-layer gradient factor (||dL/dh_1||/||dL/dh_L||)^(1/n)",
                    condition=f"{act}, {r.dataset}, {r.init} init (sigma_w^2 = {r.sigma_w2:.3g}), n = {int(r.n_layers_backprop)}, "
                              f"{int(r.n_seeds)} seeds")
            for r in s.itertuples()]


@claim("D1", reads=("profile_summary",), evidence="profile_summary.csv")
def d1(t, config) -> Decision:
    """The derivative product respects bound^n (a); for which inits the actual gradient ratio does (b)."""
    crit = config.criteria.d1
    act, s = crit.activation, _rows(t.profile_summary, crit.activation)
    excess = s.log10_prod_max_dphi - s.log10_bound
    worst = s.loc[excess.idxmax()]
    n_nets = int(s.n_seeds.sum())
    part_a = compare(f"(a) product of {act}' along the depth", stats.Estimate(float(excess.max()), float(excess.max()),
                     float(excess.max()), n_nets), config, "criteria.d1.tolerance", "<=",
                     unit=f"log10 prod over layers of max {act}'(h_l) - n log10 {crit.bound:g}, largest over every net",
                     condition=f"{act}, every (data set, init, seed): {n_nets} nets, {int(worst.n_layers_backprop)} layers")
    parts_b = factor_parts(s, config, "criteria.d1.bound", "<=", act, "(b) ")
    statement = (
        f"(a) The product of {act}' along {int(worst.n_layers_backprop)} layers never exceeds {crit.bound:g}^n: largest excess "
        f"{excess.max():.3g} (in log10) over {n_nets} nets. (b) The actual gradient ratio, where the weights enter too, per "
        f"(data set, init), per-layer factor with its 95% CI over seeds against {crit.bound:g}: " + describe_parts(parts_b) + "."
    )
    return Decision(
        parts=[part_a, *parts_b], statement=statement,
        criterion=(f"(a) log10 prod max {act}' - n log10 {crit.bound:g} <= {crit.tolerance:g} in every net; (b) per (data set, "
                   f"init): 95% CI over seeds of the per-layer factor <= {crit.bound:g} supported, wholly above refuted, "
                   "else inconclusive; the parts give the verdict (R2)"),
    )


@claim("D2", reads=(D2_TABLE, "profile_summary"), evidence=f"{D2_TABLE}.csv", criteria=("criteria.d2", "criteria.d1.bound"))
def d2(t, config) -> Decision:
    """(a) mean phi'(h) per layer well below the bound; (b) the actual per-layer factor below it; per init."""
    crit, bound, table = config.criteria.d2, config.criteria.d1.bound, t[D2_TABLE]
    act = crit.activation
    parts_a = [compare(f"(a) {r.dataset}/{r.init}", stats.Estimate(r.mean_dphi / bound, r.mean_dphi_lo / bound,
                       r.mean_dphi_hi / bound, int(r.n_seeds)), config, "criteria.d2.max_fraction_of_bound", "<=",
                       unit=f"mean {act}'(h_l) over layers 2..L / {bound:g}",
                       condition=f"{act}, {r.dataset}, {r.init} init, {int(r.n_seeds)} seeds")
               for r in table.itertuples()]
    parts_b = factor_parts(_rows(t.profile_summary, act), config, "criteria.d1.bound", "<", act, "(b) ")
    theory = "; ".join(f"{r.dataset}/{r.init} {r.mean_dphi:.4f} vs {r.theory_mean_dphi:.4f} (mean rel. error "
                       f"{r.mean_rel_err:.2%}, largest layer {r.max_rel_err:.2%})" for r in table.itertuples())
    agree = int((table.mean_rel_err <= crit.theory_rel_tol).sum())
    statement = (
        f"(a) mean {act}'(h) over layers 2..L as a fraction of {bound:g}, against {crit.max_fraction_of_bound:g}: "
        + describe_parts(parts_a) + f". (b) Per-layer gradient factor against {bound:g}: " + describe_parts(parts_b)
        + f". Theory E[{act}'(sqrt(q_l) z)] at each layer's measured q_l: {theory}; within {crit.theory_rel_tol:.0%} "
        f"(mean over layers) in {agree}/{len(table)} conditions (reported, not decided)."
    )
    return Decision(
        parts=[*parts_a, *parts_b], statement=statement,
        criterion=(f"per (data set, init), 95% CIs over seeds: (a) mean {act}' / {bound:g} <= {crit.max_fraction_of_bound:g} "
                   f"(shrinkage stronger than the bound); (b) per-layer gradient factor < {bound:g}; wholly on the other side "
                   f"refuted, else inconclusive; the parts give the verdict (R2); theory agreement (mean relative error <= "
                   f"{crit.theory_rel_tol:g}) is reported"),
    )


@claim("D3", reads=("profile_summary",), evidence="profile_summary.csv")
def d3(t, config) -> Decision:
    """tanh's gradient ratio over the depth vanishes (< 10^threshold), one part per (data set, init)."""
    crit = config.criteria.d3
    act, s = crit.activation, _rows(t.profile_summary, crit.activation)
    parts = [compare(f"{r['dataset']}/{r['init']}", r, config, "criteria.d3.vanish_log10_ratio", "<", value_key="log10_ratio",
                     unit="log10 ||dL/dh_1||/||dL/dh_L||",
                     condition=f"{act}, {r['dataset']}, {r['init']} init (sigma_w^2 = {r['sigma_w2']:.3g}), "
                               f"{int(r['n_layers_backprop'])} layers, {int(r['n_seeds'])} seeds")
             for _, r in s.iterrows()]
    return Decision(
        parts=parts,
        statement=(f"{act}, {int(s.n_layers_backprop.iloc[0])} layers: log10 ||dL/dh_1||/||dL/dh_L|| per (data set, init), 95% "
                   f"CI over seeds, against {crit.vanish_log10_ratio:g}: " + describe_parts(parts) + "."),
        criterion=(f"per (data set, init): 95% CI over seeds of log10 ratio < {crit.vanish_log10_ratio:g} (vanished) supported, "
                   "wholly above refuted, else inconclusive; the parts give the verdict (R2)"),
    )


def d5_rows(t, config) -> pd.DataFrame:
    crit = config.criteria.d5
    s = _rows(t.profile_summary, crit.activation)
    return s[s.init.isin(list(crit.inits))].sort_values("init", key=lambda c: c.map(list(crit.inits).index), kind="stable")


@claim("D5", reads=("profile_summary",), evidence="profile_summary.csv")
def d5(t, config) -> Decision:
    """ReLU with He and with Xavier init keeps its gradient (ratio >= 10^threshold), per (data set, init)."""
    crit, s = config.criteria.d5, d5_rows(t, config)
    parts = [compare(f"{r['dataset']}/{r['init']}", r, config, "criteria.d5.keep_log10_ratio", ">=", value_key="log10_ratio",
                     unit="log10 ||dL/dh_1||/||dL/dh_L||", condition=f"{crit.activation}, {r['dataset']}, {r['init']} init, "
                     f"{int(r['n_layers_backprop'])} layers, {int(r['n_seeds'])} seeds") for _, r in s.iterrows()]
    gains = "; ".join(f"{r.dataset}/{r.init}: per-layer log-gain {r.log_gain:.3g} [{r.log_gain_lo:.3g}, {r.log_gain_hi:.3g}] "
                      f"(mean field {r.log_gain_theory:.3g}, {r.theory_check})" for r in s.itertuples())
    return Decision(
        parts=parts, statement=f"{crit.activation}, log10 gradient ratio over the depth: " + describe_parts(parts) + f". {gains}.",
        criterion=(f"per (data set, init) of {', '.join(crit.inits)}: 95% CI over seeds of log10 ratio >= {crit.keep_log10_ratio:g} "
                   "supported, wholly below refuted, else inconclusive; the parts give the verdict (R2)"),
    )


def applies(claim_id: str, t, config) -> bool:
    """Whether the tables hold what the claim is about (no verdict otherwise)."""
    crit = config.criteria
    if claim_id in ("D1", "D3"):
        return not _rows(t.profile_summary, crit[claim_id.lower()].activation).empty
    if claim_id == "D5":
        return not d5_rows(t, config).empty
    return claims_training.applies(claim_id, t, config)


def theory_rows(summary: pd.DataFrame, layers: pd.DataFrame | None = None) -> tuple[int, int, list[str]]:
    """(rows where measurement and theory are both finite, of them agreeing, the disagreeing rows named
    with measured vs mean-field log10 q at the middle layer when the per-layer table is given)."""
    both = summary[summary.theory_check != "not finite"]
    bad = both[both.theory_check == "disagrees"]
    named = []
    for r in bad.itertuples():
        text = f"{r.dataset}/{r.activation}/{r.init} ({r.log_gain:.3g} vs {r.log_gain_theory:.3g}, tol {r.theory_tol:.3g}"
        if layers is not None:
            g = layers[(layers.dataset == r.dataset) & (layers.activation == r.activation) & (layers.init == r.init)]
            mid = g.iloc[len(g) // 2]
            text += f"; log10 q at layer {int(mid.layer)}: {mid.log10_q:.3g} measured, {np.log10(mid.q_theory):.3g} mean field"
        named.append(text + ")")
    return len(both), len(both) - len(bad), named


CLAIMS = (d1, d2, d3, claims_training.d4, d5, claims_training.d6)

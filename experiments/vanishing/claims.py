"""Claims D1, D2, D3, D5 of experiments.vanishing: gradients through depth at initialisation.

Each claim is a pure function of the tables of :mod:`.measure` and the config's criteria; the
activation (and inits) each claim is about come from ``config.criteria.<id>``. D4 and D6 (the
training claims) are in :mod:`.claims_training`; ``CLAIMS`` lists all six.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats, verdicts
from experiments.kit.claim import Decision, claim, compare, part

from . import claims_training
from .measure import D2_TABLE


def _rows(summary: pd.DataFrame, activation: str) -> pd.DataFrame:
    return summary[summary.activation == activation]


def d1_worst(s: pd.DataFrame) -> tuple[pd.Series, list[float]]:
    """D1: the (data set, init) row with the largest gradient ratio and its per-layer factor [lo, hi]."""
    worst = s.loc[s.log10_ratio.idxmax()]
    n = float(worst.n_layers_backprop)
    return worst, [10 ** (worst.log10_ratio / n), 10 ** (worst.log10_ratio_lo / n), 10 ** (worst.log10_ratio_hi / n)]


def _factor(r) -> stats.Estimate:
    """Per-layer factor 10^(log10 ratio / n) of one profile_summary row (its CI from the ratio's)."""
    n = float(r.n_layers_backprop)
    return stats.Estimate(10 ** (r.log10_ratio / n), 10 ** (r.log10_ratio_lo / n), 10 ** (r.log10_ratio_hi / n),
                          int(r.n_seeds))


@claim("D1", reads=("profile_summary",), evidence="profile_summary.csv")
def d1(t, config) -> Decision:
    """The derivative product respects bound^n (a); for which inits the actual gradient ratio does (b)."""
    crit = config.criteria.d1
    act, s = crit.activation, _rows(t.profile_summary, crit.activation)
    excess_a = float((s.log10_prod_max_dphi - s.log10_bound).max())
    part_a = compare(f"(a) product of {act}' <= {crit.bound:g}^n", stats.Estimate(excess_a, excess_a, excess_a, int(s.n_seeds.min())),
                     config, "criteria.d1.tolerance", "<=", unit=f"log10 prod max {act}' - n log10 {crit.bound:g}",
                     condition=f"largest over (data set, init), {int(s.n_layers_backprop.iloc[0])} layers")
    parts_b = [compare(f"(b) {r.dataset}/{r.init}", _factor(r), config, "criteria.d1.bound", "<=",
                       unit="per-layer gradient factor (||dL/dh_1||/||dL/dh_L||)^(1/n)",
                       condition=f"{act}, {r.dataset}, {r.init} init, n = {int(r.n_layers_backprop)}")
               for r in s.itertuples()]
    below = s.log10_ratio_hi <= s.log10_bound  # CI of log10 ratio entirely under n log10 bound
    ok = [f"{r.dataset}/{r.init}" for r in s[below].itertuples()]
    bad = [f"{r.dataset}/{r.init} (log10 ratio {r.log10_ratio:.3g} vs bound {r.log10_bound:.3g})" for r in s[~below].itertuples()]
    worst, factor = d1_worst(s)
    n = float(worst.n_layers_backprop)
    statement = (
        f"(a) The product of {act} derivatives along {int(n)} layers never exceeds {crit.bound:g}^n (largest excess of "
        f"log10 prod max {act}' over n log10 {crit.bound:g}: {excess_a:.3g}). (b) The actual gradient ratio "
        f"||dL/dh_1||/||dL/dh_L||, where the weights also enter, is <= {crit.bound:g}^n for {', '.join(ok) or 'no init'}; "
        f"NOT for {', '.join(bad) or 'none'}. Worst case {worst.dataset}/{worst.init}: per-layer factor "
        f"{factor[0]:.3g} [{factor[1]:.3g}, {factor[2]:.3g}] vs {crit.bound:g}."
    )
    return Decision(
        parts=[part_a, *parts_b], statement=statement, key=f"(b) {worst.dataset}/{worst.init}",
        criterion=(f"(a) max(log10 prod max {act}' - n log10 {crit.bound:g}) <= {crit.tolerance:g}; (b) per (data set, "
                   f"init): 95% CI of the per-layer gradient factor <= {crit.bound:g} (CI above: refuted; straddling: "
                   "inconclusive); the parts give the verdict (R2)"),
    )


@claim("D2", reads=(D2_TABLE, "profile_summary"), evidence=f"{D2_TABLE}.csv", criteria=("criteria.d2", "criteria.d1.bound"))
def d2(t, config) -> Decision:
    """Measured mean phi'(h_l) per layer vs the bound (criteria.d1.bound) and vs E[phi'(sqrt(q_l) z)]."""
    crit, bound, table = config.criteria.d2, config.criteria.d1.bound, t[D2_TABLE]
    act = crit.activation
    n_seeds = _rows(t.profile_summary, act).set_index(["dataset", "init"]).n_seeds
    parts = []
    for r in table.itertuples():
        fraction = r.max_layer_mean_dphi / bound  # no CI: the largest layer's mean over seeds
        parts.append(compare(f"{r.dataset}/{r.init}", stats.Estimate(fraction, fraction, fraction, int(n_seeds[(r.dataset, r.init)])),
                             config, "criteria.d2.max_fraction_of_bound", "<=", unit=f"max over layers of mean {act}'(h) / {bound:g}",
                             condition=f"{act}, {r.dataset}, {r.init} init, layers 2..L, mean over seeds"))
    limit = crit.max_fraction_of_bound * bound
    strong = table.max_layer_mean_dphi <= limit
    agree = float((table.mean_rel_err <= crit.theory_rel_tol).mean())
    weak = [f"{r.dataset}/{r.init} ({r.max_layer_mean_dphi:.4f})" for r in table[~strong].itertuples()]
    statement = (
        f"Measured mean {act}'(h) per layer is <= {limit:.4g} (= {crit.max_fraction_of_bound} x {bound:g}) for "
        f"{int(strong.sum())}/{len(table)} (data, init) conditions; close to {bound:g} for {', '.join(weak) or 'none'} "
        f"(pre-activations concentrated at 0). Theory E[{act}'(sqrt(q_l) z)] at the measured q_l matches within "
        f"{crit.theory_rel_tol:.0%} (mean over layers) in {agree:.0%} of conditions; largest layer error "
        f"{table.max_rel_err.max():.3g}."
    )
    worst = table.loc[table.max_layer_mean_dphi.idxmax()]
    return Decision(
        parts=parts, statement=statement, key=f"{worst.dataset}/{worst.init}",
        criterion=(f"per (data, init): max over layers of mean {act}' <= {crit.max_fraction_of_bound:g} x {bound:g}; the "
                   f"parts give the verdict (R2); theory agreement (mean relative error <= {crit.theory_rel_tol:g}) is "
                   "reported, not decided"),
    )


def d3_estimate(s: pd.DataFrame) -> stats.Estimate:
    """D3's legacy number: the mean over (data set, init) conditions of the log10 ratio (-inf dropped)."""
    return stats.mean_ci(s.log10_ratio.replace(-np.inf, np.nan))


@claim("D3", reads=("profile_summary",), evidence="profile_summary.csv")
def d3(t, config) -> Decision:
    """tanh's gradient ratio over the depth vanishes (< 10^threshold) for which inits (one legacy part)."""
    crit = config.criteria.d3
    act, s = crit.activation, _rows(t.profile_summary, crit.activation)
    vanish = s.log10_ratio_hi < crit.vanish_log10_ratio
    yes = [f"{r.dataset}/{r.init} ({r.log10_ratio:.3g})" for r in s[vanish].itertuples()]
    no = [f"{r.dataset}/{r.init} ({r.log10_ratio:.3g}, {r.status})" for r in s[~vanish].itertuples()]
    verdict = verdicts.decide(bool(vanish.all()), qualified=bool(vanish.any()))
    med = d3_estimate(s)
    statement = (f"{act}, {int(s.n_layers_backprop.iloc[0])} layers: log10 ||dL/dh_1||/||dL/dh_L|| vanishes "
                 f"(< {crit.vanish_log10_ratio}) for {', '.join(yes) or 'none'}; not for {', '.join(no) or 'none'}.")
    legacy = part("vanishes for every init (legacy rule)", verdict, med.mean, med.ci, int(s.n_seeds.min()),
                  unit="log10 ||dL/dh_1||/||dL/dh_L||, mean over (data set, init) conditions",
                  condition=f"{act}, {len(s)} (data set, init) conditions; verdict: all / some / none vanish")
    return Decision(
        parts=[legacy], statement=statement,
        criterion=(f"per init: 95% CI upper of log10 ratio < {crit.vanish_log10_ratio:g}; supported if for all inits, "
                   "qualified if some, refuted if none (one part: per-init parts on their CIs would not give this verdict)"),
    )


def d5_rows(t, config) -> pd.DataFrame:
    crit = config.criteria.d5
    s = _rows(t.profile_summary, crit.activation)
    return s[s.init.isin(list(crit.inits))]


@claim("D5", reads=("profile_summary",), evidence="profile_summary.csv")
def d5(t, config) -> Decision:
    """ReLU with He and with Xavier init keeps its gradient (ratio >= 10^threshold), per (data set, init)."""
    crit, s = config.criteria.d5, d5_rows(t, config)
    parts = [compare(f"{r['dataset']}/{r['init']}", r, config, "criteria.d5.keep_log10_ratio", ">=", value_key="log10_ratio",
                     unit="log10 ||dL/dh_1||/||dL/dh_L||", condition=f"{crit.activation}, {r['dataset']}, {r['init']} init, "
                     f"{int(r['n_layers_backprop'])} layers") for _, r in s.iterrows()]
    desc = "; ".join(f"{r.dataset}/{r.init}: log10 ratio {r.log10_ratio:.3g} [{r.log10_ratio_lo:.3g}, "
                     f"{r.log10_ratio_hi:.3g}], per-layer log-gain {r.log_gain:.3g} (mean field {r.log_gain_theory:.3g})"
                     for r in s.itertuples())
    return Decision(
        parts=parts, statement=f"{crit.activation} gradient ratio over the depth: {desc}.",
        criterion=(f"per (data set, init) of {', '.join(crit.inits)}: 95% CI of log10 ratio >= {crit.keep_log10_ratio:g} "
                   f"(wholly below: refuted); the parts give the verdict (R2); mean-field log-gain agreement within "
                   f"{crit.agreement_tol:g} nats/layer is reported, not decided"),
    )


def applies(claim_id: str, t, config) -> bool:
    """Whether the tables hold what the claim is about (the old code gave no verdict otherwise)."""
    crit = config.criteria
    if claim_id in ("D1", "D3"):
        return not _rows(t.profile_summary, crit[claim_id.lower()].activation).empty
    if claim_id == "D5":
        return not d5_rows(t, config).empty
    return claims_training.applies(claim_id, t, config)


def legacy_values(t, config) -> dict:
    """The key numbers the old code put in ``summary.json`` (``verdict_value/<id>``), per claim decided."""
    crit = config.criteria
    out = {}
    if "profile_summary" in t and applies("D1", t, config):
        out["D1"] = d1_worst(_rows(t.profile_summary, crit.d1.activation))[1][0]
    if D2_TABLE in t:
        out["D2"] = stats.mean_ci(t[D2_TABLE].mean_dphi).mean
    if "profile_summary" in t and applies("D3", t, config):
        out["D3"] = d3_estimate(_rows(t.profile_summary, crit.d3.activation)).mean
    out.update(claims_training.legacy_values(t, config, "D4"))
    if "profile_summary" in t and applies("D5", t, config):
        he = d5_rows(t, config)
        he = he[he.init == crit.d5.inits[0]]
        out["D5"] = he.log10_ratio.mean() if len(he) else np.nan
    out.update(claims_training.legacy_values(t, config, "D6"))
    return out


CLAIMS = (d1, d2, d3, claims_training.d4, d5, claims_training.d6)

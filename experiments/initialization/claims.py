"""Claim G1: naive inits make activations and gradients vanish or explode, Xavier keeps them steady.

Decided from ``profile_gains`` and the config's criteria (DECISIONS.md G1): one part per
(activation, quantity, init) of the criteria, and per width for N(0,1): |log10 of the variance's
gain over the 50-layer net| against x10 (1 decade) on the CI over seeds (R3). Naive inits should
be beyond it, Xavier within it. Other inits (LeCun normal, He, standard) are reported, not parts.
G2 is in :mod:`.claims_g2`.
"""

from __future__ import annotations

import itertools

import numpy as np

from experiments.kit.claim import Decision, claim, compare

from .claims_g2 import g2
from .figures import gb_histograms, gb_jacobian, profile_layers

QUANTITY = {"act": "activation variance (forwards, layer 1 -> last)",
            "grad": "gradient variance Var(dL/dh) (backwards, last layer -> 1)"}


def _rows(gains, act: str, init: str, main_width: int):
    """Rows of (act, init): the main width first, then any other width."""
    sub = gains[(gains["activation"] == act) & (gains["init"] == init)]
    return sorted((r for _, r in sub.iterrows()), key=lambda r: (r.width != main_width, -r.width))


def _direction(row, q: str) -> str:
    lo, hi = row[f"log10_{q}_gain_lo"], row[f"log10_{q}_gain_hi"]
    return "grows" if lo > 0 else "shrinks" if hi < 0 else "changes"


def g1_parts(t, config) -> list:
    """One compare part per (init of the criteria, activation, width, quantity)."""
    crit, p = config.criteria.g1, config.profile
    parts = []
    for init in (*crit.naive_inits, *crit.steady_inits):
        naive = init in crit.naive_inits
        for act in crit.activations:
            for row in _rows(t.profile_gains, act, init, p.width):
                for q in ("act", "grad"):
                    cond = (f"{act} + {init}, {row.width} units, {p.depth} hidden layers, {QUANTITY[q]}, {p.dataset} "
                            f"inputs, float64; the variance {_direction(row, q)} by "
                            f"{row[f'log10_{q}_gain']:+.3g} [{row[f'log10_{q}_gain_lo']:+.3g}, "
                            f"{row[f'log10_{q}_gain_hi']:+.3g}] decades")
                    name = f"{act}+{init} ({row.width} units): {q} {'vanishes/explodes' if naive else 'steady'}"
                    parts.append(compare(name, row, config, "criteria.g1.max_decades", ">" if naive else "<=",
                                         unit="|log10 gain of the variance over the depth| (decades)",
                                         condition=cond, value_key=f"abs_log10_{q}_gain"))
    return parts


def _gain(row, q: str) -> str:
    return f"{row[f'log10_{q}_gain']:+.3g} [{row[f'log10_{q}_gain_lo']:+.3g}, {row[f'log10_{q}_gain_hi']:+.3g}]"


def _reported(t, config) -> str:
    """The inits the claim does not name (LeCun normal, He, standard), reported beside the parts."""
    crit, p = config.criteria.g1, config.profile
    named = {*crit.naive_inits, *crit.steady_inits}
    g = t.profile_gains
    rows = g[(~g["init"].isin(named)) & (g["width"] == p.width)]
    return "; ".join(f"{r.activation}+{r.init}: act {_gain(r, 'act')}, grad {_gain(r, 'grad')}" for _, r in rows.iterrows())


def _table1(t, config) -> str:
    """Glorot & Bengio's Table 1 ordering (MNIST) beside ours scaled down (tables glorot_*; no part decides on it)."""
    g, corr, eff = t.get("glorot_table1"), t.get("glorot_rank_correlation"), t.get("glorot_init_effect")
    if g is None or not len(g):
        return ""
    pub = dict(config.published.glorot_table1_mnist)
    names = {f"{r.activation}_{r.init}": r.condition for _, r in g.iterrows()}
    ranked = sorted(pub.items(), key=lambda kv: kv[1])
    theirs = f"{names.get(ranked[0][0], ranked[0][0])} {ranked[0][1]:g}" + "".join(
        f" {'=' if v == prev else '<'} {names.get(k, k)} {v:g}" for (_, prev), (k, v) in itertools.pairwise(ranked))
    parts = []
    for ds, rows in g.groupby("dataset", sort=False):
        ok = rows[rows.status == "ok"].sort_values("test_error_pct")
        ours = " < ".join(f"{r.condition} {r.test_error_pct:.1f} [{r.test_error_pct_lo:.1f}, {r.test_error_pct_hi:.1f}]"
                          for _, r in ok.iterrows())
        text = f"ours on {ds} ({config.glorot.depth} x {config.glorot.width} units, {config.glorot.steps} SGD steps): {ours or 'none learned'}"
        c = corr[corr.dataset == ds] if corr is not None else None
        if c is not None and len(c):
            r = c.iloc[0]
            text += (f"; not ranked (R8): {r.left_out}; Spearman rho with their ordering {r.spearman_rho_vs_glorot_mnist:.2f} "
                     f"[{r.spearman_rho_vs_glorot_mnist_lo:.2f}, {r.spearman_rho_vs_glorot_mnist_hi:.2f}] over {r.n_conditions} conditions")
        e = eff[(eff.dataset == ds) & eff.both_learned] if eff is not None and len(eff) else None
        if e is not None and len(e):
            text += "; normalised minus standard init, paired over seeds: " + ", ".join(
                f"{r.activation} {r.n_minus_standard_pp:+.1f} [{r.n_minus_standard_pp_lo:+.1f}, {r.n_minus_standard_pp_hi:+.1f}] pp"
                + ("" if not np.isfinite(r.published_mnist_pp) else f" (theirs {r.published_mnist_pp:+.2f})") for _, r in e.iterrows())
        parts.append(text)
    return f" Glorot & Bengio's Table 1 (MNIST test error %, theirs): {theirs}; " + "; ".join(parts) + "."


def _published(t, config) -> str:
    """Our Glorot & Bengio setting (table gb_summary) beside their Jacobian singular values."""
    s = t.get("gb_summary")
    if s is None or not len(s):
        return ""
    def one(r):
        pub, inside = r.published_jac_mean_sv, r.jac_mean_sv_lo <= r.published_jac_mean_sv <= r.jac_mean_sv_hi
        return (f"{r.init}, inputs {r.scaling}: {r.jac_mean_sv:.3f} [{r.jac_mean_sv_lo:.3f}, {r.jac_mean_sv_hi:.3f}] "
                f"(published {pub:g}{', inside our CI' if inside else f', ours {r.jac_mean_sv - pub:+.3f}'}; layer-1 "
                f"E[h^2] {r.preact_sq_layer_1:.2f}, mean tanh' in layers 2-{config.gb.depth} "
                f"{r.dphi_mean_layers_2_on:.3f}; linear-regime value {r.linear_regime_sv:.3f})")

    return (_table1(t, config) + f" Published beside ours, Glorot & Bengio's setting ({config.gb.depth} hidden {config.gb.activation} layers of "
            f"{config.gb.width} units, {int(s.n_seeds.iloc[0])} seeds), mean singular value of J_1..J_{config.gb.depth - 1}: "
            + "; ".join(one(r) for _, r in s.iterrows()) + ". The measured value is the linear-regime value (the "
            "quarter-circle law, exact when tanh' = 1) lowered by the saturation that the first layer's E[h^2] sets: "
            "compare the two input scalings.")


@claim("G1", reads=("profile_gains",), figure=(profile_layers, gb_histograms, gb_jacobian), evidence="profile_gains.csv",
       revised_by="R2, R3; DECISIONS.md G1 row: parts per activation x quantity x init decided on the CI against "
                  "x10 over a 50-layer net (was: one legacy rule on means over 10 layers)")
def g1(t, config) -> Decision:
    """G1 part by part (DECISIONS.md G1): naive inits beyond x10 over the depth, Xavier within it."""
    crit, p = config.criteria.g1, config.profile
    parts = g1_parts(t, config)
    listing = "; ".join(f"{q.part}: {q.verdict} ({q.value:.3g} [{q.ci[0]:.3g}, {q.ci[1]:.3g}])" for q in parts)
    statement = (f"Gain of the variance over a {p.depth}-layer MLP at init, in decades (log10 of last/first layer; "
                 f"gradients backwards), CI over {p.seeds} seeds; |gain| > {crit.max_decades:g} decade (x10) = "
                 f"vanishes/explodes. Parts: {listing}. Reported, not parts: {_reported(t, config)}."
                 + _published(t, config))
    return Decision(
        parts=parts, statement=statement,
        criterion=(f"per (activation, quantity, init, width): naive inits ({', '.join(crit.naive_inits)}) vanish/explode "
                   f"iff the 95% CI of |log10 gain over the depth| lies above {crit.max_decades:g} (x10), Xavier "
                   f"({', '.join(crit.steady_inits)}) is steady iff it lies at or below {crit.max_decades:g}; the CI "
                   f"on the other side refutes the part, a CI across {crit.max_decades:g} leaves it inconclusive; "
                   "claim from the parts (R2)"),
    )


CLAIMS = (g1, g2)

"""Claims E1 (the zig-zag of all-positive inputs) and E2 (centring the data), rules revision 2.

Each claim is a pure function of the measurement tables and the config (criteria written before
the run, DECISIONS.md rows E1 and E2; the activations and input scalings the verdicts name come
from the config). Parts are decided on their intervals (R3) and combined by R2; E3 and E4 are in
:mod:`.claims_means`.
"""

from __future__ import annotations

import pandas as pd

from experiments.kit.claim import Decision, Part, claim, compare, part

from .claims_means import e3, e4
from .figures import e1_path, e1_sign_fraction, e1_two_input, e2_steps
from .measure_signs import CENTRED_X, POSITIVE_X
from .parts import parts_text, row, undecided


def _e1_parts(t, config) -> list[Part]:
    sign, cmp, path = t.e1_sign_fraction, t.e1_sign_compare, t.e1_path_compare
    trained = "weights trained in E2/E3 at the tuned lr, nets that learned (R8)"
    parts = []
    for role in ("positive_pixels", "positive_units"):
        r = row(sign, role=role, stage="trained", batch_size=1)
        if r is not None:
            parts.append(compare(f"(a) {r.condition}: single-signed at batch 1", r, config, "criteria.e1.exact_min", ">=",
                                 value_key="single_signed", unit="fraction of neurons (mean over seeds, bootstrap CI)",
                                 condition=f"layer {int(r.layer)}, {trained}"))
    for b in sorted(set(cmp.batch_size) - {1}) if len(cmp) else []:
        r = row(cmp, role="positive_units", stage="trained", batch_size=b)
        if r is not None:
            parts.append(compare(f"(b) batch {b}: {r.condition} minus {r.centred}", r, config, "criteria.e1.minibatch_min", ">",
                                 floor="criteria.e1.minibatch_floor", value_key="single_signed_diff",
                                 unit="difference of single-signed fractions (paired over seeds, bootstrap CI)",
                                 condition=f"layer 1, batch {b}, {trained}"))
    r = row(path, role="positive_units")
    if r is not None:
        cond = f"layer 1, SGD batch 1, {int(r.steps)} steps from init, both at lr {r.learning_rate:.3g}, seeds that learned"
        parts.append(compare(f"(c) path/displacement, {r.condition} / {r.centred}", r, config, "criteria.e1.path_ratio_min", ">",
                             value_key="path_ratio", unit="ratio of mean path length / displacement (bootstrap CI)", condition=cond))
        parts.append(compare(f"(c) |cos| of successive updates, {r.condition} minus {r.centred}", r, config,
                             "criteria.e1.abs_cos_gap_min", ">", value_key="abs_cos_gap",
                             unit="difference of mean |cos| (paired over seeds, bootstrap CI)", condition=cond))
    return parts or [part("no E1 condition measured", "inconclusive", unit="", condition="")]


def _e1_context(t, config) -> str:
    """What carries over to minibatches and what does not: the tables beside the parts."""
    sign, two, path = t.e1_sign_fraction, t.e1_two_input, t.e1_path_compare
    def fr(role, stage):
        g = sign[(sign.role == role) & (sign.stage == stage)].sort_values("batch_size")
        return ", ".join(f"B={int(r.batch_size)} {r.single_signed:.3f}" for _, r in g.iterrows())
    text = [f"Single-signed fraction, {stage}: " + "; ".join(f"{sign[sign.role == role].condition.iloc[0]} {fr(role, stage)}"
                                                            for role in dict.fromkeys(sign.role)) for stage in ("init", "trained")]
    pix = row(path, role="positive_pixels")
    if pix is not None:
        text.append(f"Layer 0 at the same lr {pix.learning_rate:.3g}: path/displacement ratio {pix.path_ratio:.3g} "
                    f"[{pix.path_ratio_lo:.3g}, {pix.path_ratio_hi:.3g}], |cos| {pix.abs_cos:.3g} vs {pix.centred_abs_cos:.3g} centred")
    b2 = min(config.e1.two_input_batch_sizes)
    t1, tc = row(two, inputs=POSITIVE_X, batch_size=b2), row(two, inputs=CENTRED_X, batch_size=b2)
    if t1 is not None and tc is not None:
        text.append(f"Two-input neuron (batch {b2}): {t1.frac_quadrant_13:.3f} of updates in quadrants I/III (centred "
                    f"{tc.frac_quadrant_13:.3f}), path/displacement {t1.path_over_disp:.3g} vs {tc.path_over_disp:.3g}, "
                    f"steps to w* {t1.steps_to_wstar:.3g} vs {tc.steps_to_wstar:.3g}")
    return ". ".join(text) + "."


def _carry(t) -> str:
    """Per condition, the range of single-signed fractions over batch sizes > 1 (trained weights)."""
    sign = t.e1_sign_fraction
    g = sign[(sign.stage == "trained") & (sign.batch_size > 1)]
    return "; ".join(f"{c}: {grp.single_signed.min():.3g}-{grp.single_signed.max():.3g} of neurons single-signed at batch "
                     f"{int(grp.batch_size.min())}-{int(grp.batch_size.max())}" for c, grp in g.groupby("condition", sort=False))


def _lrs(t, config) -> str:
    """The learning rates of the arms E1 compares (trained nets: E3's tuned; paths: one lr per pair)."""
    e1c, steps, path = config.e1, t.get("e3_steps"), row(t.e1_path_compare, role="positive_units")
    tuned = "" if steps is None else ", ".join(f"{r.activation} {r.best_learning_rate:.3g}" for _, r in steps.iterrows()
                                               if r.activation in (e1c.positive_activation, e1c.centred_activation))
    same = "" if path is None else f"; (c) both at lr {path.learning_rate:.3g} (the {e1c.positive_activation} net's tuned lr / {config.batch_size})"
    return f"trained at the tuned lr (batch {config.batch_size}): {tuned or 'see e3_steps'}{same}"


@claim("E1", reads=("e1_sign_fraction", "e1_sign_compare", "e1_path_compare", "e1_two_input"),
       figure=(e1_sign_fraction, e1_two_input, e1_path), evidence="e1_sign_fraction.csv")
def e1(t, config) -> Decision:
    """All-positive inputs make a neuron's weight gradient single-signed: exact at batch 1; in minibatches? (E1)"""
    crit, e1c = config.criteria.e1, config.e1
    parts = _e1_parts(t, config)
    statement = (f"{parts_text(parts)}. What carries over to minibatches (trained weights, batch > 1): {_carry(t)}. "
                 f"{_e1_context(t, config)} Nets: {tuple(config.widths)} MLPs, {config.init} init (R6); {_lrs(t, config)}.")
    criterion = (f"(a) batch-1 single-signed fraction CI >= {crit.exact_min:g} per all-positive condition; (b) per batch size "
                 f"> 1: {e1c.positive_activation} minus {e1c.centred_activation} fraction, CI > {crit.minibatch_min:g} supported, "
                 f"wholly in ({crit.minibatch_floor:g}, {crit.minibatch_min:g}) qualified (carries over in part), <= "
                 f"{crit.minibatch_floor:g} refuted; (c) at the same lr, path/displacement ratio CI > {crit.path_ratio_min:g} and "
                 f"|cos| gap CI > {crit.abs_cos_gap_min:g}; trained nets with train accuracy >= chance + "
                 f"{config.criteria.learned_margin:g} (R8); bootstrap 95% CIs over seeds (R3, R4); the claim from its parts (R2)")
    return Decision(parts, statement=statement, criterion=criterion)


def _e2_part(r: pd.Series, config) -> Part:
    crit = config.criteria.e2
    cond = (f"{r.dataset}, {config.e2.activation} MLP {tuple(config.widths)}, {config.init}, SGD {config.steps} steps, lr "
            f"{r.learning_rate_from:.3g} ({r['from']}) / {r.learning_rate_to:.3g} ({r.to}) tuned per arm")
    p = compare(f"{r.dataset} {r['from']} -> {r.to}", r, config, "criteria.e2.min_speedup", ">", floor="criteria.e2.speedup_floor",
                value_key="speedup", unit="speed-up in steps to target (geometric mean, paired bootstrap CI)", condition=cond)
    worst = max(r.censored_fraction_from, r.censored_fraction_to)
    if worst > crit.censor_max_fraction:
        p = undecided(p, f"{worst:.0%} of an arm's seeds censored > {crit.censor_max_fraction:g} (R7, E2 row: raise the budget)")
    return p


def _e2_context(t, config) -> str:
    steps, spec = t.e2_steps, t.e2_spectrum
    arms = "; ".join(f"{r.dataset} {r.scaling}: mean {r.x_mean:.3g}, lr {r.best_learning_rate:.3g}, {r.geo_mean_steps:.3g} steps, "
                     f"{r.n_censored}/{r.n_seeds} censored" + (" (lr at grid edge)" if r.best_learning_rate_at_grid_edge else "")
                     for _, r in steps.iterrows())
    sp = "; ".join(f"{r.dataset} {r.inputs}: kappa {r.kappa:.3g}, lambda_max {r.lambda_max:.3g}"
                   + (f" vs LeCun's centred lambda_max + d*m^2 = {r.lecun_predicted_lambda_max:.3g} (d*m^2 = {r.mean_sq_norm:.3g})"
                      if r.inputs in ("[0,1] pixels",) or "+" in r.inputs else "") for _, r in spec.iterrows())
    return f"Arms: {arms}. Input second-moment spectra (LeCun et al. 1998): {sp}."


@claim("E2", reads=("e2_compare", "e2_steps", "e2_spectrum"), figure=e2_steps)
def e2(t, config) -> Decision:
    """Centring the input data speeds up SGD, per data set: mean subtraction and the documents' half-range shift (E2)."""
    crit, cmp = config.criteria.e2, t.e2_compare
    pairs = [tuple(p) for p in config.e2.comparisons]
    main = cmp[[(a, b) in pairs for a, b in zip(cmp["from"], cmp["to"], strict=True)]] if len(cmp) else cmp
    parts = [_e2_part(r, config) for _, r in main.iterrows()]
    parts = parts or [part("no centring comparison measured", "inconclusive", unit="speed-up", condition="")]
    flat = [p.part for p in parts if p.verdict == "inconclusive" and p.ci and 1 / 1.1 <= p.ci[0] and p.ci[1] <= 1.1]
    statement = (f"{parts_text(parts)}. Init {config.init} in every arm (R6). " + (f"No detectable speed-up in {', '.join(flat)} (CI within x1.1 of 1; more seeds "
                                              "would only narrow it around 1). " if flat else "") + _e2_context(t, config))
    criterion = (f"per data set and comparison {', '.join(f'{a} -> {b}' for a, b in pairs)}: speed-up CI > {crit.min_speedup:g} "
                 f"supported, wholly in ({crit.speedup_floor:g}, {crit.min_speedup:g}) qualified, <= {crit.speedup_floor:g} "
                 f"refuted (bootstrap 95% CI over seeds of the paired log2 steps difference, R3); more than "
                 f"{crit.censor_max_fraction:g} of an arm's seeds censored -> inconclusive (R7); lr tuned per arm on a 3-per-decade "
                 f"grid extended at edges (R6); the claim from its parts (R2)")
    return Decision(parts, statement=statement, criterion=criterion)


CLAIMS = (e1, e2, e3, e4)

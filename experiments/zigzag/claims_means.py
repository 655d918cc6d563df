"""Claims E3 (sigmoid vs tanh: centring or slope?) and E4 (ELU's mean activations), rules revision 2.

E3 has no DECISIONS.md row: R1-R12 apply (parts per comparison, CIs over seeds, each activation
its own tuned lr and Glorot init, R7 censoring). E4 follows its row: an absolute criterion
(|mean| within 0.1 std of the layer's outputs) for ELU and ReLU, and ELU below ReLU per layer at
init and after training.
"""

from __future__ import annotations

import pandas as pd

from experiments.kit.claim import Decision, Part, claim, compare, on_interval, part

from .figures import e3_steps, e4_mean_activation
from .parts import parts_text, row, seeds_to_decide, undecided


def _bounded(p: Part, r: pd.Series, config) -> Part:
    """R7 on a speed-up part: a bound decides only on its own side; censored in both arms: inconclusive."""
    crit = config.criteria.e3
    if min(r.censored_fraction_from, r.censored_fraction_to) > crit.censor_both_fraction:
        return undecided(p, f"> {crit.censor_both_fraction:g} censored in both arms (R7: raise the budget)")
    keeps = {"lower": "supported", "upper": "refuted"}.get(r.bound)
    if r.bound != "none" and p.verdict != keeps:
        return undecided(p, f"a {r.bound} bound (> {crit.censor_bound_fraction:g} censored, R7)")
    return p


def _slower(name: str, r: pd.Series | None, config) -> Part:
    cond = f"{config.e3.dataset}, MLP {tuple(config.widths)}, {config.init}, SGD {config.steps} steps"
    if r is None:
        return part(name, "inconclusive", unit="speed-up in steps to target", condition=f"not measured ({cond})")
    cond += f", lr {r.learning_rate_from:.3g} ({r['from']}) / {r.learning_rate_to:.3g} ({r.to}) tuned per activation"
    p = compare(name, r, config, "criteria.e3.slower_min", ">", value_key="speedup",
                unit="speed-up in steps to target (geometric mean, paired bootstrap CI)", condition=cond)
    return _bounded(p, r, config)


@claim("E3", reads=("e3_compare", "e3_steps", "e3_share"), figure=e3_steps)
def e3(t, config) -> Decision:
    """Sigmoid nets converge more slowly than tanh nets because sigmoid is not centred (E3)."""
    crit, e3c, cmp = config.criteria.e3, config.e3, t.e3_compare
    unc, cen, same = e3c.uncentred_activation, e3c.centred_activation, e3c.centred_same_slope_activation
    total, centring = row(cmp, **{"from": unc, "to": cen}), row(cmp, **{"from": unc, "to": same})
    parts = [_slower(f"(a) {unc} slower than {cen}", total, config), _slower(f"(b) {unc} slower than {same}", centring, config)]
    share = row(t.e3_share)
    if share is not None and total is not None and centring is not None:
        p = compare(f"(c) centring share of the {unc} -> {cen} gap", share, config, "criteria.e3.centring_share_min", ">=",
                    value_key="share", unit="fraction of the log2-steps gap (ratio of paired means, bootstrap CI)",
                    condition=f"mean log2 steps {unc} - {same} over mean log2 steps {unc} - {cen}")
        if total.bound != "none" or centring.bound != "none" or parts[0].verdict != "supported":
            p = undecided(p, "the share needs the total gap decided and no censoring bound")
        parts.append(p)
    slope = row(cmp, **{"from": same, "to": cen})
    need = seeds_to_decide(parts[-1], float(crit.centring_share_min)) if len(parts) == 3 else None
    lrs = ", ".join(f"{r.activation} {r.best_learning_rate:.3g}" for _, r in t.e3_steps.iterrows())
    statement = (f"{parts_text(parts)}. Slope ({same} -> {cen}, both centred): "
                 + (f"x{slope.speedup:.3g} [{slope.speedup_lo:.3g}, {slope.speedup_hi:.3g}]" if slope is not None else "n/a")
                 + f". Tuned lrs (each its own, R6): {lrs}; init {config.init} for all (Glorot, R6)."
                 + (f" To decide (c): ~{need} seeds (R1; the CI narrows as 1/sqrt(n))." if need else ""))
    criterion = (f"(a) {unc} slower than {cen} and (b) than {same} (same slope 1/4, centred): paired speed-up CI > "
                 f"{crit.slower_min:g}; (c) centring share of the gap CI >= {crit.centring_share_min:g}; R7: > "
                 f"{crit.censor_bound_fraction:g} censored in an arm makes the speed-up a bound, > {crit.censor_both_fraction:g} "
                 f"in both arms inconclusive; bootstrap 95% CIs over seeds (R3, R4); the claim from its parts (R2)")
    return Decision(parts, statement=statement, criterion=criterion)


def every_layer(rows: pd.DataFrame, margin: float) -> tuple[str, pd.Series]:
    """"Below in every layer": supported if every layer's CI of the gap lies above ``margin``, refuted
    if some layer's lies wholly at or below it, else inconclusive; with the deciding layer's row."""
    verdicts = [on_interval(r.gap_lo, r.gap_hi, margin, ">") for _, r in rows.iterrows()]
    if "refuted" in verdicts:
        return "refuted", rows.iloc[verdicts.index("refuted")]
    worst = rows.sort_values("gap_lo").iloc[0]
    return ("supported" if all(v == "supported" for v in verdicts) else "inconclusive"), worst


def _e4_parts(t, config) -> list[Part]:
    e4c = config.e4
    near, base = e4c.near_zero_activation, e4c.baseline_activation
    cond = f"{e4c.depth}x{e4c.width} MLP on {e4c.dataset}, SGD lr {e4c.learning_rate:g}, batch {e4c.batch_size}"
    at = {"init": "at init", "end": f"after {e4c.steps} steps, nets that learned (R8)"}
    parts = []
    for act, side, what in ((near, "<=", "close to 0"), (base, ">", "not close to 0")):
        for stage in ("init", "end"):
            r = row(t.e4_close, activation=act, stage=stage)
            if r is not None:
                parts.append(compare(f"({'a' if act == near else 'b'}) {act} mean {what} ({stage})", r, config,
                                     "criteria.e4.close_max", side, value_key="close_ratio",
                                     unit="|median unit mean| / std of the layer's outputs, mean over layers (bootstrap CI)",
                                     condition=f"{cond}, {e4c.init_by_activation[act]} init, {at[stage]}"))
    for stage in ("init", "end") if len(t.e4_below) else ():
        verdict, r = every_layer(t.e4_below[t.e4_below.stage == stage], float(config.criteria.e4.below_margin))
        parts.append(part(f"(c) {near} below {base} in every layer ({stage})", verdict, r.gap, (r.gap_lo, r.gap_hi), r.n_seeds,
                          unit=f"|median unit mean| {base} - {near}, paired bootstrap CI, deciding layer",
                          condition=f"{cond}, layer {int(r.layer)} of {e4c.depth}, {at[stage]}"))
    return parts or [part(f"{near} vs {base}", "inconclusive", unit="", condition=f"{near} or {base} not measured ({cond})")]


def _layers(below: pd.DataFrame, near: str, base: str, margin: float) -> str:
    """Which layers have the near-zero activation's |mean| below / above the baseline's (paired CI), per stage."""
    out = []
    for stage in ("init", "end"):
        g = below[below.stage == stage]
        lo = [int(r.layer) for _, r in g.iterrows() if r.gap_lo > margin]
        hi = [int(r.layer) for _, r in g.iterrows() if r.gap_hi < margin]
        out.append(f"{stage}: {near} below {base} in layers {lo or 'none'}, above in {hi or 'none'} (of {len(g)})")
    return "; ".join(out)


@claim("E4", reads=("e4_summary", "e4_close", "e4_below"), figure=e4_mean_activation,
       revised_by="R2, R3; DECISIONS.md E4 row: absolute criterion (|mean| <= 0.1 std), ELU below ReLU per layer, SELU LeCun init")
def e4(t, config) -> Decision:
    """ELU's outputs have mean close to zero; ReLU's do not (E4)."""
    crit, e4c = config.criteria.e4, config.e4
    near, base = e4c.near_zero_activation, e4c.baseline_activation
    parts = _e4_parts(t, config)
    close = t.e4_close[t.e4_close.stage == "end"].sort_values("close_ratio")
    statement = (f"{parts_text(parts)}. {_layers(t.e4_below, near, base, float(crit.below_margin))}. |mean|/std after training, "
                 "closest to zero first: " + ", ".join(f"{r.activation} {r.close_ratio:.3g}" if r.n_seeds else
                                                         f"{r.activation} n/a (no net learned)" for _, r in close.iterrows())
                 + f". Inits and training (lr {e4c.learning_rate:g} for all, Clevert et al.'s): "
                 + ", ".join(f"{r.activation} {r.init} train acc {r.final_train_acc:.2f} ({r.n_learned}/{r.n_seeds} learned)"
                             for _, r in t.e4_summary.iterrows()) + ".")
    criterion = (f"(a) {near}: |median unit mean| / layer std (mean over layers) CI <= {crit.close_max:g}, at init and after "
                 f"training; (b) {base}: CI > {crit.close_max:g}; (c) |mean| {base} - {near} CI > {crit.below_margin:g} in every "
                 f"layer (refuted if wholly <= in some layer), at init and after training; nets that learned: train accuracy >= "
                 f"chance + {config.criteria.learned_margin:g} (R8); bootstrap 95% CIs over seeds (R3, R4); the claim from its parts (R2)")
    return Decision(parts, statement=statement, criterion=criterion)

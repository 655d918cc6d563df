"""Claims D4 and D6 of experiments.vanishing: saturation during training and trainability vs depth.

Pure functions of the tables of :mod:`.measure_training` and the config's criteria; the
activations each claim is about come from ``config.criteria.d4.activations`` and
``config.criteria.d6.activation`` (the arm that fixes it) / ``.activations`` (the saturating arms).
"""

from __future__ import annotations

import pandas as pd

from experiments.kit import stats, verdicts
from experiments.kit.claim import Decision, claim, compare, part

from .figures import depth_sweep, saturation


def _saturating(t, config) -> pd.DataFrame:
    table = t.saturation_summary
    return table[table.activation.isin(list(config.criteria.d4.activations))]


@claim("D4", reads=("saturation_summary",), figure=saturation, evidence="saturation_summary.csv")
def d4(t, config) -> Decision:
    """The |h|>2 fraction rises during training (top layer) for sigmoid and tanh, one part each; relu as control."""
    crit, cfg_sat, table = config.criteria.d4, config.saturation, t.saturation_summary
    parts = [compare(r["activation"], r, config, "criteria.d4.saturation_rise", ">=", value_key="rise",
                     unit=f"rise of the {crit.layer}-layer |h|>2 fraction (max over training - init)",
                     condition=f"{cfg_sat.hidden_layers} hidden layers of {cfg_sat.width}, {cfg_sat.init} init, SGD lr "
                     f"{cfg_sat.learning_rate}, {cfg_sat.steps} steps") for _, r in _saturating(t, config).iterrows()]
    desc = "; ".join(f"{r.activation}: top-layer |h|>2 fraction {r.sat_top_init:.3f} at init, max {r.sat_top_max:.3f} "
                     f"(step ~{r.step_of_max:.0f}), final {r.sat_top_final:.3f}; top outputs < 0.1: "
                     f"{r.top_below_0_1_init:.3f} -> max {r.top_below_0_1_max:.3f}; log10 lowest-layer grad final/init "
                     f"{r.log10_grad_lowest_final_over_init:.3g}" for r in table.itertuples())
    return Decision(
        parts=parts,
        statement=(f"{cfg_sat.hidden_layers} hidden layers of {cfg_sat.width}, {cfg_sat.init} init, SGD lr "
                   f"{cfg_sat.learning_rate}, {cfg_sat.steps} steps: {desc}."),
        criterion=(f"per activation of {', '.join(crit.activations)}: 95% CI of the rise (max over training - init) of the "
                   f"{crit.layer}-layer |h|>2 fraction >= {crit.saturation_rise:g} (wholly below: refuted); the parts "
                   "give the verdict (R2)"),
        key=0,
    )


def _deepest(t, config) -> int:
    crit, table = config.criteria.d6, t.depth_sweep
    return crit.depth if crit.depth in set(table.depth) else int(table.depth.max())


def _accuracies(t, config, activation: str, batch_norm: bool):
    """Per-seed training accuracy (best lr, diverged = 0) at D6's depth; None if not swept."""
    seeds, depth = t.depth_sweep_seeds, _deepest(t, config)
    rows = seeds[(seeds.activation == activation) & (seeds.batch_norm == batch_norm) & (seeds.depth == depth)]
    return None if rows.empty else rows.sort_values("seed", kind="stable").train_acc.to_numpy(float)


def _d6_diffs(t, config) -> tuple[list[str], list[stats.Estimate]]:
    """The saturating arms swept and their paired (fixing arm - saturating arm) accuracy differences."""
    crit = config.criteria.d6
    saturating = [a for a in crit.activations if _accuracies(t, config, a, False) is not None]
    fix = _accuracies(t, config, crit.activation, False)
    return saturating, [stats.paired(fix, _accuracies(t, config, a, False)).diff for a in saturating]


def _chaos_sentence(t, config) -> str:
    chaos = t.get("chaos_map")
    if chaos is None or chaos.empty:
        return ""
    deep = chaos[chaos.depth == chaos.depth.max()]
    best = deep.loc[deep.train_acc.idxmax()]
    return (f" Edge-of-chaos map: {config.chaos.activation} at depth {int(best.depth)} reaches {best.train_acc:.3f} at sigma_w^2="
            f"{best.sigma_w2:g} (6 xi_c = {best.six_xi_c:.3g}); depth < 6 xi_c predicts trainability in "
            f"{chaos.agree.mean():.0%} of grid cells.")


@claim("D6", reads=("depth_sweep", "depth_sweep_seeds"), figure=depth_sweep, evidence="depth_sweep.csv")
def d6(t, config) -> Decision:
    """At the deepest depth sigmoid/tanh train worse than ReLU without BN; BN and ReLU fix it (one legacy part)."""
    crit, depth = config.criteria.d6, _deepest(t, config)
    fix, saturating, diffs = crit.activation, *_d6_diffs(t, config)
    checked = {fix: stats.mean_ci(_accuracies(t, config, fix, False)),
               **{f"{a}+BN": stats.mean_ci(_accuracies(t, config, a, True)) for a in saturating}}
    parts_ok = [d.lo > crit.margin for d in diffs]
    fix_ok = checked[fix].mean >= crit.trainable_acc
    bn_ok = all(checked[f"{a}+BN"].mean >= crit.trainable_acc for a in saturating)
    close = [f"{k} {e.mean:.3f} [{e.lo:.3f}, {e.hi:.3f}]" for k, e in checked.items() if e.lo < crit.trainable_acc <= e.hi]
    verdict = verdicts.decide(all(parts_ok) and fix_ok and bn_ok, qualified=any(parts_ok) or fix_ok or bn_ok)
    at = t.depth_sweep[t.depth_sweep.depth == depth]
    desc = "; ".join(f"{r.activation}{'+BN' if r.batch_norm else ''} {r.train_acc:.3f} [{r.train_acc_lo:.3f}, "
                     f"{r.train_acc_hi:.3f}]" for r in at.itertuples())
    statement = (f"Training accuracy after the budget at depth {depth} (best lr): {desc}. {fix} - saturating "
                 f"(paired): " + ", ".join(f"{a} {d}" for a, d in zip(saturating, diffs)) + "." + _chaos_sentence(t, config))
    if close:  # the criterion compares means; say where the seeds cannot tell which side of it a mean is on
        statement += (f" Not resolved by these seeds (95% CI contains {crit.trainable_acc}): {'; '.join(close)}; that part "
                      "of the verdict can flip between runs that differ only in float rounding.")
    sat = "/".join(crit.activations)
    legacy = part("all three hold (legacy rule)", verdict, diffs[0].mean if diffs else None, diffs[0].ci if diffs else None,
                  int(at.n_seeds.min()), unit=f"training accuracy, {fix} - {saturating[0] if saturating else sat} (paired)",
                  condition=f"depth {depth}, no BN, best lr per arm; verdict: all / some / none of the three hold")
    return Decision(
        parts=[legacy], statement=statement,
        criterion=(f"depth {crit.depth:g} (or the deepest swept, here {depth}): {fix} - {sat} accuracy 95% CI lower > "
                   f"{crit.margin:g} (no BN), {fix} mean >= {crit.trainable_acc:g}, {sat} + BN means >= {crit.trainable_acc:g}; "
                   "all: supported, some: qualified, none: refuted (one part: parts on their CIs would not give this verdict)"),
    )


def applies(claim_id: str, t, config) -> bool:
    """Whether the tables hold what the claim is about (the old code gave no verdict otherwise)."""
    if claim_id == "D4":
        return not _saturating(t, config).empty
    if claim_id == "D6":
        return _accuracies(t, config, config.criteria.d6.activation, False) is not None
    return True


def legacy_values(t, config, claim_id: str) -> dict:
    """``{claim_id: the old key number}`` when the claim is decided (for ``summary.json``), else ``{}``."""
    if claim_id == "D4" and "saturation_summary" in t and applies("D4", t, config):
        return {"D4": _saturating(t, config).iloc[0].rise}
    if claim_id == "D6" and "depth_sweep_seeds" in t and applies("D6", t, config):
        diffs = _d6_diffs(t, config)[1]
        return {"D6": diffs[0].mean if diffs else None}
    return {}

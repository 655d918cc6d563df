"""Claims D4 and D6 of experiments.vanishing: saturation during training and trainability vs depth.

Pure functions of the tables of :mod:`.measure_training` and the config's criteria; the
activations each claim is about come from ``config.criteria.d4`` (``activation``: parts a, b;
``layered_activation``: part c) and ``config.criteria.d6`` (``activation``: the arm that fixes it;
``activations``: the saturating arms).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, compare, part

from .figures import depth_sweep, saturation
from .measure_training import layer_rises, saturation_per_seed


def describe_parts(parts) -> str:
    """Every part's verdict with its value, CI and n, for the statement (R2)."""
    return "; ".join(f"{p.part}: {p.verdict} ({p.value:.3g} [{p.ci[0]:.3g}, {p.ci[1]:.3g}], n = {p.n_seeds})"
                     if p.ci is not None and p.value is not None else f"{p.part}: {p.verdict}" for p in parts)


def _d4_b(per: pd.DataFrame, config, act: str, where: str):
    """(b) on the seeds whose top layer saturated; censored seeds (never below the threshold) are not numbers (R7)."""
    crit = config.criteria.d4
    drops = per.log10_grad_drop.to_numpy(float)
    censored = int(np.isnan(drops).sum())
    name = f"(b) {act} lowest-layer gradient while the top layer is saturated"
    unit = "log10 ||dL/dW_1|| / ||dL/dW_1|| at step 0, median over the saturated log points of a seed"
    cond = f"{where}; {censored}/{len(drops)} seeds censored (top layer never below {crit.top_mean:g})"
    if censored > crit.max_censored * len(drops):
        return part(name, "inconclusive", np.nanmean(drops) if censored < len(drops) else None, None,
                    len(drops) - censored, unit=unit, condition=cond + f", more than {crit.max_censored:g} of them: inconclusive (R7)")
    if censored:
        cond += " (> 20%: the CI is over the saturated seeds only, a bound)" if censored > 0.2 * len(drops) else ""
    return compare(name, stats.mean_ci(drops), config, "criteria.d4.grad_drop_log10", "<=", unit=unit, condition=cond)


@claim("D4", reads=("saturation_seeds", "saturation_summary"), figure=saturation, evidence="saturation_summary.csv",
       revised_by="R2, R3; DECISIONS.md D4 row: Glorot & Bengio's setting (batch 10, >= 5000 steps) with parts (a)-(c)")
def d4(t, config) -> Decision:
    """(a) sigmoid's top hidden layer saturates (mean output < 0.1), (b) the lowest layer then learns
    slowly, (c) tanh saturates layer by layer (Glorot & Bengio 2010, Figs. 2-3)."""
    crit, cfg = config.criteria.d4, config.saturation
    seeds, act, tanh = t.saturation_seeds, crit.activation, crit.layered_activation
    where = (f"{act}, {cfg.hidden_layers} hidden layers of {cfg.width}, {cfg.init} init, SGD lr {cfg.learning_rate:g}, "
             f"batch {cfg.batch_size}, {cfg.steps} steps, {cfg.dataset}")
    per = saturation_per_seed(seeds, act, crit.top_mean)
    part_a = compare(f"(a) {act} top hidden layer's mean output falls", stats.mean_ci(per.top_mean_min), config,
                     "criteria.d4.top_mean", "<", unit="smallest mean sigmoid output of the top hidden layer after step 0",
                     condition=where)
    rises = layer_rises(seeds, tanh)
    parts_c = [compare(f"(c) {tanh} layer {layer} |h|>2 fraction rises", stats.mean_ci(r.rise), config,
                       "criteria.d4.saturation_rise", ">=", unit="max over training - step 0 of the fraction of units with |h| > 2",
                       condition=where.replace(act, tanh, 1) + f", hidden layer {layer}")
               for layer, r in rises.groupby("layer")]
    order = rises.groupby("layer").step_half_rise.median()
    acc = per.final_train_acc.mean()
    tanh_acc = saturation_per_seed(seeds, tanh, crit.top_mean).final_train_acc.mean()
    parts = [part_a, _d4_b(per, config, act, where), *parts_c]
    statement = (
        f"{where}: " + describe_parts(parts) + f". The top layer's mean is smallest at step ~{per.step_of_min.median():.0f} "
        f"(median over seeds). {tanh}: median step at which each layer's |h|>2 fraction reaches half its rise: "
        + ", ".join(f"layer {int(k)} {v:.0f}" for k, v in order.items())
        + f". Training accuracy at the end (evaluation subset): {act} {acc:.3f}, {tanh} {tanh_acc:.3f} (curves in saturation.png); "
        "a plateau while the top layer is saturated is the stall the claim describes (DECISIONS.md D4)."
    )
    return Decision(
        parts=parts, statement=statement, key=0,
        criterion=(f"95% CIs over seeds: (a) smallest top-layer mean output of {act} < {crit.top_mean:g}; (b) on the seeds whose "
                   f"top layer fell below {crit.top_mean:g}, log10 lowest-layer gradient / step 0 <= {crit.grad_drop_log10:g} "
                   f"(a share of more than {crit.max_censored:g} of the seeds censored: inconclusive); (c) per hidden layer of {tanh}, rise of the "
                   f"|h|>2 fraction >= {crit.saturation_rise:g}; wholly on the other side refuted, else inconclusive (R2, R3)"),
    )


def _seed_acc(t, activation: str, batch_norm: bool, depth: int) -> np.ndarray | None:
    s = t.depth_sweep_seeds
    rows = s[(s.activation == activation) & (s.batch_norm == batch_norm) & (s.depth == depth)].sort_values("seed", kind="stable")
    return None if rows.empty else rows.train_acc.to_numpy(float)


def _budget(t, config) -> dict:
    """Per (activation, BatchNorm): whether every depth-2 net reached ``criteria.d6.depth2_acc``."""
    crit, shallow = config.criteria.d6, min(config.depth_sweep.depths)
    out = {}
    for a in (crit.activation, *crit.activations):
        for bn in (False, True):
            acc = _seed_acc(t, a, bn, shallow)
            if acc is not None:
                out[(a, bn)] = bool(np.all(np.nan_to_num(acc, nan=0.0) >= crit.depth2_acc))
    return out


def _paired(name, a, b, config, threshold, side, cond, budget_ok, learned=True):
    """A D6 part on paired accuracy differences; inconclusive when the depth-2 budget check failed or,
    for a comparison of two arms (``learned=False``), when neither arm learned (R8)."""
    unit = "training accuracy difference, paired over seeds"
    p = compare(name, stats.paired(a, b).diff, config, threshold, side, unit=unit, condition=cond)
    crit = config.criteria.d6
    if not budget_ok:
        why = f"not every depth-2 net reached {crit.depth2_acc:g} in this budget"
    elif not learned:
        why = (f"neither arm learned (R8: mean train accuracy below {crit.learned_acc:g}); a longer budget or a wider "
               "lr search at this depth would decide")
    else:
        return p
    return part(name, "inconclusive", p.value, p.ci, p.n_seeds, unit=unit, condition=cond + f"; inconclusive: {why}")


def _learned(acc: np.ndarray | None, config) -> bool:
    """R8: the arm's mean train accuracy reaches ``criteria.d6.learned_acc`` (chance + 0.10)."""
    return acc is not None and bool(np.nanmean(acc) >= config.criteria.d6.learned_acc)


def _lr(t, a, bn, d) -> str:
    r = t.depth_sweep[(t.depth_sweep.activation == a) & (t.depth_sweep.batch_norm == bn) & (t.depth_sweep.depth == d)].iloc[0]
    return f"lr {r.best_learning_rate:.3g}, {r.init}"


@claim("D6", reads=("depth_sweep", "depth_sweep_seeds"), figure=depth_sweep, evidence="depth_sweep.csv")
def d6(t, config) -> Decision:
    """(a) depth hurts sigmoid/tanh, (b) ReLU+He does better at every depth >= 20, (c) BatchNorm rescues them."""
    crit, cfg = config.criteria.d6, config.depth_sweep
    fix, shallow, budget = crit.activation, min(cfg.depths), _budget(t, config)
    deep = [d for d in cfg.depths if d >= crit.min_depth]
    parts = []
    for a in [a for a in crit.activations if _seed_acc(t, a, False, shallow) is not None]:
        for d in deep:
            where = f"{cfg.dataset}, width {cfg.width}, {cfg.steps} SGD steps of {cfg.batch_size}, depth {d}"
            parts.append(_paired(f"(a) {a} depth {shallow} - depth {d}", _seed_acc(t, a, False, shallow), _seed_acc(t, a, False, d),
                                 config, "criteria.d6.margin", ">=",
                                 f"{a} ({_lr(t, a, False, shallow)} / {_lr(t, a, False, d)}), {where}", budget[(a, False)]))
            fix_acc, a_acc = _seed_acc(t, fix, False, d), _seed_acc(t, a, False, d)
            parts.append(_paired(f"(b) {fix} - {a} at depth {d}", fix_acc, a_acc, config, "criteria.d6.better", ">",
                                 f"{fix} ({_lr(t, fix, False, d)}) vs {a} ({_lr(t, a, False, d)}), {where}",
                                 budget[(fix, False)] and budget[(a, False)],
                                 learned=_learned(fix_acc, config) or _learned(a_acc, config)))
            parts.append(_paired(f"(c) {a}+BN - {a} at depth {d}", _seed_acc(t, a, True, d), _seed_acc(t, a, False, d), config,
                                 "criteria.d6.margin", ">=",
                                 f"{a}+BN ({_lr(t, a, True, d)}) vs {a} ({_lr(t, a, False, d)}), {where}",
                                 budget[(a, True)] and budget[(a, False)]))
    failed = [f"{a}{'+BN' if bn else ''}" for (a, bn), ok in budget.items() if not ok]
    at = t.depth_sweep[t.depth_sweep.depth.isin(deep)]
    desc = "; ".join(f"{r.activation}{'+BN' if r.batch_norm else ''} depth {r.depth}: {r.train_acc:.3f} [{r.train_acc_lo:.3f}, "
                     f"{r.train_acc_hi:.3f}] at lr {r.best_learning_rate:.3g}, {r.init}" for r in at.itertuples())
    statement = (describe_parts(parts) + f". Accuracies: {desc}. Depth-{shallow} budget check (every seed >= {crit.depth2_acc:g}): "
                 + (f"failed for {', '.join(failed)}" if failed else "passed for every arm") + ".")
    refuted = [p.part for p in parts if p.verdict == "refuted"]
    return Decision(
        parts=parts, statement=statement, key=refuted[0] if refuted else None,  # R5: a refutation qualifies the claim
        criterion=(f"per saturating arm ({', '.join(crit.activations)}) and depth >= {crit.min_depth:g}, paired 95% CIs over seeds, each "
                   f"arm at its own best lr (R6): (a) depth-{shallow} - depth-d accuracy >= {crit.margin:g}; (b) {fix} - arm > "
                   f"{crit.better:g}; (c) arm+BN - arm >= {crit.margin:g}; wholly on the other side refuted, else inconclusive; "
                   f"parts whose depth-{shallow} nets do not all reach {crit.depth2_acc:g} are inconclusive (R2, R3), and so are (b) parts "
                   f"where neither arm's mean train accuracy reaches {crit.learned_acc:g} (R8)"),
    )


def applies(claim_id: str, t, config) -> bool:
    """Whether the tables hold what the claim is about (no verdict otherwise)."""
    crit = config.criteria
    if claim_id == "D4":
        return {crit.d4.activation, crit.d4.layered_activation} <= set(t.saturation_seeds.activation)
    if claim_id == "D6":
        have = set(t.depth_sweep_seeds.activation)
        return crit.d6.activation in have and any(a in have for a in crit.d6.activations)
    return True

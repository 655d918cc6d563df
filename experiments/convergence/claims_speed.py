"""Claims H1, H3 and C4 of experiments.convergence: steps to a threshold (and H3's accuracy), revision 2.

Each claim is a pure function of the tables of :mod:`.measure_tables` and the config. Step ratios are
censoring-aware ratios of medians (R7): a bound decides only what it guarantees (:func:`.parts.bounded`).
"""

from __future__ import annotations

from experiments.kit.claim import Decision, claim, compare, part

from .figures import h1_step_ratios
from .parts import BOUND_MARK, bounded, ci_text, with_parts

H1_CRITERIA = ("criteria.h1", "criteria.censoring")


def _arms(r, base: str) -> str:
    return (f"{r.activation} lr {r.learning_rate:g} ({r.init}) vs {base} lr {r.baseline_learning_rate:g} "
            f"({r.baseline_init})")


def _init_name(r) -> str:
    """``std 0.01`` for a small-init arm, else the init's name (C4's rows)."""
    return r.init if r.init_std != r.init_std else f"std {r.init_std:g}"


def _censoring(r) -> str:
    return f"censored {int(r.n_censored)}/{int(r.n_seeds)} vs {int(r.baseline_n_censored)}/{int(r.n_seeds)}"


@claim("H1", reads=("h1_step_ratios",), figure=h1_step_ratios, evidence="h1_step_ratios.csv", criteria=H1_CRITERIA,
       revised_by="R6, R7; DECISIONS.md H1 row: parts per (model, data set) and activation, ReLU with He init, each "
       "arm's own best lr on a 3-per-decade grid, censored ratios as bounds")
def h1(t, config) -> Decision:
    """With SGD, ReLU converges much faster than sigmoid/tanh: one part per (model, data set) and activation."""
    crit, base, df = config.criteria.h1, config.baseline, t.h1_step_ratios
    rows = [r for _, r in df.iterrows() if r.activation in tuple(crit.activations)]
    rows.sort(key=lambda r: (r.model != "mlp", r.dataset, tuple(crit.activations).index(r.activation)))
    parts = []
    for r in rows:
        cond = f"{r.model} on {r.dataset}: {_arms(r, base)}; {_censoring(r)}" if r.status != "diverged" else \
            f"{r.model} on {r.dataset}"
        parts.append(bounded(f"{r.activation}/{base} steps, {r.model}/{r.dataset}", dict(r), config,
                             "criteria.h1.min_ratio", ">", unit="step ratio (activation/ReLU)", condition=cond,
                             value_key="ratio", floor="criteria.h1.as_fast", bound=r.bound))
    if not parts:
        parts = [part(f"{'/'.join(crit.activations)} vs {base}", "inconclusive", unit="step ratio",
                      condition="no such arm trained")]
    cells = "; ".join(f"{r.model}/{r.dataset} {r.activation}/{base} {BOUND_MARK[r.bound]}{ci_text(r, 'ratio')} "
                      f"({_arms(r, base)}, {_censoring(r)})" for r in rows if r.status != "diverged")
    tanh_cnn = [r for r in rows if r.activation == "tanh" and r.model == "cnn"]
    ours = "; ".join(f"ours on the CNN/{r.dataset}: {ci_text(r, 'ratio')}" for r in tanh_cnn) or "no CNN run"
    stmt = (f"Median steps to the training-error threshold, each arm at its fastest stable learning rate on a "
            f"{int(config.lr_grid.per_decade)}-per-decade grid and its customary init (R6): {cells}. Published tanh/ReLU "
            f"{config.published.h1_ratio:g}x (Krizhevsky et al. 2012, 4-layer CNN, CIFAR-10); {ours}. '>=' / '<=': a "
            "lower / upper bound (R7).")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per (model, data set) and activation in {'/'.join(crit.activations)}: the ratio of median steps "
                   f"over {base}'s is supported if its 95% CI lies above min_ratio = {crit.min_ratio:g} ('much faster'), "
                   f"qualified if above as_fast = {crit.as_fast:g} only, refuted if at or below {crit.as_fast:g}, else "
                   f"inconclusive (R3); an arm with more than bound_fraction = "
                   f"{config.criteria.censoring.bound_fraction:g} of its seeds censored makes the ratio a bound, which "
                   f"decides only what it guarantees; censoring in both arms (both_fraction = "
                   f"{config.criteria.censoring.both_fraction:g} and above) is inconclusive (R7); the claim by R2"),
    )


@claim("H3", reads=("h3_prelu_vs_relu",), evidence="h3_prelu_vs_relu.csv", criteria=("criteria.h3",),
       revised_by="R2, R3, R6; DECISIONS.md H3 row: a faster part and an accuracy part per data set, each arm at its "
       "own best lr, accuracy on the CI (no pooling over data sets)")
def h3(t, config) -> Decision:
    """PReLU converges faster than ReLU (a) and is more accurate (b): two parts per data set."""
    act, base, crit = config.h3.activation, config.baseline, config.criteria.h3
    published = tuple(config.published.h3_gain_pp)
    parts, texts = [], []
    for _, r in t.h3_prelu_vs_relu.iterrows():
        speed = {"speedup": r.speedup, "speedup_lo": r.speedup_lo, "speedup_hi": r.speedup_hi, "n_seeds": r.speed_n_seeds}
        parts.append(bounded(f"(a) {base}/{act} steps on {r.dataset}", speed, config, "criteria.h3.min_speedup", ">",
                             unit="step ratio (ReLU/PReLU)", value_key="speedup", bound=r.speed_bound,
                             condition=f"MLP on {r.dataset}: {base} lr {r.speed_baseline_learning_rate:g} ({r.baseline_init}) "
                             f"vs {act} lr {r.speed_learning_rate:g} ({r.init}), fastest rates"))
        parts.append(compare(f"(b) {act} - {base} test accuracy on {r.dataset}", dict(r), config,
                             "criteria.h3.min_gain_pp", ">", unit="pp test accuracy", value_key="gain_pp",
                             condition=f"MLP on {r.dataset}: {act} lr {r.learning_rate:g} vs {base} lr "
                             f"{r.baseline_learning_rate:g} (best validation rates), {r.init}"))
        inside = [g for g in published if r.gain_pp_lo <= g <= r.gain_pp_hi]
        texts.append(f"{r.dataset}: steps {base}/{act} {BOUND_MARK[r.speed_bound]}{ci_text(r, 'speedup')}, accuracy "
                     f"{ci_text(r, 'gain_pp', sign=True)} pp ({'contains ' + ', '.join(f'+{g:g}' for g in inside) if inside else 'contains none of the published gains'})")
    stmt = (f"{act} vs {base} per data set: {'; '.join(texts)}. Published: He et al. 2015 +{published[0]:g} / "
            f"+{published[1]:g} pp top-1 on ImageNet (documents: +{published[2]:g} pp). Learned slopes (init 0.25) per "
            "layer in prelu_slopes.csv.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per data set: (a) faster: the {base}/{act} ratio of median steps (each at its fastest stable rate) "
                   f"has its CI above min_speedup = {crit.min_speedup:g} (R7 bounds as in H1); (b) more accurate: {act} "
                   f"- {base} test accuracy (each at its best validation rate) has its CI (confidence {crit.confidence:g}) "
                   f"above min_gain_pp = {crit.min_gain_pp:g}; refuted when the CI lies on the other side, else "
                   "inconclusive (R3); the claim by R2"),
    )


@claim("C4", reads=("c4_step_ratios", "c4_small_init"), evidence="c4_step_ratios.csv", criteria=("criteria.c4",),
       revised_by="R7; DECISIONS.md C4 row: steps to the loss the Glorot run reaches (not a fixed accuracy), ratio "
       "CI <= 1.5 is efficient, fully censored arms inconclusive")
def c4(t, config) -> Decision:
    """Small initial weights train efficiently for f(x) ~ x (tanh), not for sigmoid: a part per activation and std."""
    crit, ratios = config.criteria.c4, t.c4_step_ratios
    roles = [(a, "<=", "efficient") for a in crit.efficient] + [(a, ">", "not efficient") for a in crit.inefficient]
    parts = []
    for label, side, word in roles:
        for _, r in ratios[ratios.activation == label].iterrows():
            cond = (f"{config.c4.dataset} MLP: N(0, {r.init_std:g}^2) lr {r.learning_rate:g} vs {r.reference_init} lr "
                    f"{r.baseline_learning_rate:g}; steps to loss {r.target_loss:.3g}; {_censoring(r)}") \
                if r.status != "diverged" else f"{config.c4.dataset} MLP, std {r.init_std:g}"
            parts.append(bounded(f"{label} {word} from std {r.init_std:g}", dict(r), config, "criteria.c4.max_ratio",
                                 side, unit="step ratio (small init/Glorot)", value_key="ratio", bound=r.bound,
                                 condition=cond))
    if not parts:
        parts = [part("small init", "inconclusive", unit="step ratio", condition="no such arm trained")]
    small = t.c4_small_init
    losses = "; ".join(f"{r.activation} {_init_name(r)}: final loss {ci_text(r, 'final_loss')} (lr {r.learning_rate:g})"
                       for r in small.itertuples() if r.learning_rate == r.learning_rate)
    txt = "; ".join(f"{r.activation} std {r.init_std:g}: {BOUND_MARK[r.bound]}{ci_text(r, 'ratio')} ({_censoring(r)})"
                    for r in ratios.itertuples() if r.status != "diverged")
    stmt = (f"Steps to the loss each activation's {config.c4.reference_init} run reaches at "
            f"{crit.target_step_fraction:.2g} of the budget (median seed at its fastest rate), from N(0, std^2) over from "
            f"{config.c4.reference_init}, each arm at its own fastest rate: {txt}. Final training losses: {losses}.")
    return Decision(
        parts=parts, statement=with_parts(stmt, parts),
        criterion=(f"per small std, {'/'.join(crit.efficient)} (f ~ x near 0) is efficient if the ratio CI lies at or "
                   f"below max_ratio = {crit.max_ratio:g}, {'/'.join(crit.inefficient)} is not efficient if the CI lies "
                   f"above {crit.max_ratio:g}; the target loss is the reference run's median at target_step_fraction = "
                   f"{crit.target_step_fraction:g} of the steps; R7 bounds decide only what they guarantee and both "
                   "arms censored is inconclusive; other activations reported; the claim by R2"),
    )


CLAIMS = (h1, h3, c4)

"""Claim H2: exponential activations are expensive, and for large nets that adds a lot of training time.

A pure function of the tables of :mod:`.measure` (``alone``, ``steps``, ``step_rounds``) and the
config's criteria. Parts (R2): one per activation of ``criteria.h2.expensive`` (its forward+backward
time ratio to the reference, alone), and one for the whole training step (the exponential
activations' overhead over the reference in the MLP and the CNN). Each part is supported past its
"expensive"/"a lot" margin, refuted inside its "cheap"/"negligible" margin, qualified between, so
the R2 aggregate is the rule of revision 1: supported = expensive and a lot, refuted = cheap and
negligible, otherwise qualified.
"""

from __future__ import annotations

import numpy as np

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, part

from .figures import alone_ratio, step_overhead

STEP_PART = "whole training step"


def _band(low_quartile: float, high_quartile: float, large: float, small: float) -> str:
    """supported if the whole IQR is >= ``large``, refuted if it is <= ``small``, else qualified."""
    if low_quartile >= large:
        return "supported"
    return "refuted" if high_quartile <= small else "qualified"


def _alone_parts(t, config) -> list:
    """One part per activation of ``criteria.h2.expensive``: fwd+bwd time ratio to the reference, alone."""
    crit, by_act = config.criteria.h2, t.alone.set_index("activation")
    out = []
    for a in crit.expensive:
        row = by_act.loc[a]
        verdict = _band(row.fwd_bwd_ratio_q25, row.fwd_bwd_ratio_q75, crit.ratio_expensive, crit.ratio_cheap)
        out.append(part(
            f"{a} alone, forward+backward", verdict, row.fwd_bwd_ratio_relu,
            (row.fwd_bwd_ratio_q25, row.fwd_bwd_ratio_q75), config.reps, f"x {config.reference} time",
            f"{config.n_elements} float32 elements, jitted; median and inter-quartile range over {config.reps} rounds",
            threshold="criteria.h2.ratio_expensive", side=">=",
        ))
    return out


def _step_part(t, config):
    """Whole-step overhead over the reference of the exponential activations (worst median, bootstrap CI)."""
    crit = config.criteria.h2
    exp_steps = t.steps[t.steps.activation.isin(crit.exponential)]
    worst = exp_steps.loc[exp_steps.overhead_vs_relu.idxmax()]
    rounds = t.step_rounds

    def per_round(activation):
        rows = rounds[(rounds.model == worst.model) & (rounds.activation == activation)].sort_values("round")
        return rows.step_seconds.to_numpy()

    ci = stats.bootstrap_ci(per_round(worst.activation) / per_round(config.reference) - 1.0, statistic=np.median)
    large = bool((exp_steps.overhead_vs_relu_q25 >= crit.step_large).any())
    negligible = bool((exp_steps.overhead_vs_relu_q75 <= crit.step_negligible).all())
    verdict = "supported" if large else "refuted" if negligible else "qualified"
    p = part(STEP_PART, verdict, worst.overhead_vs_relu, (ci.lo, ci.hi), config.reps, f"fraction of the {config.reference} step",
             f"worst of {'/'.join(crit.exponential)} in MLP and CNN: {worst.model}/{worst.activation}; "
             "CI = bootstrap of its median over rounds", threshold="criteria.h2.step_large", side=">=")
    return p, exp_steps, worst, large, negligible


@claim("H2", reads=("alone", "steps", "step_rounds"), figure=(alone_ratio, step_overhead), evidence="step_overhead.png")
def h2(t, config) -> Decision:
    """H2: expensive alone (ratio to the reference) and a lot of training time (whole-step overhead)."""
    crit, ref = config.criteria.h2, config.reference
    by_act = t.alone.set_index("activation")
    alone = _alone_parts(t, config)
    step, exp_steps, worst, large, negligible = _step_part(t, config)
    expensive, cheap = all(p.verdict == "supported" for p in alone), all(p.verdict == "refuted" for p in alone)
    ratio_text = ", ".join(f"{a} {float(by_act.loc[a, 'fwd_bwd_ratio_relu']):.2f}x" for a in crit.expensive)
    trans = ", ".join(f"{a} {by_act.loc[a, 'fwd_transcendentals_per_elem']:.0f}" for a in (ref, *crit.expensive))
    step_text = "; ".join(f"{r.model}/{r.activation} {100 * r.overhead_vs_relu:+.1f}%" for r in exp_steps.itertuples())
    dearest = str(t.alone.loc[t.alone.fwd_bwd_ratio_relu.idxmax(), "activation"])
    alone_word = "expensive" if expensive else "cheap" if cheap else "neither clearly expensive nor clearly cheap"
    step_word = "a lot of" if large else "negligible" if negligible else "neither clearly negligible nor clearly a lot of"
    parts_text = "; ".join(f"{p.part}: {p.verdict}" for p in (*alone, step))
    statement = (
        f"Alone, forward+backward, relative to ReLU: {ratio_text} ({alone_word}; transcendentals per element "
        f"forward: {trans}). In a whole SGD training step the exponential activations cost vs ReLU: {step_text}; "
        f"worst {worst.model}/{worst.activation} {100 * float(worst.overhead_vs_relu):+.1f}% ({step_word} training time). "
        f"Dearest alone: {dearest} {by_act.loc[dearest, 'fwd_bwd_ratio_relu']:.1f}x ReLU (forward+backward). "
        f"Parts: {parts_text}."
    )
    criterion = (
        f"expensive alone if the fwd+bwd time ratio to {ref} of {'/'.join(crit.expensive)} has its lower quartile "
        f">= {crit.ratio_expensive:g} (cheap if the upper quartile <= {crit.ratio_cheap:g}); whole-step time vs {ref} of "
        f"{'/'.join(crit.exponential)} in MLP and CNN: a lot if some lower quartile >= {crit.step_large:g} "
        f"({100 * crit.step_large:.0f}%), negligible if every upper quartile <= {crit.step_negligible:g} "
        f"({100 * crit.step_negligible:.0f}%); supported = expensive and a lot, refuted = cheap and negligible, else "
        "qualified; value = worst median overhead, CI = bootstrap of its median"
    )
    return Decision(
        parts=[*alone, step], statement=statement, criterion=criterion, key=STEP_PART,
        published="ELU ImageNet nets 5% slower than ReLU (Clevert 2016); Mish (PyTorch ops, GPU) 3.2x fwd / 4.0x bwd "
        "vs ReLU; CPU activation-only vs ReLU: sigmoid 1.03, tanh 1.05, ELU 1.04, GELU 1.18 (Derczynski 2020)",
    )


CLAIMS = (h2,)

"""Claim H2: exponential activations are expensive, and for large nets that adds a lot of training time.

A pure function of the tables of :mod:`.measure` (``alone``, ``steps``) and the config's criteria
(DECISIONS.md H2, R2, R3). Parts: (a) for each activation of ``criteria.h2.expensive`` and each
mode (forward, forward+backward), its time per application alone with identity's time
subtracted, as a ratio to ReLU's, against ``ratio_expensive``; (b) for each of them and each
model (an MLP at least ``mlp_min_width`` wide, a CNN), the whole training step's time over the
step with ReLU, minus 1, against ``step_share``. Every part on its bootstrap CI over rounds.
ELU ("a little more") and Mish ("slow") are reported in the statement, not decided.
"""

from __future__ import annotations

from experiments.kit.claim import Decision, claim, compare, part

from .figures import alone_ratio, step_overhead

MODE_WORDS = {"fwd": "forward", "fwd_bwd": "forward+backward"}


def _alone_parts(t, config) -> list:
    crit, by_act = config.criteria.h2, t.alone.set_index("activation")
    where = (f"{config.n_elements} float32 elements, {config.chain_length} chained applications per call in one jitted "
             f"loop, {config.floor} subtracted; bootstrap 95% CI over {config.reps} interleaved rounds")
    return [
        compare(f"{a} alone, {MODE_WORDS[mode]}", by_act.loc[a], config,
                "criteria.h2.ratio_expensive", ">=", unit=f"x {config.reference} time per application ({config.floor} subtracted)",
                condition=where, value_key=f"{mode}_excess_ratio")
        for a in crit.expensive for mode in MODE_WORDS
    ]


def _model_words(config, kind: str) -> str:
    if kind == "mlp":
        return f"MLP {tuple(config.mlp_widths)}, batch {config.batch_size}"
    return f"CNN channels {tuple(config.cnn_channels)} + dense {tuple(config.cnn_dense_widths)}, batch {config.cnn_batch_size}"


def _step_parts(t, config) -> list:
    crit, steps, out = config.criteria.h2, t.steps, []
    for kind in ("mlp", "cnn"):
        where = (f"{_model_words(config, kind)}, {config.dataset} shapes, {config.steps_per_call} SGD steps per call; "
                 f"bootstrap 95% CI over {config.reps} rounds")
        for a in crit.expensive:
            row = steps[(steps.model == kind) & (steps.activation == a)].iloc[0]
            name = f"{a} in a whole {kind.upper()} step"
            unit = f"fraction of the {config.reference} step time"
            if kind == "mlp" and int(row.min_hidden_width) < crit.mlp_min_width:
                out.append(part(name, "inconclusive", row.overhead_vs_relu, (row.overhead_vs_relu_lo, row.overhead_vs_relu_hi),
                                int(row.n_seeds), unit, f"{where}; narrower than {crit.mlp_min_width}: not the large net of H2"))
                continue
            out.append(compare(name, row, config, "criteria.h2.step_share", ">=", unit=unit, condition=where,
                               value_key="overhead_vs_relu"))
    return out


def _reported(t, config) -> str:
    """ELU and Mish (and the gross ratios beside Derczynski's), in words."""
    by_act, steps, ref = t.alone.set_index("activation"), t.steps, config.reference
    bits = []
    for a in config.criteria.h2.reported:
        if a not in by_act.index:
            continue
        r = by_act.loc[a]
        over = "; ".join(f"{s.model} {100 * s.overhead_vs_relu:+.1f}% [{100 * s.overhead_vs_relu_lo:+.1f}, "
                         f"{100 * s.overhead_vs_relu_hi:+.1f}]" for s in steps[steps.activation == a].itertuples())
        bits.append(f"{a}: alone fwd+bwd {r.fwd_bwd_excess_ratio:.2f}x [{r.fwd_bwd_excess_ratio_lo:.2f}, "
                    f"{r.fwd_bwd_excess_ratio_hi:.2f}] {ref} ({config.floor} subtracted), whole step {over or 'not timed'}")
    pub = dict(config.published.derczynski_cpu)
    gross = ", ".join(f"{a} {by_act.loc[a, 'fwd_gross_ratio']:.2f} (Derczynski {pub[a]})" for a in pub if a in by_act.index)
    return "; ".join(bits) + f". Gross forward ratios (loop floor included, dispatch excluded) vs {ref}: {gross}"


def _fmt(p) -> str:
    lo, hi = p.ci
    pct = p.unit.startswith("fraction")
    num = (lambda v: f"{100 * v:+.1f}%") if pct else (lambda v: f"{v:.2f}x")
    return f"{p.part} {num(p.value)} [{num(lo)}, {num(hi)}]: {p.verdict}"


@claim("H2", reads=("alone", "steps"), figure=(alone_ratio, step_overhead), evidence="step_overhead.png",
       revised_by="R3; DECISIONS.md H2 row: chained-loop timing with identity subtracted, CIs over rounds, "
                  "sigmoid/tanh parts in a >= 1024-wide MLP and a CNN (not the worst of any activation)")
def h2(t, config) -> Decision:
    """H2: expensive alone (excess time ratio to ReLU) and a lot of training time (whole-step share)."""
    crit, ref = config.criteria.h2, config.reference
    alone, steps = _alone_parts(t, config), _step_parts(t, config)
    flop_ratio = "; ".join(
        f"{r.model} {r.flops_per_activation_element:.0f} FLOPs per activation element"
        for r in t.steps[t.steps.activation == ref].itertuples()
    )
    by_act = t.alone.set_index("activation")
    excess = ", ".join(f"{a} {by_act.loc[a, 'fwd_bwd_excess_ns_per_elem']:.3g}" for a in (ref, *crit.expensive))
    unbounded = any(p.value == float("inf") or p.ci[1] == float("inf") for p in alone)
    statement = (
        "(a) Alone: " + "; ".join(_fmt(p) for p in alone)
        + f" (forward+backward ns per element over the {config.floor} loop: {excess}"
        + (f"; inf: {ref}'s own time is not measurably above {config.floor}'s" if unbounded else "") + "). (b) In a whole SGD step: "
        + "; ".join(_fmt(p) for p in steps) + f" ({flop_ratio}). Reported: " + _reported(t, config)
        + ". Timings from a shared machine are noisy; the committed numbers come from an idle one."
    )
    criterion = (
        f"(a) per activation of {'/'.join(crit.expensive)} and mode (forward, forward+backward): time per application "
        f"with {config.floor} subtracted / {ref}'s, bootstrap 95% CI over rounds wholly >= {crit.ratio_expensive:g} "
        f"supported, wholly below refuted, else inconclusive (R3); (b) per activation and model: whole-step time / "
        f"{ref}'s - 1, CI wholly >= {crit.step_share:g} supported, wholly below refuted, else inconclusive; the MLP must be "
        f">= {crit.mlp_min_width:g} wide; the claim from its parts (R2)"
    )
    pub = config.published
    published = (
        "CPU, activation alone vs ReLU (Derczynski 2020, PyTorch, Xeon): "
        + ", ".join(f"{a} {v}" for a, v in dict(pub.derczynski_cpu).items())
        + f"; ELU nets {100 * pub.elu_imagenet_slowdown:.0f}% slower than ReLU nets on ImageNet (Clevert et al. 2016, GPU); "
        f"Mish from PyTorch ops {pub.mish_gpu_forward}x forward / {pub.mish_gpu_backward}x backward vs ReLU (GPU)"
    )
    return Decision(parts=[*alone, *steps], statement=statement, criterion=criterion, published=published)


CLAIMS = (h2,)

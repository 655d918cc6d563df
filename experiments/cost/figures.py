"""Figures of experiments.cost (H2): activations alone, and what they add to a whole SGD step (R12)."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import plots


def alone_ratio(t, config) -> plt.Figure:
    """Each activation alone (H2 (a)): its time over the identity loop's, and its whole time / ReLU's beside Derczynski's."""
    alone = t.alone[t.alone.activation != config.floor].sort_values("fwd_bwd_excess_ns_per_elem")
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.4))
    pos = np.arange(len(alone))
    for (off, mode, label), (colour, _, marker) in zip(
            ((-0.18, "fwd", "forward"), (0.18, "fwd_bwd", "forward+backward")), plots.styles(), strict=False):
        v = alone[f"{mode}_excess_ns_per_elem"].to_numpy(float)
        err = np.abs(np.stack([v - alone[f"{mode}_excess_ns_per_elem_lo"], alone[f"{mode}_excess_ns_per_elem_hi"] - v]))
        left.errorbar(pos + off, v, yerr=err, fmt=marker, color=colour, capsize=3, ms=6, label=f"{label} (95% CI over rounds)")
        g = alone[f"{mode}_gross_ratio"].to_numpy(float)
        gerr = np.abs(np.stack([g - alone[f"{mode}_gross_ratio_lo"], alone[f"{mode}_gross_ratio_hi"] - g]))
        right.errorbar(pos + off, g, yerr=gerr, fmt=marker, color=colour, capsize=3, ms=6, label=f"ours, {label}")
    left.axhline(0, color="grey", lw=0.8)
    left.set_yscale("symlog", linthresh=0.1)  # spans decades, and noise can put an excess below 0
    left.set_ylabel(f"time over the {config.floor} loop (ns per element)")
    left.set_title(f"H2 (a): the activation's own time ({config.reference} ~ 0: the excess ratio to it is unbounded)", fontsize=9)
    pub = alone.published_cpu_ratio.to_numpy(float)
    right.scatter(pos[np.isfinite(pub)], pub[np.isfinite(pub)], marker="*", s=140, color="k", zorder=3,
                  label="Derczynski 2020, CPU, PyTorch (whole op)")
    right.axhline(1.0, color="grey", lw=0.8)
    right.axhline(config.criteria.h2.ratio_expensive, color="r", ls="--", lw=0.9,
                  label=f"{config.criteria.h2.ratio_expensive:g}x (H2 (a) applies it to the excess ratio)")
    right.set_yscale("log")
    right.set_ylabel(f"whole time per application / {config.reference}'s")
    right.set_title("floor included (what a standalone op costs), dispatch excluded", fontsize=9)
    for ax in (left, right):
        ax.set_xticks(pos, alone.activation, rotation=45, ha="right")
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"H2 (a): activations alone, {config.n_elements:,} float32, {config.chain_length} chained applications "
                 f"per call ({jax.devices()[0].platform})", fontsize=10)
    fig.tight_layout()
    return fig


def step_overhead(t, config) -> plt.Figure:
    """Whole training-step time with each activation over the reference's, MLP and CNN, with CIs (H2 (b))."""
    steps, crit = t.steps, config.criteria.h2
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, kind in zip(axes, ("mlp", "cnn"), strict=True):
        sub = steps[(steps.model == kind) & (steps.activation != config.reference)].sort_values("overhead_vs_relu")
        med = 100 * sub.overhead_vs_relu.to_numpy()
        err = 100 * np.abs(np.stack([sub.overhead_vs_relu - sub.overhead_vs_relu_lo,
                                     sub.overhead_vs_relu_hi - sub.overhead_vs_relu]))
        named = sub.activation.isin(list(crit.expensive)).to_numpy()
        x = np.arange(len(sub))
        ax.bar(x[named], med[named], yerr=err[:, named], capsize=3, color="C3", label="H2's parts (sigmoid, tanh)")
        ax.bar(x[~named], med[~named], yerr=err[:, ~named], capsize=3, color="C0", hatch="//", alpha=0.7,
               label="reported, not decided")
        ax.axhline(100 * crit.step_share, color="r", ls="--", lw=0.9, label=f"'a lot' threshold {100 * crit.step_share:g}%")
        ax.axhline(100 * config.published.elu_imagenet_slowdown, color="k", ls=":", lw=0.9, label="ELU paper: +5% (GPU)")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(x, sub.activation, rotation=45, ha="right")
        ref = steps[(steps.model == kind) & (steps.activation == config.reference)].iloc[0]
        ax.set_title(f"{kind.upper()}: {config.reference} step {ref.step_ms:.2f} ms, "
                     f"{ref.flops_per_activation_element:.0f} FLOPs per activation element", fontsize=9)
    axes[0].set_ylabel(f"whole SGD step time vs {config.reference} (%)")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"H2 (b): what an activation adds to a whole training step (95% CI over {config.reps} rounds)")
    fig.tight_layout()
    return fig

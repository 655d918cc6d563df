"""Figures of experiments.cost (H2): activations alone, and what they add to a whole SGD step (R12)."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import plots


def _errorbars(value, lo, hi, cap: float):
    """Values and asymmetric error bars with unbounded / NaN bounds clipped at ``cap`` (marked separately)."""
    value = np.minimum(np.asarray(value, float), cap)
    lo = np.where(np.isfinite(lo), np.minimum(lo, cap), value)
    hi = np.where(np.isfinite(hi), np.minimum(hi, cap), cap)
    return value, np.abs(np.stack([value - lo, hi - value]))


def alone_ratio(t, config) -> plt.Figure:
    """Each activation alone: excess time per application over the floor / the reference's, with CIs (H2 (a))."""
    alone = t.alone[~t.alone.activation.isin([config.floor, config.reference])].sort_values("fwd_bwd_excess_ratio")
    fig, ax = plt.subplots(figsize=(10, 4.4))
    pos = np.arange(len(alone))
    finite = alone[[c for c in alone if c.endswith(("excess_ratio_hi", "excess_ratio"))]].to_numpy(float)
    cap = 2.0 * np.nanmax(np.where(np.isfinite(finite), finite, np.nan)) if np.isfinite(finite).any() else 10.0
    for (off, mode, label), (colour, _, marker) in zip(
            ((-0.18, "fwd", "forward"), (0.18, "fwd_bwd", "forward+backward")), plots.styles(), strict=False):
        v, err = _errorbars(alone[f"{mode}_excess_ratio"], alone[f"{mode}_excess_ratio_lo"],
                            alone[f"{mode}_excess_ratio_hi"], cap)
        ax.errorbar(pos + off, v, yerr=err, fmt=marker, color=colour, capsize=3, ms=6,
                    label=f"ours, {label}, {config.floor} subtracted (95% CI over rounds)")
        unbounded = ~np.isfinite(alone[f"{mode}_excess_ratio_hi"].to_numpy(float))
        if unbounded.any():
            ax.scatter(pos[unbounded] + off, np.full(unbounded.sum(), cap), marker="^", color=colour, s=50,
                       label=f"{label}: CI unbounded above ({config.reference}'s excess ~ 0)")
    ax.plot(pos, alone.fwd_gross_ratio, "s", mfc="none", color="0.3", ms=6, label="ours, forward, floor included")
    pub = alone.published_cpu_ratio.to_numpy(float)
    ax.scatter(pos[np.isfinite(pub)], pub[np.isfinite(pub)], marker="*", s=140, color="k", zorder=3,
               label="Derczynski 2020, CPU, PyTorch (whole op)")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(config.criteria.h2.ratio_expensive, color="r", ls="--", lw=0.9,
               label=f"H2 (a) threshold {config.criteria.h2.ratio_expensive:g}x")
    ax.set_yscale("log")
    ax.set_xticks(pos, alone.activation, rotation=45, ha="right")
    ax.set_ylabel(f"time per application / {config.reference}'s")
    ax.set_title(f"H2 (a): activations alone, {config.n_elements:,} float32, {config.chain_length} chained applications "
                 f"per call ({jax.devices()[0].platform})", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
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

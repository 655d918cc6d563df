"""Figures of experiments.cost (H2): activations alone, and what they add to a whole SGD step."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np


def alone_ratio(t, config) -> plt.Figure:
    """Each activation alone, forward and forward+backward, time per element / the reference's (H2)."""
    alone = t.alone
    fig, ax = plt.subplots(figsize=(10, 4.2))
    order = alone.sort_values("fwd_bwd_ratio_relu")
    pos = np.arange(len(order))
    for off, mode, label in ((-0.2, "fwd", "forward"), (0.2, "fwd_bwd", "forward+backward")):
        med = order[f"{mode}_ratio_relu"].to_numpy()
        err = np.stack([med - order[f"{mode}_ratio_q25"], order[f"{mode}_ratio_q75"] - med])
        ax.bar(pos + off, med, 0.4, yerr=err, capsize=2, label=f"ours, {label} (median, IQR)")
    pub = order.published_cpu_ratio.to_numpy()
    ax.scatter(pos[np.isfinite(pub)], pub[np.isfinite(pub)], marker="*", s=120, color="k", zorder=3,
               label="Derczynski 2020, CPU")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(config.criteria.h2.ratio_expensive, color="r", ls="--", lw=0.8, label="'expensive' threshold")
    ax.set_xticks(pos, order.activation, rotation=45, ha="right")
    ax.set_ylabel("time per element / ReLU's")
    ax.set_title(f"H2: activation alone, {config.n_elements:,} float32 elements, jitted ({jax.devices()[0].platform})")
    ax.legend(fontsize=8)
    return fig


def step_overhead(t, config) -> plt.Figure:
    """Whole training-step time with each activation vs the reference, MLP and CNN (H2)."""
    steps = t.steps
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    crit = config.criteria.h2
    for ax, kind in zip(axes, ("mlp", "cnn"), strict=True):
        sub = steps[steps.model == kind].sort_values("overhead_vs_relu")
        med = 100 * sub.overhead_vs_relu.to_numpy()
        err = 100 * np.stack([sub.overhead_vs_relu - sub.overhead_vs_relu_q25, sub.overhead_vs_relu_q75 - sub.overhead_vs_relu])
        ax.bar(sub.activation, med, yerr=err, capsize=2, color=["C3" if a in crit.exponential else "C0" for a in sub.activation])
        ax.axhline(100 * crit.step_large, color="r", ls="--", lw=0.8, label="'a lot' threshold")
        ax.axhline(100 * crit.step_negligible, color="g", ls=":", lw=0.8, label="'negligible' threshold")
        ax.axhline(100 * config.published.elu_imagenet_slowdown, color="k", lw=0.6, label="ELU paper: +5%")
        ax.axhline(0, color="grey", lw=0.8)
        ax.tick_params(axis="x", rotation=45)
        step_ms = float(sub.step_ms[sub.activation == config.reference].iloc[0])
        ax.set_title(f"{kind.upper()} (ReLU step {step_ms:.1f} ms)")
    axes[0].set_ylabel("whole training step time vs ReLU (%)")
    axes[0].legend(fontsize=8)
    fig.suptitle("H2: what an activation adds to a whole SGD step (median, IQR; red = exponential)")
    return fig

"""Figures of experiments.dead_relu (F1-F4, G3); each function's name is its PNG's name."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .derive import relu_sgd, sel


def _lr_panel(ax, agg: pd.DataFrame, label_col: str, title: str, published: float | None = None) -> None:
    for label, g in agg.groupby(label_col, sort=False):
        g = g.sort_values("learning_rate")
        ok = g["n_diverged"] == 0
        line = ax.errorbar(g["learning_rate"][ok], g["final_dead"][ok],
                           yerr=[np.clip(g["final_dead"][ok] - g["final_dead_lo"][ok], 0, None),
                                 np.clip(g["final_dead_hi"][ok] - g["final_dead"][ok], 0, None)],
                           marker="o", ms=3, capsize=2, label=str(label))
        div = g[~ok]
        if len(div):
            ax.scatter(div["learning_rate"], np.ones(len(div)) * 1.02, marker="x", color=line[0].get_color())
    if published is not None:
        ax.axhline(published, ls=":", color="k", lw=1, label=f"CS231n '{published:.0%}'")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.06)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("dead fraction after training")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def f2_dead_vs_lr(t, config) -> plt.Figure:
    """Dead fraction after training vs lr, ReLU + SGD, one panel per data set (F1, F2)."""
    published = float(config.published.cs231n_dead_fraction)
    sub = relu_sgd(t.f2_dead_vs_lr, config)
    sets = list(sub["dataset"].unique())
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 3.8), squeeze=False)
    for ax, ds in zip(axes[0], sets):
        _lr_panel(ax, sel(sub, dataset=ds), "init", f"F1/F2: ReLU + SGD on {ds} (x = all seeds diverged)", published)
    fig.tight_layout()
    return fig


def f1_dead_over_training(t, config) -> plt.Figure:
    """Dead fraction per layer over training in the cell with the most dead units, and the two lrs below (F1)."""
    roles, layers = config.roles, t._layers
    sub = relu_sgd(t.f2_dead_vs_lr, config)
    sub = sub[sub["n_diverged"] == 0]
    best = sub.loc[sub["final_dead"].idxmax()]
    g = sel(layers, dataset=best["dataset"], activation=roles.activation, optimizer=roles.optimizer, init=best["init"])
    lrs = sorted(g["learning_rate"].unique())
    chosen = [lr for lr in lrs if lr <= best["learning_rate"]][-3:]
    fig, axes = plt.subplots(1, len(chosen), figsize=(4 * len(chosen), 3.4), squeeze=False)
    for ax, lr in zip(axes[0], chosen):
        m = sel(g, learning_rate=lr).groupby(["layer", "step"])["dead"].mean().reset_index()
        for layer, gl in m.groupby("layer"):
            ax.plot(gl["step"], gl["dead"], marker="o", label=f"layer {layer}")
        ax.set_title(f"F1: {best['dataset']}, {best['init']}, SGD lr={lr:.3g}", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("dead fraction (mean over seeds)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _by(agg, mask, label_col, title) -> plt.Figure:
    sub = agg[mask]
    groups = list(sub.groupby(["dataset", "init"] + (["optimizer"] if label_col == "activation" else []), sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.8), squeeze=False)
    for ax, (key, g) in zip(axes[0], groups):
        _lr_panel(ax, g, label_col, f"{title}: {', '.join(key)}")
    fig.tight_layout()
    return fig


def f3_optimisers(t, config) -> plt.Figure:
    """ReLU's dead fraction vs lr per optimiser, at the optimiser sweep's first init (F3)."""
    agg, init = t.f2_dead_vs_lr, config.sweeps.optimisers.inits[0]
    return _by(agg, (agg["activation"] == config.roles.activation) & (agg["init"] == init), "optimizer",
               "F3: ReLU by optimiser")


def f4_leaky(t, config) -> plt.Figure:
    """Zero-gradient fraction vs lr per activation, at the leaky sweep's first init (F4)."""
    agg = t.f4_leaky
    return _by(agg, agg["init"] == config.sweeps.leaky.inits[0], "activation", "F4: zero-gradient fraction")


def g3_born_dead(t, config) -> plt.Figure:
    """P(net born dead) vs depth per width, against Lu et al.'s bound and the published values (G3)."""
    born = t.g3_born_dead
    fig, ax = plt.subplots(figsize=(6, 4))
    for width, g in born.groupby("width"):
        line = ax.errorbar(g["depth"], g["born_dead"], yerr=[np.clip(g["born_dead"] - g["born_dead_lo"], 0, None),
                                                             np.clip(g["born_dead_hi"] - g["born_dead"], 0, None)],
                           marker="o", ms=2, capsize=1, label=f"width {width} (measured)")
        ax.plot(g["depth"], g["lu_bound"], ls="--", color=line[0].get_color(), lw=1)
    for v in config.published.lu_bound_depth10.values():
        ax.scatter([10], [v], marker="*", color="k", zorder=5)
    ax.set_xlabel("depth L (L-1 hidden layers)")
    ax.set_ylabel("P(net born dead)")
    ax.set_title("G3: born-dead probability, He init; dashed = Lu et al. bound, * = published", fontsize=9)
    ax.legend(fontsize=7)
    return fig

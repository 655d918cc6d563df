"""Figures of experiments.linear_collapse (A1, C1): loss curves and decision boundaries (R12)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import perf, plots

from .measure import conditions


def loss_curves(t, config):
    """Mean training loss at each condition's best learning rate, per data set (A1, C1); every series its own
    line style and marker, since the deep linear nets lie on top of the single layer."""
    curves, conds, best = t.curves, conditions(config), t.best_loss.set_index(["dataset", "condition"])
    fig, axes = plt.subplots(1, len(config.datasets), figsize=(4.4 * len(config.datasets), 3.6), squeeze=False)
    for ax, ds_name in zip(axes[0], config.datasets, strict=True):
        for cond, (colour, ls, marker) in zip(conds, plots.styles(), strict=False):
            steps, loss = curves[(ds_name, cond)]
            mean = np.nanmean(loss, axis=0)
            lr = best.loc[(ds_name, cond), "best_learning_rate"]
            ax.plot(steps, mean, color=colour, ls=ls, marker=marker, ms=4, markevery=max(1, len(steps) // 6),
                    label=f"{cond} (lr {lr:.3g})")
        ax.set_title(f"A1/C1: {ds_name}")
        ax.set_xlabel("training step")
        ax.set_ylabel(f"training loss (mean of {config.seeds} seeds)")
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def decision_boundaries(t, config):
    """The seed-0 net of each condition on two_moons (or the last data set) (A1)."""
    ds, models_ = t.boundary
    x = ds.x_train.reshape(len(ds.x_train), -1)
    lo, hi = x.min(0) - 0.5, x.max(0) + 0.5
    fig, axes = plt.subplots(1, len(models_), figsize=(3.2 * len(models_), 3.2), squeeze=False)
    if x.shape[1] != 2:
        for ax in axes[0]:
            ax.axis("off")
        axes[0, 0].set_title(f"no 2-D boundary for {ds.name}")
        return fig
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 150), np.linspace(lo[1], hi[1], 150))
    grid = np.stack([g0.ravel(), g1.ravel()], 1).astype(np.float32)
    applies = {}  # one compiled forward per model (the switch conditions share theirs)
    for ax, (cond, (model, variables)) in zip(axes[0], models_.items(), strict=True):
        apply = applies.setdefault(model, perf.jit(model.apply))
        pred = np.argmax(np.asarray(apply(variables, grid)), -1).reshape(g0.shape)  # numpy: no eager compile
        ax.contourf(g0, g1, pred, alpha=0.3, levels=[-0.5, 0.5, 1.5], cmap="coolwarm")
        ax.scatter(x[:400, 0], x[:400, 1], c=ds.y_train[:400], s=4, cmap="coolwarm")
        ax.set_title(f"A1: {cond}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"decision boundaries on {ds.name} (seed 0, best learning rate)")
    fig.tight_layout()
    return fig

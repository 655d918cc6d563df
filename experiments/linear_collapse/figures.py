"""Figures of experiments.linear_collapse (A1, C1): loss curves and decision boundaries."""

from __future__ import annotations

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from .measure import DEEP_C, DEEP_LINEAR, conditions


def loss_curves(t, config):
    """Mean training loss at the best learning rate, per data set (A1, C1)."""
    curves, conds = t.curves, conditions(config)
    fig, axes = plt.subplots(1, len(config.datasets), figsize=(4.2 * len(config.datasets), 3.4), squeeze=False)
    for ax, ds_name in zip(axes[0], config.datasets, strict=True):
        for cond in conds:
            steps, loss = curves[(ds_name, cond)]
            ax.plot(steps, np.nanmean(loss, axis=0), label=cond, ls="--" if cond in (DEEP_LINEAR, DEEP_C) else "-")
        ax.set_title(f"A1/C1: {ds_name}")
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss (mean over seeds)")
        ax.set_yscale("log")
    axes[0, 0].legend(fontsize=8)
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
    grid = jnp.asarray(np.stack([g0.ravel(), g1.ravel()], 1), jnp.float32)
    for ax, (cond, (model, variables)) in zip(axes[0], models_.items(), strict=True):
        pred = np.asarray(jnp.argmax(model.apply(variables, grid), -1)).reshape(g0.shape)
        ax.contourf(g0, g1, pred, alpha=0.3, levels=[-0.5, 0.5, 1.5], cmap="coolwarm")
        ax.scatter(x[:400, 0], x[:400, 1], c=ds.y_train[:400], s=4, cmap="coolwarm")
        ax.set_title(f"A1: {cond}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"decision boundaries on {ds.name} (seed 0, best learning rate)")
    fig.tight_layout()
    return fig

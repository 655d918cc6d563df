"""Figures of experiments.vanishing: one function ``(t, config) -> Figure`` per PNG, named as the PNG.

The gradient profile is drawn once per data set of ``config.profile.datasets``
(``profile_<data set>.png``, made by :func:`profile_figure`).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def _profile(t, config, dataset: str):
    """||dL/dh_l|| per layer at init, per activation and init, with the mean-field slope (D1, D3, D5)."""
    layers, summary = t[f"profile_{dataset}"], t.profile_summary
    bounded, bound = config.criteria.d1.activation, config.criteria.d1.bound
    acts_ = list(dict.fromkeys(layers.activation))
    cols = min(3, len(acts_))
    rows = -(-len(acts_) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, a in zip(axes.ravel(), acts_):
        for i, (init, g) in enumerate(layers[(layers.activation == a) & (layers.dataset == dataset)].groupby("init", sort=False)):
            color = f"C{i}"
            ax.semilogy(g.layer, g.grad_h, color=color, label=init)
            srow = summary[(summary.activation == a) & (summary.dataset == dataset) & (summary.init == init)].iloc[0]
            if np.isfinite(srow.log_gain_theory) and np.isfinite(g.grad_h.iloc[-1]) and g.grad_h.iloc[-1] > 0:
                top = g.layer.max()
                pred = g.grad_h.iloc[-1] * np.exp(srow.log_gain_theory * (top - g.layer))
                ax.semilogy(g.layer, pred, color=color, ls=":", lw=1)
        if a == bounded:
            top = layers.layer.max()
            ax.semilogy(np.arange(1, top + 1), bound ** (top - np.arange(1, top + 1)) *
                        layers[(layers.activation == a) & (layers.dataset == dataset)].grad_h.max(), "k--", lw=1,
                        label=f"{bound:g}^(L-l) bound")
        ax.set_title(f"{a}")
        ax.set_xlabel("layer l")
        ax.set_ylabel("||dL/dh_l||")
        ax.set_ylim(1e-30, 1e30)
    for ax in axes.ravel()[len(acts_):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"D1/D3/D5: gradient norm per layer at init ({dataset}); dotted = mean-field slope 0.5 ln chi_1")
    fig.tight_layout()
    return fig


def profile_figure(dataset: str):
    """The figure function ``profile_<dataset>(t, config)`` (its name is the PNG's)."""

    def fig(t, config):
        return _profile(t, config, dataset)

    fig.__name__ = fig.__qualname__ = f"profile_{dataset}"
    fig.__doc__ = f"Gradient norm per layer at init on {dataset} (D1, D3, D5)."
    return fig


def saturation(t, config):
    """Per-layer |h| > 2 fraction and the lowest layer's gradient norm during training (D4)."""
    sat = t.saturation
    acts_ = list(dict.fromkeys(sat.activation))
    fig, axes = plt.subplots(2, len(acts_), figsize=(4.5 * len(acts_), 6.5), squeeze=False)
    for j, a in enumerate(acts_):
        g = sat[sat.activation == a]
        for layer, gl in g.groupby("layer"):
            axes[0, j].plot(gl.step, gl.saturated, label=f"layer {layer}")
        axes[0, j].set_title(f"{a}: fraction |h| > 2")
        axes[0, j].set_xlabel("step")
        gl = g[g.layer == 1]
        axes[1, j].semilogy(gl.step, gl.grad_lowest)
        axes[1, j].set_title(f"{a}: ||dL/dW_1|| (lowest layer)")
        axes[1, j].set_xlabel("step")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("D4: saturation and lowest-layer gradient during training (Fashion-MNIST, standard init, SGD)")
    fig.tight_layout()
    return fig


def depth_sweep(t, config):
    """Training accuracy after the budget against depth, with and without BatchNorm (D6)."""
    table = t.depth_sweep
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, ((a, bn), g) in enumerate(table.groupby(["activation", "batch_norm"], sort=False)):
        ax.errorbar(g.depth, g.train_acc, yerr=[g.train_acc - g.train_acc_lo, g.train_acc_hi - g.train_acc],
                    color=f"C{i // 2}", ls="-" if not bn else "--", marker="o", capsize=2,
                    label=f"{a}{' + BN' if bn else ''}")
    ax.set_xscale("log")
    ax.set_xlabel("depth (hidden layers)")
    ax.set_ylabel("training accuracy after budget")
    ax.set_title("D6: trainability vs depth (best lr, 95% CI over seeds)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def chaos_map(t, config):
    """Training accuracy over (sigma_w^2, depth) beside the mean-field depth = 6 xi_c (edge of chaos)."""
    chaos, curve = t.chaos_map, t.chaos_theory
    fig, ax = plt.subplots(figsize=(6, 4))
    grid = chaos.pivot(index="depth", columns="sigma_w2", values="train_acc")
    xs, ys = list(grid.columns), list(grid.index)
    mesh = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5, grid.values, vmin=0, vmax=1,
                         cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="training accuracy")
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    cx = np.interp(curve.sigma_w2, xs, np.arange(len(xs)))
    cy = np.interp(np.minimum(curve.six_xi_c, ys[-1] * 2), ys, np.arange(len(ys)))
    ax.plot(cx, cy, "w-", lw=2, label="depth = 6 xi_c (mean field)")
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("depth")
    ax.set_title(f"D6 / edge of chaos: {config.chaos.activation}, sigma_b^2 = {config.chaos.sigma_b2:.2g}")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig

"""Figures of experiments.initialization (G1, G2): one function ``(t, config) -> Figure`` per PNG (R12).

Every series has its own colour, line style and marker (:func:`experiments.kit.plots.styles`), the
legend sits on the figure, tick labels are thinned so they never overlap, variances that span
decades are drawn as log10 values, and untrained / censored seeds are marked by their status.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from experiments.kit import plots

LABEL = {"standard": "standard U[±1/√n]", "xavier_uniform": "Xavier (normalised)", "he_normal": "He",
         "normal": "N(0,1)", "small_normal": "N(0,0.01²)", "lecun_normal": "LeCun normal"}


def _styles():
    """Colour, line style and marker all change from one series to the next (no series hides another)."""
    for i, (colour, _, marker) in enumerate(plots.styles()):
        yield colour, plots.LINESTYLES[i % len(plots.LINESTYLES)], marker


def _thin(ax, nx: int = 5, ny: int = 5, integer_x: bool = False) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(nx, integer=integer_x))
    ax.yaxis.set_major_locator(MaxNLocator(ny))
    ax.tick_params(labelsize=8)


def profile_layers(t, config) -> plt.Figure:
    """Per-layer log10 variance of activations and of dL/dh, per activation and init (G1)."""
    layers, band = t.profile_layers, config.criteria.g1.max_decades
    acts_ = list(dict.fromkeys(layers["activation"]))
    fig, axes = plt.subplots(2, len(acts_), figsize=(4.6 * len(acts_), 7.4), squeeze=False)
    for j, act in enumerate(acts_):
        sub = layers[layers["activation"] == act]
        groups = list(sub.groupby(["init", "width"], sort=False))
        for ((init, width), g), (colour, ls, marker) in zip(groups, _styles(), strict=False):
            label = f"{LABEL.get(init, init)}, {width} units"
            for i, q in enumerate(("log10_act_var", "log10_grad_var")):
                axes[i, j].plot(g["layer"], g[q], color=colour, ls=ls, marker=marker, ms=3, markevery=5, label=label)
        for i, what in enumerate(("activation variance (forwards)", "gradient variance dL/dh (backwards)")):
            ax = axes[i, j]
            ax.set_title(f"G1: {act}, {what}", fontsize=9)
            ax.set_xlabel("hidden layer")
            ax.set_ylabel("log10 Var (mean over seeds)")
            _thin(ax, integer_x=True)
    axes[0, -1].legend(fontsize=7, loc="best")
    fig.suptitle(f"G1: {config.profile.depth}-layer MLPs at init; steady = within {band:g} decade (x10) "
                 "from first to last layer", fontsize=10)
    fig.tight_layout()
    return fig


def gb_jacobian(t, config) -> plt.Figure | None:
    """Mean singular value of J_l per layer with Glorot & Bengio's values, per input scaling (G1)."""
    if "gb_jacobian" not in t:
        return None
    jac, pub = t.gb_jacobian, dict(config.published.glorot_jacobian)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for ((scaling, init), g), (colour, ls, marker) in zip(jac.groupby(["scaling", "init"], sort=False), _styles(),
                                                           strict=False):
        ax.errorbar(g["layer"], g["mean_sv"], yerr=[g["mean_sv"] - g["mean_sv_lo"], g["mean_sv_hi"] - g["mean_sv"]],
                    color=colour, ls=ls, marker=marker, capsize=3, label=f"{LABEL.get(init, init)}, inputs {scaling}")
    for k, (key, value) in enumerate(pub.items()):
        ax.axhline(value, color="k", ls=(":", "--")[k % 2], lw=1,
                   label=f"Glorot & Bengio: {LABEL.get(key.split('_', 1)[1], key)} ≈ {value:g}")
    ax.set_xlabel("l (Jacobian of layer l+1 with respect to layer l)")
    ax.set_ylabel("mean singular value of J_l (95% CI)")
    ax.set_title(f"{config.gb.activation}, {config.gb.depth} hidden layers of {config.gb.width} units at init", fontsize=9)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def gb_histograms(t, config) -> plt.Figure | None:
    """Per-layer histograms of activations and dL/dh in Glorot & Bengio's setting (their Figs 6-7)."""
    if "gb_histograms" not in t:
        return None
    hist = t.gb_histograms
    panels = list(dict.fromkeys(zip(hist["scaling"], hist["init"], strict=True)))
    fig, axes = plt.subplots(2, len(panels), figsize=(4.0 * len(panels), 6.6), squeeze=False)
    for j, (scaling, init) in enumerate(panels):
        for i, q in enumerate(("activation", "gradient dL/dh")):
            ax = axes[i, j]
            sub = hist[(hist["scaling"] == scaling) & (hist["init"] == init) & (hist["quantity"] == q)]
            for (layer, g), (colour, ls, marker) in zip(sub.groupby("layer"), _styles(), strict=False):
                ax.plot((g["bin_lo"] + g["bin_hi"]) / 2, g["fraction"], color=colour, ls=ls, marker=marker, ms=3,
                        markevery=4, label=f"layer {layer}")
            ax.set_title(f"{LABEL.get(init, init)}, inputs {scaling}", fontsize=8)
            ax.set_xlabel(q if i == 0 else "dL/dh", fontsize=8)
            ax.set_ylabel("fraction of values", fontsize=8)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
            _thin(ax, 4, 4)
    axes[0, 0].legend(fontsize=7)
    axes[1, 0].legend(fontsize=7)
    fig.suptitle(f"{config.gb.activation}: activations (top) and back-propagated gradients (bottom) per layer at init",
                 fontsize=10)
    fig.tight_layout()
    return fig


def glorot_table1(t, config) -> plt.Figure | None:
    """Our test errors per condition beside Glorot & Bengio's Table 1 (no claim)."""
    if "glorot_table1" not in t:
        return None
    table, published = t.glorot_table1, dict(config.published.glorot_table1_mnist)
    names = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(4.6 * (len(names) + 1), 4.2), squeeze=False)
    for j, name in enumerate(names):
        sub = table[table["dataset"] == name].reset_index(drop=True)
        plots.bars_ci(sub, "condition", "test_error_pct", title=f"ours: {name} (95% CI over seeds)",
                      ylabel="test error (%)", ax=axes[0, j])
    labels = [k.split("_")[0].capitalize() + (" N" if k.endswith("xavier_uniform") else "") for k in published]
    ax = axes[0, -1]
    ax.bar(np.arange(len(labels)), list(published.values()), color="grey", label="published")
    ax.set_xticks(np.arange(len(labels)), labels, rotation=45, ha="right", fontsize=8)
    ax.set_title("Glorot & Bengio 2010 Table 1, MNIST", fontsize=9)
    ax.legend(fontsize=7)
    fig.suptitle("Test error: activation x init (N = normalised/Xavier), 5 hidden layers, SGD minibatch 10", fontsize=10)
    fig.tight_layout()
    return fig


def he_deep_relu(t, config) -> plt.Figure:
    """Training loss and accuracy of the deep ReLU MLPs, Xavier vs He, each at its best lr; seeds by status (G2)."""
    curves, seeds, h = t.he_deep_relu, t.he_seeds, config.he
    depths = list(dict.fromkeys(curves["depth"]))
    fig, axes = plt.subplots(2, len(depths), figsize=(5.0 * len(depths), 7.0), squeeze=False)
    chance = float(t.he_summary["chance"].iloc[0]) + config.criteria.he.train_margin
    for j, depth in enumerate(depths):
        groups = list(curves[curves["depth"] == depth].groupby("init", sort=False))
        for (init, g), (colour, ls, marker) in zip(groups, _styles(), strict=False):
            label = f"{LABEL.get(init, init)} (lr {g['learning_rate'].iloc[0]:.3g})"
            for i, q in enumerate(("train_loss", "train_acc")):
                ax = axes[i, j]
                ax.plot(g["step"], g[q], color=colour, ls=ls, marker=marker, ms=3, label=label)
                ax.fill_between(g["step"], g[f"{q}_lo"], g[f"{q}_hi"], color=colour, alpha=0.15)
            s = seeds[(seeds["depth"] == depth) & (seeds["init"] == init)]
            plots.mark_status(axes[1, j], np.full(len(s), h.steps), s["final_train_acc"], s["status"])
        axes[0, j].axhline(h.target_loss, ls=":", color="k", lw=1, label=f"target loss {h.target_loss:g}")
        axes[1, j].axhline(chance, ls="--", color="k", lw=1, label=f"trains (R8): chance + {config.criteria.he.train_margin:g}")
        axes[0, j].set_title(f"G2: {depth}-layer ReLU MLP, plain SGD", fontsize=9)
        for i, what in enumerate(("training loss (mean, 95% CI)", "train accuracy; final per seed by status")):
            axes[i, j].set_ylabel(what, fontsize=8)
            axes[i, j].set_xlabel("step")
            _thin(axes[i, j], integer_x=True)
            handles, labels = axes[i, j].get_legend_handles_labels()
            unique = dict(zip(labels, handles, strict=True))
            axes[i, j].legend(unique.values(), unique.keys(), fontsize=7)
    fig.tight_layout()
    return fig

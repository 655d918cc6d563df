"""Figures of experiments.initialization (G1, G2): one function ``(t, config) -> Figure`` per PNG."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .measure import _CLAMP

LABEL = {"standard": "standard", "xavier_uniform": "Xavier (N)", "he_normal": "He", "normal": "N(0,1)",
         "small_normal": "N(0,0.01²)"}


def profile_layers(t, config) -> plt.Figure:
    """Per-layer variance of activations and of dL/dh, per activation and init (G1)."""
    layers = t.profile_layers
    acts_ = list(dict.fromkeys(layers["activation"]))
    fig, axes = plt.subplots(2, len(acts_), figsize=(4.2 * len(acts_), 7), squeeze=False)
    for j, act in enumerate(acts_):
        sub = layers[layers["activation"] == act]
        for init, g in sub.groupby("init", sort=False):
            for i, q in enumerate(("act_var", "grad_var")):
                axes[i, j].plot(g["layer"], np.clip(g[q], *_CLAMP), marker="o", label=LABEL.get(init, init))
        axes[0, j].set_title(f"G1: {act}, activation variance")
        axes[1, j].set_title(f"G1: {act}, gradient dL/dh variance")
        for i in range(2):
            axes[i, j].set_yscale("log")
            axes[i, j].set_xlabel("hidden layer")
        axes[0, j].set_ylabel("Var over units and examples")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def histograms(t, config) -> plt.Figure:
    """Per-layer histograms of activations and dL/dh for tanh (else the first activation) (G1)."""
    hist = t.histograms
    inits_ = tuple(i for i in ("standard", "xavier_uniform", "he_normal") if i in config.profile.inits)
    act = "tanh" if "tanh" in config.profile.activations else config.profile.activations[0]
    fig, axes = plt.subplots(2, len(inits_), figsize=(4.5 * len(inits_), 6.5), squeeze=False)
    for j, init in enumerate(inits_):
        for i, q in enumerate(("activation", "gradient dL/dh")):
            sub = hist[(hist["activation"] == act) & (hist["init"] == init) & (hist["quantity"] == q)]
            for layer, g in sub.groupby("layer"):
                axes[i, j].plot((g["bin_lo"] + g["bin_hi"]) / 2, g["fraction"], label=f"layer {layer}")
            axes[i, j].set_title(f"G1: {act}, {LABEL.get(init, init)}: {q}")
            axes[i, j].set_xlabel(q)
            axes[i, j].set_ylabel("fraction of values")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def jacobian(t, config) -> plt.Figure:
    """Mean singular value of J_l per layer, with Glorot & Bengio's values (G1)."""
    jac, published = t.jacobian, dict(config.published.glorot_jacobian)
    acts_ = list(dict.fromkeys(jac["activation"]))
    fig, axes = plt.subplots(1, len(acts_), figsize=(4.2 * len(acts_), 3.6), squeeze=False)
    for j, act in enumerate(acts_):
        ax = axes[0, j]
        for init, g in jac[jac["activation"] == act].groupby("init", sort=False):
            line = ax.plot(g["layer"], g["mean_sv"], marker="o", label=LABEL.get(init, init))[0]
            pub = published.get(f"{act}_{init}")
            if pub is not None:
                ax.axhline(pub, ls="--", color=line.get_color(), lw=1, label=f"Glorot & Bengio {LABEL.get(init)}")
        ax.set_yscale("log")
        ax.set_title(f"G1: {act}, mean singular value of J_l")
        ax.set_xlabel("l (Jacobian of layer l+1 w.r.t. layer l)")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def glorot_table1(t, config) -> plt.Figure:
    """Our test errors per condition beside Glorot & Bengio's Table 1 (no claim)."""
    table, published = t.glorot_table1, dict(config.published.glorot_table1_mnist)
    names = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(4.2 * (len(names) + 1), 3.8), squeeze=False)
    for j, name in enumerate(names):
        sub = table[table["dataset"] == name]
        err = np.vstack([sub["test_error_pct"] - sub["test_error_pct_lo"],
                         sub["test_error_pct_hi"] - sub["test_error_pct"]])
        axes[0, j].bar(sub["condition"], sub["test_error_pct"], yerr=np.nan_to_num(err), capsize=3)
        axes[0, j].set_title(f"ours: {name} (95% CI)")
        axes[0, j].set_ylabel("test error (%)")
        axes[0, j].tick_params(axis="x", rotation=45)
    labels = [k.split("_")[0].capitalize() + (" N" if k.endswith("xavier_uniform") else "") for k in published]
    axes[0, -1].bar(labels, list(published.values()), color="grey")
    axes[0, -1].set_title("Glorot & Bengio 2010 Table 1, MNIST")
    axes[0, -1].tick_params(axis="x", rotation=45)
    fig.suptitle("Test error: activation x init (N = Xavier), 5 hidden layers, SGD")
    fig.tight_layout()
    return fig


def he_deep_relu(t, config) -> plt.Figure:
    """Training loss of the deep ReLU MLPs, Xavier vs He, at each one's best learning rate (G2)."""
    curves, target = t.he_deep_relu, config.he.target_loss
    depths = list(dict.fromkeys(curves["depth"]))
    fig, axes = plt.subplots(1, len(depths), figsize=(4.5 * len(depths), 3.6), squeeze=False)
    for j, depth in enumerate(depths):
        ax = axes[0, j]
        for init, g in curves[curves["depth"] == depth].groupby("init", sort=False):
            ax.plot(g["step"], g["train_loss"], label=f"{LABEL.get(init, init)} (lr {g['learning_rate'].iloc[0]:g})")
            ax.fill_between(g["step"], g["train_loss_lo"], g["train_loss_hi"], alpha=0.2)
        ax.axhline(target, ls=":", color="k", lw=1, label="target loss")
        ax.set_title(f"G2: {depth}-layer ReLU MLP, plain SGD")
        ax.set_xlabel("step")
        ax.set_ylabel("training loss (mean, 95% CI)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

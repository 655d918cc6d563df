"""Figures of experiments.convergence, drawn from its tables (H1, F5, H4, C5)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .measure_tables import h4_datasets


def h1_step_ratios(t, config):
    """Steps to the training-error threshold relative to the baseline, every activation (H1)."""
    df = t.h1_step_ratios
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{r.model}/{r.dataset}\n{r.activation}" for r in df.itertuples()]
    x = np.arange(len(df))
    ax.bar(x, df.ratio, color=["C3" if a in tuple(config.criteria.h1.activations) else "C0" for a in df.activation])
    ax.errorbar(x, df.ratio, yerr=[df.ratio - df.ratio_lo, df.ratio_hi - df.ratio], fmt="none", ecolor="k", capsize=2)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhline(config.published.h1_ratio, color="C2", ls="--", label="published tanh/ReLU (Krizhevsky 2012)")
    ax.set_xticks(x, labels, rotation=90, fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("steps(activation) / steps(ReLU)")
    ax.set_title("H1: steps to the training-error threshold relative to ReLU (95% CI)")
    ax.legend(fontsize=7)
    return fig


def f5_accuracy_vs_relu(t, config):
    """Paired final test accuracy of each rival minus the baseline's (F5; green/red: Holm-significant)."""
    df = t.f5_accuracy_vs_relu
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(df))
    ax.bar(x, df.diff_pct, color=["C2" if b else ("C3" if w else "C7") for b, w in zip(df.better, df.worse)])
    ax.errorbar(x, df.diff_pct, yerr=[df.diff_pct - df.diff_pct_lo, df.diff_pct_hi - df.diff_pct], fmt="none",
                ecolor="k", capsize=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [f"{r.dataset}\n{r.activation}" for r in df.itertuples()], rotation=90, fontsize=6)
    ax.set_ylabel("test accuracy - ReLU's (percentage points)")
    ax.set_title("F5: final test accuracy vs ReLU, paired over seeds (95% CI; green/red: Holm-significant)")
    return fig


def h4_small_data(t, config):
    """Test accuracy and train-test gap of every variant on the small training sets (H4)."""
    keys = h4_datasets(config)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    done = t.h4_small_data[t.h4_small_data.status == "done"]
    for ax, col, lo, hi, label in ((axes[0], "test_acc", "test_acc_lo", "test_acc_hi", "test accuracy"),
                                   (axes[1], "gap", "gap_lo", "gap_hi", "train - test accuracy")):
        for j, key in enumerate(keys):
            g = done[done.dataset == key]
            x = np.arange(len(g)) + j * (len(config.h4.variants) + 1)
            ax.errorbar(x, g[col], yerr=[g[col] - g[lo], g[hi] - g[col]], fmt="o", capsize=2, label=key)
            for xi, name in zip(x, g.variant):
                ax.annotate(name, (xi, ax.get_ylim()[0]), rotation=90, fontsize=6, va="bottom")
        ax.set_ylabel(label)
        ax.set_xticks([])
    axes[0].legend(fontsize=7)
    fig.suptitle("H4: RReLU vs ReLU / Leaky / PReLU on small training sets (95% CI)")
    return fig


def c5_stability(t, config):
    """Final training loss against the learning rate per data set; dashed = bounded activation (C5)."""
    bounded = set(config.criteria.c5.bounded)
    base = t.sweep[(t.sweep.init == config.init) & (t.sweep.model == "mlp")]
    shown = sorted(base.dataset.unique())  # every data set the verdict read
    fig, axes = plt.subplots(1, max(len(shown), 1), figsize=(4 * max(len(shown), 1), 3.5), squeeze=False)
    for ax, key in zip(axes[0], shown):
        g = base[base.dataset == key]
        for label, h in g.groupby("activation"):
            ax.plot(h.learning_rate, h.final_train_loss, ("--" if label in bounded else "-") + "o", ms=3, label=label)
            bad = h[h.n_diverged > 0]
            ax.plot(bad.learning_rate, np.full(len(bad), np.nanmax(g.final_train_loss)), "x", color="k")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(key, fontsize=9)
    axes[0][0].set_ylabel("final training loss (x: some seed diverged)")
    axes[0][-1].legend(fontsize=6)
    fig.suptitle("C5: final training loss vs learning rate; dashed = bounded activation")
    return fig

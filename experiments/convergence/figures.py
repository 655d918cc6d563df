"""Figures of experiments.convergence, drawn from its tables (H1, F5, H4, C5) under R12 (kit.plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.kit import plots


def _one_legend_entry_per_label(ax) -> None:
    """The status markers are drawn per series; the legend names each kind once."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=6)


def h1_step_ratios(t, config):
    """Median steps to the threshold over ReLU's, every activation and cell; censored cells marked, bounds named."""
    df = t.h1_step_ratios[t.h1_step_ratios.status != "diverged"].copy()
    arrow = {"lower": " (>=)", "upper": " (<=)", "none": " (?)", "exact": ""}
    df["cell"] = [f"{r.model}/{r.dataset} {r.activation}{arrow[r.bound]}" for r in df.itertuples()]
    fig = plots.bars_ci(df, "cell", "ratio", ylabel="median steps / ReLU's (95% CI)",
                        title="H1: steps to the training-error threshold over ReLU's (each at its own best lr)",
                        ref=float(config.criteria.h1.min_ratio))
    ax = fig.axes[0]
    ax.axhline(float(config.criteria.h1.as_fast), color="k", lw=0.8, ls=":", label="as fast (1)")
    ax.axhline(float(config.published.h1_ratio), color="tab:green", ls="-.", label="published tanh/ReLU (Krizhevsky 2012)")
    ax.set_yscale("log")
    ax.legend(fontsize=7)
    fig.set_size_inches(max(6.0, 0.45 * len(df) + 2), 4.2)
    fig.tight_layout()
    return fig


def f5_accuracy_vs_relu(t, config):
    """Rival minus ReLU test accuracy (pp) per data set; the margin of the not-better test; named rivals first."""
    df = t.f5_accuracy_vs_relu[t.f5_accuracy_vs_relu.status == "ok"].copy()
    df = pd.concat([df[df.named], df[~df.named]])
    df["cell"] = [f"{r.dataset} {r.activation}{'' if r.named else ' (beside)'}" for r in df.itertuples()]
    fig = plots.bars_ci(df, "cell", "diff_pp", ylabel="test accuracy - ReLU's (pp, 95% CI)",
                        title="F5: each at its best validation lr, paired over seeds", ref=float(config.criteria.f5.margin_pp))
    ax = fig.axes[0]
    ax.axhline(0.0, color="k", lw=0.8)
    ax.axhline(-float(config.criteria.f5.margin_pp), color="k", ls="--", lw=1)
    ax.axhline(float(config.published.f5_elu_gain_pp), color="tab:green", ls="-.", label="published ELU (Clevert 2015)")
    ax.legend(fontsize=7)
    return fig


def h4_small_data(t, config):
    """Train - test gap and test accuracy of every variant on the small training sets; ReLU's overfitting line."""
    df = t.h4_small_data[t.h4_small_data.status == "ok"].copy()
    df["cell"] = [f"{r.dataset} {r.activation}" for r in df.itertuples()]
    fig, axes = plt.subplots(1, 2, figsize=(max(8.0, 0.5 * len(df) + 4), 3.8))
    plots.bars_ci(df, "cell", "gap_pp", ax=axes[0], ylabel="train - test accuracy (pp)", title="gap",
                  ref=float(config.criteria.h4.min_gap_pp))
    paired = t.h4_paired
    if len(paired):
        margin = float(config.criteria.h4.margin_pp)
        plots.bars_ci(paired, "dataset", "diff_pp", ax=axes[1], ylabel=f"{config.h4.activation} - {config.baseline} "
                      "test accuracy (pp)", title="decision (95% CI); dotted: +-margin", ref=0.0)
        for m in (-margin, margin):
            axes[1].axhline(m, color="tab:gray", ls=":", lw=1)
    fig.suptitle("H4: small training sets, each variant at its best validation lr; dashed left: ReLU must overfit")
    fig.tight_layout()
    return fig


def c5_stability(t, config):
    """Per data set: the fraction of seeds that train and the final loss against the learning rate, the named
    activations only (distinct colour, line style and marker each); diverged / collapsed points marked."""
    crit = config.criteria.c5
    named = [*crit.bounded, *crit.unbounded]
    sweep = t.sweep[(t.sweep.model == "mlp") & t.sweep.activation.isin(named) & (t.sweep.init_scale == 1.0)
                    & t.sweep.dataset.isin(list(config.grid.datasets))].copy()
    sweep = sweep[[init == config.customary_init[a] for a, init in zip(sweep.activation, sweep.init)]]  # not C4's arms
    sweep["fraction_trained"] = sweep.n_trained / sweep.n_seeds
    sweep["status"] = np.where(sweep.n_diverged > 0, "diverged", np.where(sweep.n_collapsed > 0, "collapsed", "ok"))
    sweep["activation"] = [f"{a} ({'bounded' if a in crit.bounded else 'unbounded'})" for a in sweep.activation]
    keys = list(config.grid.datasets)
    fig, axes = plt.subplots(2, len(keys), figsize=(5.2 * len(keys), 7.2), squeeze=False)
    for j, key in enumerate(keys):
        g = sweep[sweep.dataset == key].sort_values(["activation", "learning_rate"])
        shift = {a: 0.012 * (i - (len(named) - 1) / 2) for i, a in enumerate(sorted(g.activation.unique()))}
        g = g.assign(fraction_trained=g.fraction_trained + g.activation.map(shift))  # equal curves stay visible
        plots.curves(g, "learning_rate", "fraction_trained", "activation", ax=axes[0][j], band=False, logy=False,
                     title=f"{key}: fraction of seeds that train (offset +-0.03)")
        axes[0][j].axhline(float(crit.min_train_fraction), color="k", ls="--", lw=1)
        plots.curves(g.drop(columns="status"), "learning_rate", "final_train_loss", "activation", ax=axes[1][j],
                     band=False, logy=True, title=f"{key}: final training loss (non-diverged seeds)")
        for ax in axes[:, j]:
            ax.set_xscale("log")
            _one_legend_entry_per_label(ax)
    fig.suptitle("C5: trains = final loss < half the initial; dashed: the 80% line of part (a)")
    fig.tight_layout()
    return fig

"""Figures of experiments.zigzag (E1-E4); each function's name is its PNG's file name (R12 via kit.plots)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import plots

from .measure_signs import CENTRED_X, POSITIVE_X


def e1_sign_fraction(t, config):
    """Single-signed fraction of the incoming-weight gradient against minibatch size, at init and trained (E1)."""
    sign = t.e1_sign_fraction
    zero = sign.groupby("condition").single_signed.transform(lambda v: bool((v == 0).all()))
    sign = sign.assign(condition=np.where(zero, sign.condition + " (0 at every batch size)", sign.condition))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, stage in zip(axes, ("init", "trained"), strict=True):
        plots.curves(sign[sign.stage == stage], "batch_size", "single_signed", "condition", ax=ax, logy=False,
                     title=f"E1: weights at {stage}" + (" (nets that learned)" if stage == "trained" else ""))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("minibatch size")
        ax.set_ylabel("fraction of neurons with single-signed\nincoming-weight gradient (95% CI over seeds)")
    fig.tight_layout()
    return fig


def e1_two_input(t, config):
    """The two-input neuron's SGD path (seed 0) with positive and with centred inputs (E1)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    w_star = np.asarray(config.e1.w_star)
    b = min(config.e1.two_input_batch_sizes)
    for ax, label in zip(axes, (POSITIVE_X, CENTRED_X), strict=True):
        path = t.two_paths[(label, b)][0]
        frac = t.two_paths[(label, b, "summary")]["frac_quadrant_13"][0]
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2, lw=0.8, label="SGD path")
        ax.plot(*w_star, "r*", ms=14, label="w*")
        ax.plot(0, 0, "ks", label="start")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_aspect("equal")
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.set_title(f"E1: SGD batch {b}, {label}\n{frac:.0%} of updates in quadrants I/III (seed 0)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def e1_path(t, config):
    """Path length / displacement and |cos| of successive updates, each pair at one lr (E1)."""
    path = t.e1_path
    if not len(path):
        return None
    df = path.assign(label=[f"{r.condition}, lr {r.learning_rate:.3g}" for _, r in path.iterrows()])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    plots.bars_ci(df, "label", "path_over_disp", ax=axes[0], title="E1: path length / net displacement (SGD batch 1)",
                  ylabel="median over neurons, mean over seeds (95% CI)")
    plots.bars_ci(df, "label", "mean_abs_cos", ax=axes[1], title="E1: |cos| between successive updates",
                  ylabel="median over neurons, mean over seeds (95% CI)")
    fig.tight_layout()
    return fig


def _budget(ax, steps: int) -> None:
    """The step budget: a censored arm (marked) never reached the target within it."""
    ax.axhline(steps, color="k", ls="--", lw=1, label=f"budget {steps} steps (censored runs enter at it)")
    ax.legend(fontsize=7)


def e2_steps(t, config):
    """Steps to the target loss per input scaling, lr tuned per scaling; censored arms marked (E2)."""
    steps = t.e2_steps
    names = list(dict.fromkeys(steps.dataset))
    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(5.5 * max(1, len(names)), 4.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=False):
        grp = steps[steps.dataset == name]
        df = grp.assign(label=[f"{s}\nlr={lr:.2g}\n{c}/{n} cens." for s, lr, c, n in
                               zip(grp.scaling, grp.best_learning_rate, grp.n_censored, grp.n_seeds, strict=True)])
        plots.bars_ci(df, "label", "geo_mean_steps", ax=ax, title=f"E2: {name}, {config.e2.activation} MLP, lr tuned per arm",
                      ylabel=f"steps to train loss {config.e2.targets[name]} (geo. mean, 95% CI)")
        _budget(ax, config.steps)
    fig.tight_layout()
    return fig


def e3_steps(t, config):
    """Steps to the target loss per activation, lr tuned per activation; censored arms marked (E3)."""
    e3 = t.e3_steps
    df = e3.assign(label=[f"{a}\nlr={lr:.2g}" for a, lr in zip(e3.activation, e3.best_learning_rate, strict=True)])
    fig = plots.bars_ci(df, "label", "geo_mean_steps",
                        title=f"E3: {config.e3.dataset}, MLP {tuple(config.widths)}, {config.init}, lr tuned per activation",
                        ylabel=f"steps to train loss {config.e3.target} (geo. mean, 95% CI)")
    _budget(fig.axes[0], config.steps)
    return fig


def e4_mean_activation(t, config):
    """Median unit mean per layer at init and at the end, and |mean|/std per activation (E4)."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    e4 = t.e4_mean_activation
    last = int(e4.step.max())
    for ax, step, title in ((axes[0], 0, "at init"), (axes[1], last, f"after {last} steps")):
        plots.curves(e4[e4.step == step], "layer", "median_unit_mean", "activation", ax=ax, logy=False, title=f"E4: {title}")
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("median over units of the unit's mean output")
    close = t.e4_close.assign(label=lambda d: d.activation + " " + d.stage)
    close = close.assign(status=["ok" if n_ex == 0 else "collapsed" for n_ex in close.n_excluded])
    plots.bars_ci(close, "label", "close_ratio", ax=axes[2], ref=float(config.criteria.e4.close_max),
                  title="E4: |median unit mean| / layer std (end: nets that learned)",
                  ylabel="mean over layers (95% CI over seeds)")
    axes[2].set_yscale("log")
    fig.tight_layout()
    return fig

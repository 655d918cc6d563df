"""Figures of experiments.zigzag (E1-E4); each function's name is its PNG's file name."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .measure_signs import CENTRED_X, POSITIVE_X


def _err(df, key: str) -> list:
    """Error bars of the estimate ``key`` from its ``key_lo`` / ``key_hi`` columns."""
    return [df[key] - df[f"{key}_lo"], df[f"{key}_hi"] - df[key]]


def e1_sign_fraction(t, config):
    """Single-signed fraction of the incoming-weight gradient against minibatch size (E1)."""
    sign = t.e1_sign_fraction
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, stage in zip(axes, ("init", "trained"), strict=True):
        for cond, grp in sign[sign.stage == stage].groupby("condition", sort=False):
            ax.errorbar(grp.batch_size, grp.single_signed, yerr=_err(grp, "single_signed"), marker="o", capsize=3, label=cond)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("minibatch size")
        ax.set_title(f"E1: weights at {stage}")
    axes[0].set_ylabel("fraction of neurons with single-signed\nincoming-weight gradient")
    axes[0].legend(fontsize=7)
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
        ax.plot(path[:, 0], path[:, 1], "-o", ms=2, lw=0.8)
        ax.plot(*w_star, "r*", ms=14, label="w*")
        ax.plot(0, 0, "ks", label="start")
        ax.axhline(0, color="grey", lw=0.5)
        ax.axvline(0, color="grey", lw=0.5)
        ax.set_aspect("equal")
        ax.set_xlabel("w1")
        ax.set_ylabel("w2")
        ax.set_title(f"E1: SGD batch {b}, {label}\n{frac:.0%} of updates in quadrants I/III (seed 0)")
        ax.legend()
    fig.tight_layout()
    return fig


def e1_path(t, config):
    """Path length / displacement and |cos| between successive updates per condition (E1)."""
    path = t.e1_path
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, lab in zip(axes, ("path_over_disp", "mean_abs_cos"),
                            ("path length / net displacement", "|cos| between successive updates"), strict=True):
        labels = [f"{r.condition}\nB={r.batch_size}" for _, r in path.iterrows()]
        ax.barh(range(len(path)), path[key], xerr=_err(path, key), capsize=3)
        ax.set_yticks(range(len(path)), labels, fontsize=6)
        ax.set_xlabel(f"{lab} (median over neurons, mean over seeds)")
        ax.set_title(f"E1: {lab}")
    fig.tight_layout()
    return fig


def e2_steps(t, config):
    """Steps to the target loss per input scaling, lr tuned per scaling (E2)."""
    steps = t.e2_steps
    fig, axes = plt.subplots(1, max(1, steps.dataset.nunique()), figsize=(11, 4), squeeze=False)
    for ax, (name, grp) in zip(axes[0], steps.groupby("dataset", sort=False)):
        ax.bar(range(len(grp)), grp.geo_mean_steps, yerr=_err(grp, "geo_mean_steps"), capsize=3)
        ax.set_xticks(range(len(grp)), [f"{s}\nlr={lr:.2g}" for s, lr in zip(grp.scaling, grp.best_learning_rate, strict=True)],
                      fontsize=7)
        ax.axhline(config.steps, color="grey", ls="--", lw=0.8, label="budget (unreached = 2x)")
        ax.set_ylabel(f"steps to train loss {config.e2.targets[name]} (geo. mean, 95% CI)")
        ax.set_title(f"E2: {name}, tanh MLP, lr tuned per input scaling")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def e3_steps(t, config):
    """Steps to the target loss per activation, lr tuned per activation (E3)."""
    e3 = t.e3_steps
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(range(len(e3)), e3.geo_mean_steps, yerr=_err(e3, "geo_mean_steps"), capsize=3)
    ax.set_xticks(range(len(e3)), [f"{a}\nlr={lr:.2g}" for a, lr in zip(e3.activation, e3.best_learning_rate, strict=True)],
                  fontsize=8)
    ax.axhline(config.steps, color="grey", ls="--", lw=0.8)
    ax.set_ylabel(f"steps to train loss {config.e3.target} (geo. mean, 95% CI)")
    ax.set_title(f"E3: {config.e3.dataset}, MLP {tuple(config.widths)}, lr tuned per activation")
    fig.tight_layout()
    return fig


def e4_mean_activation(t, config):
    """Median unit mean per layer at init and at the end, and in the middle layer over training (E4)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    e4 = t.e4_mean_activation
    last = e4.step.max()
    for ax, step, title in ((axes[0], 0, "at init"), (axes[1], last, f"after {last} steps")):
        for act, grp in e4[e4.step == step].groupby("activation", sort=False):
            ax.errorbar(grp.layer, grp.median_unit_mean, yerr=_err(grp, "median_unit_mean"), marker="o", capsize=2, label=act)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("median over units of the unit's mean activation")
        ax.set_title(f"E4: {title}")
    axes[0].legend(fontsize=7)
    mid = max(1, config.e4.depth // 2)
    for act, grp in e4[e4.layer == mid].groupby("activation", sort=False):
        axes[2].plot(grp.step, grp.median_unit_mean, marker=".", label=act)
    axes[2].axhline(0, color="grey", lw=0.5)
    axes[2].set_xlabel("SGD step")
    axes[2].set_title(f"E4: layer {mid} over training")
    fig.tight_layout()
    return fig

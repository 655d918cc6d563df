"""Figures of experiments.derivatives (B1-B12, A2, C2); each function's name is its PNG's."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import plots

from .measure import CURVE_X, figure_panels


def activations_and_derivatives(t, config):
    """Each activation, its autodiff derivative and the derivative as printed (B1-B10, A2); the curves were
    computed with the formula checks (``t.curves``, on ``CURVE_X``), the printed one drawn at every 20th point."""
    x, xs, c = CURVE_X, CURVE_X[::20], t.curves
    fig, axes = plt.subplots(2, 5, figsize=(17, 6.5))
    for ax, (title, f, df, pf) in zip(axes.ravel(), figure_panels(config), strict=True):
        ax.plot(x, c[f], color="0.4", label="f")
        ax.plot(x, c[df], color="C0", label="f′ (autodiff)")
        if pf is not None:
            ax.plot(xs, c[pf][::20], "o", color="C3", ms=3.5, mfc="none", label="f′ as printed")
        ax.axhline(0, color="0.85", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("B1–B10: activations, their autodiff derivatives and the derivatives as the documents print them")
    fig.tight_layout()
    return fig


def formula_errors(t, config):
    """Max |printed − autodiff| of every row of ``formula_checks`` (B1-B12)."""
    checks = t.formula_checks
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(checks) + 1.5))
    err = np.clip(checks.max_abs_err.replace(np.inf, np.nan).fillna(1e3).to_numpy(), 1e-12, None)
    colors = ["C2" if a else "C3" for a in checks.agrees]
    labels = [
        f"{r.claim} {r.formula}"[:60] + (f" [NaN at {r.nonfinite} pts]" if r.nonfinite else "")
        for r in checks.itertuples()
    ]
    ax.barh(np.arange(len(checks)), err, color=colors)
    ax.set_xscale("log")
    ax.set_yticks(np.arange(len(checks)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(
        "max |printed − autodiff| over finite points (exact 0 drawn at 1e-12)\n"
        "green: agrees within tolerance, red: does not"
    )
    ax.set_title("B1–B12: printed formulas against autodiff (float32 unless stated)")
    fig.tight_layout()
    return fig


def _band(ax, steps, runs, label, style):
    """Mean over seeds with a 95% t band (R12: each series its own colour, line style and marker)."""
    colour, ls, marker = style
    mean = np.nanmean(runs, 0)
    half = 2.262 * np.nanstd(runs, 0, ddof=1) / np.sqrt(len(runs)) if len(runs) > 1 else 0 * mean
    ax.plot(steps, mean, color=colour, ls=ls, marker=marker, ms=4, markevery=max(1, len(steps) // 8), label=label)
    ax.fill_between(steps, mean - half, mean + half, color=colour, alpha=0.15)


def step_vs_sigmoid(t, config):
    """A2, C2: training loss of the perceptrons and MLPs per activation, and how far the hidden weights moved.

    The step MLP's loss falls only because its linear read-out learns on frozen random step features (its hidden
    gradients are exactly 0): said on the figure, and the third panel shows its hidden weights never move.
    """
    percep, mlps, step = t.perceptrons, t.mlps, config.step_activation
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.9))
    steps = np.arange(config.perceptron_steps + 1)
    for (a, r), style in zip(percep.items(), plots.styles(), strict=False):
        _band(axes[0], steps, r["history"], a + (" (gradient exactly 0: flat)" if a == step else ""), style)
    axes[0].set_title("A2: perceptron f(xW+b), full-batch GD", fontsize=9)
    for (a, r), style in zip(mlps.items(), plots.styles(), strict=False):
        _band(axes[1], r["steps"], r["loss"], a + (": only the read-out learns" if a == step else ""), style)
    axes[1].set_title(f"A2/C2: MLP {tuple(config.mlp_widths)} on {config.mlp_dataset}", fontsize=9)
    axes[1].text(0.97, 0.55, f"{step}: hidden-layer gradients exactly 0;\nits loss falls only because the linear\n"
                 f"read-out learns on frozen random {step} features", transform=axes[1].transAxes, fontsize=7, ha="right",
                 bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    for ax in axes[:2]:
        ax.set_xlabel("step")
        ax.set_ylabel(f"training loss (mean of {config.seeds} seeds, 95% CI)")
        ax.legend(fontsize=7)
    names = list(mlps)
    change = [mlps[a]["hidden_change"] for a in names]
    floor = min([c[c > 0].min() for c in change if (c > 0).any()] or [1e-8]) / 100
    for i, (c, style) in enumerate(zip(change, plots.styles(), strict=False)):
        zero = c == 0
        if (~zero).any():
            axes[2].scatter(np.full(int((~zero).sum()), i), c[~zero], color=style[0], marker=style[2],
                            label=f"{names[i]} (per seed)")
        if zero.any():
            axes[2].scatter(np.full(int(zero.sum()), i), np.full(int(zero.sum()), floor), color=style[0], marker="$0$", s=80,
                            label=f"{names[i]}: exactly 0 ({int(zero.sum())} seeds)")
    axes[2].set_yscale("log")
    axes[2].set_xticks(range(len(names)), names)
    axes[2].set_ylabel("max |W_T − W_0| over the hidden layers")
    axes[2].set_title("A2/C2: did the hidden weights move?", fontsize=9)
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    return fig

"""Figures of experiments.derivatives (B1-B12, A2, C2); each function's name is its PNG's."""

from __future__ import annotations

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import acts
from acts import printed as pr

from .measure import autodiff


def activations_and_derivatives(t, config):
    """Each activation, its autodiff derivative and the derivative as printed (B1-B10, A2)."""
    x = jnp.linspace(-5, 5, 401)
    xs = x[::20]
    panels = [
        ("sigmoid (B1)", acts.get("sigmoid").fn, pr.printed_sigmoid_prime),
        ("tanh (B2)", acts.get("tanh").fn, pr.printed_tanh_prime),
        ("relu (B3)", acts.get("relu").fn, pr.printed_relu_prime),
        (
            f"leaky relu α={config.leaky_alpha} (B4)",
            acts.get("leaky_relu", alpha=config.leaky_alpha).fn,
            lambda v: pr.printed_leaky_relu_prime(v, config.leaky_alpha),
        ),
        (
            f"prelu α={config.prelu_alpha} (B5)",
            lambda v: acts.functions.prelu(v, config.prelu_alpha),
            lambda v: pr.printed_prelu_prime(v, config.prelu_alpha),
        ),
        (
            "elu (B7): printed ELU′ wrong",
            acts.get("elu", alpha=config.elu_alpha).fn,
            lambda v: pr.printed_elu_prime(v, config.elu_alpha),
        ),
        ("swish β=1 (B9): printed f′ wrong", acts.get("swish", beta=1.0).fn, lambda v: pr.printed_swish_prime(v, 1.0)),
        ("swish β=2 (B9): printed f′ wrong", acts.get("swish", beta=2.0).fn, lambda v: pr.printed_swish_prime(v, 2.0)),
        ("mish (B10)", acts.get("mish").fn, pr.printed_mish_prime),
        ("step (A2)", acts.get("step").fn, None),
    ]
    fig, axes = plt.subplots(2, 5, figsize=(17, 6.5))
    for ax, (title, fn, printed) in zip(axes.ravel(), panels, strict=True):
        ax.plot(x, fn(x), color="0.4", label="f")
        ax.plot(x, autodiff(fn)(x), color="C0", label="f′ (autodiff)")
        if printed is not None:
            ax.plot(xs, printed(xs), "o", color="C3", ms=3.5, mfc="none", label="f′ as printed")
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


def step_vs_sigmoid(t, config):
    """Training loss of the perceptrons and MLPs per activation (A2, C2)."""
    percep, mlps = t.perceptrons, t.mlps
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = np.arange(config.perceptron_steps + 1)
    for a, r in percep.items():
        axes[0].plot(steps, r["history"].mean(0), label=a)
    axes[0].set_title("A2: perceptron f(xW+b), full-batch GD")
    for a, r in mlps.items():
        axes[1].plot(r["steps"], np.nanmean(r["loss"], 0), label=a)
    axes[1].set_title(f"A2/C2: MLP {tuple(config.mlp_widths)} on {config.mlp_dataset}")
    for ax in axes:
        ax.set_xlabel("step")
        ax.set_ylabel(f"training loss (mean of {config.seeds} seeds)")
        ax.legend()
    fig.tight_layout()
    return fig

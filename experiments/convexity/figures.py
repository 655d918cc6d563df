"""Figures of experiments.convexity (C3): violation rates, and the loss along one violating line."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch


def violation_rates(t, config):
    """Fraction of random lines violating midpoint convexity per activation x loss, Wilson 95% CI (C3)."""
    table = t.violation_rates
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(config.activations)), 3.8))
    names = list(config.activations)
    width = 0.8 / len(config.losses)
    for j, loss in enumerate(config.losses):
        sub = table[table.loss == loss].set_index("activation").loc[names]
        pos = np.arange(len(names)) + (j - (len(config.losses) - 1) / 2) * width
        err = np.vstack([sub.rate - sub.rate_lo, sub.rate_hi - sub.rate])
        bars = ax.bar(pos, sub.rate, width, yerr=err, capsize=2, label=loss)
        for bar, mono in zip(bars, sub.monotonic, strict=True):
            if not mono:
                bar.set_hatch("//")
    ax.set_xticks(np.arange(len(names)), names, rotation=30, ha="right")
    ax.set_ylabel("fraction of random lines violating\nmidpoint convexity")
    ax.set_title("C3: convexity of a one-layer net f(Wx+b) (hatched = non-monotonic f)")
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Patch(facecolor="white", edgecolor="k", hatch="//"))
    labels.append("non-monotonic f (not C3's case)")
    ax.legend(handles, labels, title="loss", fontsize=8)
    fig.tight_layout()
    return fig


def example_line(t, config):
    """The loss along one violating line of a monotonic activation, with its chord (C3); None if none violates."""
    if "example_line" not in t:
        return None
    name, loss = t.example
    ts, prof, chord = t.example_line.t.to_numpy(), t.example_line.loss.to_numpy(), t.example_line.chord.to_numpy()
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    ax.plot(ts, prof, label=f"L along the line ({name}, {loss})")
    ax.plot(ts, chord, "--", label="chord between end points")
    ax.set_xlabel("t (weights = (1−t)·a + t·b)")
    ax.set_ylabel("training loss")
    ax.set_title(f"C3: a monotonic activation ({name}) with a non-convex {loss} loss")
    ax.legend()
    fig.tight_layout()
    return fig

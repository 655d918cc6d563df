"""The scorecard's one multi-panel figure (DECISIONS.md R12: distinct styles, legends, log axes where
values span decades, censored/diverged marked, theory drawn only where it agrees with the measurement)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import jax.numpy as jnp
import matplotlib.figure
import matplotlib.pyplot as plt
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import plots

from .common import activations, short

THEORY_TOL = 0.05  # nats per layer: where vanishing gives no check, theory is drawn if the log-gain agrees within this


def _styled(names):
    return dict(zip(names, plots.styles(), strict=False))


def _functions(ax, names, style) -> None:
    x = np.linspace(-4, 4, 401, dtype=np.float32)
    for a in names:
        colour, ls, _ = style[a]
        ax.plot(x, np.asarray(acts.get(a).fn(jnp.asarray(x))), color=colour, ls=ls, label=short(a))
    ax.set(title="(a) f(x)", xlabel="x", ylim=(-2, 4))
    ax.legend(fontsize=7)


def _correlation(ax, t, names, style) -> None:
    cm = t.get("correlation_map")
    ax.plot([-1, 1], [-1, 1], color="0.6", lw=0.8, ls=":", label="c' = c")
    for a in names:
        rows = cm[cm.activation == a] if cm is not None else []
        if len(rows):
            colour, ls, marker = style[a]
            ax.plot(rows.c, rows.c_next, color=colour, ls=ls, marker=marker, ms=3, label=f"{short(a)} ({rows.init.iloc[0]})")
    ax.set(title="(b) correlation map c → c' (theory)", xlabel="c", ylabel="c'")
    ax.legend(fontsize=6)


def _profile(ax, t, names, style, init: str, title: str) -> None:
    layers, summary = t.get("gradient_layers"), t.get("gradient_profile")
    for a in names:
        rows = layers[(layers.activation == a) & (layers.init == init)] if layers is not None else []
        if not len(rows):
            continue
        colour, ls, marker = style[a]
        ax.plot(rows.layer, rows.log10_grad_h, color=colour, ls=ls, marker=marker, ms=2, markevery=5, label=short(a))
        s = summary[(summary.activation == a) & (summary.init == init)]
        if len(s) and "theory_check" in s and isinstance(s.theory_check.iloc[0], str):  # vanishing's own check
            agrees = s.theory_check.iloc[0] == "agrees"
        else:
            agrees = len(s) and abs(float(s.log_gain.iloc[0]) - float(s.log_gain_theory.iloc[0])) <= THEORY_TOL
        if agrees and "log10_grad_h_theory" in rows:
            ax.plot(rows.layer, rows.log10_grad_h_theory, color=colour, lw=0.8, ls=(0, (1, 2)))
    ax.plot([], [], color="k", lw=0.8, ls=(0, (1, 2)), label="mean field (where it agrees)")
    ax.set(title=title, xlabel="layer l", ylabel="log10 ‖dL/dh_l‖")
    ax.legend(fontsize=6)


def _dead(ax, t, names, style) -> None:
    d = t.get("dead_units_by_lr")
    for a in names:
        rows = d[d.activation == a] if d is not None else []
        if len(rows):
            colour, ls, marker = style[a]
            y = rows.final_dead.to_numpy(float)
            ax.plot(rows.learning_rate, y, color=colour, ls=ls, marker=marker, ms=4, label=short(a))
            plots.mark_status(ax, rows.learning_rate, np.where(np.isfinite(y), y, 0.0),
                              np.where(rows.status == "ok", "ok", "diverged"))
    ax.set(title="(e) dead units after SGD", xlabel="learning rate", ylabel="dead fraction", xscale="log")
    handles, labels = ax.get_legend_handles_labels()
    keep = dict(zip(labels, handles))
    ax.legend(keep.values(), keep.keys(), fontsize=6)


def _bars(ax, df: pd.DataFrame, value: str, title: str, ylabel: str) -> None:
    if df is None or not len(df):
        ax.set_axis_off()
        return
    cols = [value, f"{value}_lo", f"{value}_hi"]
    finite = df[cols].apply(lambda c: c.where(np.isfinite(c.astype(float))))  # an unbounded ratio is not drawn as a bar
    with np.errstate(invalid="ignore"):
        plots.bars_ci(df.assign(**{c: finite[c] for c in cols}), "label", value, title=title, ylabel=ylabel, ax=ax)


def _training(t, value: str) -> pd.DataFrame | None:
    tr = t.get("training")
    if tr is None:
        return None
    status = tr.status.map({"ok": "ok", "censored": "censored", "never reached": "censored", "diverged": "diverged"})
    return tr.assign(label=[f"{short(a)} / {d}" for a, d in zip(tr.activation, tr.dataset)], status=status)


def scorecard(t: dict, config: ml_collections.ConfigDict) -> matplotlib.figure.Figure:
    """Panels: f, the correlation map, the gradient profile at He and at the critical init, dead units
    against the learning rate, steps to the threshold, test accuracy, cost alone against ReLU."""
    names = activations(config)
    style = _styled(names)
    fig, axes = plt.subplots(2, 4, figsize=(19, 8.5))
    _functions(axes[0, 0], names, style)
    _correlation(axes[0, 1], t, names, style)
    _profile(axes[0, 2], t, names, style, "he_normal", "(c) gradient at init, He")
    _profile(axes[0, 3], t, names, style, "critical", "(d) gradient at init, critical σ_w²")
    _dead(axes[1, 0], t, names, style)
    _bars(axes[1, 1], _training(t, "steps"), "steps", "(f) steps to the training-error threshold", "steps")
    _bars(axes[1, 2], _training(t, "test_acc"), "test_acc", "(g) test accuracy at the best lr", "accuracy")
    alone = t.get("cost_alone")
    if alone is not None:
        alone = alone[alone.activation.isin(names)]
        alone = alone.assign(label=[short(a) for a in alone.activation])
    _bars(axes[1, 3], alone, "fwd_bwd_gross_ratio", "(h) cost alone, fwd+bwd", "time / ReLU's")
    fig.suptitle(f"Score card of {config.activation} (95% CIs over {config.seeds} seeds; cost: over timing rounds)")
    fig.tight_layout()
    return fig

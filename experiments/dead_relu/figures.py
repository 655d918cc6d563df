"""Figures of experiments.dead_relu (F1-F4, G3); each function's name is its PNG's name (R12:
distinct line styles and markers, legends on the figure, diverged / collapsed cells marked)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from experiments.kit import plots

from .derive import sel


def _legend(ax, **kw) -> None:
    """The axes' legend with each label once (status markers repeat per series)."""
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    ax.legend(list(seen.values()), list(seen), **kw)


def _lr_curves(ax_dead, ax_acc, cells: pd.DataFrame, by: str, decide: pd.DataFrame) -> None:
    """Dead fraction (seeds that learned) and train accuracy vs lr, one series per ``by``; decide cells as CIs."""
    for i, ((label, g), (colour, ls, marker)) in enumerate(zip(cells.groupby(by, sort=False), plots.styles(), strict=False)):
        g = g.sort_values("learning_rate")
        style = {"color": colour, "ls": ls, "marker": marker, "ms": max(9 - 1.5 * i, 3), "mfc": "none", "lw": 2.0 - 0.3 * i,
                 "label": str(label)}  # larger hollow markers below: no series hidden under another (R12)
        ax_dead.plot(g["learning_rate"], g["dead"], **style)
        ax_acc.plot(g["learning_rate"], g["final_train_acc"], **style)
        plots.mark_status(ax_dead, g["learning_rate"], g["dead"], g["status"])
        d = decide[decide[by] == label] if len(decide) else decide
        if len(d):
            err = np.abs(np.stack([d["dead"] - d["dead_lo"], d["dead_hi"] - d["dead"]]).astype(float))
            ax_dead.errorbar(d["learning_rate"], d["dead"], yerr=np.nan_to_num(err), fmt="none", ecolor=colour, capsize=3)
    for ax in (ax_dead, ax_acc):
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
    ax_dead.set_ylabel("permanently dead fraction\n(seeds that learned)")
    ax_acc.set_ylabel("final train accuracy\n(finite seeds)")


def f2_dead_vs_lr(t, config) -> plt.Figure:
    """Dead fraction and train accuracy vs lr: ReLU + SGD by init, and ReLU + He by optimiser (F1, F2).

    Lines: locate seeds (marked where fewer than learned_share of them learned, by why); error bars:
    the decide seeds' 95% CI at the picked lrs; dotted: CS231n's 40 %.
    """
    roles, loc, dec = config.roles, t.locate_cells, t.cells
    relu_loc, relu_dec = loc[loc["activation"] == roles.activation], dec[dec["activation"] == roles.activation]
    panels = []
    for ds in dict.fromkeys(relu_loc["dataset"]):
        sgd = sel(relu_loc, dataset=ds, optimizer=roles.optimizer)
        panels.append((f"{ds}: SGD, by init", sgd, "init", sel(relu_dec, dataset=ds, optimizer=roles.optimizer)))
        he = sel(relu_loc, dataset=ds, init=roles.init)
        if he["optimizer"].nunique() > 1:
            panels.append((f"{ds}: {roles.init}, by optimiser", he, "optimizer", sel(relu_dec, dataset=ds, init=roles.init)))
    fig, axes = plt.subplots(2, len(panels), figsize=(4.6 * len(panels), 6.4), squeeze=False)
    for i, (title, g, by, d) in enumerate(panels):
        _lr_curves(axes[0, i], axes[1, i], g, by, d)
        axes[0, i].axhline(config.published.cs231n_dead_fraction, color="k", ls=":", lw=1, label="CS231n 40%")
        axes[0, i].set_title(f"F1/F2 {title}", fontsize=9)
        axes[1, i].axhline(0.1 + config.criteria.chance_margin, color="tab:gray", ls="--", lw=1, label="learned (R8)")
        for ax in axes[:, i]:
            _legend(ax, fontsize=6)
    fig.suptitle(f"lines: {config.locate_seeds} locate seeds per lr; error bars: 95% CI of the {config.decide_seeds} decide "
                 "seeds at the picked lrs; markers: lrs where fewer than "
                 f"{config.criteria.learned_share:.0%} of the seeds learned, by why", fontsize=8)
    fig.tight_layout()
    return fig


def f1_dead_over_training(t, config) -> plt.Figure:
    """Dead fraction per layer over training at each He arm's edge lr (decide seeds that learned), train accuracy dashed (F1)."""
    roles, over, sel_ = config.roles, t.f1_dead_over_training, t.selected
    arms = [r for r in sel_.itertuples() if r.init == roles.init and np.isfinite(r.edge_learning_rate)]
    arms.sort(key=lambda r: (r.optimizer != roles.optimizer, r.dataset != roles.f3_dataset))
    fig, axes = plt.subplots(1, max(1, len(arms)), figsize=(3.6 * max(1, len(arms)), 3.4), squeeze=False)
    for ax, arm in zip(axes[0], arms):
        g = sel(over, dataset=arm.dataset, activation=roles.activation, optimizer=arm.optimizer, init=arm.init,
                learning_rate=float(arm.edge_learning_rate))
        for i, ((layer, gl), (colour, ls, marker)) in enumerate(zip(g.groupby("layer"), plots.styles(), strict=False)):
            size = 9 - 2.5 * i  # larger hollow markers below: a series under another stays visible (R12)
            ax.plot(gl["step"], gl["dead"], color=colour, ls=ls, marker=marker, ms=max(size, 3), mfc="none",
                    lw=2.2 - 0.5 * i, label=f"layer {layer}")
        acc = g.groupby("step")["train_acc"].mean()
        ax.plot(acc.index, acc.to_numpy(), color="k", ls=(0, (1, 1)), lw=1, label="train acc")
        n = int(g["n_seeds"].max()) if len(g) else 0
        ax.set_title(f"F1: {arm.dataset}, {arm.optimizer}, lr {arm.edge_learning_rate:g} ({n} seeds)", fontsize=8)
        ax.set_xlabel("step")
        ax.set_ylabel("dead fraction / train accuracy")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def f3_remedies(t, config) -> plt.Figure:
    """F3: each remedy's paired drop in dead fraction (family intervals), threshold dashed; comparisons with too
    few seeds that learned in both arms are marked by why (diverged / collapsed), without a bar."""
    pairs = t.f3_pairs.copy()
    pairs.loc[pairs["status"] != "ok", ["drop", "drop_lo", "drop_hi"]] = np.nan  # no bar from too few seeds (R8)
    return plots.bars_ci(pairs, "comparison", "drop", title="F3: drop in dead fraction (baseline - remedy)",
                         ylabel="drop (paired, decide seeds)", ref=config.criteria.f3.min_drop)


def f4_leaky(t, config) -> plt.Figure | None:
    """F4: ReLU's dead fraction (seeds that learned) and each variant's stuck fraction (finite seeds) in F4's cells."""
    roles, cells = config.roles, t.cells
    refs = [r for r in t.selected.itertuples() if r.dataset == roles.f4_dataset and r.init == roles.init
            and r.optimizer in roles.f4_optimizers and np.isfinite(r.below_edge_learning_rate)]
    if not refs:
        return None
    fig, axes = plt.subplots(1, len(refs), figsize=(4.2 * len(refs), 3.6), squeeze=False)
    for ax, r in zip(axes[0], refs):
        g = sel(cells, dataset=r.dataset, optimizer=r.optimizer, init=r.init, learning_rate=float(r.below_edge_learning_rate))
        g = g.set_index("activation").reindex([roles.activation, *roles.variants]).reset_index()
        relu = g["activation"] == roles.activation
        value = np.where(relu, g["dead"], g["dead_finite"])
        lo, hi = np.where(relu, g["dead_lo"], g["dead_finite_lo"]), np.where(relu, g["dead_hi"], g["dead_finite_hi"])
        df = pd.DataFrame({"activation": g["activation"], "dead or stuck": value, "dead or stuck_lo": lo,
                           "dead or stuck_hi": hi, "status": g["status"]})
        plots.bars_ci(df, "activation", "dead or stuck", title=f"F4: {r.dataset}, {r.optimizer}, lr {r.below_edge_learning_rate:g}",
                      ylabel="dead (ReLU, seeds that learned) /\nstuck (variants, finite seeds)",
                      ref=config.criteria.f4.max_stuck, ax=ax)
        ax.axhline(config.criteria.f4.relu_min_dead, color="tab:red", ls=":", lw=1, label="ReLU power threshold")
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig


def g3_born_dead(t, config) -> plt.Figure:
    """P(net born dead) vs depth per width (Wilson CIs), Lu et al.'s bound dashed in the same colour (G3)."""
    born = t.g3_born_dead
    fig, ax = plt.subplots(figsize=(6, 4))
    for (width, g), (colour, ls, marker) in zip(born.groupby("width"), plots.styles(), strict=False):
        ax.errorbar(g["depth"], g["born_dead"], yerr=[np.clip(g["born_dead"] - g["born_dead_lo"], 0, None),
                                                      np.clip(g["born_dead_hi"] - g["born_dead"], 0, None)],
                    color=colour, marker=marker, ms=3, capsize=1, lw=1, label=f"width {width}, measured")
        ax.plot(g["depth"], g["lu_bound"], ls="--", color=colour, lw=1, label=f"width {width}, Lu et al. bound")
    ax.set_xlabel("depth L (L-1 hidden layers)")
    ax.set_ylabel("P(net born dead)")
    ax.set_title(f"G3: born-dead probability, He init, {int(born['n_seeds'].iloc[0])} draws per point", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    return fig

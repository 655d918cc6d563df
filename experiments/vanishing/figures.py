"""Figures of experiments.vanishing: one function ``(t, config) -> Figure`` per PNG, named as the PNG.

DECISIONS.md R12: every series its own colour, line style and marker (``kit.plots.styles``),
a legend in every panel, overflowed or diverged series marked, theory drawn where it was checked
(the tables say where it agrees), log-scaled quantities drawn as log10 values. The gradient
profile is drawn once per data set of ``config.profile.datasets`` (``profile_<data set>.png``).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines
import matplotlib.pyplot as plt
import numpy as np

from experiments.kit import plots, stats


def _profile(t, config, dataset: str):
    """log10 ||dL/dh_l|| / ||dL/dh_L|| per layer at init, per activation and init, with mean field (D1, D3, D5)."""
    layers, summary = t[f"profile_{dataset}"], t.profile_summary
    bound, bounded = config.criteria.d1.bound, config.criteria.d1.activation
    acts_ = list(dict.fromkeys(layers.activation))
    init_styles = dict(zip(dict.fromkeys(layers.init), plots.styles()))
    cols = min(3, len(acts_))
    rows = -(-len(acts_) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows + 0.8), squeeze=False)
    top = layers.layer.max()
    for ax, a in zip(axes.ravel(), acts_):
        notes = []
        for i, (init, g) in enumerate(layers[layers.activation == a].groupby("init", sort=False)):
            colour, ls, marker = init_styles[init]
            row = summary[(summary.activation == a) & (summary.dataset == dataset) & (summary.init == init)].iloc[0]
            if row.n_seeds == 0:
                notes.append(f"{init}: overflow (float32 forward), not drawn")
                continue
            ax.plot(g.layer, g.log10_grad_h - g.log10_grad_h.iloc[-1], color=colour, ls=ls, marker=marker, ms=4,
                    markevery=(i, len(init_styles)), lw=1.3)
            if row.theory_check != "not finite":
                ax.plot(g.layer, g.log10_grad_h_theory - g.log10_grad_h_theory.iloc[-1], color=colour, ls=":", lw=1.2)
            if row.theory_check == "disagrees":
                notes.append(f"{init}: mean field off ({row.log_gain:.2f} vs {row.log_gain_theory:.2f} nats/layer)")
        if a == bounded:
            ax.plot(np.arange(1, top + 1), (top - np.arange(1, top + 1)) * np.log10(bound), "k--", lw=1)
            notes.append(f"dashed: {bound:g}^(L-l)")
        if notes:
            ax.text(0.02, 0.02, "\n".join(notes), transform=ax.transAxes, fontsize=7, va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.8, "lw": 0})
        ax.set_title(a)
        ax.set_xlabel("layer l")
        ax.set_ylabel("log10 ||dL/dh_l|| / ||dL/dh_L||")
    for ax in axes.ravel()[len(acts_):]:
        ax.axis("off")
    handles = [matplotlib.lines.Line2D([], [], color=c, ls=ls, marker=m, label=init) for init, (c, ls, m) in init_styles.items()]
    handles.append(matplotlib.lines.Line2D([], [], color="gray", ls=":", label="mean field, layer by layer from the measured q_1"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 7), fontsize=8)
    fig.suptitle(f"D1/D3/D5: gradient norm per layer at init relative to the top layer ({dataset}, mean over seeds)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def profile_figure(dataset: str):
    """The figure function ``profile_<dataset>(t, config)`` (its name is the PNG's)."""

    def fig(t, config):
        return _profile(t, config, dataset)

    fig.__name__ = fig.__qualname__ = f"profile_{dataset}"
    fig.__doc__ = f"Gradient norm per layer at init on {dataset} (D1, D3, D5)."
    return fig


def _over_seeds(g, value):
    """Mean and 95% CI over seeds of ``value`` per step (t-interval)."""
    out = [(step, stats.mean_ci(r[value])) for step, r in g.groupby("step")]
    return (np.array([s for s, _ in out]), np.array([e.mean for _, e in out]), np.array([e.lo for _, e in out]),
            np.array([e.hi for _, e in out]))


def saturation(t, config):
    """D4: per-layer mean output and |h|>2 fraction, lowest-layer gradient and accuracy during SGD (G&B Figs. 2-3)."""
    seeds, crit = t.saturation_seeds, config.criteria.d4
    act, tanh = crit.activation, crit.layered_activation
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    panels = [(axes[0, 0], act, "mean_act", f"{act}: mean output per hidden layer"),
              (axes[0, 1], tanh, "saturated", f"{tanh}: fraction of units with |h| > 2")]
    for ax, a, value, title in panels:
        g = seeds[seeds.activation == a]
        for (layer, gl), (colour, ls, marker) in zip(g.groupby("layer"), plots.styles()):
            x, m, lo, hi = _over_seeds(gl, value)
            ax.plot(x, m, color=colour, ls=ls, marker=marker, ms=3, label=f"layer {layer}")
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("SGD step")
    axes[0, 0].axhline(crit.top_mean, color="k", ls="--", lw=1, label=f"{crit.top_mean:g} (part a)")
    axes[0, 0].text(0.35, 0.15, "Glorot & Bengio 2010, Fig. 2 (4 x 1000 units, Shapeset-3x2):\nthe top layer's mean drops to ~0 "
                    "early and desaturates\nslowly (~epoch 100); lower layers stay well above it",
                    transform=axes[0, 0].transAxes, fontsize=7, va="bottom")  # no box: it would hide the 0.1 line
    for ax, value, title in ((axes[1, 0], "log10_grad_w1", "log10 ||dL/dW_1|| - its value at step 0"),
                             (axes[1, 1], "train_acc", "training accuracy (evaluation subset)")):
        for (a, g), (colour, ls, marker) in zip(seeds[seeds.layer == 1].groupby("activation", sort=False), plots.styles()):
            g = g.copy()
            if value == "log10_grad_w1":
                g[value] = g[value] - g.groupby("seed")[value].transform("first")
            x, m, lo, hi = _over_seeds(g, value)
            ax.plot(x, m, color=colour, ls=ls, marker=marker, ms=3, label=a)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15)
            bad = g[g.status == "diverged"]
            if len(bad):
                plots.mark_status(ax, bad.step, bad[value], bad.status)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("SGD step")
    axes[1, 0].axhline(crit.grad_drop_log10, color="k", ls="--", lw=1, label=f"{crit.grad_drop_log10:g} (part b)")
    for ax in axes.ravel():  # the first panel's legend at the right, above the G&B note (R12: nothing hidden)
        ax.legend(fontsize=7, loc="center right" if ax is axes[0, 0] else "best")
    cfg = config.saturation
    fig.suptitle(f"D4: {cfg.hidden_layers} hidden layers of {cfg.width}, {cfg.init} init, SGD lr {cfg.learning_rate:g}, batch "
                 f"{cfg.batch_size}, {cfg.dataset}; mean and 95% CI over {cfg.seeds} seeds", fontsize=10)
    fig.tight_layout()
    return fig


def depth_sweep(t, config):
    """Training accuracy after the budget against depth, with and without BatchNorm, each arm at its best lr (D6)."""
    table = t.depth_sweep
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for ((a, bn), g), (colour, ls, marker) in zip(table.groupby(["activation", "batch_norm"], sort=False), plots.styles()):
        ax.errorbar(g.depth, g.train_acc, yerr=[g.train_acc - g.train_acc_lo, g.train_acc_hi - g.train_acc], color=colour,
                    ls=ls, marker=marker, capsize=2, label=f"{a}{' + BN' if bn else ''}")
        bad = g[g.n_diverged > 0]
        if len(bad):
            plots.mark_status(ax, bad.depth, bad.train_acc, ["diverged"] * len(bad))
    depths = sorted(set(table.depth))
    ax.set_xscale("log")
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.minorticks_off()
    ax.axhline(config.criteria.d6.depth2_acc, color="k", ls=":", lw=1, label=f"{config.criteria.d6.depth2_acc:g} (budget check)")
    ax.set_xlabel("depth (hidden layers)")
    ax.set_ylabel("training accuracy after the budget")
    ax.set_title(f"D6: trainability vs depth ({config.depth_sweep.dataset}, {config.depth_sweep.steps} steps; best lr per arm "
                 "and depth, 95% CI over seeds)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def chaos_map(t, config):
    """Training accuracy over (sigma_w^2, depth) beside depth = 6 xi_c from a converged mean field (edge of chaos)."""
    chaos, curve, crit = t.chaos_map, t.chaos_theory, config.criteria.chaos
    fig, ax = plt.subplots(figsize=(7, 4.8))
    grid = chaos.pivot(index="depth", columns="sigma_w2", values="train_acc")
    xs, ys = np.asarray(grid.columns, float), np.asarray(grid.index, float)
    xe = np.r_[xs[0] - (xs[1] - xs[0]) / 2, (xs[1:] + xs[:-1]) / 2, xs[-1] + (xs[-1] - xs[-2]) / 2] if len(xs) > 1 else xs + [-0.5, 0.5]
    ye = np.exp(np.r_[np.log(ys[0]) - np.log(ys[1] / ys[0]) / 2, (np.log(ys[1:]) + np.log(ys[:-1])) / 2,
                      np.log(ys[-1]) + np.log(ys[-1] / ys[-2]) / 2]) if len(ys) > 1 else ys * [0.8, 1.25]
    mesh = ax.pcolormesh(xe, ye, grid.values, vmin=0, vmax=1, cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="training accuracy (mean over seeds)")
    ax.set_yscale("log")
    ax.set_yticks(ys, [f"{y:g}" for y in ys])
    ax.set_xticks(xs, [f"{x:g}" for x in xs], fontsize=8)
    ax.minorticks_off()
    ax.plot(curve.sigma_w2, curve.six_xi_c, "w-", lw=2, label=f"depth = {crit.multiple_of_xi:g} xi_c (mean field)")
    for kind, marker in (("no", "x"), ("undecided", "$?$")):
        cells = chaos[chaos.agree == kind]
        if len(cells):
            ax.scatter(cells.sigma_w2, cells.depth, marker=marker, color="red" if kind == "no" else "orange", s=40,
                       label="disagrees with theory" if kind == "no" else f"CI contains {crit.trainable_acc:g}")
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xlim(xe[0], xe[-1])
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("depth")
    ax.set_title(f"Edge of chaos: {config.chaos.activation}, sigma_b^2 = {config.chaos.sigma_b2:g}, width {config.chaos.width}; "
                 f"trainable = accuracy CI above {crit.trainable_acc:g}", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig

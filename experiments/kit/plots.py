"""Common figures under DECISIONS.md R12: bars with CIs, curves by group, heat maps.

R12: no series hidden under another (each series gets its own line style and marker), the legend
on the figure, censored / diverged / collapsed cells marked (each kind differently), log axes
where values span decades. The functions take tables in the suite's one spelling (``<m>``,
``<m>_lo``, ``<m>_hi``, ``n_seeds``, ``status``) and return a matplotlib Figure.
"""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "<", ">", "*")
STATUS_MARKERS = {"censored": ("$>$", "tab:gray"), "diverged": ("x", "tab:red"), "collapsed": ("$\\circ$", "tab:purple")}


def styles():
    """An endless sequence of distinct (colour, line style, marker): no two series look alike."""
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i in itertools.count():
        yield colours[i % len(colours)], LINESTYLES[(i // len(colours)) % len(LINESTYLES)], MARKERS[i % len(MARKERS)]


def spans_decades(values, decades: float = 2.0) -> bool:
    """True when the positive finite values span more than ``decades`` orders of magnitude."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return len(v) > 1 and np.log10(v.max() / v.min()) > decades


def mark_status(ax, x, y, status) -> None:
    """Mark non-``ok`` points by their status, each kind with its own marker and a legend entry."""
    x, y, status = np.asarray(x), np.asarray(y, dtype=float), np.asarray(status, dtype=object)
    top = np.nanmax(y[np.isfinite(y)]) if np.isfinite(y).any() else 1.0
    for kind, (marker, colour) in STATUS_MARKERS.items():
        sel = status == kind
        if sel.any():
            ys = np.where(np.isfinite(y[sel]), y[sel], top)
            ax.scatter(x[sel], ys, marker=marker, color=colour, s=60, zorder=5, label=kind)


def bars_ci(df: pd.DataFrame, label: str, value: str, *, title: str = "", ylabel: str = "", ref: float | None = None,
            ax=None) -> matplotlib.figure.Figure:
    """One bar per row with its 95% CI (``value``, ``value_lo``, ``value_hi``), status marked."""
    fig, ax = (plt.subplots(figsize=(max(4.0, 0.6 * len(df) + 2), 3.4)) if ax is None else (ax.figure, ax))
    x = np.arange(len(df))
    y = df[value].to_numpy(float)
    err = np.abs(np.stack([y - df[f"{value}_lo"].to_numpy(float), df[f"{value}_hi"].to_numpy(float) - y]))
    ax.bar(x, np.nan_to_num(y), yerr=np.nan_to_num(err), capsize=3, color="tab:blue", alpha=0.7, label=value)
    if "status" in df:
        mark_status(ax, x, y, df["status"])
    if ref is not None:
        ax.axhline(ref, color="k", ls="--", lw=1, label=f"threshold {ref:g}")
    ax.set_xticks(x, df[label].astype(str), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel or value)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def curves(df: pd.DataFrame, x: str, y: str, group: str, *, title: str = "", logy: bool | None = None,
           band: bool = True, ax=None) -> matplotlib.figure.Figure:
    """One line per ``group`` of ``y`` against ``x`` (with the CI band when ``y_lo``/``y_hi`` exist)."""
    fig, ax = (plt.subplots(figsize=(5.0, 3.6)) if ax is None else (ax.figure, ax))
    for (name, rows), (colour, ls, marker) in zip(df.groupby(group, sort=False), styles(), strict=False):
        rows = rows.sort_values(x)
        ax.plot(rows[x], rows[y], color=colour, ls=ls, marker=marker, ms=4, label=str(name))
        if band and f"{y}_lo" in rows and f"{y}_hi" in rows:
            ax.fill_between(rows[x], rows[f"{y}_lo"], rows[f"{y}_hi"], color=colour, alpha=0.15)
        if "status" in rows:
            mark_status(ax, rows[x], rows[y], rows["status"])
    if logy if logy is not None else spans_decades(df[y]):
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def heatmap(df: pd.DataFrame, x: str, y: str, value: str, *, title: str = "", cmap: str = "viridis",
            ax=None) -> matplotlib.figure.Figure:
    """``value`` over the grid of ``x`` by ``y``; non-``ok`` cells marked by status."""
    fig, ax = (plt.subplots(figsize=(5.2, 3.8)) if ax is None else (ax.figure, ax))
    grid = df.pivot_table(index=y, columns=x, values=value, aggfunc="mean")
    im = ax.imshow(grid.to_numpy(float), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(grid.shape[1]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.columns], fontsize=7)
    ax.set_yticks(range(grid.shape[0]), [f"{v:g}" if isinstance(v, float) else str(v) for v in grid.index], fontsize=7)
    if "status" in df:
        cols, rows = list(grid.columns), list(grid.index)
        for kind, (marker, colour) in STATUS_MARKERS.items():
            cells = df[df.status == kind]
            if len(cells):
                ax.scatter([cols.index(v) for v in cells[x]], [rows.index(v) for v in cells[y]], marker=marker,
                           color=colour, s=40, label=kind)
        if (df.status != "ok").any():
            ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(im, ax=ax, label=value)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title)
    fig.tight_layout()
    return fig

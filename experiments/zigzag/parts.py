"""Helpers of the claim functions of experiments.zigzag: table rows, part texts, censored parts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from experiments.kit.claim import Part


def row(df: pd.DataFrame, **where) -> pd.Series | None:
    """The first row of ``df`` matching every column = value of ``where`` (None if none)."""
    if not len(df):
        return None
    mask = np.ones(len(df), bool)
    for k, v in where.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask].iloc[0] if mask.any() else None


def parts_text(parts: list[Part]) -> str:
    """Every part's verdict with its number, CI and n (the statement lists them, R2)."""
    def one(p: Part) -> str:
        ci = "" if p.ci is None else f" [{p.ci[0]:.3g}, {p.ci[1]:.3g}]"
        value = "n/a" if p.value is None or not np.isfinite(p.value) else f"{p.value:.3g}"
        return f"{p.part}: {p.verdict.upper()} ({value}{ci}, n={p.n_seeds})"
    return "; ".join(one(p) for p in parts)


def undecided(p: Part, why: str) -> Part:
    """``p`` made inconclusive for a reason its interval does not carry (censoring, R7); no threshold."""
    return dataclasses.replace(p, verdict="inconclusive", threshold=None, side=None, condition=f"{p.condition}; {why}")


def seeds_to_decide(p: Part, threshold: float) -> int | None:
    """R1: about how many seeds would put ``p``'s CI wholly on one side of ``threshold`` (the CI
    narrows as 1/sqrt(n)); None when the part is decided or its interval is not finite."""
    if p.verdict != "inconclusive" or p.ci is None or p.value is None or not np.isfinite([*p.ci, p.value]).all():
        return None
    half, gap = (p.ci[1] - p.ci[0]) / 2, abs(p.value - threshold)
    return None if gap == 0 else int(np.ceil(p.n_seeds * (half / gap) ** 2))

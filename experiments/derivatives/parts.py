"""Shared pieces of the derivatives claims: formula rows as parts, properties, numbers against thresholds.

A claim here decides from two tables: ``formula_checks`` (one row per printed formula against its
autodiff or exact reference; ``agrees`` was decided at measurement time with the config's
tolerances) and ``properties`` (quantity, value). The helpers turn rows and quantities into
:class:`~experiments.kit.claim.Part` objects so every claim builds its Decision the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, Part, compare, part

FORMULA = ("criteria.formula.rtol", "criteria.formula.atol")  # the float32 tolerance every formula claim quotes
EVIDENCE = "formula_checks.csv"


def formula_rows(t, claim_id: str) -> pd.DataFrame:
    """The rows of ``formula_checks`` that belong to ``claim_id``, in table order."""
    checks = t.formula_checks
    return checks[checks.claim == claim_id]


def props(t) -> dict[str, float]:
    """The ``properties`` table as {quantity: value}."""
    return dict(zip(t.properties.quantity, t.properties.value, strict=True))


def fmt_row(r) -> str:
    """One formula row in words: its max abs/rel error and where the worst point is."""
    where = "" if np.isnan(r.worst_x) else f" (worst at x={r.worst_x:.4g})"
    return f"{r.formula}: max abs err {r.max_abs_err:.3g}, max rel err {r.max_rel_err:.3g}{where}"


def rows_text(rows: pd.DataFrame) -> str:
    return "; ".join(fmt_row(r) for r in rows.itertuples())


def tol_text(config) -> str:
    """The float32 agreement criterion, quoting ``criteria.formula.atol`` and ``rtol``."""
    c = config.criteria.formula
    return f"|printed − autodiff| ≤ {c.atol:g} + {c.rtol:g}·|autodiff| on the grid and edges"


def row_part(r, config) -> Part:
    """A formula row as a part: supported when it agrees with its reference at every point, else refuted."""
    c = config.criteria.formula
    atol, rtol = (c.atol64, c.rtol64) if r.dtype == "float64" else (c.atol, c.rtol)
    return part(
        r.formula, "supported" if r.agrees else "refuted", value=r.max_abs_err, n_seeds=1,
        unit="max |printed − reference|",
        condition=f"{r.dtype}, {int(r.n_points)} points, agreement within {atol:g} + {rtol:g}·|reference|",
    )


def number(name: str, value: float, config, threshold: str, side: str, unit: str, condition: str) -> Part:
    """A deterministic number (no seeds: a zero-width interval) against the config threshold at ``threshold``."""
    return compare(name, stats.Estimate(value, value, value, 1), config, threshold, side, unit=unit, condition=condition)


def exact(name: str, holds: bool, value: float, unit: str, condition: str, n_seeds: int = 1, ci=None) -> Part:
    """A part decided by an exact identity (a value that must be exactly 0, a sign), not by a config threshold."""
    return part(name, "supported" if holds else "refuted", value=value, ci=ci, n_seeds=n_seeds, unit=unit, condition=condition)


def key_of(parts: Sequence[Part], headline: Sequence[Part]) -> str:
    """R5: the deciding part's name: the worst part that is not supported, else the worst of ``headline``."""
    failing = [p for p in parts if p.verdict != "supported"]
    size = lambda p: p.value if p.value is not None and math.isfinite(p.value) else -math.inf
    return max(failing or headline, key=size).part


def formula_decision(t, config, claim_id: str, tail: str = "", extra: Sequence[Part] = (), criterion: str = "",
                     rows: pd.DataFrame | None = None, statement: str | None = None) -> Decision:
    """A claim made of formula rows (each a part) plus ``extra`` parts.

    The statement is the rows in words followed by ``tail`` (unless ``statement`` is given); the
    criterion is the tolerance text followed by ``criterion``.
    """
    rows = formula_rows(t, claim_id) if rows is None else rows
    row_parts = [row_part(r, config) for r in rows.itertuples()]
    parts = [*row_parts, *extra]
    text = rows_text(rows) + tail if statement is None else statement
    return Decision(parts, text, tol_text(config) + criterion, key=key_of(parts, row_parts))

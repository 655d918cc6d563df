"""Parts shared by the claims of experiments.convergence: comparisons that respect censoring bounds (R7)."""

from __future__ import annotations

import dataclasses
import math

from experiments.kit.claim import Part, compare, part

# what a bound guarantees about the true value: "lower" -> at or above the reported CI, "upper" -> at or below
KEEPS = {"lower": {">": ("supported",), "<": ("refuted",)}, "upper": {">": ("refuted",), "<": ("supported",)}}


def bounded(name: str, row, config, threshold: str, side: str, *, unit: str, condition: str, value_key: str,
            floor: str | None = None, bound: str = "exact") -> Part:
    """:func:`compare` on the row's CI when ``bound`` is ``exact``. A lower/upper bound (R7: > bound_fraction of an
    arm's seeds censored) keeps only a verdict the bound guarantees, else inconclusive; censoring in both arms
    (``none``), or no estimate, is inconclusive. A bound-decided part records no threshold (it does not follow one)."""
    if _missing(row, value_key):
        return part(name, "inconclusive", unit=unit, condition=condition + "; no estimate (no stable learning rate)")
    p = compare(name, row, config, threshold, side, unit=unit, condition=condition, floor=floor, value_key=value_key)
    if bound == "exact":
        return p
    keep = KEEPS.get(bound, {}).get(side[0], ())
    verdict = p.verdict if p.verdict in keep else "inconclusive"
    return dataclasses.replace(p, verdict=verdict, threshold=None, side=None,
                               condition=f"{condition}; {bound} bound (R7)" if bound != "none" else
                               f"{condition}; censored in both arms (R7)")


def _get(row, key: str):
    """A column of a table row (a Series, a dict or an ``itertuples`` tuple)."""
    return getattr(row, key) if hasattr(row, "_fields") else row[key]


def _missing(row, key: str) -> bool:
    try:
        value = float(_get(row, key))
    except (AttributeError, KeyError, TypeError, ValueError):
        return True
    return math.isnan(value)


def with_parts(statement: str, parts) -> str:
    """The statement followed by every part's verdict (R2)."""
    return f"{statement} Parts: " + "; ".join(f"{p.part}: {p.verdict}" for p in parts) + "."


def ci_text(row, key: str, digits: int = 2, sign: bool = False) -> str:
    """``value [lo, hi]`` of a row's column ``key`` (NaN shown as n/a)."""
    if _missing(row, key):
        return "n/a"
    f = f"{{:+.{digits}f}}" if sign else f"{{:.{digits}f}}"
    return f"{f.format(_get(row, key))} [{f.format(_get(row, key + '_lo'))}, {f.format(_get(row, key + '_hi'))}]"


def seeds_to_clear(mean: float, lo: float, hi: float, n: int, threshold: float) -> float:
    """Seeds that would put a CI of this width (shrinking as 1/sqrt(n)) clear of ``threshold`` (R1: what would
    decide an inconclusive part); inf when the mean sits on the threshold."""
    distance = abs(mean - threshold)
    return math.inf if distance == 0 or not math.isfinite(hi - lo) else math.ceil(n * ((hi - lo) / 2 / distance) ** 2)


BOUND_MARK = {"exact": "", "lower": ">= ", "upper": "<= ", "none": "?"}

"""CI regression of figures: smoke-preset numbers against committed references.

``tests/references/<name>.json`` holds, for each number of ``Result.summary`` (the numbers
behind the figures), its reference value with the tolerance stated beside it, and the verdict
of every claim. :func:`compare` lists every number outside its tolerance and every flipped
verdict; ``scripts/regression --update`` rewrites the values (keeping stated tolerances).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .registry import ROOT
from .results import Result, to_jsonable

REFERENCES = ROOT / "tests" / "references"
DEFAULT_TOLERANCE = {"abs": 1e-3, "rel": 0.05}


def path(name: str) -> Path:
    return REFERENCES / f"{name}.json"


def load(name: str) -> dict | None:
    p = path(name)
    return json.loads(p.read_text()) if p.exists() else None


def compare(result: Result, reference: dict) -> list[str]:
    """Problems: numbers outside tolerance, missing numbers, flipped verdicts. Empty = pass."""
    problems = []
    got = {v.claim: v.verdict for v in result.verdicts}
    for claim, verdict in reference.get("verdicts", {}).items():
        if got.get(claim) != verdict:
            problems.append(f"verdict {claim} flipped: reference {verdict}, now {got.get(claim)}")
    for key, ref in reference.get("values", {}).items():
        if key not in result.summary:
            problems.append(f"{key}: missing from the summary")
            continue
        now, want = result.summary[key], ref["value"]
        now_f = float("nan") if now is None else float(now)
        if want is None:
            if math.isfinite(now_f):
                problems.append(f"{key}: reference is non-finite, now {now_f:.6g}")
            continue
        tol = ref.get("abs", DEFAULT_TOLERANCE["abs"]) + ref.get("rel", DEFAULT_TOLERANCE["rel"]) * abs(want)
        if not (abs(now_f - want) <= tol):
            problems.append(f"{key}: {now_f:.6g} vs reference {want:.6g} (tolerance {tol:.3g})")
    return problems


def update(name: str, result: Result) -> Path:
    """Write the reference for ``name`` from ``result``, keeping any tolerance already stated."""
    old = load(name) or {}
    old_values = old.get("values", {})
    values = {}
    for key, value in result.summary.items():
        tol = {k: old_values.get(key, {}).get(k, DEFAULT_TOLERANCE[k]) for k in ("abs", "rel")}
        values[key] = {"value": to_jsonable(value), **tol}
    ref = {
        "experiment": name,
        "preset": "smoke",
        "note": "value +- (abs + rel*|value|) is accepted; a changed verdict fails",
        "verdicts": {v.claim: v.verdict for v in result.verdicts},
        "values": values,
    }
    REFERENCES.mkdir(parents=True, exist_ok=True)
    target = path(name)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(ref, indent=2) + "\n")
    tmp.replace(target)
    return target

"""The verdict record of the claims ledger (CLAIMS.md; DESIGN.md "verdicts.json"; DECISIONS.md R1, R2).

A verdict is decided by code from a measurement and a criterion written in the config before
the run. ``supported`` agrees with the claim as stated, ``qualified`` holds only under
conditions the documents do not state, ``refuted`` contradicts it, ``inconclusive`` means this
budget cannot tell (R1). A claim is decided part by part (R2); :func:`aggregate` derives the
claim's verdict from its parts. The record itself is built by :mod:`experiments.kit.claim`.
"""

from __future__ import annotations

import dataclasses
import math

VERDICTS = ("supported", "qualified", "refuted", "inconclusive")
RULES = "revision 2"


def clean(x) -> float | None:
    """A finite float, or None (JSON has no NaN or infinity)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def check(verdict: str) -> str:
    """``verdict`` itself when it is one of :data:`VERDICTS`; otherwise ValueError."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    return verdict


def aggregate(part_verdicts: list[str]) -> str:
    """The claim's verdict from its parts' (R2): unanimous parts give their verdict, else ``qualified``."""
    if not part_verdicts:
        raise ValueError("a claim needs at least one part")
    for v in part_verdicts:
        check(v)
    first = part_verdicts[0]
    return first if all(v == first for v in part_verdicts) else "qualified"


def decide(holds: bool, qualified: bool = False) -> str:
    """``supported`` if the criterion holds; ``qualified`` if it holds only in part; else ``refuted``."""
    if holds:
        return "supported"
    return "qualified" if qualified else "refuted"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One record of ``verdicts.json`` (the contract in DESIGN.md)."""

    claim: str
    verdict: str
    statement: str
    criterion: str
    value: float | None
    ci: list[float] | None
    n_seeds: int
    evidence: str
    published: str | None = None
    unit: str = ""
    condition: str = ""
    parts: tuple[dict, ...] = ()
    rules: str = RULES
    revised_by: str = ""

    def __post_init__(self):
        check(self.verdict)

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out["value"] = clean(self.value)
        out["ci"] = None if self.ci is None else [clean(c) for c in self.ci]
        out["n_seeds"] = int(self.n_seeds)
        out["published"] = self.published or "none published"
        out["parts"] = [dict(p) for p in self.parts]
        return out

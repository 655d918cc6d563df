"""The verdict record of the claims ledger (CLAIMS.md, DESIGN.md "verdicts.json").

A verdict is decided by code from a measurement and a criterion written in the config before
the run; the helpers here only format it. ``supported`` agrees with the claim as stated,
``qualified`` holds only under conditions the documents do not state, ``refuted`` contradicts it.
"""

from __future__ import annotations

import dataclasses
import math

VERDICTS = ("supported", "qualified", "refuted")


@dataclasses.dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    statement: str
    criterion: str
    value: float | None
    ci: list[float] | None
    n_seeds: int
    evidence: str
    published: str | None = None

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    def to_json(self) -> dict:
        def clean(x):
            if x is None:
                return None
            x = float(x)
            return x if math.isfinite(x) else None

        out = dataclasses.asdict(self)
        out["value"] = clean(self.value)
        out["ci"] = None if self.ci is None else [clean(c) for c in self.ci]
        out["n_seeds"] = int(self.n_seeds)
        return out


def decide(holds: bool, qualified: bool = False) -> str:
    """``supported`` if the criterion holds; ``qualified`` if it holds only in part; else ``refuted``."""
    if holds:
        return "supported"
    return "qualified" if qualified else "refuted"

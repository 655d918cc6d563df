"""Claims as plug-ins: ``@claim(ID, reads=..., figure=...)`` and a ``Decision`` made of parts.

A claim function is a pure function of the experiment's tables and its config::

    @claim("A1", reads=("paired_differences",), figure=loss_curves)
    def a1(t, config):
        \"\"\"Depth without a nonlinearity is one linear layer (A1).\"\"\"
        row = t.paired_differences.iloc[0]
        p = compare("deep linear - one layer", row, config, "criteria.a1.equiv_tol", "<", unit="nats")
        return Decision([p], statement="...", criterion=f"CI < {config.criteria.a1.equiv_tol:g}")

The kit derives the claim's verdict from its parts (DECISIONS.md R2), takes the key number from
the deciding part (R5), allows ``inconclusive`` (R1), and checks that the evidence is one of the
run's tables or figures, that the criterion text quotes the config's thresholds and that the ID
is catalogued in ``configs/CLAIMS.md``. :func:`compare` decides a part on its interval (R3) and
remembers which config threshold it read, so the tests can move that threshold and watch the
part's verdict follow.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import ml_collections

from . import verdicts
from .registry import ROOT

SIDES = (">", ">=", "<", "<=")


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a claim (R2): its verdict, the number that decided it, and where it was measured."""

    part: str
    verdict: str
    value: float | None = None
    ci: tuple[float, float] | None = None
    n_seeds: int = 0
    unit: str = ""
    condition: str = ""
    threshold: str | None = None  # dotted config path of the threshold compared with (for the tests)
    side: str | None = None  # the claim's side of that threshold: one of SIDES

    def __post_init__(self):
        verdicts.check(self.verdict)
        if self.side is not None and self.side not in SIDES:
            raise ValueError(f"side must be one of {SIDES}, got {self.side!r}")

    def to_json(self) -> dict:
        ci = None if self.ci is None else [verdicts.clean(c) for c in self.ci]
        return {
            "part": self.part, "verdict": self.verdict, "value": verdicts.clean(self.value), "ci": ci,
            "n_seeds": int(self.n_seeds), "unit": self.unit, "condition": self.condition,
        }


def part(name: str, verdict: str, value=None, ci=None, n_seeds: int = 0, unit: str = "", condition: str = "", **kw) -> Part:
    """A :class:`Part` whose verdict was decided by the caller (``value``/``ci`` as plain numbers)."""
    ci = None if ci is None else (float(ci[0]), float(ci[1]))
    value = None if value is None else float(value)
    return Part(name, verdict, value, ci, int(n_seeds), unit, condition, **kw)


def lookup(config: ml_collections.ConfigDict, path: str):
    """The config value at a dotted ``path`` (``criteria.d1.bound``)."""
    node = config
    for key in path.split("."):
        node = node[key]
    return node


def on_interval(lo: float, hi: float, threshold: float, side: str, floor: float | None = None) -> str:
    """R3: the verdict of a CI [lo, hi] against ``threshold`` on the claim's ``side``.

    ``supported`` when the CI lies wholly on the claim's side, ``refuted`` when wholly on the other
    side, else ``inconclusive``. With ``floor`` (a middle band, e.g. H1's "faster but not much
    faster"), a CI wholly between ``floor`` and ``threshold`` is ``qualified`` and only a CI wholly
    beyond ``floor`` is refuted. A NaN bound is inconclusive.
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, got {side!r}")
    if math.isnan(lo) or math.isnan(hi):
        return "inconclusive"
    if side.startswith("<"):  # mirror onto ">"
        lo, hi, threshold = -hi, -lo, -threshold
        floor = None if floor is None else -floor
    strict = side in (">", "<")
    beyond = (lambda x, t: x > t) if strict else (lambda x, t: x >= t)
    if beyond(lo, threshold):
        return "supported"
    if floor is None:
        return "refuted" if not beyond(hi, threshold) else "inconclusive"
    if beyond(lo, floor):
        return "qualified"
    return "refuted" if not beyond(hi, floor) else "inconclusive"


def compare(name: str, estimate, config: ml_collections.ConfigDict, threshold: str, side: str, *, unit: str = "",
            condition: str = "", floor: str | None = None, value_key: str | None = None) -> Part:
    """A part decided on its interval (R3) against the config threshold at dotted path ``threshold``.

    ``estimate`` is a :class:`~experiments.kit.stats.Estimate`, or a table row (mapping) with the
    columns ``<m>``, ``<m>_lo``, ``<m>_hi`` and ``n_seeds`` (``value_key`` names ``<m>``).
    """
    value, lo, hi, n = _unpack(estimate, value_key)
    thr = float(lookup(config, threshold))
    flo = None if floor is None else float(lookup(config, floor))
    verdict = on_interval(lo, hi, thr, side, flo)
    return Part(name, verdict, value, (lo, hi), n, unit, condition, threshold, side)


def _unpack(estimate, value_key: str | None) -> tuple[float, float, float, int]:
    if hasattr(estimate, "mean") and hasattr(estimate, "lo"):
        return float(estimate.mean), float(estimate.lo), float(estimate.hi), int(estimate.n)
    if value_key is None:
        raise ValueError("compare() on a table row needs value_key (the column <m> of <m>, <m>_lo, <m>_hi)")
    row = estimate
    n = row.get("n_seeds", 0)
    return float(row[value_key]), float(row[f"{value_key}_lo"]), float(row[f"{value_key}_hi"]), int(n)


@dataclasses.dataclass
class Decision:
    """What a claim function returns: its parts, the statement and the criterion text.

    ``key`` names the deciding part (R5); by default the first part whose verdict is not
    ``supported`` (the one that kept the claim from being supported), else the first part.
    ``published`` defaults to ``config.published.<id>``; ``evidence`` to the claim's figure.
    """

    parts: Sequence[Part]
    statement: str
    criterion: str
    key: str | int | None = None
    published: str | None = None
    evidence: str | None = None

    def deciding_part(self) -> Part:
        parts = list(self.parts)
        if isinstance(self.key, int):
            return parts[self.key]
        if isinstance(self.key, str):
            named = [p for p in parts if p.part == self.key]
            if not named:
                raise ValueError(f"key {self.key!r} names no part; parts: {[p.part for p in parts]}")
            return named[0]
        return next((p for p in parts if p.verdict != "supported"), parts[0])


def catalogue() -> set[str]:
    """Claim IDs of ``configs/CLAIMS.md``."""
    from .ledger import claims

    return {cid for cid, _ in claims()}


class ClaimError(ValueError):
    """A claim that breaks the contract (a programming error, reported with the claim's ID)."""


def quotes(text: str, value) -> bool:
    """Whether ``text`` quotes the number ``value`` (as ``%g``, ``str`` or ``repr``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    forms = {f"{value:g}", str(value), repr(value)}
    if isinstance(value, float) and value.is_integer():
        forms.add(str(int(value)))
    return any(f in text for f in forms)


def _numeric_leaves(node, prefix: str):
    if isinstance(node, ml_collections.ConfigDict):
        for key, value in node.items():
            yield from _numeric_leaves(value, f"{prefix}.{key}")
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _numeric_leaves(value, f"{prefix}[{i}]")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix, node


@dataclasses.dataclass(frozen=True)
class Claim:
    """A registered claim: its ID, the function deciding it, what it reads and what it draws."""

    id: str
    fn: Callable[..., Decision]
    reads: tuple[str, ...]
    figures: tuple[Callable, ...]
    evidence: str | None
    criteria: tuple[str, ...] | None
    revised_by: str

    def __call__(self, t, config):
        return self.fn(t, config)

    def thresholds(self, config: ml_collections.ConfigDict) -> list[tuple[str, float]]:
        """(path, value) of every number the criterion text must quote."""
        paths = self.criteria
        if paths is None:
            default = f"criteria.{self.id.lower()}"
            try:
                lookup(config, default)
                paths = (default,)
            except (KeyError, AttributeError):
                paths = ()
        out = []
        for path in paths:
            out.extend(_numeric_leaves(lookup(config, path), path))
        return out

    def decide(self, t, config: ml_collections.ConfigDict, produced: set[str]) -> verdicts.Verdict:
        """Run the claim function and turn its Decision into a checked ``verdicts.json`` record."""
        decision = self.fn(t, config)
        if not isinstance(decision, Decision) or not decision.parts:
            raise ClaimError(f"{self.id}: a claim function returns a Decision with at least one part")
        missing = [f"{path} = {v:g}" for path, v in self.thresholds(config) if not quotes(decision.criterion, v)]
        if missing:
            raise ClaimError(f"{self.id}: the criterion text does not quote {', '.join(missing)}: {decision.criterion!r}")
        evidence = decision.evidence or self.evidence or (f"{self.figures[0].__name__}.png" if self.figures else None)
        if evidence is None and self.reads:
            evidence = f"{self.reads[0]}.csv"
        if evidence is None or evidence.rsplit(".", 1)[0] not in produced:
            raise ClaimError(f"{self.id}: evidence {evidence!r} is none of the run's tables or figures")
        key = decision.deciding_part()
        published = decision.published
        if published is None:
            published = config.get("published", {}).get(self.id.lower()) if "published" in config else None
        return verdicts.Verdict(
            claim=self.id,
            verdict=verdicts.aggregate([p.verdict for p in decision.parts]),
            statement=decision.statement,
            criterion=decision.criterion,
            value=key.value,
            ci=None if key.ci is None else list(key.ci),
            n_seeds=key.n_seeds,
            evidence=evidence,
            published=published,
            unit=key.unit,
            condition=key.condition,
            parts=tuple(p.to_json() for p in decision.parts),
            revised_by=self.revised_by,
        )


def claim(claim_id: str, *, reads: Sequence[str] = (), figure: Callable | Sequence[Callable] | None = None,
          evidence: str | None = None, criteria: Sequence[str] | None = None, revised_by: str = "") -> Callable[[Callable], Claim]:
    """Register a claim function (see the module docstring).

    ``reads``: the tables it decides from (the claim is skipped when a part of the run that makes
    them is not selected). ``figure``: function(s) ``(t, config) -> Figure``, each drawn once per
    run and saved as ``<function name>.png``. ``evidence``: the file named in the ledger (default:
    the first figure). ``criteria``: dotted config paths whose numbers the criterion must quote
    (default ``criteria.<id in lower case>`` when it exists). ``revised_by``: the rule of
    DECISIONS.md that changed the verdict from the previous ledger, shown in its "Revisions".
    """
    if claim_id not in _catalogue():
        raise ClaimError(f"claim {claim_id!r} is not catalogued in configs/CLAIMS.md")
    figures = () if figure is None else (tuple(figure) if isinstance(figure, (list, tuple)) else (figure,))

    def register(fn: Callable) -> Claim:
        return Claim(claim_id, fn, tuple(reads), figures, evidence, None if criteria is None else tuple(criteria), revised_by)

    return register


@functools.lru_cache(maxsize=1)
def _catalogue() -> frozenset[str]:
    return frozenset(catalogue()) if (ROOT / "configs" / "CLAIMS.md").exists() else frozenset()

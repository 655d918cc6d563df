"""``Experiment(name, measurements, claims)``: the loop every experiment shares (DESIGN.md).

``run(config)`` calls the measurements that ``config.parts`` selects (all of them when the config
has no ``parts``), in order, each adding named outputs to one :class:`Tables`; then it decides
every claim whose tables are there, draws each claim's figures once, and returns a
:class:`~experiments.kit.results.Result`. DataFrame outputs are the run's tables (written as CSV
and Markdown); other outputs (arrays, trained parameters) are artefacts that only figures and the
summary may read. Claims decide from tables alone, so :meth:`Experiment.redecide` can decide them
again from a committed results folder.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.figure
import ml_collections
import pandas as pd

from .claim import Claim
from .config import ConfigError
from .results import Result
from .verdicts import Verdict

Measurement = Callable[[ml_collections.ConfigDict, "Tables"], dict]


class Tables(dict):
    """Named outputs of the measurements, readable as attributes (``t.best_loss``)."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no table or artefact {name!r}; have: {', '.join(self)}") from None

    def frames(self) -> dict[str, pd.DataFrame]:
        """The DataFrames (the tables that are written); names starting with ``_`` stay private."""
        return {k: v for k, v in self.items() if isinstance(v, pd.DataFrame) and not k.startswith("_")}


def read_table(path: Path) -> pd.DataFrame:
    """A table as written by :mod:`experiments.kit.results` (pandas 3 parses floats exactly)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


@dataclasses.dataclass
class Experiment:
    """An experiment: its measurements (part name -> function), its claims, its summary and notes."""

    name: str
    measurements: dict[str, Measurement]
    claims: Sequence[Claim]
    summary: Callable[[Tables, ml_collections.ConfigDict], dict] | None = None
    notes: Callable[[Tables, ml_collections.ConfigDict], str] | None = None
    figures: Sequence[Callable] = ()  # figures no claim names
    # where the CLI writes when --workdir is not given (None: results/<name>); the scorecard's is per activation
    default_workdir: Callable[[ml_collections.ConfigDict], str | Path] | None = None

    def __post_init__(self):
        ids = [c.id for c in self.claims]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.name}: a claim is registered twice: {ids}")

    def selected(self, config: ml_collections.ConfigDict) -> list[str]:
        """The measurements ``config.parts`` selects (all when the config has no ``parts``)."""
        if "parts" not in config:
            return list(self.measurements)
        unknown = [p for p in config.parts if p not in self.measurements]
        if unknown:
            raise ConfigError(f"config.parts: unknown part(s) {unknown}; valid: {', '.join(self.measurements)}")
        return [p for p in self.measurements if p in tuple(config.parts)]

    def measure(self, config: ml_collections.ConfigDict) -> Tables:
        t = Tables()
        for name in self.selected(config):
            t.update(self.measurements[name](config, t))
        return t

    def active_claims(self, t: Tables) -> list[Claim]:
        return [c for c in self.claims if all(r in t for r in c.reads)]

    def draw(self, t: Tables, config: ml_collections.ConfigDict) -> dict[str, matplotlib.figure.Figure]:
        """Each figure of the active claims (and the experiment's own) once; a function may return
        None when it has nothing to show (no such figure is written)."""
        figures: dict[str, matplotlib.figure.Figure | None] = {}
        for fn in [f for c in self.active_claims(t) for f in c.figures] + list(self.figures):
            if fn.__name__ not in figures:
                figures[fn.__name__] = fn(t, config)
        return {name: fig for name, fig in figures.items() if fig is not None}

    def decide(self, t: Tables, config: ml_collections.ConfigDict, produced: set[str]) -> list[Verdict]:
        return [c.decide(t, config, produced) for c in self.active_claims(t)]

    def run(self, config: ml_collections.ConfigDict) -> Result:
        """Measure, draw, decide; the Result that ``kit.results.write`` turns into files."""
        t = self.measure(config)
        figures = self.draw(t, config)
        tables = t.frames()
        verdict_list = self.decide(t, config, set(tables) | set(figures))
        summary = self.summary(t, config) if self.summary else {}
        notes = self.notes(t, config) if self.notes else ""
        return Result(name=self.name, tables=tables, figures=figures, verdicts=verdict_list, summary=summary, notes=notes)

    def redecide(self, folder: str | Path) -> list[Verdict]:
        """Decide every claim again from a results folder's tables and ``config.json`` (no training)."""
        folder = Path(folder)
        config = ml_collections.ConfigDict(json.loads((folder / "config.json").read_text()))
        t = Tables({p.stem: read_table(p) for p in sorted(folder.glob("*.csv"))})
        produced = {p.stem for p in folder.iterdir() if p.suffix in (".csv", ".png")}
        return self.decide(t, config, produced)

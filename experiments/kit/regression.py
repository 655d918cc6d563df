"""Regression: a fresh run's numbers against committed ones, within the tolerances stated beside them.

Two comparisons, one rule. ``tests/references/<name>.json`` holds a smoke run: the verdict of
every claim, every number of ``Result.summary`` and every table; ``make test`` compares the smoke
runs with it (:func:`compare`). ``scripts/regression --default`` runs each default preset afresh
and compares its folder with the committed ``results/<name>/`` (:func:`compare_folders`): every
verdict and part verdict, every summary number, every cell of every CSV, and ``config.json``.

Tolerance policy: a number passes when ``|now - ref| <= abs + rel * |ref|``, with
:data:`DEFAULT_TOLERANCE`, what float rounding needs on the same kind of machine (reruns on
one machine are byte-identical; float32 rounding across machines stays near 1e-6 relative in
runs that are not chaotic). A value may state its own tolerance beside it, ``{"value": v, "abs":
a, "rel": r, "why": "..."}`` (and the reference's ``"default"`` section states them for the
default comparison, by ``table.column`` / ``summary.key`` pattern); a stated tolerance without a
``why`` (the blanket 5% + 1e-3 that earlier ``--update`` runs wrote beside every value) is not
one, and the default applies. Wall-clock timings (:data:`TIMED`) are not compared, their
verdicts are. A changed claim verdict always fails; so does a changed part verdict, except that
a part decided on a wall clock (:data:`TIMED_PARTS`) may move to or from ``inconclusive`` (its CI
straddles the threshold within the machine's timing noise: measured, cost's H2 step shares move
by +-0.05 between reruns on one idle machine), never between ``supported`` and ``refuted``.

Machines: a reference records the machine it was made on (:func:`machine`: CPU family, model
and feature flags, jaxlib; XLA's CPU code generation follows them). On that kind of machine
every rule above holds as stated. On another, the reference's ``across_machines`` section (the
same ``pattern -> {"skip" | "abs"/"rel", "why"}`` entries; ``<table>.*`` with ``skip`` drops the
whole table, its row count included) applies on top: the numbers of trained nets that are
chaotic at smoke size (measured: vanishing's BatchNorm depth sweep moves by 1/768 in accuracy,
and the lr search's argmax with it, between two x86-64 hosts) are stated there with why; their
verdicts are compared everywhere.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import math
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from .registry import ROOT
from .results import Result, to_jsonable

REFERENCES = ROOT / "tests" / "references"
DEFAULT_TOLERANCE = {"abs": 1e-6, "rel": 1e-4}
# Columns / summary keys of wall-clock timings and what is derived from them, per experiment.
TIMED = {"cost": ("*_ms", "*_ms_*", "*_s", "*seconds*", "*per_s*", "*ratio*", "*overhead*", "*share*", "*_q25", "*_q75",
                  "*_iqr", "*_lo", "*_hi", "*ns_per_elem*")}
# Parts (``claim/part`` patterns) decided on wall-clock timings: see the module docstring.
TIMED_PARTS = {"cost": ("H2/*",)}


def path(name: str) -> Path:
    return REFERENCES / f"{name}.json"


def load(name: str) -> dict | None:
    p = path(name)
    return json.loads(p.read_text()) if p.exists() else None


@functools.cache
def machine() -> str:
    """This machine as XLA's CPU code generation sees it: architecture, CPU vendor, family/model,
    a hash of the feature flags, jaxlib's version (e.g. ``x86_64 GenuineIntel 6/167 flags:1a2b3c4d jaxlib 0.10.2``)."""
    import jaxlib

    try:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
    except OSError:
        cpuinfo = ""
    return machine_of(cpuinfo, platform.machine(), jaxlib.__version__)


def machine_of(cpuinfo: str, arch: str, jaxlib_version: str) -> str:
    """:func:`machine` from the text of ``/proc/cpuinfo`` (its first processor; flags in any order)."""
    info: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            break  # the first processor's block is enough
        info.setdefault(key.strip(), value.strip())
    flags = hashlib.sha256(" ".join(sorted(info.get("flags", "").split())).encode()).hexdigest()[:8]
    cpu = f"{info.get('vendor_id', platform.processor() or '?')} {info.get('cpu family', '?')}/{info.get('model', '?')}"
    return f"{arch} {cpu} flags:{flags} jaxlib {jaxlib_version}"


def _across(reference: dict, where: str | None) -> dict:
    """The overrides that apply on machine ``where`` (default: this one): none on the reference's own."""
    here = machine() if where is None else where
    return {} if reference.get("machine") == here else reference.get("across_machines", {})


def tolerance(entry: dict | None) -> tuple[float, float]:
    """``(abs, rel)`` of a reference entry: its own when it states why, else the default."""
    entry = entry or {}
    if entry.get("why") and ("abs" in entry or "rel" in entry):
        return float(entry.get("abs", DEFAULT_TOLERANCE["abs"])), float(entry.get("rel", DEFAULT_TOLERANCE["rel"]))
    return DEFAULT_TOLERANCE["abs"], DEFAULT_TOLERANCE["rel"]


def _close(now, want, tol: tuple[float, float]) -> bool:
    now_f = float("nan") if now is None else float(now)
    want_f = float("nan") if want is None else float(want)
    if not math.isfinite(want_f) or not math.isfinite(now_f):
        return (math.isnan(want_f) and math.isnan(now_f)) or now_f == want_f
    return abs(now_f - want_f) <= tol[0] + tol[1] * abs(want_f)


def _timed(name: str, key: str) -> bool:
    leaf = key.rsplit(".", 1)[-1].rsplit("/", 1)[0]
    return any(fnmatch.fnmatchcase(leaf, p) for p in TIMED.get(name, ()))


def _stated(overrides: dict, key: str) -> dict | None:
    found = [p for p in overrides if fnmatch.fnmatchcase(key, p)]
    return overrides[max(found, key=len)] if found else None


def _rule(name: str, key: str, entry: dict | None, overrides: dict | None) -> tuple[float, float] | None:
    """The tolerance for ``key`` (``table.column`` or ``summary.key``); None: not compared (timings, a stated skip)."""
    stated = entry if entry and entry.get("why") else _stated(overrides or {}, key)
    if _timed(name, key) or (stated or {}).get("skip") or (entry or {}).get("skip"):
        return None
    return tolerance(stated)


def _timing_noise(name: str, key: str, now: str | None, want: str) -> bool:
    """A wall-clock part (:data:`TIMED_PARTS`) moving to or from inconclusive: timing noise, not a flip."""
    timed = "/" in key and any(fnmatch.fnmatchcase(key, p) for p in TIMED_PARTS.get(name, ()))
    return timed and now is not None and "inconclusive" in (now, want)


def compare_verdicts(now: dict, want: dict, where: str = "", name: str = "") -> list[str]:
    """Claim -> verdict (and ``claim/part`` -> verdict) maps that must agree (exactly, but for timing noise)."""
    return [f"{where}verdict {claim} flipped: reference {verdict}, now {now.get(claim)}"
            for claim, verdict in want.items() if now.get(claim) != verdict and not _timing_noise(name, claim, now.get(claim), verdict)]


def compare_numbers(name: str, now: dict, want: dict, overrides: dict | None = None, label: str = "summary") -> list[str]:
    """Every key of ``want`` (numbers, or reference entries ``{"value": ...}``) present in ``now`` and close."""
    problems = []
    for key, ref in want.items():
        entry = ref if isinstance(ref, dict) else {"value": ref}
        full = f"{label}.{key}"
        tol = _rule(name, full, entry, overrides)
        if tol is None:
            continue
        if key not in now:
            problems.append(f"{full}: missing now")
            continue
        if not _close(now[key], entry["value"], tol):
            problems.append(f"{full}: {now[key]!r} vs reference {entry['value']!r} (tolerance {tol[0]:g} + {tol[1]:g}*|ref|)")
    return problems


def table_records(df: pd.DataFrame) -> dict:
    """A table as JSON: its columns and rows (what references store and compare); missing cells are None.

    One object array, not pandas' ``astype(object).where(...)``: the same records, 8x faster
    (median 0.35 ms vs 2.9 ms a table), and the regression tests compare thousands of tables."""
    cells = df.to_numpy(dtype=object, copy=True)
    cells[pd.isna(cells)] = None
    return {"columns": [str(c) for c in df.columns], "rows": to_jsonable(cells.tolist())}


def compare_table(name: str, table: str, now: pd.DataFrame, want: dict, overrides: dict | None = None) -> list[str]:
    """One table against its reference records: same columns and rows; text equal; numbers close."""
    columns = [str(c) for c in now.columns]
    if columns != want["columns"]:
        return [f"{table}: columns {columns} vs reference {want['columns']}"]
    rows = table_records(now)["rows"]
    if len(rows) != len(want["rows"]):
        return [f"{table}: {len(rows)} rows vs reference {len(want['rows'])}"]
    if rows == want["rows"]:  # equal cells pass every rule below; the cell-by-cell loop is for the rest
        return []
    problems = []
    for col_index, column in enumerate(columns):
        key = f"{table}.{column}"
        tol = _rule(name, key, None, overrides)
        if tol is None:
            continue
        for row_index, (a, b) in enumerate(zip((r[col_index] for r in rows), (r[col_index] for r in want["rows"]), strict=True)):
            numeric = all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in (a, b))
            if not (_close(a, b, tol) if numeric else a == b):
                problems.append(f"{key}[row {row_index}]: {a!r} vs reference {b!r}")
                break  # one line per column
    return problems


def compare(result: Result, reference: dict, where: str | None = None) -> list[str]:
    """Problems of a smoke ``result`` against its reference: flipped verdicts, numbers and tables. Empty = pass.

    ``where``: the machine the result was made on (default: this one, :func:`machine`)."""
    name = reference.get("experiment", result.name)
    across = _across(reference, where)
    problems = compare_verdicts({v.claim: v.verdict for v in result.verdicts}, reference.get("verdicts", {}), name=name)
    problems += compare_numbers(name, result.summary, reference.get("values", {}), across)
    for table, want in reference.get("tables", {}).items():
        if (across.get(f"{table}.*") or {}).get("skip"):
            continue
        if table not in result.tables:
            problems.append(f"{table}: table missing now")
            continue
        problems += compare_table(name, table, result.tables[table], want, {**reference.get("table_tolerances", {}), **across})
    return problems


def _verdict_map(folder: Path) -> dict:
    out = {}
    for record in json.loads((folder / "verdicts.json").read_text()):
        out[record["claim"]] = record["verdict"]
        for part in record.get("parts", []):
            out[f"{record['claim']}/{part['part']}"] = part["verdict"]
    return out


def compare_folders(name: str, fresh: Path, committed: Path, overrides: dict | None = None) -> list[str]:
    """A fresh run's results folder against the committed one (``scripts/regression --default``)."""
    from .experiment import read_table

    overrides = overrides or {}
    problems = compare_verdicts(_verdict_map(fresh), _verdict_map(committed), name=name)
    if json.loads((fresh / "config.json").read_text()) != json.loads((committed / "config.json").read_text()):
        problems.append("config.json differs: the committed results were made with another config")
    problems += compare_numbers(name, json.loads((fresh / "summary.json").read_text()),
                                json.loads((committed / "summary.json").read_text()), overrides)
    for csv in sorted(committed.glob("*.csv")):
        if not (fresh / csv.name).exists():
            problems.append(f"{csv.stem}: table missing now")
            continue
        want = table_records(read_table(csv))
        problems += compare_table(name, csv.stem, read_table(fresh / csv.name), want, overrides)
    return problems


def update(name: str, result: Result) -> Path:
    """Write the reference for ``name`` from ``result``: verdicts, summary numbers, every table;
    the machine it is made on; tolerances stated with a ``why``, the ``across_machines`` and
    ``default`` sections are kept."""
    old = load(name) or {}
    values = {}
    for key, value in result.summary.items():
        stated = old.get("values", {}).get(key, {})
        keep = {k: stated[k] for k in ("abs", "rel", "why") if k in stated} if stated.get("why") else {}
        values[key] = {"value": to_jsonable(value), **keep}
    ref = {
        "experiment": name,
        "preset": "smoke",
        "note": "regression.DEFAULT_TOLERANCE applies unless an entry states abs/rel with a why; a changed verdict fails",
        "verdicts": {v.claim: v.verdict for v in result.verdicts},
        "values": values,
        "tables": {table: table_records(df) for table, df in result.tables.items()},
        "machine": machine(),
        **{k: old[k] for k in ("table_tolerances", "across_machines", "default") if k in old},
    }
    REFERENCES.mkdir(parents=True, exist_ok=True)
    target = path(name)
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(ref, indent=1, allow_nan=False, default=_json_default) + "\n")
    tmp.replace(target)
    return target


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON: {type(obj).__name__}")

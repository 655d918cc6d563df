"""The claims ledger: CLAIMS.md's catalogue joined with every experiment's ``verdicts.json``.

``configs/CLAIMS.md`` is the project's copy of the specification (a test keeps it equal to the
shared one). :func:`build` writes ``results/REPORT.md``: one row per claim ID, in the catalogue's
order, with the number that decided it (DECISIONS.md R5: value, CI, unit, condition), its parts'
verdicts, the published number (R11) and the module that decides it; then a "Revisions" section
listing every claim whose verdict differs from the previous ledger (``results/ledger_previous.json``)
with the rule that changed it; then "Paper presets": each experiment's ``paper`` run
(``results/paper/<name>/``, written there by default) beside its default verdicts, or why it was
not run. Only folders of registered experiments are read.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from .registry import ROOT

CLAIM_ROW = re.compile(r"^\|\s*([A-H]\d+)\s*\|\s*(.+?)\s*\|")
PREVIOUS = "ledger_previous.json"
PAPER = "paper"  # results/paper/<name>/: an experiment's paper preset (kit.cli's default workdir for it)


class LedgerError(ValueError):
    """A results folder the ledger cannot read (one line, naming the file)."""


def claims(path: Path = ROOT / "configs" / "CLAIMS.md") -> list[tuple[str, str]]:
    """(ID, claim text) in catalogue order."""
    out = []
    for line in path.read_text().splitlines():
        m = CLAIM_ROW.match(line)
        if m and m.group(1) != "ID":
            out.append((m.group(1), m.group(2)))
    return out


def _experiment_names() -> set[str]:
    from .registry import names

    return set(names())


def _paper_runtime(name: str) -> str:
    """The config's stated runtime of its paper preset (``PAPER_RUNTIME``), or that it has none."""
    from .config import _config_module

    module = _config_module(ROOT / "configs" / f"{name}.py")
    try:
        default, paper = (module.get_config(p).to_dict() for p in ("default", "paper"))
    except Exception:  # noqa: BLE001 (a broken config is reported in the table, not raised)
        return "config unreadable"
    default.pop("preset", None), paper.pop("preset", None)
    if default == paper:
        return "no paper preset"
    return getattr(module, "PAPER_RUNTIME", f"runtime stated in `configs/{name}.py`")


def _paper_section(results_dir: Path) -> str:
    """Paper-preset verdicts beside the default ones, or each experiment's reason for none."""
    paper = verdicts(results_dir / PAPER)
    default = verdicts(results_dir)
    run = sorted({r["experiment"] for records in paper.values() for r in records})
    head = ("## Paper presets\n\nRuns at the published settings (`scripts/reproduce --preset paper NAME`, written to "
            "`results/paper/<name>/`), beside the default verdicts.\n\n")
    rows = ["| claim | default | paper | paper key number [95% CI] | evidence |", "|---|---|---|---|---|"]
    for cid, records in sorted(paper.items()):
        for r in records:
            before = "; ".join(d["verdict"] for d in default.get(cid, []) if d["experiment"] == r["experiment"]) or "-"
            rows.append(f"| {cid} | {before} | **{r['verdict']}** | {_number(r)} | "
                        f"[paper/{r['experiment']}/{r['evidence']}](paper/{r['experiment']}/{r['evidence']}) |")
    table = "\n".join(rows) + "\n\n" if run else ""
    others = [f"- `{name}`: run; {_paper_run(results_dir / PAPER / name)}" for name in run]
    for name in sorted(set(_experiment_names()) - set(run)):
        runtime = _paper_runtime(name)
        others.append(f"- `{name}`: " + (runtime if runtime == "no paper preset" else f"not run here; {_one_line(runtime, 400)}"))
    return head + table + ("\n".join(others) + "\n" if others else "")


def _paper_run(folder: Path) -> str:
    """How a committed paper run was made, from its manifest: wall time and code commit."""
    try:
        m = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return "no manifest.json (runtime unknown)"
    commit = str(m.get("git_commit") or "?")
    commit = commit[:7] + (" with uncommitted changes" if commit.endswith("+dirty") else "")
    return (f"{m.get('wall_s', float('nan')):.0f} s wall, code at git {commit} "
            f"(`paper/{folder.name}/manifest.json`)")


def verdicts(results_dir: Path = ROOT / "results") -> dict[str, list[dict]]:
    """claim ID -> verdict records (each with its experiment folder added), experiments' folders only."""
    found: dict[str, list[dict]] = {}
    known = _experiment_names()
    for file in sorted(results_dir.glob("*/verdicts.json")):
        if file.parent.name not in known:
            continue
        try:
            records = json.loads(file.read_text())
            if not isinstance(records, list):
                raise TypeError("not a list of verdicts")
            for record in records:
                found.setdefault(record["claim"], []).append({**record, "experiment": file.parent.name})
        except (ValueError, KeyError, TypeError, OSError) as err:
            raise LedgerError(f"cannot read {file}: {err}; rerun that experiment or remove the folder") from None
    return found


def _one_line(text: str, limit: int = 110) -> str:
    text = re.sub(r"\s+", " ", text or "").replace("|", "/")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(record: dict, with_context: bool = True) -> str:
    if record.get("value") is None:
        return "—"
    ci = record.get("ci")
    ci_text = f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci and None not in ci else ""
    unit = f" {record['unit']}" if record.get("unit") else ""
    text = f"{record['value']:.4g}{ci_text}{unit} (n={record.get('n_seeds', '')})"
    if with_context and record.get("condition"):
        text += f"; {_one_line(record['condition'], 80)}"
    return text


def _parts_cell(record: dict) -> str:
    counts = Counter(p["verdict"] for p in record.get("parts", []))
    order = ("supported", "qualified", "refuted", "inconclusive")
    return ", ".join(f"{counts[v]} {v}" for v in order if counts[v]) or "—"


def previous(results_dir: Path = ROOT / "results") -> dict[str, dict]:
    """claim ID -> the previous ledger's record (verdict, value, ci)."""
    file = results_dir / PREVIOUS
    if not file.exists():
        return {}
    try:
        return json.loads(file.read_text())["verdicts"]
    except (ValueError, KeyError) as err:
        raise LedgerError(f"cannot read {file}: {err}") from None


def revisions(results_dir: Path = ROOT / "results") -> list[dict]:
    """Claims whose verdict differs from the previous ledger, with the rule that changed each."""
    before, now = previous(results_dir), verdicts(results_dir)
    out = []
    for cid, _ in claims():
        if cid not in before or cid not in now:
            continue
        for r in now[cid]:
            if r["verdict"] != before[cid]["verdict"]:
                out.append({"claim": cid, "before": before[cid]["verdict"], "now": r["verdict"],
                            "rule": r.get("revised_by") or "not stated", "experiment": r["experiment"]})
    return out


def _revisions_section(results_dir: Path) -> str:
    rows = revisions(results_dir)
    head = "## Revisions\n\nVerdicts that differ from the previous ledger (`results/ledger_previous.json`), and the rule that changed each.\n\n"
    if not rows:
        return head + "No verdict differs from the previous ledger.\n"
    table = ["| claim | before | now | rule that changed it |", "|---|---|---|---|"]
    table += [f"| {r['claim']} | {r['before']} | **{r['now']}** | {_one_line(r['rule'], 200)} |" for r in rows]
    return head + "\n".join(table) + "\n"


def report(results_dir: Path = ROOT / "results") -> str:
    """The text of ``results/REPORT.md``."""
    found = verdicts(results_dir)
    rows = [
        "| ID | claim | verdict | parts | key number [95% CI] (unit; condition) | published | decided in | evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    counts: Counter = Counter()
    for cid, text in claims():
        records = found.get(cid, [])
        if not records:
            rows.append(f"| {cid} | {_one_line(text)} | not yet measured |  |  |  |  |  |")
            counts["not yet measured"] += 1
            continue
        many = len(records) > 1
        verdict = "; ".join(f"**{r['verdict']}**" + (f" ({r['experiment']})" if many else "") for r in records)
        counts.update(r["verdict"] for r in records)
        parts = "; ".join(_parts_cell(r) for r in records)
        number = "; ".join(_number(r) for r in records)
        published = "; ".join(_one_line(r.get("published") or "none published", 160) for r in records)
        where = "; ".join(f"`experiments/{r['experiment']}/claims.py`" for r in records)
        evidence = "; ".join(f"[{r['experiment']}/{r['evidence']}]({r['experiment']}/{r['evidence']})" for r in records)
        rows.append(f"| {cid} | {_one_line(text)} | {verdict} | {parts} | {number} | {published} | {where} | {evidence} |")
    statements = []
    for cid, _ in claims():
        for r in found.get(cid, []):
            parts = "; ".join(f"{p['part']}: {p['verdict']}" for p in r.get("parts", []))
            statements.append(
                f"- **{cid}** ({r['experiment']}, {r['verdict']}): {_one_line(r['statement'], 600)} "
                f"*Parts:* {_one_line(parts, 600)}. *Criterion:* {_one_line(r['criterion'], 400)}"
            )
    tally = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
    return (
        "# The claims ledger\n\n"
        "Generated by `scripts/report` from `results/*/verdicts.json` and `configs/CLAIMS.md`; do not edit.\n"
        "Each verdict is decided by code against a criterion written in the experiment's config before the run, "
        "part by part (decision rules revision 2, `DECISIONS.md`); the key number is the deciding part's.\n\n"
        f"Tally: {tally}.\n\n" + "\n".join(rows) + "\n\n" + _revisions_section(results_dir)
        + "\n" + _paper_section(results_dir) + "\n## What each verdict says\n\n" + "\n".join(statements) + "\n"
    )


def summary(results_dir: Path = ROOT / "results") -> str:
    """A short Markdown summary for the README: the tally and one line per claim, with its published number (R11)."""
    found = verdicts(results_dir)
    lines, counts = [], Counter()
    for cid, text in claims():
        records = found.get(cid, [])
        counts.update(r["verdict"] for r in records)
        verdict = ", ".join(sorted({r["verdict"] for r in records})) or "not yet measured"
        number = _number(records[0], with_context=False) if records else ""
        published = "; ".join(_one_line(r.get("published") or "none published", 90) for r in records)
        lines.append(f"| {cid} | {_one_line(text, 80)} | {verdict} | {number} | {published} |")
    if not found:
        counts["not yet measured"] = len(lines)
    tally = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    head = ["| ID | claim | verdict | key number [95% CI] | published (R11; in full in results/REPORT.md) |", "|---|---|---|---|---|"]
    return f"Verdicts: {tally}.\n\n" + "\n".join(head + lines) + "\n"


def _atomic_write(target: Path, text: str) -> None:
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(target)


def rebase(results_dir: Path = ROOT / "results", note: str = "") -> Path:
    """Make the current verdicts the previous ledger that later revisions are listed against."""
    out = {cid: {"verdict": r[0]["verdict"], "value": r[0].get("value"), "ci": r[0].get("ci"), "experiment": r[0]["experiment"]}
           for cid, r in verdicts(results_dir).items()}
    target = results_dir / PREVIOUS
    _atomic_write(target, json.dumps({"note": note, "rules": "revision 2", "verdicts": out}, indent=2) + "\n")
    return target


def build(results_dir: Path = ROOT / "results", readme: Path | None = ROOT / "README.md") -> Path:
    """Write ``results/REPORT.md`` (and the README's ledger section) atomically."""
    text, short = report(results_dir), summary(results_dir)  # both read before anything is written
    target = results_dir / "REPORT.md"
    _atomic_write(target, text)
    if readme is not None and readme.exists():
        content = readme.read_text()
        start, end = "<!-- ledger:start -->", "<!-- ledger:end -->"
        if start in content and end in content:
            head, rest = content.split(start, 1)
            _, tail = rest.split(end, 1)
            _atomic_write(readme, f"{head}{start}\n{short}{end}{tail}")
    return target

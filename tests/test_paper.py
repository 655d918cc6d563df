"""Paper presets: their runs go to results/paper/<name>/ (never over the default results) and the
ledger lists them beside the default verdicts, or states why an experiment's paper run is absent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from experiments.kit import cli, ledger, registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("preset, expected", [("paper", ROOT / "results" / "paper" / "dead_relu"),
                                              ("default", ROOT / "results" / "dead_relu"),
                                              ("smoke", ROOT / "results" / "dead_relu")])
def test_paper_preset_writes_beside_not_over_the_default(preset, expected):
    experiment = registry.experiment("dead_relu")
    _, workdir, _, _ = cli.parse(experiment, ["prog", "--config", f"configs/dead_relu.py:{preset}"])
    assert Path(workdir) == expected


def test_an_explicit_workdir_wins_for_the_paper_preset(tmp_path):
    experiment = registry.experiment("dead_relu")
    _, workdir, _, _ = cli.parse(experiment, ["prog", "--config", "configs/dead_relu.py:paper", "--workdir", str(tmp_path / "x")])
    assert Path(workdir) == tmp_path / "x"


def test_ledger_lists_paper_runs_beside_the_default(tmp_path):
    for folder in (tmp_path / "dead_relu", tmp_path / "paper" / "dead_relu"):
        folder.mkdir(parents=True)
        shutil.copy(ROOT / "results" / "dead_relu" / "verdicts.json", folder / "verdicts.json")
    records = json.loads((tmp_path / "paper" / "dead_relu" / "verdicts.json").read_text())
    records[0]["verdict"] = "inconclusive"  # a paper run that decides otherwise must show as such
    (tmp_path / "paper" / "dead_relu" / "verdicts.json").write_text(json.dumps(records))
    section = ledger._paper_section(tmp_path)
    first = records[0]
    row = next(line for line in section.splitlines() if line.startswith(f"| {first['claim']} |"))
    default = json.loads((ROOT / "results" / "dead_relu" / "verdicts.json").read_text())[0]["verdict"]
    assert row.split("|")[2].strip() == default and row.split("|")[3].strip() == "**inconclusive**"
    assert f"paper/dead_relu/{first['evidence']}" in row
    assert "- `dead_relu`: run; no manifest.json" in section  # run: how it was made, not an estimate
    assert "- `dead_relu`: not run" not in section
    (tmp_path / "paper" / "dead_relu" / "manifest.json").write_text(json.dumps({"wall_s": 12.4, "git_commit": "abcdef0123+dirty"}))
    assert "- `dead_relu`: run; 12 s wall, code at git abcdef0 with uncommitted changes" in ledger._paper_section(tmp_path)
    assert "- `cost`: no paper preset" in section  # cost has no paper preset
    assert "- `initialization`: not run here; ~4 h" in section  # its config's PAPER_RUNTIME
    assert "## Paper presets" in ledger.report(tmp_path)

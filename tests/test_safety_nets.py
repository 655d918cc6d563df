"""Tests that each fail on a defect issue 17 (item 7) named: the regression comparison and the results swap."""

from __future__ import annotations

import copy
import os
import platform
from pathlib import Path
from types import SimpleNamespace

import jaxlib
import pandas as pd
import pytest

from experiments.kit import regression, results

NAMES = sorted(p.stem for p in regression.REFERENCES.glob("*.json"))


def _as_result(reference: dict) -> results.Result:
    """A Result holding exactly the reference's verdicts, summary numbers and tables."""
    tables = {name: pd.DataFrame(t["rows"], columns=t["columns"]) for name, t in reference.get("tables", {}).items()}
    summary = {k: (v["value"] if isinstance(v, dict) else v) for k, v in reference.get("values", {}).items()}
    verdicts = [SimpleNamespace(claim=c, verdict=v) for c, v in reference.get("verdicts", {}).items()]
    return results.Result(reference.get("experiment"), tables, {}, verdicts, summary)


@pytest.mark.parametrize("name", NAMES)
def test_compare_catches_a_ten_percent_change_of_any_summary_number(name):
    reference = regression.load(name)
    assert regression.compare(_as_result(reference), reference, reference.get("machine")) == []
    for key, entry in reference["values"].items():
        value = entry["value"] if isinstance(entry, dict) else entry
        full = f"summary.{key}"
        if not isinstance(value, (int, float)) or isinstance(value, bool) or abs(value) < 1e-4:
            continue
        if regression._rule(name, full, entry if isinstance(entry, dict) else None, None) is None:
            continue  # a wall-clock timing (kit.regression.TIMED), compared by verdict only
        changed = copy.deepcopy(reference)
        changed["values"][key] = {**entry, "value": value * 1.1} if isinstance(entry, dict) else value * 1.1
        assert regression.compare(_as_result(changed), reference, reference.get("machine")), f"{name}: {key} +10% passed"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "cost"])
def test_compare_catches_a_doubled_step_count_and_a_ten_percent_cell(name):
    reference = regression.load(name)
    caught = 0
    for table, t in reference["tables"].items():
        for j, column in enumerate(t["columns"]):
            cells = [(i, r[j]) for i, r in enumerate(t["rows"]) if isinstance(r[j], (int, float)) and not isinstance(r[j], bool)
                     and abs(r[j]) > 1e-3]
            if not cells:
                continue
            i, v = cells[0]
            factor = 2.0 if "step" in column else 1.1
            changed = copy.deepcopy(reference)
            changed["tables"][table]["rows"][i][j] = v * factor
            problems = regression.compare(_as_result(changed), reference, reference.get("machine"))
            assert any(p.startswith(f"{table}.{column}[row {i}]") for p in problems), (table, column, factor)
            caught += 1
    assert caught, f"{name}: no numeric table cell to perturb"


def test_default_tolerance_is_what_float_rounding_needs():
    assert regression.DEFAULT_TOLERANCE["rel"] <= 1e-4 and regression.DEFAULT_TOLERANCE["abs"] <= 1e-6
    assert regression.tolerance({"value": 1.0, "abs": 1e-3, "rel": 0.05}) == (1e-6, 1e-4)  # no why: the default
    assert regression.tolerance({"value": 1.0, "abs": 1e-3, "rel": 0.05, "why": "timing"}) == (1e-3, 0.05)


def test_a_failing_second_rename_keeps_the_previous_results(tmp_path, monkeypatch):
    """The two-rename swap (no atomic exchange): target -> backup succeeds, staging -> target fails;
    the previous results must be back in place, and the next write must still work."""
    target, staging = tmp_path / "exp", tmp_path / "staging"
    target.mkdir()
    (target / "verdicts.json").write_text("old")
    staging.mkdir()
    (staging / "verdicts.json").write_text("new")
    monkeypatch.setattr(results, "_exchange", lambda a, b: False)
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append((str(src), str(dst)))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(results.os, "replace", replace)
    with pytest.raises(OSError):
        results._swap_in(staging, target)
    assert len(calls) == 3 and calls[0][0] == str(target) and calls[2][1] == str(target)  # the third puts the backup back
    monkeypatch.setattr(results.os, "replace", real)
    assert (target / "verdicts.json").read_text() == "old"
    results._clean_leftovers(target)  # the next start: the old results survive
    assert (target / "verdicts.json").read_text() == "old"
    results._swap_in(staging, target)
    assert (target / "verdicts.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]


def test_a_wall_clock_part_may_move_through_inconclusive_only():
    """cost's H2 step shares are wall-clock CIs near their 10% line: refuted <-> inconclusive is timing
    noise; supported <-> refuted, a changed claim verdict, or the same move in a part not decided on a
    clock all fail."""
    want = {"H2": "qualified", "H2/tanh in a whole MLP step": "refuted", "H2/sigmoid alone, forward": "supported"}
    noisy = {**want, "H2/tanh in a whole MLP step": "inconclusive"}
    assert regression.compare_verdicts(noisy, want, name="cost") == []
    assert regression.compare_verdicts(want, noisy, name="cost") == []
    assert regression.compare_verdicts({**want, "H2/sigmoid alone, forward": "refuted"}, want, name="cost")
    assert regression.compare_verdicts({**noisy, "H2": "refuted"}, want, name="cost")
    assert regression.compare_verdicts({k: v for k, v in want.items() if "MLP" not in k}, want, name="cost")
    assert regression.compare_verdicts(noisy, want, name="zigzag")
    assert regression.compare_verdicts(noisy, want)


def test_across_machines_skips_only_what_the_reference_states_and_never_a_verdict():
    reference = regression.load("vanishing")
    own, other = reference["machine"], "x86_64 OtherVendor 25/17 flags:00000000 jaxlib 0.10.2"
    assert own and reference["across_machines"] and all(e.get("why") for e in reference["across_machines"].values())
    changed = copy.deepcopy(reference)
    sweep = changed["tables"]["depth_sweep"]
    sweep["rows"][0][sweep["columns"].index("train_acc")] += 0.01
    changed["tables"]["depth_sweep_lr"]["rows"].pop()  # the lr search extended its grid differently
    changed["values"]["d6_acc/relu/bn=True"]["value"] += 0.01
    assert len(regression.compare(_as_result(changed), reference, own)) == 3  # strict on the reference's machine
    assert regression.compare(_as_result(changed), reference, other) == []  # chaotic cells, stated with why
    profile = changed["tables"]["profile_summary"]
    j = next(j for j, r in enumerate(profile["rows"][0]) if isinstance(r, float) and abs(r) > 1e-3)
    profile["rows"][0][j] *= 1.1
    changed["verdicts"]["D6"] = "supported" if reference["verdicts"]["D6"] != "supported" else "refuted"
    problems = regression.compare(_as_result(changed), reference, other)
    assert any(p.startswith("profile_summary.") for p in problems) and any("verdict D6 flipped" in p for p in problems)


def test_machine_names_what_code_generation_depends_on():
    cpu = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 167\nflags\t\t: fma avx2 avx512f\n\nprocessor\t: 1\n"
    here = regression.machine_of(cpu, "x86_64", "0.10.2")
    assert here.startswith("x86_64 GenuineIntel 6/167 flags:") and here.endswith("jaxlib 0.10.2")
    assert regression.machine_of(cpu.replace("fma avx2 avx512f", "avx512f fma avx2"), "x86_64", "0.10.2") == here
    assert regression.machine_of(cpu.replace(" avx512f", ""), "x86_64", "0.10.2") != here  # no AVX-512: another machine
    assert regression.machine_of(cpu.replace("167", "143"), "x86_64", "0.10.2") != here
    assert regression.machine_of(cpu, "x86_64", "0.11.0") != here
    assert regression.machine() == regression.machine_of(Path("/proc/cpuinfo").read_text(), platform.machine(), jaxlib.__version__)

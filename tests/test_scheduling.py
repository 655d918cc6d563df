"""The xdist work groups of tests/conftest.py: tests that share a computation run on one worker."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import HEAVIEST_FIRST, work_group

from experiments.kit import registry

TESTS = Path(__file__).resolve().parent


def test_every_experiment_and_shared_computation_is_a_group():
    assert set(HEAVIEST_FIRST) == {*registry.names(), "scorecard"}
    assert len(HEAVIEST_FIRST) == len(set(HEAVIEST_FIRST))


def test_groups_follow_the_file_then_the_parameter():
    assert work_group("tests/test_zigzag.py::test_anything") == "zigzag"
    assert work_group("tests/test_claims.py::test_smoke_verdicts_keep_the_contract[cost]") == "cost"
    assert work_group("tests/test_scaleout.py::test_runs_spread_over_the_devices") == "dead_relu"  # it reads dead_relu's smoke run
    assert work_group("tests/test_scorecard.py::test_x[a-b]") == "scorecard"
    assert work_group("tests/test_kit.py::test_y[relu]") == "tests/test_kit.py::test_y[relu]"  # a group of its own


def _smoke_literals(fn: ast.FunctionDef) -> set[str]:
    """Experiment names a test passes as literals to ``smoke(...)``, ``smoke.compiles(...)`` or ``smoke.stderr(...)``."""
    names = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "smoke") or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                                                                  and f.value.id == "smoke"):
                names.add(node.args[0].value)
    return names


def test_a_test_reading_a_smoke_run_is_in_that_experiments_group():
    """Else its worker could wait, idle, for the other worker's smoke run of the same preset."""
    checked = 0
    for path in sorted(TESTS.glob("test_*.py")):
        for fn in ast.parse(path.read_text()).body:
            if isinstance(fn, ast.FunctionDef) and fn.name.startswith("test_"):
                for name in _smoke_literals(fn):
                    assert work_group(f"tests/{path.name}::{fn.name}") == name, (path.name, fn.name, name)
                    checked += 1
    assert checked >= 20

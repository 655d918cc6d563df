"""Code a newcomer can live in (issue "One verdict contract"): small modules, short functions.

Every module under experiments/ has at most 300 lines; every function outside the measurement
modules (``measure*.py``, where jitted programs live) at most 60 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted((ROOT / "experiments").rglob("*.py"))
MAX_MODULE, MAX_FUNCTION = 300, 60


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_small(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_MODULE, f"{path.relative_to(ROOT)} has {lines} lines (at most {MAX_MODULE})"


@pytest.mark.parametrize("path", [p for p in MODULES if not p.name.startswith("measure")], ids=lambda p: str(p.relative_to(ROOT)))
def test_functions_are_short(path):
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION
    ]
    assert not long, f"{path.relative_to(ROOT)}: {', '.join(long)} over {MAX_FUNCTION} lines"

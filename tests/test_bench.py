"""scripts/bench (issue 16): cold and warm runs of a smoke preset, the PyTorch peer's row, bad input.

The suite part runs one smoke preset twice (cold: an empty cache; warm: the cache it filled) at
XLA optimisation level 0; the headline's rendering and the peer's detection are checked with a
stand-in interpreter and peer script (the project never depends on torch).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.kit import fastcompile

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scripts" / "bench"
FAST = "convexity"  # the quickest smoke preset (about 9 s cold on 2 cores)


@pytest.fixture(scope="module")
def bench():
    """The script's functions (loaded, not run)."""
    return runpy.run_path(str(BENCH), run_name="bench")


def _bench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLA_FLAGS": f"{os.environ.get('XLA_FLAGS', '')} {fastcompile.FLAG}".strip()}
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def _rows(text: str, name: str) -> dict[str, dict[str, str]]:
    """{run: {column: cell}} of ``name``'s rows in the experiments table."""
    lines = [line for line in text.splitlines() if line.startswith("| experiment | run |")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith(f"| {name} |") and len(cells) == len(head):
            out[cells[1]] = dict(zip(head, cells))
    return out


def test_suite_part_runs_cold_then_warm_and_the_warm_run_loads_from_the_cache(tmp_path):
    out = tmp_path / "BENCH.md"
    proc = _bench("--parts", "suite", "--preset", "smoke", "--names", FAST, "--output", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"wrote {out}"  # progress on stderr, the result line on stdout
    assert f"{FAST} cold:" in proc.stderr and f"{FAST} warm:" in proc.stderr
    text = out.read_text()
    rows = _rows(text, FAST)
    assert set(rows) == {"cold", "warm"}
    cold, warm = rows["cold"], rows["warm"]
    assert cold["status"] == warm["status"] == "ok"
    assert int(cold["cache hits"]) == 0 and int(cold["compiles"]) > 0
    assert 0 < int(warm["cache hits"]) <= int(warm["compiles"])
    assert cold["warnings"] == warm["warnings"] == "0", text  # no stray RuntimeWarnings (issue 16, item 3)
    assert re.search(r"^Whole suite, cold \(1 experiments\): process \d+ s", text, re.MULTILINE)
    assert re.search(r"^Whole suite, warm \(1 experiments\): .* [1-9]\d* cache hits", text, re.MULTILINE)
    assert "Float32 matmul peak" not in text and "### Headline" not in text  # parts not asked for


def _in_process(monkeypatch, *args: str) -> tuple[int, list[str]]:
    """Run the script in this process (JAX already imported): exit status and stderr lines."""
    monkeypatch.setattr(sys, "argv", [str(BENCH), *args])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            runpy.run_path(str(BENCH), run_name="__main__")
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return code, err.getvalue().strip().splitlines()


def test_from_results_reads_the_committed_manifests(monkeypatch, tmp_path):
    out = tmp_path / "BENCH.md"
    code, lines = _in_process(monkeypatch, "--from-results", "--parts", "suite", "--names", FAST, "--output", str(out))
    assert code == 0, lines
    rows = _rows(out.read_text(), FAST)
    assert set(rows) == {"committed"} and rows["committed"]["process s"] == "-"


def _executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_peer_is_skipped_with_a_note_where_torch_cannot_be_imported(bench, tmp_path):
    python, note = bench["torch_interpreter"](_executable(tmp_path / "python", "#!/bin/sh\nexit 1\n"))
    assert python is None and "not importable" in note
    fake = _executable(tmp_path / "fakepython", "#!/bin/sh\necho 9.9-test\n")
    assert bench["torch_interpreter"](fake) == (fake, "torch 9.9-test")
    ours = {"status": "ok", "process_s": 12.0, "wall_s": 10.0, "compile_s": 5.0, "n_compiles": 9, "n_cache_hits": 0,
            "execute_s": 4.0, "warnings": [], "error": ""}
    h = {"ours": [ours], "peer": [], "note": note, "env": {"WIDTH": "128"}, "n_nets": 540}
    text = "\n".join(bench["headline_lines"](h))
    assert "PyTorch peer skipped" in text and "Ours / PyTorch" not in text


def test_peer_gets_the_profile_s_work_and_the_ratio_is_of_process_times(bench, tmp_path):
    peer = tmp_path / "peer.py"
    peer.write_text("import os\nprint(f\"torch gradient profile: 1.5 s for {int(os.environ['SEEDS']) * 54} nets\")\n")
    env = bench["peer_env"]({"depth": 50, "width": 128, "batch_size": 64, "seeds": 10})
    assert env == {"DEPTH": "50", "WIDTH": "128", "BATCH": "64", "SEEDS": "10"}
    row = bench["run_peer"](sys.executable, peer, env, 60)
    assert row["status"] == "ok" and row["loop_s"] == 1.5 and row["nets"] == 540
    ours = {"status": "ok", "process_s": 3 * row["process_s"], "warnings": [], "error": ""}
    h = {"ours": [ours], "peer": [row], "note": "torch 9.9", "env": env, "n_nets": 540}
    text = "\n".join(bench["headline_lines"](h))
    assert "= 3.00x** " in text and "not met" in text and "nets, not" not in text


@pytest.mark.parametrize("args, expected", [
    (["--torch-python", "/nonexistent/python"], "torch-python"),
    (["--parts", "nosuch"], "nosuch"),
    (["--headline-repeats", "0"], "headline-repeats"),
])
def test_bad_arguments_are_one_line_and_exit_2(args, expected, monkeypatch, tmp_path):
    code, lines = _in_process(monkeypatch, *args, "--output", str(tmp_path / "BENCH.md"))
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
    assert not (tmp_path / "BENCH.md").exists()


def test_warnings_on_stderr_are_counted_and_a_failure_names_its_last_line(bench):
    code = "import sys, warnings; warnings.warn('empty', RuntimeWarning); print('done'); sys.exit(int(sys.argv[1]))"
    ok = bench["run_process"]([sys.executable, "-c", code, "0"], {}, 60)
    assert ok["status"] == "ok" and ok["stdout"] == "done\n" and ok["error"] == ""
    assert len(ok["warnings"]) == 1 and "RuntimeWarning: empty" in ok["warnings"][0]
    failed = bench["run_process"]([sys.executable, "-c", code, "3"], {}, 60)
    assert failed["status"] == "exit 3" and "RuntimeWarning" in failed["error"]

"""Shared fixtures: each experiment's smoke preset is run once per test session.

A smoke run happens in a fresh process (so that its compile count is exact: issue 16's pins) and
its Result is handed over as a pickle in the session's shared temporary folder, under a file lock:
with ``pytest -n 2`` (what ``make test`` runs) the two workers share every smoke run, and the
first worker that needs one computes it while the other goes on with other tests.
"""

from __future__ import annotations

from experiments.kit import fastcompile

fastcompile.enable()  # before JAX is imported: smoke runs are compile-bound

import fcntl
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from experiments.kit import perf

perf.enable_compile_cache()  # the project's persistent cache; SUITE_COMPILE_CACHE=off disables it

ROOT = Path(__file__).resolve().parents[1]

# Run in the fresh process: the smoke preset, its Result and compile count pickled atomically.
SMOKE_RUN = r"""
import os, pickle, sys
from experiments.kit import fastcompile
fastcompile.enable()
from experiments.kit import config, perf, registry
perf.enable_compile_cache()
name, out = sys.argv[1], sys.argv[2]
result = registry.module(name).run(config.validate(registry.config(name, "smoke")))
with open(out + ".part", "wb") as f:
    pickle.dump({"result": result, "compiles": perf.compile_count()}, f)
os.replace(out + ".part", out)
"""


class SmokeRuns:
    """``smoke(name) -> Result`` of the smoke preset; ``.compiles(name)``, ``.stderr(name)`` of its process."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._records: dict[str, dict] = {}

    def _record(self, name: str) -> dict:
        if name not in self._records:
            out = self.folder / f"{name}.pickle"
            with open(self.folder / f"{name}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # the other worker may be running this one
                if not out.exists():
                    proc = subprocess.run([sys.executable, "-W", "always::RuntimeWarning", "-c", SMOKE_RUN, name, str(out)],
                                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                                          text=True, timeout=900, check=False)
                    assert proc.returncode == 0, f"smoke run of {name} failed:\n{proc.stderr[-3000:]}"
                    (self.folder / f"{name}.stderr").write_text(proc.stderr)
            with out.open("rb") as f:
                record = pickle.load(f)
            record["stderr"] = (self.folder / f"{name}.stderr").read_text()
            self._records[name] = record
        return self._records[name]

    def __call__(self, name: str):
        return self._record(name)["result"]

    def compiles(self, name: str) -> int:
        """Programs the smoke run built in its fresh process (compiled or loaded from the cache)."""
        return self._record(name)["compiles"]

    def stderr(self, name: str) -> str:
        return self._record(name)["stderr"]


@pytest.fixture(scope="session")
def smoke(request, tmp_path_factory) -> SmokeRuns:
    """The session's smoke runs, shared by every xdist worker of this run."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if hasattr(request.config, "workerinput") else base
    folder = shared / "smoke-runs"
    folder.mkdir(exist_ok=True)
    return SmokeRuns(folder)

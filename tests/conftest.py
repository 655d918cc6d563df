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


def shared_folder(request, tmp_path_factory, name: str) -> Path:
    """``name`` in the temporary folder that every xdist worker of this run shares."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if hasattr(request.config, "workerinput") else base) / name
    folder.mkdir(exist_ok=True)
    return folder


def computed_once(request, tmp_path_factory, name: str, compute):
    """``compute(folder)`` once per test session, whichever xdist worker asks first; the others wait
    for it and read its pickled value (xdist's own ``--dist loadgroup`` cannot group tests under
    pytest 9.2). A failed computation is retried by the next worker that asks."""
    folder = shared_folder(request, tmp_path_factory, "computed-once")
    out = folder / f"{name}.pickle"
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not out.exists():
            work = folder / name
            work.mkdir(exist_ok=True)
            value = compute(work)
            with open(f"{out}.part", "wb") as f:
                pickle.dump(value, f)
            os.replace(f"{out}.part", out)
    with out.open("rb") as f:
        return pickle.load(f)


# Scheduling (``pytest -n 2``): the tests that share one computation form a work group that runs
# on one xdist worker, so that no worker waits on a lock while the other computes what both need
# (measured before: the scorecard's card and the scale-out drivers each kept a worker idle for
# 34-38 s). A group is an experiment (its smoke run: tests/test_<name>.py and every test
# parametrized with its name), the scorecard's card or the scale-out drivers (which also read
# dead_relu's smoke run); any other test is a group of its own. The heaviest groups start first
# (longest first, as measured cold on 2 cores), so that neither worker is left with a long tail.
HEAVIEST_FIRST = ("dead_relu", "scorecard", "vanishing", "initialization", "zigzag", "derivatives", "cost",
                  "linear_collapse", "convergence", "convexity")
_GROUP_OF_FILE = {"scaleout": "dead_relu"}


def work_group(nodeid: str) -> str:
    """The work group of a test, from its node id alone (what xdist's controller sees)."""
    path, _, test = nodeid.partition("::")
    stem = Path(path).stem.removeprefix("test_")
    param = test[test.index("[") + 1 : -1] if test.endswith("]") else ""
    for candidate in (param, _GROUP_OF_FILE.get(stem, stem)):
        if candidate in HEAVIEST_FIRST:
            return candidate
    return nodeid


def pytest_collection_modifyitems(config, items) -> None:
    """Heaviest work groups first (a stable sort: within a group, the collection order)."""
    rank = {group: i for i, group in enumerate(HEAVIEST_FIRST)}
    items.sort(key=lambda item: rank.get(work_group(item.nodeid), len(rank)))


def pytest_xdist_make_scheduler(config, log):
    """xdist's load-scope scheduler over :func:`work_group`, in collection order."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkGroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_group(nodeid)

    config.option.loadscopereorder = False  # keep the heaviest-first order of the collection
    return WorkGroupScheduling(config, log)


@pytest.fixture(scope="session")
def smoke(request, tmp_path_factory) -> SmokeRuns:
    """The session's smoke runs, shared by every xdist worker of this run."""
    return SmokeRuns(shared_folder(request, tmp_path_factory, "smoke-runs"))


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """``run_cli(name, *flags)``: ``python -m experiments.<name> *flags`` in this process (JAX already
    imported: a rejection costs no interpreter start); ``.returncode`` and ``.stderr`` as of a
    subprocess. tests/test_bad_input.py keeps the fresh-process check of the same one-line contract."""
    from experiments.kit import cli, registry

    def run(name: str, *flags: str) -> subprocess.CompletedProcess:
        monkeypatch.chdir(ROOT)
        capsys.readouterr()
        try:
            cli.main(registry.experiment(name), [f"experiments.{name}", *flags])
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        out = capsys.readouterr()
        return subprocess.CompletedProcess([name, *flags], code, out.out, out.err)

    return run

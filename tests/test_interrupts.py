"""Interrupted runs (issue 17): Ctrl-C exits 130 in one line, SIGKILL never damages results.

Both run the real CLI (``cli.main``) on a stand-in experiment that needs no training, so that each
run takes a fraction of a second: a SIGINT arrives while XLA compiles a deliberately large
program, and SIGKILLs land at random instants of whole runs and inside the writing of results
(the staging files, the swap, the two-rename fallback). Each killed child is a ``fork`` of one
driver process that has imported JAX but started no backend, so no kill waits for an import.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """
from experiments.kit import config as kc
def get_config(preset=None):
    return kc.build({"preset": kc.preset_name(preset), "seeds": 2, "version": 0})
"""

# A stand-in experiment named like a registered one, so that the ledger reads its folder.
FAKE = r"""
import os, sys, time
sys.path.insert(0, os.environ["SUITE_ROOT"])
import numpy as np, pandas as pd
from experiments.kit import cli, results, verdicts

class Fake:
    name = "linear_collapse"
    measurements = {"only": None}
    default_workdir = None

    def selected(self, config):
        return ["only"]

    def run(self, config):
        version = int(os.environ.get("VERSION", "0"))
        time.sleep(float(os.environ.get("RUN_S", "0")))
        tables = {f"t{i}": pd.DataFrame({"version": [version] * 50, "x": np.arange(50) * (i + 1.5)}) for i in range(8)}
        v = verdicts.Verdict("A1", "supported", f"version {version}.", "c.", float(version), [0.0, 1.0], 2, "t0.csv")
        return results.Result("linear_collapse", tables, {}, [v], {"version": float(version)})
"""

SIGINT_CHILD = FAKE + r"""
import jax, jax.numpy as jnp

def program(x):
    for i in range(150):
        x = jnp.tanh(x @ jnp.full((16, 16), 0.01 * (i % 7 + 1)) + i * float(os.environ["SALT"]))
        x = jnp.sort(x, axis=0) if i % 5 == 0 else x
    return x.sum()

def run(self, config):
    open(os.environ["MARK"], "w").write("compiling")
    jax.jit(program).lower(jnp.ones((16, 16))).compile()
    open(os.environ["MARK"], "w").write("compiled")
    time.sleep(60)

Fake.run = run
cli.main(Fake(), ["x", "--config", os.environ["CONFIG"], "--workdir", os.environ["WORKDIR"]])
"""

# The driver: forks one child per run, kills most of them, reports what the folder held after each kill.
KILL_DRIVER = FAKE + r"""
import hashlib, json, random, signal
from pathlib import Path
from experiments.kit import ledger, manifest

manifest.build = lambda *a, **k: {"wall_s": 0.0, "preset": "smoke"}  # constant: runs of one version are byte-identical
root = os.environ["RESULTS"]
workdir = os.path.join(root, "linear_collapse")
argv = ["x", "--config", os.environ["CONFIG"], "--workdir", workdir]

def state():
    if not os.path.isdir(workdir):
        return None
    return {n: hashlib.sha256(open(os.path.join(workdir, n), "rb").read()).hexdigest() for n in sorted(os.listdir(workdir))}

def child(version, slow_write, fallback, phase_fd):
    os.environ["VERSION"] = str(version)
    tell = lambda what: os.write(phase_fd, what)
    real_table, real_swap = results.markdown_table, results._swap_in
    def table(df):
        tell(b"w")
        if slow_write:
            time.sleep(0.04)
        return real_table(df)
    def swap(staging, target):
        tell(b"s")
        return real_swap(staging, target)
    results.markdown_table, results._swap_in = table, swap
    if fallback:  # the two-rename path of systems without renameat2: pause between the renames
        results._exchange = lambda a, b: False
        real_replace = results.os.replace
        def paused(a, b):
            real_replace(a, b)
            time.sleep(0.3)
        results.os.replace = paused
    try:
        cli.main(Fake(), argv)
    except SystemExit as e:
        os._exit(e.code or 0)
    os._exit(0)

def run(version, kill_after=None, slow_write=False, fallback=False, phase=None):
    # one child; killed kill_after seconds after its start (or after it reaches phase)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        child(version, slow_write, fallback, write_fd)
    os.close(write_fd)
    if kill_after is not None:
        if phase is not None:
            while (got := os.read(read_fd, 1)) and got != phase:
                pass
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    return os.waitstatus_to_exitcode(status), time.monotonic() - start

rng = random.Random(17)
out = {}
out["code0"], _ = run(0)
out["v0"] = state()
out["code1"], whole_run = run(1, slow_write=True)
out["v1"] = state()
run(0)
kills = [("random", None, rng.uniform(0.0, whole_run), True, False) for _ in range(10)]
kills += [("writing", b"w", rng.uniform(0.0, 0.3), True, False) for _ in range(4)]
kills += [("between renames", b"s", 0.15, True, True)]
out["after"] = []
for kind, phase, delay, slow, fallback in kills:
    code, _ = run(1, kill_after=delay, slow_write=slow, fallback=fallback, phase=phase)
    seen = state()
    out["after"].append({"kind": kind, "delay": delay, "code": code, "state": seen,
                         "entries": sorted(os.listdir(root)), "a1_records": len(ledger.verdicts(Path(root)).get("A1", []))})
    if seen not in (out["v0"], out["v1"]):  # the next start puts a backup back
        results.check_workdir(workdir)
        out["after"][-1]["after_next_start"] = state()
    if state() == out["v1"]:
        run(0)  # back to version 0 for the next kill
out["final_code"], _ = run(1)
out["final_state"] = state()
out["final_entries"] = sorted(os.listdir(root))
print(json.dumps(out))
"""


def _env(tmp_path: Path, **extra) -> dict:
    (tmp_path / "config.py").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(SUITE_ROOT=str(ROOT), PYTHONPATH=str(ROOT), CONFIG=str(tmp_path / "config.py"), JAX_PLATFORMS="cpu",
               SUITE_COMPILE_CACHE="off", **extra)
    return env


def test_ctrl_c_during_compile_is_one_line_and_exit_130(tmp_path):
    workdir = tmp_path / "results" / "linear_collapse"
    workdir.mkdir(parents=True)
    (workdir / "manifest.json").write_text('{"previous": true}\n')
    mark = tmp_path / "mark"
    env = _env(tmp_path, WORKDIR=str(workdir), MARK=str(mark), SALT=f"{time.time() % 1:.6f}")
    proc = subprocess.Popen([sys.executable, "-c", SIGINT_CHILD], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not mark.exists():
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the child never reached its compile"
            time.sleep(0.05)
        time.sleep(0.3)
        phase = mark.read_text()
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err[-2000:]
    assert err.strip().splitlines() == [f"interrupted; previous results in {workdir} are intact"], err[-2000:]
    assert time.monotonic() - sent < 20, "Ctrl-C waited for the compile to finish"
    assert phase == "compiling" or phase == "compiled"
    assert [p.name for p in workdir.iterdir()] == ["manifest.json"]
    assert (workdir / "manifest.json").read_text() == '{"previous": true}\n'


def test_sigkills_leave_results_whole_and_no_staging(tmp_path):
    results_root = tmp_path / "results"
    results_root.mkdir()
    report = (ROOT / "results" / "REPORT.md").read_bytes()
    (results_root / "REPORT.md").write_bytes(report)
    env = _env(tmp_path, RESULTS=str(results_root))
    proc = subprocess.run([sys.executable, "-c", KILL_DRIVER], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["code0"] == out["code1"] == out["final_code"] == 0
    v0, v1 = out["v0"], out["v1"]
    assert v0 and v1 and v0 != v1 and set(v0) == set(v1)
    killed = [a for a in out["after"] if a["code"] == -signal.SIGKILL]
    assert len(killed) >= 12, textwrap.shorten(str(out["after"]), 500)  # most runs were still going when killed
    for after in out["after"]:
        if after["kind"] == "between renames":  # the folder is the hidden backup until the next start
            assert after.get("after_next_start", after["state"]) in (v0, v1), after
            continue
        assert after["state"] in (v0, v1), after  # the old folder or the new one, whole, at every instant
        assert after["a1_records"] == 1, after  # the ledger reads that one folder, never a staging one
        assert [e for e in after["entries"] if not e.startswith(".")] == ["REPORT.md", "linear_collapse"], after["entries"]
    assert all(a["state"] == v0 for a in out["after"] if a["kind"] == "writing")  # killed mid-write: as before
    assert out["final_state"] == v1
    assert out["final_entries"] == ["REPORT.md", "linear_collapse"]  # no staging folder, no backup
    assert (results_root / "REPORT.md").read_bytes() == report

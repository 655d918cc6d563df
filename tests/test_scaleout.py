"""Scale-out (DESIGN.md, "Sweeps"; issue 17 item 5): 1, 4 and 8 devices give the same tables.

Three processes with 1, 4 and 8 forced CPU devices (``--xla_force_host_platform_device_count``)
each run (a) a small ``train.train_population`` (8 seeds x 2 learning rates in chunks of 2 runs,
so that 8 devices hold one chunk each) and (b), at 4 and 8 devices, the smoke preset of dead_relu
(where 4 of 24 runs used to differ at 4 devices) through the CLI, into temporary workdirs with a
temporary compile cache, at ``SUITE_RUNS_PER_CHUNK=4``; its 1-device tables are the session's smoke
run (tests/conftest.py), written as the CLI writes them. Zigzag's smoke preset was compared too until its 13 per-device
compiles per program made this the slowest test of the suite; the small population keeps the case of
populations of a few runs spread over devices. Every CSV, ``summary.json`` and ``verdicts.json`` must be byte-identical across
the three, and the small population's metrics exactly equal: ``sharding.run_chunks`` gives every
device the same one-device program on chunks whose size depends on the run count only.

The runs must really spread: every chunked call runs on one device with its arguments there
(no SPMD partitioning), one call per device, and device k gets chunk k (8 devices) or chunks
2k, 2k + 1 (4 devices) of the small population. The multi-host path is tested on one machine:
two processes with 4 CPU devices each, joined by ``jax.distributed.initialize`` over localhost;
each process runs its 4 local devices' chunks and must return the numbers of the 1-device run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from experiments.kit import fastcompile

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("dead_relu",)
DEVICES = (1, 4, 8)
FAST = fastcompile.FLAG  # what tests/conftest.py sets: compile-bound smoke runs
# Small populations span devices at 4 runs per chunk (dead_relu chunks by its config.chunk, 8).
RUNS_PER_CHUNK = 4

# The small population, with a spy on perf.execute recording where every chunked call ran.
POPULATION = r"""
import json, sys
import jax
import numpy as np
from experiments.kit import data, models, perf, sharding, train

calls, inside = [], []
_execute, _run_chunks = perf.execute, sharding.run_chunks

def spy(fn, *args, **kw):
    out = _execute(fn, *args, **kw)
    if inside:  # a call of sharding.run_chunks
        leaves = jax.tree_util.tree_leaves(out)
        calls[-1]["calls"].append({"arg_devices": sorted({d.id for a in args for d in a.devices()}),
                      "out_devices": sorted({d.id for a in leaves for d in a.devices()}),
                      "run_shape": list(args[0].shape), "seeds": np.asarray(args[0]).tolist()})
    return out

def chunked(fn, run_arrays, *args, **kw):
    calls.append({"n": len(run_arrays[0]), "calls": []})
    inside.append(True)
    try:
        return _run_chunks(fn, run_arrays, *args, **kw)
    finally:
        inside.pop()

perf.execute, sharding.run_chunks = spy, chunked

def population():
    default, sharding.RUNS_PER_CHUNK = sharding.RUNS_PER_CHUNK, 2
    try:
        ds = data.load("gaussian", n_train=256, n_test=64)
        spec = train.TrainSpec(optimizer="momentum", steps=12, batch_size=16, log_every=4, n_eval=64)
        model = models.build("mlp", ds.n_classes, widths=(8, 8), activation="tanh")
        pop = train.train_population(model, ds, spec, seeds=range(8), learning_rates=(0.05, 0.2))
    finally:
        sharding.RUNS_PER_CHUNK = default
    return {"devices": jax.device_count(), "processes": jax.process_count(), "process": jax.process_index(),
            "local": sorted(d.id for d in jax.local_devices()), "all": [d.id for d in sorted(jax.devices(), key=lambda d: (d.process_index, d.id))],
            "metrics": {k: v.tolist() for k, v in pop.metrics.items()}, "diverged": pop.diverged.tolist(),
            "seed": pop.runs["seed"].tolist(), "calls": list(calls)}
"""

# One process per device count: the population, then each experiment's smoke preset via the CLI.
DRIVER = POPULATION + r"""
from experiments.kit import cli, registry
out, workdirs, cache = sys.argv[1], sys.argv[2], sys.argv[3]
record = {"population": population(), "experiments": {}}
for name in sys.argv[4:]:
    del calls[:]
    cli.main(registry.experiment(name), ["prog", "--config", f"configs/{name}.py:smoke", "--workdir", f"{workdirs}/{name}",
                                          "--compile_cache", cache])
    record["experiments"][name] = list(calls)
with open(out, "w") as f:
    json.dump(record, f)
"""

# Prepended in each process of the multi-process run: join the cluster before any JAX work.
CLUSTER = r"""
import sys
import jax
jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=int(sys.argv[2]), process_id=int(sys.argv[3]),
                           initialization_timeout=120)
"""


def _env(devices: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "SUITE_RUNS_PER_CHUNK", "SUITE_COMPILE_CACHE")}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu",  # forced host devices are CPU devices
               XLA_FLAGS=f"--xla_force_host_platform_device_count={devices} {FAST}", SUITE_RUNS_PER_CHUNK=str(RUNS_PER_CHUNK))
    return env


def _wait(procs: list, logs: list[Path], timeout: float) -> None:
    """Poll every process under one deadline; the first to fail is reported and the others killed.

    Output goes to files, so that no pipe can fill and block a process (inside a collective).
    """
    deadline = time.monotonic() + timeout
    try:
        while None in (codes := [p.poll() for p in procs]):
            failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
            assert not failed, f"process {failed[0]} failed:\n" + logs[failed[0]].read_text()[-3000:]
            assert time.monotonic() < deadline, f"runs exceeded {timeout:.0f} s"
            time.sleep(0.2)
        for p, log in zip(procs, logs, strict=True):
            assert p.returncode == 0, log.read_text()[-3000:]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory, smoke) -> dict:
    """{devices: record} of the three driver processes (run once per session, shared by the workers)."""
    from conftest import computed_once

    return computed_once(request, tmp_path_factory, "scaleout", lambda root: _drive(root, smoke))


def _drive(root: Path, smoke) -> dict:
    """Run the three driver processes side by side; workdirs under ``root``.

    One device is the session's smoke run (tests/conftest.py: one device, the same compile flags),
    written as the CLI writes it; that driver runs the small population only."""
    from experiments.kit import results

    procs, logs = [], []
    for d in DEVICES:
        (root / str(d)).mkdir()
        logs.append(root / f"log{d}")
        names = EXPERIMENTS if d > 1 else ()
        with logs[-1].open("w") as log:
            cmd = [sys.executable, "-c", DRIVER, str(root / f"out{d}.json"), str(root / str(d)), str(root / f"cache{d}"), *names]
            procs.append(subprocess.Popen(cmd, cwd=ROOT, env=_env(d), stdout=log, stderr=subprocess.STDOUT))
    for name in EXPERIMENTS:
        result = dataclasses.replace(smoke(name), figures={})  # the compared files: tables, summary, verdicts
        results.write(result, root / "1" / name, config_json={}, manifest={})
    _wait(procs, logs, timeout=900)
    return {"root": root, **{d: json.loads((root / f"out{d}.json").read_text()) for d in DEVICES}}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_table_is_identical_at_1_4_and_8_devices(runs, name):
    folders = {d: runs["root"] / str(d) / name for d in DEVICES}
    csvs = sorted(p.name for p in folders[1].glob("*.csv"))
    assert len(csvs) >= 3, csvs
    for d in DEVICES[1:]:
        assert sorted(p.name for p in folders[d].glob("*.csv")) == csvs, d
        for file in [*csvs, "summary.json", "verdicts.json"]:
            one, other = (folders[1] / file).read_bytes(), (folders[d] / file).read_bytes()
            assert other == one, f"{name}/{file} differs between 1 and {d} devices"
    assert all(len((folders[1] / f).read_text().splitlines()) > 1 for f in csvs)  # no empty table compared


def test_population_numbers_are_identical(runs):
    one = runs[1]["population"]
    assert one["seed"] == [s for s in range(8) for _ in range(2)]
    assert np.ptp(np.array(one["metrics"]["train_loss"])[:, -1]) > 1e-3  # the runs differ from each other
    for d in DEVICES:
        pop = runs[d]["population"]
        assert pop["devices"] == d and pop["diverged"] == one["diverged"]
        for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert np.array(pop["metrics"][name]).shape == (16, 4)
            assert pop["metrics"][name] == one["metrics"][name], (d, name)


def _spread(invocations: list[dict], devices: list[int], local: list[int] | None = None) -> None:
    """Every run_chunks call: chunk c (runs c*size ...) on device c mod D, its arguments and outputs
    there alone, every chunk run once (on a cluster: the chunks of this process's ``local`` devices)."""
    assert invocations
    for inv in invocations:
        size = inv["calls"][0]["run_shape"][0] if inv["calls"] else None
        chunks = -(-inv["n"] // size) if size else 0
        mine = [c for c in range(chunks) if devices[c % len(devices)] in (local or devices)]
        assert len(inv["calls"]) == len(mine), inv
        for call in inv["calls"]:
            assert len(call["arg_devices"]) == 1 and call["out_devices"] == call["arg_devices"], call
            assert call["run_shape"][0] == size
        used = sorted({call["arg_devices"][0] for call in inv["calls"]})
        assert used == sorted({devices[c % len(devices)] for c in mine}), (used, inv["n"], size)


def test_runs_spread_over_the_devices(runs):
    for d in DEVICES:
        pop = runs[d]["population"]
        _spread(pop["calls"], pop["all"])
        (inv,) = pop["calls"]
        assert inv["n"] == 16 and len(inv["calls"]) == 8  # 16 runs in chunks of 2
        for call in inv["calls"]:  # chunk c = seed c at both learning rates, on device c mod d
            c = call["seeds"][0]
            assert call["seeds"] == [c, c] and call["arg_devices"] == [pop["all"][c % d]], (d, call)
        assert sorted(call["seeds"][0] for call in inv["calls"]) == list(range(8))
    for d in DEVICES[1:]:  # the experiments' smoke runs (on one device: the session's smoke run)
        assert sorted(runs[d]["experiments"]) == sorted(EXPERIMENTS)
        for invocations in runs[d]["experiments"].values():
            _spread(invocations, runs[d]["population"]["all"])
            chunks = max(len(inv["calls"]) for inv in invocations)
            assert chunks >= 3 and len({c["arg_devices"][0] for inv in invocations for c in inv["calls"]}) == min(d, chunks)
        assert all(c["run_shape"] == [8] for inv in runs[d]["experiments"]["dead_relu"] for c in inv["calls"])  # config.chunk


def test_chunk_size_depends_on_the_run_count_only(monkeypatch):
    from experiments.kit import sharding

    monkeypatch.setattr(sharding, "RUNS_PER_CHUNK", 16)
    assert [sharding.chunk_size(n) for n in (1, 6, 16, 17, 24, 100)] == [1, 6, 16, 9, 12, 15]


def test_two_processes_give_the_numbers_of_one(runs):
    one = runs[1]["population"]
    address, env = f"127.0.0.1:{_free_port()}", _env(4)
    script = CLUSTER + POPULATION + "\nprint(json.dumps(population()))\n"
    with tempfile.TemporaryDirectory() as tmp:
        logs = [Path(tmp) / f"out{i}" for i in range(2)]
        procs = []
        for i, log in enumerate(logs):
            with log.open("w") as f, (Path(tmp) / f"err{i}").open("w") as err:
                procs.append(subprocess.Popen([sys.executable, "-c", script, address, "2", str(i)], cwd=ROOT, env=env,
                                              stdout=f, stderr=err))
        _wait(procs, [Path(tmp) / f"err{i}" for i in range(2)], timeout=600)
        cluster = [json.loads(log.read_text().strip().splitlines()[-1]) for log in logs]
    for out in cluster:
        assert out["processes"] == 2 and out["devices"] == 8 and len(out["local"]) == 4
        assert out["all"] == cluster[0]["all"]
        assert out["seed"] == one["seed"] and out["diverged"] == one["diverged"]
        for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
            assert out["metrics"][name] == one["metrics"][name], name
        _spread(out["calls"], out["all"], out["local"])  # this process ran its own 4 devices' chunks only
        assert len(out["calls"][0]["calls"]) == 4
    assert sorted(cluster[0]["local"] + cluster[1]["local"]) == sorted(cluster[0]["all"])

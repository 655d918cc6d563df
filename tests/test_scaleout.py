"""Scale-out (DESIGN.md, "Sweeps"): the run axis laid over 8 forced CPU devices gives the numbers of 1.

A small ``train.train_population`` (6 runs: 3 seeds x 2 learning rates, padded to 8) runs in a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=8`` and in another with one
device. Tolerance: every logged loss/accuracy within 1e-5 relative + 1e-6 absolute (float32; the
per-run arithmetic is the same, only where it runs differs). The 8-device run must really be
sharded: run-axis arguments split 1 run per device, data arrays whole on every device, and the
outputs split over the 8 devices.

The multi-host path is tested the same way on one machine: two processes with 4 CPU devices each,
joined by ``jax.distributed.initialize`` over localhost, form one 8-device mesh; each process must
get the numbers of the 1-device run (its results are gathered from both processes).
"""

from __future__ import annotations

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

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = r"""
import json, sys
import jax
import numpy as np
from experiments.kit import data, models, perf, train

seen = {}
_execute = perf.execute

def spy(fn, *args, **kw):
    out = _execute(fn, *args, **kw)
    def layout(a):
        return {"shape": list(a.shape), "devices": len(a.sharding.device_set),
                "replicated": bool(a.sharding.is_fully_replicated),
                "shard_rows": sorted({s.data.shape[0] if s.data.ndim else 0 for s in a.addressable_shards})}
    seen["args"] = [layout(a) for a in args]
    seen["outputs"] = [layout(a) for a in jax.tree_util.tree_leaves(out)]
    return out

train.perf.execute = spy
ds = data.load("gaussian", n_train=256, n_test=64)
spec = train.TrainSpec(optimizer="momentum", steps=12, batch_size=16, log_every=4, n_eval=64)
model = models.build("mlp", ds.n_classes, widths=(8, 8), activation="tanh")
pop = train.train_population(model, ds, spec, seeds=(0, 1, 2), learning_rates=(0.05, 0.2))
print(json.dumps({"devices": jax.device_count(), "processes": jax.process_count(), "metrics": {k: v.tolist() for k, v in pop.metrics.items()},
                  "diverged": pop.diverged.tolist(), "seed": pop.runs["seed"].tolist(), **seen}))
"""


def _run(devices: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["PYTHONPATH"] = str(ROOT)
    env["JAX_PLATFORMS"] = "cpu"  # forced host devices are CPU devices; a GPU host would ignore the flag
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    proc = subprocess.run([sys.executable, "-c", SCRIPT], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# Prepended to SCRIPT in each process of the multi-process run: join the cluster before any JAX work.
CLUSTER = r"""
import sys
import jax
jax.distributed.initialize(coordinator_address=sys.argv[1], num_processes=int(sys.argv[2]), process_id=int(sys.argv[3]),
                           initialization_timeout=120)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_cluster(processes: int, devices_each: int, timeout: float = 600.0) -> list[dict]:
    """SCRIPT in ``processes`` processes of ``devices_each`` CPU devices, one cluster over localhost.

    Output goes to files (no pipe can fill and block a process inside a collective); all processes
    are polled under one deadline, and the first to fail is reported while the others are killed.
    """
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices_each}")
    address = f"127.0.0.1:{_free_port()}"
    with tempfile.TemporaryDirectory() as tmp:
        logs = [(Path(tmp) / f"out{i}", Path(tmp) / f"err{i}") for i in range(processes)]
        procs = []
        for i, (out, err) in enumerate(logs):
            with out.open("w") as fo, err.open("w") as fe:
                procs.append(subprocess.Popen([sys.executable, "-c", CLUSTER + SCRIPT, address, str(processes), str(i)],
                                              cwd=ROOT, env=env, stdout=fo, stderr=fe, text=True))
        deadline = time.monotonic() + timeout
        try:
            while None in (codes := [p.poll() for p in procs]):
                failed = [i for i, code in enumerate(codes) if code not in (None, 0)]
                assert not failed, f"process {failed[0]} failed:\n" + logs[failed[0]][1].read_text()[-3000:]
                assert time.monotonic() < deadline, f"cluster run exceeded {timeout:.0f} s"
                time.sleep(0.2)
            for p, (_, err) in zip(procs, logs, strict=True):
                assert p.returncode == 0, err.read_text()[-3000:]
            return [json.loads(out.read_text().strip().splitlines()[-1]) for out, _ in logs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                p.wait()


@pytest.fixture(scope="module")
def both():
    return _run(1), _run(8)


def test_eight_devices_give_the_numbers_of_one(both):
    one, eight = both
    assert one["devices"] == 1 and eight["devices"] == 8
    assert one["seed"] == eight["seed"] == [0, 0, 1, 1, 2, 2]
    assert one["diverged"] == eight["diverged"]
    for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
        a, b = np.array(one["metrics"][name]), np.array(eight["metrics"][name])
        assert a.shape == b.shape == (6, 4)
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=name)
    # the runs differ from each other, so equality above is not trivially true
    assert np.ptp(np.array(one["metrics"]["train_loss"])[:, -1]) > 1e-3


def test_eight_devices_really_shard(both):
    _, eight = both
    runs_args, data_args = eight["args"][:4], eight["args"][4:]
    assert len(runs_args) == 4
    for a in runs_args:  # seeds, learning rates, weight scales, variants: 6 runs padded to 8, one per device
        assert a["shape"] == [8] and a["devices"] == 8 and not a["replicated"] and a["shard_rows"] == [1]
    assert len(data_args) == 6
    for a in data_args:  # x, y, eval and test sets: replicated, never split
        assert a["devices"] == 8 and a["replicated"] and a["shard_rows"] == [a["shape"][0]]
    for a in eight["outputs"]:  # every output keeps the run axis split over the devices
        assert a["shape"][0] == 8 and a["devices"] == 8 and not a["replicated"] and a["shard_rows"] == [1], a


def test_two_processes_give_the_numbers_of_one(both):
    one, _ = both
    cluster = _run_cluster(processes=2, devices_each=4)
    for out in cluster:
        assert out["processes"] == 2 and out["devices"] == 8
        assert out["seed"] == one["seed"] and out["diverged"] == one["diverged"]
        for name in ("train_loss", "train_acc", "test_loss", "test_acc"):
            np.testing.assert_allclose(np.array(out["metrics"][name]), np.array(one["metrics"][name]), rtol=1e-5, atol=1e-6,
                                       err_msg=name)
        for a in out["args"][:4]:  # each process holds 4 of the 8 run slots, one per local device
            assert a["shape"] == [8] and a["devices"] == 8 and a["shard_rows"] == [1]

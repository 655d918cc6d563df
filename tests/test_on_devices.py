"""Independent tasks over the devices and their threads (``ondevices.on_devices``, issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


ON_DEVICES = r"""
import json, threading, time
import jax, jax.numpy as jnp, numpy as np
from experiments.kit import ondevices, perf

fn = perf.jit(lambda s, x: jnp.tanh(x @ x.T * s).sum(0))
x = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
alone = [np.asarray(perf.execute(fn, np.float32(s), x)) for s in range(7)]
before = perf.compile_count()
where = []

def task(s):
    def run():
        where.append((s, ondevices._CURRENT.call.device.id, threading.get_ident()))
        time.sleep(0.05)  # long enough that every device's thread takes a task
        return ondevices.execute(fn, np.float32(s), x)
    return run

spread = ondevices.on_devices([task(s) for s in range(7)])
first = perf.compile_count() - before
again = ondevices.on_devices([task(s) for s in range(7)])

def fails():
    raise KeyError("task 3")

try:
    ondevices.on_devices([task(0), fails, task(1)])
    raised = None
except KeyError as err:
    raised = str(err)
print(json.dumps({"devices": jax.device_count(), "same": all(np.array_equal(a, b) for a, b in zip(alone, spread)),
                  "used": sorted({d for _, d, _ in where}), "threads": len({t for *_, t in where}),
                  "compiles": [first, perf.compile_count() - before - first],
                  "again": all(np.array_equal(a, b) for a, b in zip(alone, again)), "raised": raised}))
"""


def test_on_devices_spreads_tasks_and_gives_the_one_device_numbers():
    """Seven tasks over three forced devices: every device takes tasks, each in its own thread; the
    results come back in task order and equal, bit for bit, one-device calls of the same program;
    the program is compiled once for three devices (the others load its binary); a task's error is re-raised."""
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update({"XLA_FLAGS": "--xla_force_host_platform_device_count=3", "JAX_PLATFORMS": "cpu",
                "SUITE_COMPILE_CACHE": "off"})
    proc = subprocess.run([sys.executable, "-c", ON_DEVICES], cwd=ROOT, capture_output=True, text=True, env=env,
                          check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["devices"] == 3
    assert out["same"]
    assert out["used"] == [0, 1, 2] and out["threads"] >= 3
    # one compile for the devices' (committed) arguments, whose binary devices 1 and 2 load; none the second time
    assert out["compiles"] == [1, 0] and out["again"]
    assert out["raised"] == "'task 3'"


def test_on_devices_takes_the_heaviest_first_and_returns_in_task_order(monkeypatch):
    """One thread (one core): the tasks run heaviest first; the results still come back in task order,
    and ``execute`` outside a task runs on the default device."""
    from experiments.kit import ondevices

    monkeypatch.setattr(ondevices, "_cores", lambda: 1)
    ran = []
    tasks = [lambda k=k: ran.append(k) or k * 10 for k in range(4)]
    assert ondevices.on_devices(tasks, weights=[1.0, 3.0, 2.0, 0.5]) == [0, 10, 20, 30]
    assert ran == [1, 2, 0, 3]
    assert ondevices.on_devices(tasks) == [0, 10, 20, 30] and ran[4:] == [0, 1, 2, 3]
    assert getattr(ondevices._CURRENT, "call", None) is None

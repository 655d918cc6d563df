"""Independent tasks over the devices, a thread per core (issue 16): :func:`on_devices`.

XLA on CPU runs one program's small matmuls (the experiments' widths) on one core: measured on 2
cores, the default edge-of-chaos map takes the same time with Eigen's thread pool or without it,
and two threads calling it at once on one CPU device finish in 47 s instead of 60 s. Every call
is the same one-device program wherever it runs (on other devices, the first device's binary
loaded there, as in :func:`experiments.kit.sharding.run_chunks`), so results do not depend on
the device or thread count.
"""

from __future__ import annotations

import functools
import os
import threading
import weakref

import jax
import numpy as np

from .sharding import _on_device


class DeviceCaller:
    """``call(fn, *args, flops=None)``: :func:`perf.execute` of jitted ``fn`` on one device.

    Arguments are put on the device, committed (a JAX array once per device: a data set is copied
    once, not per call; one already there is committed to it, so that every device's arguments
    lower alike and share one compile). On any device but the first, ``fn`` is the executable
    compiled for the first device and loaded here (:func:`_on_device`), so every device runs the
    same one-device program and a call gives the same numbers wherever it runs."""

    def __init__(self, device, first):
        self.device, self.first = device, first
        self._copies: dict[int, tuple] = {}  # id(array) -> (weak ref to it, its copy here)

    def put(self, a):
        if not isinstance(a, jax.Array):
            return jax.device_put(np.asarray(a), self.device)
        hit = self._copies.get(id(a))
        if hit is None or hit[0]() is not a:
            hit = (weakref.ref(a), jax.device_put(a, self.device))
            self._copies[id(a)] = hit
            weakref.finalize(a, self._copies.pop, id(a), None)
        return hit[1]

    def compile_ahead(self, fn, *args) -> None:
        """Compile ``fn`` for arguments like ``args`` (arrays or ``jax.ShapeDtypeStruct``) as
        :meth:`__call__` will run it: on the first device (other devices load its binary)."""
        from . import perf

        sharding = jax.sharding.SingleDeviceSharding(self.first)
        perf.compiled(fn, *jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(np.shape(a), a.dtype, sharding=sharding), args))

    def __call__(self, fn, *args, flops: float | None = None):
        from . import perf

        args = jax.tree_util.tree_map(self.put, args)
        target = fn if self.device is self.first else _on_device(fn, self.first, self.device)
        return jax.tree_util.tree_map(np.asarray, perf.execute(target, *args, flops=flops))


_CURRENT = threading.local()


def execute(fn, *args, flops: float | None = None):
    """``perf.execute(fn, *args)`` on this thread's device: inside a task of :func:`on_devices`, its
    device's :class:`DeviceCaller` (numpy outputs); elsewhere the default device."""
    call = getattr(_CURRENT, "call", None)
    if call is None:
        from . import perf

        return perf.execute(fn, *args, flops=flops)
    return call(fn, *args, flops=flops)


def compile_ahead(fn, *args) -> None:
    """Compile jitted ``fn`` for arguments like ``args`` (arrays or ``jax.ShapeDtypeStruct``) now, for
    this thread's device as :func:`execute` will call it: a task of :func:`on_devices` can compile
    one program while another task runs (or compiles) another."""
    call = getattr(_CURRENT, "call", None)
    if call is None:
        from . import perf

        perf.compiled(fn, *args)
    else:
        call.compile_ahead(fn, *args)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def on_devices(tasks: list, weights: list | None = None) -> list:
    """``[task() for task in tasks]``, the tasks run concurrently over this process's devices.

    For independent work whose calls are not one vmapped population (an adaptive lr search, one
    program per activation). Each device has a thread per CPU core it has (one CPU device: one per
    core), taking the next task, heaviest ``weights`` first (else in list order); inside a task
    :func:`execute` runs on that thread's device. Every call is the same one-device program on
    whichever device runs it, so the results do not depend on the device or thread count or on
    which thread took which task. Results come back in task order; the first exception is re-raised.
    """
    devices = sorted(jax.local_devices(), key=lambda d: d.id)
    callers = [DeviceCaller(d, devices[0]) for d in devices[: max(1, min(len(devices), len(tasks)))]]
    callers = callers * max(1, _cores() // len(devices))  # a device runs a thread per core it has
    order = list(range(len(tasks))) if weights is None else sorted(range(len(tasks)), key=lambda i: -weights[i])
    done = _in_threads([functools.partial(_with_caller, task=tasks[i]) for i in order], callers)
    out = dict(zip(order, done))
    return [out[i] for i in range(len(tasks))]


def _in_threads(tasks: list, workers: list) -> list:
    """``[task(w) ...]``: one daemon thread per worker ``w``, each taking the next task in list order
    (one worker: this thread). Daemon threads, so that an interrupted run exits without waiting."""
    import queue

    if len(workers) == 1:
        return [task(workers[0]) for task in tasks]
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in enumerate(tasks):
        todo.put(item)
    out: dict = {}
    errors: list = []

    def worker(w) -> None:
        while not errors:
            try:
                i, task = todo.get_nowait()
            except queue.Empty:
                return
            try:
                out[i] = task(w)
            except Exception as err:  # noqa: BLE001 (re-raised in the caller's thread)
                errors.append(err)

    threads = [threading.Thread(target=worker, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [out[i] for i in range(len(tasks))]


def _with_caller(call: DeviceCaller, task):
    """``task()`` with ``call`` as this thread's device for :func:`execute`."""
    previous, _CURRENT.call = getattr(_CURRENT, "call", None), call
    try:
        return task()
    finally:
        _CURRENT.call = previous

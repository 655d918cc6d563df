"""Lay the flat run axis (seeds x swept scalars) over every device (DESIGN.md, "Sweeps").

One CPU, many forced CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``), a
GPU or a multi-host cluster: the same code, and the same numbers (issue 17).

Why chunks: XLA compiles a vmapped computation for the batch it is given, and its reductions
round differently for a batch of 1, 2 or 6 runs (a loss summed over a minibatch differs in the
last bit); chaotic training (ReLU at a high learning rate) turns that bit into a different
accuracy. Laying R runs over D devices by plain sharding hands each device R/D runs, so the
tables depended on the device count (issue 17: 4 of 24 dead_relu runs at 4 devices); and an
SPMD-partitioned program (``jax.jit`` over a mesh, ``shard_map``) is optimised differently from
a one-device one, which changes the last bits again (measured: dead_relu's losses in the 7th
digit). So :func:`run_chunks` cuts the run axis into chunks of :func:`chunk_size` runs (a
function of R alone, never of D) and runs chunk c on device c mod D, each call the same
one-device vmapped program on one chunk: the arithmetic of every run is then the same at 1, 4
or 8 devices (tests/test_scaleout.py compares every table). ``SUITE_RUNS_PER_CHUNK`` (default
16) caps the chunk; results are identical across device counts at one setting of it. The
program is compiled once, for the first device, and its binary loaded on the others (XLA would
otherwise compile it again per device). :func:`shard_runs` (plain sharding, padded to a
multiple of D) remains for code that vmaps by itself and needs no identity across D.
"""

from __future__ import annotations

import io
import os
import pickle
import weakref

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

RUNS_PER_CHUNK = int(os.environ.get("SUITE_RUNS_PER_CHUNK", "16"))


def mesh() -> Mesh:
    """A 1-D mesh named ``runs`` over all devices (all hosts)."""
    return Mesh(np.array(jax.devices()), ("runs",))


def _put(a: np.ndarray, spec: NamedSharding) -> jax.Array:
    """A global array from a host array that every process holds whole (one host or many)."""
    return jax.make_array_from_callback(a.shape, spec, lambda index: a[index])


def padded_length(n: int) -> int:
    d = jax.device_count()
    return -(-n // d) * d


def shard_runs(*arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Pad each array's first axis to a multiple of the device count and shard it over ``runs``."""
    if jax.device_count() == 1:
        return tuple(jax.numpy.asarray(a) for a in arrays)
    spec = NamedSharding(mesh(), PartitionSpec("runs"))
    out = []
    for a in arrays:
        a = np.asarray(a)
        pad = padded_length(len(a)) - len(a)
        if pad:
            a = np.concatenate([a, np.repeat(a[-1:], pad, axis=0)])
        out.append(_put(a, spec))
    return tuple(out)


def replicate(*arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Put each array whole on every device (the data a vmap broadcasts with ``in_axes=None``)."""
    if jax.device_count() == 1:
        return tuple(jax.numpy.asarray(a) for a in arrays)
    spec = NamedSharding(mesh(), PartitionSpec())
    return tuple(_put(np.asarray(a), spec) for a in arrays)


def to_host(a) -> np.ndarray:
    """A numpy copy of a (possibly sharded) array; on a multi-host cluster, gathered from every host."""
    if isinstance(a, jax.Array) and not a.is_fully_addressable:
        from jax.experimental import multihost_utils

        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return np.asarray(a)


def unpad(a: np.ndarray, n: int) -> np.ndarray:
    """Drop the padded runs."""
    return a[:n]


def chunk_size(n: int) -> int:
    """Runs per chunk for a population of ``n`` runs: as few chunks of at most :data:`RUNS_PER_CHUNK`
    as hold them, of equal size (the least padding); a function of ``n`` alone, never of the devices."""
    chunks = -(-max(n, 1) // max(RUNS_PER_CHUNK, 1))
    return -(-max(n, 1) // chunks)


def run_chunks(fn, run_arrays: tuple, shared: tuple, flops_per_run: float = 0.0, size: int | None = None):
    """``fn(*run_arrays, *shared)`` for jitted ``fn`` vmapped over the run axis, in chunks spread over all devices.

    The runs are cut into chunks of ``size`` runs (default :func:`chunk_size`; the last chunk
    padded by repeating the last run); chunk ``c`` runs on device ``c mod D`` (devices ordered by
    process, then id), one call of ``fn`` on one chunk at a time, so every chunk is the same
    one-device program at any device count (no SPMD partitioning: the partitioner rewrites
    arithmetic, e.g. Adam's divisions, differently from a one-device compile). The devices run
    concurrently, one thread each; on a cluster each process runs its own devices' chunks and the
    chunks are gathered. Returns numpy outputs with the flat run axis ``(n, ...)``.
    """
    from . import perf

    n = len(run_arrays[0])
    size = chunk_size(n) if size is None else size
    chunks = -(-n // size)
    cut = [np.concatenate([a, np.repeat(a[-1:], chunks * size - n, axis=0)]).reshape(chunks, size, *a.shape[1:])
           for a in map(np.asarray, run_arrays)]
    devices = sorted(jax.devices(), key=lambda d: (d.process_index, d.id))
    mine = {k: d for k, d in enumerate(devices[:chunks]) if d.process_index == jax.process_index()}
    first = next(iter(mine.values()), None)
    fns = {k: fn if d is first else _on_device(fn, first, d) for k, d in mine.items()}
    data = {k: [jax.device_put(np.asarray(a), d) for a in shared] for k, d in mine.items()}

    def args(c: int, k: int) -> list:
        return [jax.device_put(b[c], mine[k]) for b in cut] + data[k]

    for k in mine:  # the first device compiles, the others load its binary (perf caches both)
        perf.compiled(fns[k], *args(k, k))

    def one_device(k: int) -> dict:
        return {c: jax.tree_util.tree_map(np.asarray, perf.execute(fns[k], *args(c, k), flops=flops_per_run * size))
                for c in range(k, chunks, len(devices))}

    done: dict = {}
    if len(mine) == 1:
        done.update(one_device(next(iter(mine))))
    elif mine:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(mine)) as pool:
            for part in pool.map(one_device, mine):
                done.update(part)
    if jax.process_count() > 1:
        done = _gather(done, jax.eval_shape(fn, *(b[0] for b in cut), *shared), -(-chunks // len(devices)))
    return jax.tree_util.tree_map(lambda *xs: np.concatenate(xs)[:n], *(done[c] for c in range(chunks)))


def _gather(done: dict, shapes, rounds: int) -> dict:
    """Every process's ``{chunk: outputs}`` on every process (a cluster: equal slots per process)."""
    from jax.experimental import multihost_utils

    leaves, tree = jax.tree_util.tree_flatten(shapes)
    slots = rounds * jax.local_device_count()
    ids = np.full(slots, -1)
    ids[: len(done)] = sorted(done)
    bufs = [np.zeros((slots, *leaf.shape), leaf.dtype) for leaf in leaves]
    for j, c in enumerate(sorted(done)):
        for buf, out in zip(bufs, jax.tree_util.tree_leaves(done[c]), strict=True):
            buf[j] = out
    ids, bufs = multihost_utils.process_allgather((ids, bufs), tiled=True)
    return {int(c): tree.unflatten([np.asarray(b)[j] for b in bufs]) for j, c in enumerate(np.asarray(ids)) if c >= 0}


# fn -> {device: _OnDevice}: the stand-ins perf.compiled caches executables under (weak in fn).
_ON_DEVICE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _on_device(fn, first, device) -> _OnDevice:
    table = _ON_DEVICE.setdefault(fn, {})
    if device not in table:
        table[device] = _OnDevice(fn, first, device)
    return table[device]


class _OnDevice:
    """Jitted ``fn`` as ``perf.compiled`` sees it, for ``device``: ``lower(...).compile()`` gives the
    executable XLA compiled for ``first`` (jax's own cache holds it), loaded to run on ``device``.

    The same binary runs on every device of its kind, so one compile serves them all (XLA on CPU
    would compile the same program again for every device: minutes at 8 devices). Where an
    executable cannot be serialised, ``device`` gets its own compile of the same program.
    """

    def __init__(self, fn, first, device):
        self.fn, self.first, self.device = weakref.ref(fn), first, device

    def lower(self, *args):
        on_first = SingleDeviceSharding(self.first)
        lowered = self.fn().lower(*(jax.ShapeDtypeStruct(a.shape, a.dtype, sharding=on_first) for a in args))
        return _Loader(lambda: _load_on(lowered.compile(), self.device), lambda: self.fn().lower(*args).compile())


class _Loader:
    def __init__(self, load, compile_here):
        self.load, self.compile_here = load, compile_here

    def compile(self):
        try:
            return self.load()
        except (ValueError, NotImplementedError, TypeError, AttributeError, ImportError, RuntimeError, pickle.PickleError):
            return self.compile_here()


def _load_on(compiled, device):
    """``compiled`` (a one-device executable) deserialised to run on ``device``."""
    from jax._src import compiler
    from jax._src.lib import xla_client
    from jax.experimental import serialize_executable

    payload, in_tree, out_tree = serialize_executable.serialize(compiled)

    class Unpickler(serialize_executable._JaxPjrtUnpickler):
        def persistent_load(self, pid):
            if pid[0] == "device":
                return device
            if pid[0] == "exec":
                options = compiler.get_compile_options(1, 1, device_assignment=np.array([[device]]), backend=self.backend)
                return self.backend.deserialize_executable(pid[1], xla_client.DeviceList((device,)), options)
            return super().persistent_load(pid)

    unloaded, args_info, no_kwargs = Unpickler(io.BytesIO(payload), device.client, [device]).load()
    return jax.stages.Compiled(unloaded.load(), [], in_tree.unflatten(args_info), out_tree, no_kwargs=no_kwargs)

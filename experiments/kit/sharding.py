"""Lay the flat run axis (seeds x swept scalars) over every device (DESIGN.md, "Sweeps").

One CPU, many forced CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``), a
GPU or a multi-host cluster: the same code. The run axis is padded to a multiple of the device
count by repeating its last run; :func:`unpad` removes the padding from results.
"""

from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


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

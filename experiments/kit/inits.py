"""Weight initialisers by name (claims G1, G2, G3, F2, F3).

Every initialiser has the Flax signature ``init(key, shape, dtype) -> array``; ``fan_in`` is the
product of all but the last axis (Dense and Conv kernels alike). Biases are always zero.

| name          | distribution                                  | source                        |
|---------------|-----------------------------------------------|-------------------------------|
| normal        | N(0, 1)                                       | the naive "unit-variance" init|
| small_normal  | N(0, 0.01^2)                                  | the naive "tiny weights" init |
| standard      | U[-1/sqrt(fan_in), 1/sqrt(fan_in)]            | Glorot & Bengio 2010, eq. 1   |
| xavier_uniform| U[+-sqrt(6/(fan_in+fan_out))]                 | Glorot & Bengio 2010, eq. 16  |
| xavier_normal | N(0, 2/(fan_in+fan_out))                      |                               |
| he_normal     | N(0, 2/fan_in)                                | He et al. 2015                |
| he_uniform    | U[+-sqrt(6/fan_in)]                           | He et al. 2015                |
| lecun_normal  | N(0, 1/fan_in)                                | LeCun et al. 1998             |
| orthogonal    | orthogonal, gain 1                            | Saxe et al. 2014              |

``get(name, gain)`` multiplies the draw by ``gain`` (a swept weight scale multiplies after init,
see :func:`experiments.kit.models.scale_kernels`).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

Initializer = Callable[[jax.Array, tuple, jnp.dtype], jax.Array]


def _fans(shape: tuple) -> tuple[int, int]:
    fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else int(shape[0])
    return fan_in, int(shape[-1])


def _normal(std_of_fans: Callable[[int, int], float]) -> Initializer:
    def init(key, shape, dtype=jnp.float32):
        return std_of_fans(*_fans(shape)) * jax.random.normal(key, shape, dtype)

    init.form = ("normal", std_of_fans)
    return init


def _uniform(limit_of_fans: Callable[[int, int], float]) -> Initializer:
    def init(key, shape, dtype=jnp.float32):
        limit = limit_of_fans(*_fans(shape))
        return jax.random.uniform(key, shape, dtype, -limit, limit)

    init.form = ("uniform", limit_of_fans)
    return init


GS_BLOCK = 16  # columns orthonormalised together (the largest of 16, 8, 4, 2, 1 that divides n)


def _gram_schmidt(a: jax.Array) -> jax.Array:
    """Orthonormal columns of tall ``a`` (m >= n): block classical Gram-Schmidt, each block twice (BCGS2).

    The same Q as a QR decomposition with a positive diagonal of R, so for Gaussian ``a`` it is
    Haar distributed. Block by block: project the block's columns off the earlier blocks (a
    matmul), then orthonormalise them among themselves column by column (classical Gram-Schmidt,
    each column twice); the whole step runs twice, so the loss of orthogonality stays at float32
    rounding (measured on 490 Gaussian 128 x 128 draws: max |Q^T Q - I| = 2.3e-7, the
    column-at-a-time version's 3.3e-7; Q within 6e-6 of float64 LAPACK's). Blocks of 16 make the
    128-wide draws of experiments.vanishing's profile 3x faster and 4x quicker to compile than one
    column at a time (a loop of matrix-vector products, bound by memory). Written with matmuls
    only: jaxlib 0.10's CPU LAPACK calls can deadlock the thread pool when several run
    concurrently under ``vmap`` on a 2-core machine (seen with ``jax.nn.initializers.orthogonal``
    in a vmapped deep net).
    """
    n = a.shape[1]
    b = next(k for k in (GS_BLOCK, 8, 4, 2, 1) if n % k == 0)

    def within(v):
        def column(i, v):
            w, mask = v[:, i], (jnp.arange(b) < i).astype(v.dtype)
            for _ in range(2):  # re-orthogonalise once: float32 loss of orthogonality ~ eps
                w = w - v @ (mask * (v.T @ w))
            return v.at[:, i].set(w / jnp.linalg.norm(w))

        return jax.lax.fori_loop(0, b, column, v)

    def block(j, q):
        v = jax.lax.dynamic_slice_in_dim(a, j * b, b, axis=1)
        earlier = (jnp.arange(n) < j * b).astype(a.dtype)[:, None]
        for _ in range(2):
            v = within(v - q @ (earlier * (q.T @ v)))
        return jax.lax.dynamic_update_slice_in_dim(q, v, j * b, axis=1)

    return jax.lax.fori_loop(0, n // b, block, jnp.zeros_like(a))


def _orthogonal(key, shape, dtype=jnp.float32):
    fan_in, fan_out = _fans(shape)
    rows, cols = max(fan_in, fan_out), min(fan_in, fan_out)
    q = _gram_schmidt(jax.random.normal(key, (rows, cols), jnp.float32))
    flat = q if fan_in >= fan_out else q.T
    return flat.reshape(shape).astype(dtype)


_orthogonal.form = ("orthogonal", lambda i, o: 1.0)

_REGISTRY: dict[str, tuple[Initializer, str]] = {
    "normal": (_normal(lambda i, o: 1.0), "N(0,1)"),
    "small_normal": (_normal(lambda i, o: 0.01), "N(0,0.01^2)"),
    "standard": (_uniform(lambda i, o: 1.0 / np.sqrt(i)), "U[+-1/sqrt(fan_in)]"),
    "xavier_uniform": (_uniform(lambda i, o: np.sqrt(6.0 / (i + o))), "U[+-sqrt(6/(fan_in+fan_out))]"),
    "xavier_normal": (_normal(lambda i, o: np.sqrt(2.0 / (i + o))), "N(0,2/(fan_in+fan_out))"),
    "he_normal": (_normal(lambda i, o: np.sqrt(2.0 / i)), "N(0,2/fan_in)"),
    "he_uniform": (_uniform(lambda i, o: np.sqrt(6.0 / i)), "U[+-sqrt(6/fan_in)]"),
    "lecun_normal": (_normal(lambda i, o: np.sqrt(1.0 / i)), "N(0,1/fan_in)"),
    "orthogonal": (_orthogonal, "orthogonal"),
}


def names() -> list[str]:
    """The registered initialiser names, sorted."""
    return sorted(_REGISTRY)


def describe(name: str) -> str:
    """The distribution of ``name`` in words, for tables and figure legends."""
    get(name)
    return _REGISTRY[name][1]


def get(name: str, gain: float = 1.0) -> Initializer:
    """The initialiser ``name``, its draw multiplied by ``gain``; unknown names raise ValueError."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown initialiser {name!r}; valid names: {', '.join(names())}")
    base = _REGISTRY[name][0]
    if gain == 1.0:
        return base

    def init(key, shape, dtype=jnp.float32):
        return gain * base(key, shape, dtype)

    return init


def form(name: str, shape: tuple) -> tuple[str, float]:
    """``(kind, scale)``: a draw of ``name`` of this shape is ``scale`` times a standard draw of ``kind``
    (``normal``: N(0, 1); ``uniform``: U(-1, 1); ``orthogonal``: orthonormal, scale 1), so that a sweep
    can pass initialisers as array coefficients of a few standard draws (one compile for all inits)."""
    kind, scale = get(name).form
    return kind, float(scale(*_fans(shape)))

"""Verified-correct closed-form derivatives ``d_<name>(x, **params)`` (no autodiff).

These are the reference derivatives the printed formulas of ``acts.printed`` are judged against
(claims B1–B11); ``tests/test_acts.py`` checks each one against ``jax.grad`` of the function in
``acts.functions``. Like the functions, they are finite for float32 ``|x| <= 1e4``. At kinks they
follow the same convention as the functions (and ``jax.nn``): the value of the ``x <= 0`` branch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from acts.functions import (
    LECUN_TANH_SCALE,
    LECUN_TANH_SLOPE,
    SELU_ALPHA,
    SELU_SCALE,
    _arr,
    softmax,
    softplus,
)

__all__ = [
    "d_elu",
    "d_gelu",
    "d_identity",
    "d_leaky_relu",
    "d_lecun_tanh",
    "d_linear",
    "d_mish",
    "d_prelu",
    "d_prelu_dalpha",
    "d_relu",
    "d_rrelu",
    "d_selu",
    "d_shifted_sigmoid",
    "d_sigmoid",
    "d_softplus",
    "d_softsign",
    "d_step",
    "d_swish",
    "d_tanh",
    "softmax_jacobian",
]


def d_identity(x: ArrayLike) -> jax.Array:
    """identity'(x) = 1 (claim A1)."""
    return jnp.ones_like(_arr(x))


def d_linear(x: ArrayLike, c: float = 1.0) -> jax.Array:
    """(c·x)' = c (claim A1)."""
    return jnp.full_like(_arr(x), c)


def d_step(x: ArrayLike) -> jax.Array:
    """step'(x) = 0 wherever it is defined (x ≠ 0); 0 also at x = 0 by convention (claim A2)."""
    return jnp.zeros_like(_arr(x))


def d_sigmoid(x: ArrayLike) -> jax.Array:
    """σ'(x) = σ(x)·σ(−x) (= σ(1−σ), without the cancellation in 1−σ) (claim B1)."""
    x = _arr(x)
    return jax.nn.sigmoid(x) * jax.nn.sigmoid(-x)


def d_shifted_sigmoid(x: ArrayLike) -> jax.Array:
    """(σ(x) − ½)' = σ(x)·σ(−x) (claim E3)."""
    return d_sigmoid(x)


def d_tanh(x: ArrayLike) -> jax.Array:
    """tanh'(x) = (1 − tanh x)(1 + tanh x) = 1 − tanh²x (claim B2)."""
    t = jnp.tanh(_arr(x))
    return (1.0 - t) * (1.0 + t)


def d_lecun_tanh(x: ArrayLike) -> jax.Array:
    """(1.7159·tanh(2x/3))' = 1.7159·(2/3)·(1 − tanh²(2x/3)) (claim B2)."""
    t = jnp.tanh(LECUN_TANH_SLOPE * _arr(x))
    return LECUN_TANH_SCALE * LECUN_TANH_SLOPE * (1.0 - t) * (1.0 + t)


def d_softsign(x: ArrayLike) -> jax.Array:
    """softsign'(x) = 1 / (1 + |x|)² (claim C5)."""
    x = _arr(x)
    return 1.0 / jnp.square(1.0 + jnp.abs(x))


def d_relu(x: ArrayLike) -> jax.Array:
    """ReLU'(x) = 1 for x > 0, 0 for x ≤ 0 (claim B3)."""
    x = _arr(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.zeros_like(x))


def d_leaky_relu(x: ArrayLike, alpha: float = 0.01) -> jax.Array:
    """Leaky ReLU' = 1 for x > 0, alpha for x ≤ 0 (claim B4)."""
    x = _arr(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.full_like(x, alpha))


def d_prelu(x: ArrayLike, alpha: ArrayLike) -> jax.Array:
    """∂PReLU/∂x = 1 for x > 0, alpha for x ≤ 0 (claim B5)."""
    x = _arr(x)
    a = jnp.asarray(alpha, dtype=x.dtype)
    return jnp.where(x > 0, jnp.ones_like(x), a * jnp.ones_like(x))


def d_prelu_dalpha(x: ArrayLike) -> jax.Array:
    """∂PReLU/∂alpha = x for x ≤ 0 (i.e. x for x < 0, 0 at 0), 0 for x > 0 (claim B5).

    Elementwise; for a per-unit alpha, sum this over the axes alpha is broadcast along.
    """
    x = _arr(x)
    return jnp.where(x > 0, jnp.zeros_like(x), x)


def d_rrelu(x: ArrayLike, lower: float = 3.0, upper: float = 8.0) -> jax.Array:
    """Test-time RReLU' = 1 for x > 0, 2/(lower + upper) for x ≤ 0 (claim B6)."""
    x = _arr(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.full_like(x, 2.0 / (lower + upper)))


def d_elu(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """ELU'(x) = 1 for x > 0, alpha·eˣ (= ELU(x) + alpha) for x ≤ 0 (claim B7)."""
    x = _arr(x)
    neg = jnp.where(x > 0, jnp.zeros_like(x), x)
    return jnp.where(x > 0, jnp.ones_like(x), alpha * jnp.exp(neg))


def d_selu(x: ArrayLike) -> jax.Array:
    """SELU'(x) = scale for x > 0, scale·alpha·eˣ for x ≤ 0 (claim B7)."""
    return SELU_SCALE * d_elu(x, SELU_ALPHA)


def d_softplus(x: ArrayLike) -> jax.Array:
    """softplus'(x) = σ(x) (claim B10)."""
    return jax.nn.sigmoid(_arr(x))


def d_gelu(x: ArrayLike) -> jax.Array:
    """GELU'(x) = Φ(x) + x·φ(x) (claims C3, C5)."""
    x = _arr(x)
    cdf = 0.5 * jax.lax.erfc(-x * np.sqrt(0.5).astype(x.dtype))
    pdf = jnp.exp(-0.5 * jnp.square(x)) / np.sqrt(2.0 * np.pi).astype(x.dtype)
    return cdf + x * pdf


def d_swish(x: ArrayLike, beta: float = 1.0) -> jax.Array:
    """Swish'(x) = βf(x) + σ(βx)(1 − βf(x)) = σ(βx)·(1 + βx·σ(−βx)) (claim B9)."""
    x = _arr(x)
    bx = beta * x
    return jax.nn.sigmoid(bx) * (1.0 + bx * jax.nn.sigmoid(-bx))


def d_mish(x: ArrayLike) -> jax.Array:
    """Mish'(x) = tanh(sp) + x·σ(x)·(1 − tanh²(sp)), sp = softplus(x) (claim B10)."""
    x = _arr(x)
    t = jnp.tanh(softplus(x))
    return t + x * jax.nn.sigmoid(x) * (1.0 - t) * (1.0 + t)


def softmax_jacobian(x: ArrayLike) -> jax.Array:
    """Jacobian of softmax for a vector x: J = diag(y) − y·yᵀ, y = softmax(x) (claim B11)."""
    x = _arr(x)
    if x.ndim != 1:
        raise ValueError(f"softmax_jacobian needs a vector, got shape {x.shape}")
    y = softmax(x)
    return jnp.diag(y) - jnp.outer(y, y)

"""Activation functions as pure, float32-safe ``jax.numpy`` functions.

Every function here returns finite values AND finite ``jax.grad`` for float32 inputs with
``|x| <= 1e4``. Where a piecewise definition has a branch that would overflow (``exp`` of a large
positive number), the argument of that branch is clamped *before* ``jnp.where`` so that the
unselected branch cannot inject ``inf``/``NaN`` into the gradient.

Conventions at kinks follow ``jax.nn``: the derivative at 0 is the one of the ``x <= 0`` branch
(``relu'(0) = 0``, ``leaky_relu'(0) = alpha``, ``elu'(0) = alpha``).

Claim IDs refer to ``shared/CLAIMS.md``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
LECUN_TANH_SCALE = 1.7159
LECUN_TANH_SLOPE = 2.0 / 3.0

__all__ = [
    "LECUN_TANH_SCALE",
    "LECUN_TANH_SLOPE",
    "SELU_ALPHA",
    "SELU_SCALE",
    "elu",
    "gelu",
    "identity",
    "leaky_relu",
    "lecun_tanh",
    "linear",
    "maxout",
    "mish",
    "prelu",
    "relu",
    "rrelu",
    "selu",
    "shifted_sigmoid",
    "sigmoid",
    "softmax",
    "softplus",
    "softsign",
    "step",
    "swish",
    "tanh",
]


def _arr(x: ArrayLike) -> jax.Array:
    """Convert to an inexact jax array (ints become the default float dtype)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.result_type(float))
    return x


def identity(x: ArrayLike) -> jax.Array:
    """Identity h(x) = x: a network of any depth stays linear (claims A1, C1)."""
    return _arr(x)


def linear(x: ArrayLike, c: float = 1.0) -> jax.Array:
    """Linear h(x) = c·x; three layers of c·x equal one layer of c³·x (claims A1, C1)."""
    return c * _arr(x)


def step(x: ArrayLike) -> jax.Array:
    """Heaviside step: 1 for x > 0, else 0; its autodiff gradient is exactly 0 (claims A2, C2)."""
    x = _arr(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.zeros_like(x))


def sigmoid(x: ArrayLike) -> jax.Array:
    """Logistic sigmoid σ(x) = 1/(1+e^{-x}), computed stably (claims B1, D1, D2, E3)."""
    return jax.nn.sigmoid(_arr(x))


def shifted_sigmoid(x: ArrayLike) -> jax.Array:
    """σ(x) − ½: zero-centred, same slope as the sigmoid (claim E3).

    Computed as ½·tanh(x/2), which equals σ(x) − ½ exactly but keeps precision near 0.
    """
    return 0.5 * jnp.tanh(0.5 * _arr(x))


def tanh(x: ArrayLike) -> jax.Array:
    """Hyperbolic tangent (claims B2, D3, E3)."""
    return jnp.tanh(_arr(x))


def lecun_tanh(x: ArrayLike) -> jax.Array:
    """LeCun et al. (1998) scaled tanh 1.7159·tanh(2x/3) (a tanh variant; claims B2, D3)."""
    return LECUN_TANH_SCALE * jnp.tanh(LECUN_TANH_SLOPE * _arr(x))


def softsign(x: ArrayLike) -> jax.Array:
    """Softsign x / (1 + |x|): bounded, zero-centred, polynomial saturation (claim C5)."""
    x = _arr(x)
    return x / (1.0 + jnp.abs(x))


def relu(x: ArrayLike) -> jax.Array:
    """ReLU max(0, x); autodiff derivative at 0 is 0, as in ``jax.nn.relu`` (claim B3)."""
    x = _arr(x)
    return jnp.where(x > 0, x, jnp.zeros_like(x))


def leaky_relu(x: ArrayLike, alpha: float = 0.01) -> jax.Array:
    """Leaky ReLU: x for x > 0, alpha·x otherwise (claim B4).

    Document 003 prints it as max(αx, x); that equals this only for 0 ≤ α ≤ 1.
    """
    x = _arr(x)
    return jnp.where(x > 0, x, alpha * x)


def prelu(x: ArrayLike, alpha: ArrayLike) -> jax.Array:
    """PReLU: x for x > 0, alpha·x otherwise; ``alpha`` is trainable and may be an array
    broadcasting per unit (He et al. 2015 initialise it at 0.25) (claims B5, H3)."""
    x = _arr(x)
    return jnp.where(x > 0, x, jnp.asarray(alpha, dtype=x.dtype) * x)


def rrelu(
    x: ArrayLike,
    key: jax.Array | None = None,
    lower: float = 3.0,
    upper: float = 8.0,
    training: bool = False,
) -> jax.Array:
    """Randomized leaky ReLU in the convention of Xu et al. (2015) (claims B6, H4).

    For x > 0 the output is x. For x ≤ 0 it is x / a, where in training a ~ U(lower, upper) is
    drawn independently per element from ``key``, and at test time a is fixed at its mean
    (lower + upper) / 2. The NDSB-winning setting is U(3, 8), the defaults here.

    Note: PyTorch's ``nn.RReLU`` uses the *multiplier* convention instead: the negative part is
    slope·x with slope ~ U(lower, upper), defaults lower = 1/8, upper = 1/3, i.e. the reciprocals
    of Xu et al.'s divisors (and its test-time slope is (1/8 + 1/3)/2, which is not 1/5.5).
    """
    x = _arr(x)
    if training:
        if key is None:
            raise ValueError("rrelu(training=True) needs a PRNG key")
        a = jax.random.uniform(key, x.shape, dtype=x.dtype, minval=lower, maxval=upper)
    else:
        a = jnp.asarray(0.5 * (lower + upper), dtype=x.dtype)
    return jnp.where(x > 0, x, x / a)


def elu(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """ELU: x for x > 0, alpha·(eˣ − 1) for x ≤ 0 (claims B7, E4, F4)."""
    x = _arr(x)
    # clamp with where, not minimum: d/dx minimum(x, 0) is 1/2 at the tie x = 0
    neg = jnp.where(x > 0, jnp.zeros_like(x), x)
    return jnp.where(x > 0, x, alpha * jnp.expm1(neg))


def selu(x: ArrayLike) -> jax.Array:
    """SELU: scale·elu(x, alpha) with the self-normalising constants of Klambauer et al. (2017)
    (an ELU variant; claims B7, G1)."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


def softplus(x: ArrayLike) -> jax.Array:
    """Softplus ln(1 + eˣ), computed as logaddexp(x, 0) (appears inside Mish, claim B10)."""
    return jnp.logaddexp(_arr(x), 0.0)


def gelu(x: ArrayLike) -> jax.Array:
    """Exact GELU x·Φ(x) = ½·x·erfc(−x/√2) (claims C3, C5).

    Note: ``jax.nn.gelu`` defaults to ``approximate=True`` (the tanh approximation); this is the
    exact erf form and agrees with ``jax.nn.gelu(x, approximate=False)``.
    """
    x = _arr(x)
    return 0.5 * x * jax.lax.erfc(-x * np.sqrt(0.5).astype(x.dtype))


def swish(x: ArrayLike, beta: float = 1.0) -> jax.Array:
    """Swish x·σ(βx) (SiLU for β = 1) (claim B9)."""
    x = _arr(x)
    return x * jax.nn.sigmoid(beta * x)


def mish(x: ArrayLike) -> jax.Array:
    """Mish x·tanh(softplus(x)) (claim B10)."""
    x = _arr(x)
    return x * jnp.tanh(softplus(x))


def maxout(z: ArrayLike, k: int) -> jax.Array:
    """Maxout h_i = max_{j∈[1,k]} z_ij (claim B8).

    ``z`` holds the k affine pieces of each unit on its last axis, of size units·k, laid out unit
    by unit: ``z[..., i*k:(i+1)*k]`` are the pieces of unit i. Returns shape (..., units).
    """
    z = _arr(z)
    if k < 1:
        raise ValueError(f"maxout needs k >= 1, got k={k}")
    if z.ndim == 0 or z.shape[-1] % k:
        raise ValueError(f"maxout: last axis of size {z.shape[-1:]} is not a multiple of k={k}")
    return jnp.max(z.reshape(*z.shape[:-1], z.shape[-1] // k, k), axis=-1)


def softmax(x: ArrayLike, axis: int = -1) -> jax.Array:
    """Softmax e^{x_i} / Σ_k e^{x_k} along ``axis``, max-shifted for stability (claims B11, B12)."""
    x = _arr(x)
    shifted = x - jax.lax.stop_gradient(jnp.max(x, axis=axis, keepdims=True))
    e = jnp.exp(shifted)
    return e / jnp.sum(e, axis=axis, keepdims=True)

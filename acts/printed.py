"""Formulas exactly as the source documents print them (claims B1–B11).

Each function transcribes a printed formula *literally*, with naive ``jnp.exp`` and no
numerical safeguards, even where the formula is wrong or overflows in float32: the experiments
compare these against autodiff and report where they fail. Do not "fix" anything here; the
correct closed forms are in ``acts.derivatives``. Each docstring quotes the printed formula and
names the document (seed) it comes from.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from acts.functions import _arr, softmax

__all__ = [
    "printed_elu",
    "printed_elu_prime",
    "printed_leaky_relu",
    "printed_leaky_relu_prime",
    "printed_maxout",
    "printed_mish",
    "printed_mish_prime",
    "printed_prelu",
    "printed_prelu_dalpha",
    "printed_prelu_prime",
    "printed_relu",
    "printed_relu_prime",
    "printed_sigmoid",
    "printed_sigmoid_prime",
    "printed_softmax",
    "printed_softmax_jacobian",
    "printed_swish",
    "printed_swish_prime",
    "printed_tanh",
    "printed_tanh_prime",
]


# --- B1 -----------------------------------------------------------------------------------------
def printed_sigmoid(x: ArrayLike) -> jax.Array:
    """B1 (seeds 000, 003): printed ``sigmoid = 1/(1+e^{-x})``."""
    x = _arr(x)
    return 1.0 / (1.0 + jnp.exp(-x))


def printed_sigmoid_prime(x: ArrayLike) -> jax.Array:
    """B1 (seeds 000, 003): printed ``σ'(x) = σ(x)(1−σ(x))``, σ as printed."""
    s = printed_sigmoid(x)
    return s * (1.0 - s)


# --- B2 -----------------------------------------------------------------------------------------
def printed_tanh(x: ArrayLike) -> jax.Array:
    """B2 (seed 003): printed ``Tanh(x) = (e^{x}−e^{-x})/(e^{x}+e^{-x})``.

    Literal: inf/inf = NaN in float32 once |x| exceeds about 89.
    """
    x = _arr(x)
    return (jnp.exp(x) - jnp.exp(-x)) / (jnp.exp(x) + jnp.exp(-x))


def printed_tanh_prime(x: ArrayLike) -> jax.Array:
    """B2 (seeds 001, 003): printed ``Tanh'(x) = 1 − Tanh²(x)`` (tanh from ``jnp.tanh``, so only
    the derivative formula is under test)."""
    t = jnp.tanh(_arr(x))
    return 1.0 - t**2


# --- B3 -----------------------------------------------------------------------------------------
def printed_relu(x: ArrayLike) -> jax.Array:
    """B3 (seeds 002, 003): printed ``Relu = max(0, x)``."""
    return jnp.maximum(0.0, _arr(x))


def printed_relu_prime(x: ArrayLike) -> jax.Array:
    """B3 (seeds 002, 003): printed ``Relu' = 0 for x ≤ 0, 1 for x > 0``."""
    x = _arr(x)
    return jnp.where(x <= 0, 0.0, 1.0).astype(x.dtype)


# --- B4 -----------------------------------------------------------------------------------------
def printed_leaky_relu(x: ArrayLike, alpha: float = 0.01) -> jax.Array:
    """B4 (seeds 000, 002, 003): printed ``f(x) = max(αx, x)``, "通常 α = 0.01".

    Equals leaky ReLU only for 0 ≤ α ≤ 1 (for α > 1 it is αx on the positive side).
    """
    x = _arr(x)
    return jnp.maximum(alpha * x, x)


def printed_leaky_relu_prime(x: ArrayLike, alpha: float = 0.01) -> jax.Array:
    """B4: the derivative implied by the printed ``f(x) = max(αx, x)`` with α small:
    1 for x > 0, α otherwise (the documents print the function only)."""
    x = _arr(x)
    return jnp.where(x > 0, 1.0, alpha).astype(x.dtype)


# --- B5 -----------------------------------------------------------------------------------------
def printed_prelu(x: ArrayLike, alpha: ArrayLike = 0.25) -> jax.Array:
    """B5 (seeds 001, 002, 003): printed ``ParametricReLU: f(x) = max(αx, x)``, α learned."""
    x = _arr(x)
    return jnp.maximum(jnp.asarray(alpha, x.dtype) * x, x)


def printed_prelu_prime(x: ArrayLike, alpha: ArrayLike = 0.25) -> jax.Array:
    """B5: ∂f/∂x implied by the printed ``f(x) = max(αx, x)``: 1 for x > 0, α otherwise."""
    x = _arr(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.asarray(alpha, x.dtype) * jnp.ones_like(x))


def printed_prelu_dalpha(x: ArrayLike) -> jax.Array:
    """B5 (seed 002, after He et al. 2015): printed ``∂f/∂α = x for x < 0, 0 otherwise``."""
    x = _arr(x)
    return jnp.where(x < 0, x, 0.0).astype(x.dtype)


# --- B7 -----------------------------------------------------------------------------------------
def printed_elu_prime(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """B7 (seed 003): printed under the label ``ELU'``:
    ``ELU' = α(e^x − 1) for x ≤ 0, x for x > 0``.

    This is the ELU function itself, not its derivative (the derivative is 1 for x > 0 and
    α·eˣ for x ≤ 0); taken as a derivative it is wrong everywhere except where the two agree.
    """
    x = _arr(x)
    return jnp.where(x <= 0, alpha * (jnp.exp(x) - 1.0), x)


def printed_elu(x: ArrayLike, alpha: float = 1.0) -> jax.Array:
    """B7 (seeds 000, 001): the ELU function ``x for x > 0, α(e^x − 1) for x ≤ 0`` as printed;
    the same expression seed 003 labels ``ELU'``."""
    return printed_elu_prime(x, alpha)


# --- B8 -----------------------------------------------------------------------------------------
def printed_maxout(x: ArrayLike, w: ArrayLike, b: ArrayLike) -> jax.Array:
    """B8 (seed 003): printed ``h_i(x) = max_{j∈[1,k]} z_ij``, ``z_ij = W_ijᵀ x + b_ij``.

    Shapes: x (..., d), w (d, units, k), b (units, k); returns (..., units).
    """
    x = _arr(x)
    z = jnp.einsum("...d,duk->...uk", x, jnp.asarray(w, x.dtype)) + jnp.asarray(b, x.dtype)
    return jnp.max(z, axis=-1)


# --- B9 -----------------------------------------------------------------------------------------
def printed_swish(x: ArrayLike) -> jax.Array:
    """B9 (seed 003): the right-hand side printed in ``f(x) = xSigmoid(βx) = x/(1+e^{-x})``.

    The printed right-hand side drops β: it is Swish only for β = 1.
    """
    x = _arr(x)
    return x / (1.0 + jnp.exp(-x))


def printed_swish_prime(x: ArrayLike, beta: float = 1.0, f_as_printed: bool = False) -> jax.Array:
    """B9 (seed 003): printed ``f'(x) = βf(x) + (βx)/(1+e^{−βx}) · (1 − βf(x))``.

    WRONG as printed: the correct derivative is ``βf(x) + σ(βx)(1 − βf(x))``; the printed second
    term carries an extra factor βx, so the two agree only where βx = 1 (or where
    1 − βf(x) = 0), e.g. at x = 1 for β = 1, and differ elsewhere (at x = 0 the printed value is 0,
    the true one ½). ``f`` is ``x·σ(βx)`` (the printed definition), or with
    ``f_as_printed=True`` the printed right-hand side ``x/(1+e^{-x})``, which ignores β.
    """
    x = _arr(x)
    f = printed_swish(x) if f_as_printed else x / (1.0 + jnp.exp(-beta * x))
    return beta * f + (beta * x) / (1.0 + jnp.exp(-beta * x)) * (1.0 - beta * f)


# --- B10 ----------------------------------------------------------------------------------------
def printed_mish(x: ArrayLike) -> jax.Array:
    """B10 (seed 003): printed ``f(x) = x·tanh(ln(1+e^{x}))``."""
    x = _arr(x)
    return x * jnp.tanh(jnp.log(1.0 + jnp.exp(x)))


def printed_mish_prime(x: ArrayLike) -> jax.Array:
    """B10 (seed 003): printed ``f'(x) = e^{x}ω/δ²``, ``ω = 4(x+1) + 4e^{2x} + e^{3x} + e^{x}(4x+6)``,
    ``δ = 2e^{x} + e^{2x} + 2``.

    Mathematically correct, but as written it overflows in float32: δ² ~ e^{4x} is inf once
    x > ~22, and the result becomes inf/inf = NaN.
    """
    x = _arr(x)
    ex = jnp.exp(x)
    omega = 4.0 * (x + 1.0) + 4.0 * jnp.exp(2.0 * x) + jnp.exp(3.0 * x) + ex * (4.0 * x + 6.0)
    delta = 2.0 * ex + jnp.exp(2.0 * x) + 2.0
    return ex * omega / delta**2


# --- B11 ----------------------------------------------------------------------------------------
def printed_softmax(z: ArrayLike) -> jax.Array:
    """B11 (seed 003): printed ``σ(z)_j = e^{z_j} / Σ_{k=1}^{K} e^{z_k}`` over the last axis,
    literal (no max shift: overflows to NaN once some z_k > ~88)."""
    e = jnp.exp(_arr(z))
    return e / jnp.sum(e, axis=-1, keepdims=True)


def printed_softmax_jacobian(x: ArrayLike) -> jax.Array:
    """B11 (seed 003): printed ``∂y_i/∂x_j = y_i − y_i·y_i if i = j, 0 − y_i·y_j if i ≠ j``.

    ``x`` is a vector; returns the (n, n) matrix. y is computed with the max-shifted softmax
    (mathematically the printed one) so that only the Jacobian formula is under test.
    """
    x = _arr(x)
    if x.ndim != 1:
        raise ValueError(f"printed_softmax_jacobian needs a vector, got shape {x.shape}")
    y = softmax(x)
    n = y.shape[0]
    eye = jnp.eye(n, dtype=bool)
    return jnp.where(eye, (y - y * y)[:, None], 0.0 - y[:, None] * y[None, :])

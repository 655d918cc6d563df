"""Snake, a periodic activation in no registry of the suite (scored in ``results/scorecards/``).

Snake_a(x) = x + sin²(a·x)/a (Ziyin, Hartwig & Ueda 2020, "Neural networks fail to learn periodic
functions and how to fix it"), here with a = 1. Score it beside the reference set with::

    python -m experiments.scorecard --config.activation=examples.snake:snake:snake_prime

``snake_prime`` is its closed-form derivative, 1 + sin(2a·x), which the scorecard checks against
autodiff. Both are pure elementwise ``jax.numpy`` functions of an array, as the scorecard requires.
"""

import jax
import jax.numpy as jnp

A = 1.0  # the frequency a


def snake(x: jax.Array) -> jax.Array:
    """x + sin²(a x)/a: the identity plus a periodic ripple (unbounded, monotonic, f'(0) = 1)."""
    return x + jnp.sin(A * x) ** 2 / A


def snake_prime(x: jax.Array) -> jax.Array:
    """d/dx snake = 1 + sin(2 a x), in [0, 2]."""
    return 1.0 + jnp.sin(2.0 * A * x)

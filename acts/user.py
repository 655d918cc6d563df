"""Activations of the user's own, given as ``module:function`` (issue "Bring your own activation").

``acts.resolve("mypkg.acts:softclip")`` imports ``mypkg.acts``, checks that ``softclip`` is a pure
elementwise jnp function, and registers it for this process under the name
``"mypkg.acts:softclip"``, so every experiment accepts it where it accepts a registered name:
``--config.activations="('relu','mypkg.acts:softclip')"``. ``module:function:derivative`` also
names its closed-form derivative (a function of the same module) for the formula check: it is kept
apart (:func:`given_derivative`), and the registry's ``derivative`` is autodiff of the function,
so that measurements needing a derivative (phi'(h) per layer, dead units) never rest on it.
Properties (range, zero-centring, monotonicity, f'(0), max |f'|) are computed as for the
built-in ones. Anything else is a ``ValueError`` with one line.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from acts import registry

GRID = (-30.0, 30.0, 4001)  # where a user function must be finite
_GIVEN: dict[str, Callable | None] = {}  # user spec -> the derivative it names (None: none named)


def is_user_spec(name: str) -> bool:
    """Whether ``name`` has the ``module:function`` form (registered names have no colon)."""
    return isinstance(name, str) and ":" in name


def _import(spec: str) -> tuple[Callable, Callable | None]:
    module_name, _, rest = spec.partition(":")
    fn_name, _, deriv_name = rest.partition(":")
    if not module_name or not fn_name:
        raise ValueError(f"activation {spec!r}: expected module:function (or module:function:derivative)")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # a module beside the command, as ``python -m`` finds it
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # ImportError, or the module's own error on import  # noqa: BLE001 (user code may raise anything)
        raise ValueError(f"activation {spec!r}: cannot import module {module_name!r} ({type(err).__name__}: {err})") from None
    out = []
    for name in (fn_name, deriv_name):
        if not name:
            out.append(None)
            continue
        obj = getattr(module, name, None)
        if obj is None:
            raise ValueError(f"activation {spec!r}: module {module_name!r} has no {name!r}")
        if not callable(obj):
            raise ValueError(f"activation {spec!r}: {module_name}.{name} is not callable")  # noqa: TRY004 (one user-error type)
        out.append(obj)
    return out[0], out[1]


def check_elementwise(spec: str, fn: Callable) -> None:
    """A pure elementwise function of an array: traceable under jit, same shape, position-free, finite."""
    x = jnp.linspace(*GRID[:2], GRID[2], dtype=jnp.float32)
    try:
        eager = np.asarray(fn(x))
    except Exception as err:  # noqa: BLE001 (user code may raise anything)
        raise ValueError(f"activation {spec!r} fails on an array ({type(err).__name__}: {err})".splitlines()[0]) from None
    if eager.shape != x.shape:
        raise ValueError(f"activation {spec!r} changes the shape of its input ({x.shape} -> {eager.shape})")
    try:
        traced = np.asarray(jax.jit(fn)(x))
        again = np.asarray(jax.jit(fn)(x))
        grid2 = np.asarray(jax.jit(fn)(x[:4000].reshape(40, 100)))
        perm = np.random.default_rng(0).permutation(len(x))
        shuffled = np.asarray(jax.jit(fn)(x[perm]))
        grad = np.asarray(jax.jit(jax.vmap(jax.grad(lambda v: fn(v))))(x))
    except Exception as err:  # noqa: BLE001 (user code may raise anything)
        raise ValueError(f"activation {spec!r} is not a pure jnp function of an array ({type(err).__name__}: {err})".splitlines()[0]) from None
    if grid2.shape != (40, 100):
        raise ValueError(f"activation {spec!r} changes the shape of its input ({x.shape} -> {eager.shape})")
    if not (np.isfinite(eager).all() and np.isfinite(grad).all()):
        bad = float(np.asarray(x)[~(np.isfinite(eager) & np.isfinite(grad))][0])
        raise ValueError(f"activation {spec!r} is not finite on [{GRID[0]:g}, {GRID[1]:g}] (value or derivative at x = {bad:g})")
    tol = 1e-5 * (1 + np.abs(eager))
    if not (np.all(np.abs(traced - eager) <= tol) and np.array_equal(traced, again)
            and np.allclose(grid2.ravel(), traced[:4000], rtol=1e-5, atol=1e-6)
            and np.allclose(shuffled, traced[perm], rtol=1e-5, atol=1e-6)):
        raise ValueError(f"activation {spec!r} is not a pure elementwise function (results depend on call, shape or position)")


def autodiff_derivative(fn: Callable) -> Callable:
    """The elementwise derivative of ``fn`` by ``jax.grad`` (any input shape)."""
    grad = jax.grad(lambda v: fn(v))
    return lambda x: jnp.vectorize(grad)(x)


def given_derivative(name: str) -> Callable | None:
    """The closed-form derivative a user spec ``module:function:derivative`` names (None when it names none)."""
    return _GIVEN.get(name)


def resolve(name: str) -> str:
    """``name`` itself once it is registered: a built-in name, or a user ``module:function`` (checked, then registered)."""
    if not is_user_spec(name):
        if name not in registry.names():
            raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(registry.names())}, or module:function")
        return name
    if registry.is_registered(name):
        return name
    fn, derivative = _import(name)
    check_elementwise(name, fn)
    registry.register(name, fn, derivative=autodiff_derivative(fn), kind="elementwise", claims=(), user=True)
    _GIVEN[name] = derivative
    return name

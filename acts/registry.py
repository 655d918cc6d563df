"""The activation registry: ``acts.get("leaky_relu", alpha=0.01)``.

Adding an activation takes ONE entry: a single ``register(...)`` call in the table at the bottom
of this file, giving its function, its verified closed-form derivative, the printed formula (if
a source document prints one), its default parameters with their constraints, its kind and the
claim IDs it bears on. The function and derivative may be written right there (a small ``def``
next to the call) or, when worth reusing, in ``acts/functions.py`` / ``acts/derivatives.py``.
Nothing else needs to change: ``acts.get``, ``acts.names``, ``acts.properties.properties_table``
and the test-suite (value/derivative/finiteness checks against ``jax.grad``) pick it up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jax
import numpy as np

from acts import derivatives as d
from acts import functions as f
from acts import printed as p

__all__ = ["KINDS", "Activation", "get", "names", "register"]

KINDS = ("elementwise", "parametric", "stochastic", "group", "vector")


@dataclass(frozen=True)
class Activation:
    """A registered activation with its parameters bound (claims: see ``claims``).

    ``fn`` is elementwise unless ``kind`` says otherwise; ``derivative`` is the verified closed
    form (None for the "group" and "vector" kinds); ``printed_derivative`` is the formula as the
    documents print it (None if they print none); ``train_fn(x, key)`` is the training-time form
    of the "stochastic" kind (rrelu), whose ``fn`` is the test-time form.
    """

    name: str
    fn: Callable[[jax.Array], jax.Array]
    derivative: Callable | None
    printed_derivative: Callable | None
    params: Mapping[str, float]
    kind: str
    claims: tuple[str, ...]
    train_fn: Callable | None = None


@dataclass(frozen=True)
class _Entry:
    fn: Callable[..., jax.Array]
    derivative: Callable[..., jax.Array] | None
    printed: Callable[..., jax.Array] | None
    defaults: Mapping[str, Any]
    kind: str
    claims: tuple[str, ...]
    check: Callable[[dict[str, Any]], str | None] | None
    train_fn: Callable[..., jax.Array] | None
    array_params: tuple[str, ...] = field(default=())
    user: bool = False  # a user's ``module:function``, registered at run time (acts.user)


_REGISTRY: dict[str, _Entry] = {}


def register(
    name: str,
    fn: Callable[..., jax.Array],
    *,
    derivative: Callable[..., jax.Array] | None = None,
    printed: Callable[..., jax.Array] | None = None,
    params: Mapping[str, Any] | None = None,
    kind: str = "elementwise",
    claims: tuple[str, ...] = (),
    check: Callable[[dict[str, Any]], str | None] | None = None,
    train_fn: Callable[..., jax.Array] | None = None,
    array_params: tuple[str, ...] = (),
    user: bool = False,
) -> None:
    """Register an activation under ``name`` (the single place a new activation is added).

    ``fn``, ``derivative`` and ``printed`` are called as ``g(x, **params)``; ``train_fn`` as
    ``train_fn(x, key, **params)``. ``params`` maps each parameter to its default (an ``int``
    default makes the parameter integer-valued). ``check(params)`` returns an error message for
    an invalid combination, or None. ``array_params`` may be arrays (e.g. a per-unit PReLU slope).
    ``user`` marks a user's own activation: it can be fetched, but :func:`names` leaves it out.
    """
    if name in _REGISTRY:
        raise ValueError(f"activation '{name}' is already registered")
    if kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; valid kinds: {', '.join(KINDS)}")
    _REGISTRY[name] = _Entry(
        fn=fn,
        derivative=derivative,
        printed=printed,
        defaults=MappingProxyType(dict(params or {})),
        kind=kind,
        claims=tuple(claims),
        check=check,
        train_fn=train_fn,
        array_params=tuple(array_params),
        user=user,
    )


def is_registered(name: str) -> bool:
    """Whether ``name`` (built-in or a user's registered ``module:function``) can be fetched."""
    return name in _REGISTRY


def names(kind: str | None = None) -> list[str]:
    """Sorted names of the suite's own activations, optionally only those of one ``kind``.

    A user's ``module:function`` registered during the run is not listed: the list a process
    reports does not depend on what it resolved before.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind '{kind}'; valid kinds: {', '.join(KINDS)}")
    return sorted(n for n, e in _REGISTRY.items() if not e.user and (kind is None or e.kind == kind))


def _coerce(name: str, key: str, value: Any, default: Any, array_ok: bool) -> Any:
    """Validate one parameter value's type and finiteness; return it normalised."""
    where = f"parameter '{key}' of activation '{name}'"
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise ValueError(f"{where} must be a number, got {value!r}")
    try:
        arr = np.asarray(value)
    except Exception as e:  # pragma: no cover - exotic objects
        raise ValueError(f"{where} must be a number, got {value!r}") from e
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{where} must be a number, got {value!r}")
    if isinstance(default, int) and not isinstance(default, bool):
        if arr.ndim or arr.dtype.kind not in "iu":
            raise ValueError(f"{where} must be an integer, got {value!r}")
        return int(arr)
    if arr.ndim and not array_ok:
        raise ValueError(f"{where} must be a scalar, got an array of shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{where} must be finite, got {value!r}")
    return float(arr) if arr.ndim == 0 else value


def get(name: str, **params: Any) -> Activation:
    """The activation ``name`` with ``params`` (others at their defaults) bound.

    Raises ``ValueError`` with a one-line message for an unknown name (listing the valid names),
    an unknown parameter (listing the valid ones) or an invalid value.
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        raise ValueError(f"unknown activation {name!r}; valid names: {', '.join(names())}")
    unknown = sorted(set(params) - set(entry.defaults))
    if unknown:
        valid = ", ".join(entry.defaults) or "(none)"
        raise ValueError(f"activation '{name}' has no parameter '{unknown[0]}'; valid parameters: {valid}")
    bound = dict(entry.defaults)
    for key, value in params.items():
        bound[key] = _coerce(name, key, value, entry.defaults[key], key in entry.array_params)
    if entry.check is not None:
        msg = entry.check(bound)
        if msg:
            raise ValueError(f"invalid parameters for activation '{name}': {msg}")

    def _bind(g: Callable[..., jax.Array] | None) -> Callable | None:
        return None if g is None else functools.partial(g, **bound)

    train = None
    if entry.train_fn is not None:
        train = functools.partial(_train_adapter, entry.train_fn, bound)
    return Activation(
        name=name,
        fn=_bind(entry.fn),
        derivative=_bind(entry.derivative),
        printed_derivative=_bind(entry.printed),
        params=MappingProxyType(bound),
        kind=entry.kind,
        claims=entry.claims,
        train_fn=train,
    )


def _train_adapter(g: Callable[..., jax.Array], bound: dict[str, Any], x: jax.Array, key: jax.Array) -> jax.Array:
    return g(x, key, **bound)


# --- constraint helpers -------------------------------------------------------------------------
def _nonneg(key: str) -> Callable[[dict[str, Any]], str | None]:
    return lambda ps: None if ps[key] >= 0 else f"{key} must be >= 0, got {ps[key]}"


def _rrelu_check(ps: dict[str, Any]) -> str | None:
    lo, hi = ps["lower"], ps["upper"]
    return None if 0 < lo <= hi else f"need 0 < lower <= upper, got lower={lo}, upper={hi}"


def _maxout_check(ps: dict[str, Any]) -> str | None:
    return None if ps["k"] >= 1 else f"k must be >= 1, got {ps['k']}"


def _rrelu_train(x: jax.Array, key: jax.Array, lower: float, upper: float) -> jax.Array:
    return f.rrelu(x, key, lower=lower, upper=upper, training=True)


def _rrelu_test(x: jax.Array, lower: float, upper: float) -> jax.Array:
    return f.rrelu(x, None, lower=lower, upper=upper, training=False)


# --- the registry: one entry per activation -----------------------------------------------------
register("identity", f.identity, derivative=d.d_identity, claims=("A1", "C1"))
register("linear", f.linear, derivative=d.d_linear, params={"c": 1.0}, claims=("A1", "C1"))
register("step", f.step, derivative=d.d_step, claims=("A2", "C2"))
register(
    "sigmoid", f.sigmoid, derivative=d.d_sigmoid, printed=p.printed_sigmoid_prime,
    claims=("B1", "B12", "C4", "C5", "D1", "D2", "D4", "D6", "E1", "E3", "G1", "H1", "H2"),
)  # fmt: skip
register("shifted_sigmoid", f.shifted_sigmoid, derivative=d.d_shifted_sigmoid, claims=("E3",))
register(
    "tanh", f.tanh, derivative=d.d_tanh, printed=p.printed_tanh_prime,
    claims=("B2", "C4", "C5", "D3", "D4", "D6", "E3", "G1", "H1", "H2"),
)  # fmt: skip
register("lecun_tanh", f.lecun_tanh, derivative=d.d_lecun_tanh, claims=("D3", "G1"))
register("softsign", f.softsign, derivative=d.d_softsign, claims=("C5",))
register(
    "relu", f.relu, derivative=d.d_relu, printed=p.printed_relu_prime,
    claims=("B3", "C4", "C5", "D5", "D6", "F1", "F2", "F3", "F5", "G1", "G2", "G3", "H1", "H2"),
)  # fmt: skip
register(
    "leaky_relu", f.leaky_relu, derivative=d.d_leaky_relu, printed=p.printed_leaky_relu_prime,
    params={"alpha": 0.01}, check=_nonneg("alpha"), claims=("B4", "F4", "F5", "H4"),
)  # fmt: skip
register(
    "prelu", f.prelu, derivative=d.d_prelu, printed=p.printed_prelu_prime,
    params={"alpha": 0.25}, kind="parametric", array_params=("alpha",),
    claims=("B5", "F4", "H3"),
)  # fmt: skip
register(
    "rrelu", _rrelu_test, derivative=d.d_rrelu, params={"lower": 3.0, "upper": 8.0},
    kind="stochastic", check=_rrelu_check, train_fn=_rrelu_train, claims=("B6", "H4"),
)  # fmt: skip
register(
    "elu", f.elu, derivative=d.d_elu, printed=p.printed_elu_prime, params={"alpha": 1.0},
    check=_nonneg("alpha"), claims=("B7", "C5", "E4", "F4", "F5", "H2"),
)  # fmt: skip
register("selu", f.selu, derivative=d.d_selu, claims=("B7", "G1"))
register("softplus", f.softplus, derivative=d.d_softplus, claims=("B10",))
register("gelu", f.gelu, derivative=d.d_gelu, claims=("C3", "C5"))
register(
    "swish", f.swish, derivative=d.d_swish, printed=p.printed_swish_prime,
    params={"beta": 1.0}, claims=("B9", "C3", "C5"),
)  # fmt: skip
register("mish", f.mish, derivative=d.d_mish, printed=p.printed_mish_prime, claims=("B10", "C3", "H2"))
register("maxout", f.maxout, params={"k": 2}, kind="group", check=_maxout_check, claims=("B8",))
register(
    "softmax", f.softmax, printed=p.printed_softmax_jacobian, kind="vector",
    claims=("B11", "B12"),
)  # fmt: skip

"""Activation functions, their derivatives (correct and as printed) and their properties.

    import acts
    act = acts.get("leaky_relu", alpha=0.01)   # Activation: fn, derivative, printed_derivative...
    acts.names(kind="elementwise")
    acts.properties.properties(act)            # computed, never typed-in, properties (claims C*)
    acts.printed.printed_swish_prime           # formulas as the documents print them (claims B*)

To add an activation, write one ``register(...)`` entry in ``acts/registry.py``; to try one of
your own without editing the suite, name it ``module:function`` (``acts.resolve``, :mod:`acts.user`).
"""

from acts import derivatives, functions, printed, properties, user
from acts.registry import KINDS, Activation, get, names, register
from acts.user import resolve

__all__ = [
    "KINDS",
    "Activation",
    "derivatives",
    "functions",
    "get",
    "names",
    "printed",
    "properties",
    "register",
    "resolve",
    "user",
]

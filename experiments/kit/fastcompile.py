"""The XLA backend optimisation level of a run: how much LLVM work each compile does.

Small nets on a CPU spend much of a run compiling. Two settings, both made through
``XLA_FLAGS`` and so both before JAX is imported:

- :func:`use_default` (every ``python -m experiments.<name>``, via ``experiments/__init__``):
  level 1. Measured on 2 CPU cores (jaxlib 0.10.2): 35-55 % less compile time than XLA's own
  default, the same execution speed, and bit-identical results (training losses of MLP, CNN and
  PReLU populations compared element by element; the whole suite's committed numbers reproduce).
- :func:`enable` (tests and ``scripts/regression``): level 0, about three times faster compiles
  and slower execution; smoke runs compute for a second or two and spend the rest compiling.
  Tests and ``scripts/regression`` both use it, so the committed smoke references and the CI run
  are computed the same way.

A level the user named in ``XLA_FLAGS`` is left alone by both, so a user can always choose their own.
"""

from __future__ import annotations

import os

_LEVEL = "--xla_backend_optimization_level"
FLAG = f"{_LEVEL}=0"
DEFAULT_FLAG = f"{_LEVEL}=1"


_SET_BY_US: list[str] = []  # the level flag this module added, if any (a user's own is never touched)


def _set(flag: str) -> None:
    flags = os.environ.get("XLA_FLAGS", "").split()
    if _SET_BY_US:
        ours = _SET_BY_US.pop()
        flags = [f for f in flags if f != ours]
    if any(f.startswith(_LEVEL) for f in flags):
        return
    os.environ["XLA_FLAGS"] = " ".join([*flags, flag])
    _SET_BY_US.append(flag)


def enable() -> None:
    """Fast compiles for smoke runs: level 0, replacing the suite default (must precede ``import jax``)."""
    _set(FLAG)


def use_default() -> None:
    """The suite's level for real runs: level 1 (idempotent; must precede ``import jax``)."""
    _set(DEFAULT_FLAG)

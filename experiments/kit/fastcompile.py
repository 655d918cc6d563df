"""Fast-compile mode for smoke runs (tests, CI regression of figures).

Smoke presets compute for a second or two and spend the rest compiling; XLA's backend at
optimisation level 0 compiles about three times faster on CPU, and skipping LLVM's expensive
passes saves another ~7 % (``scripts/regression``, nine smoke presets, 2 cores: 163 s -> 151 s,
every reference still matching). Call :func:`enable` before JAX is
imported. Tests and ``scripts/regression`` both use it, so the committed references and the CI
run are computed the same way; default presets (the committed results) never use it.
"""

from __future__ import annotations

import os

FLAGS = ("--xla_backend_optimization_level=0", "--xla_llvm_disable_expensive_passes=true")
FLAG = " ".join(FLAGS)


def enable() -> None:
    """Add the fast-compile flags to ``XLA_FLAGS`` (idempotent; must precede ``import jax``)."""
    flags = os.environ.get("XLA_FLAGS", "").split()
    os.environ["XLA_FLAGS"] = " ".join(flags + [f for f in FLAGS if f not in flags])

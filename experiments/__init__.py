"""Experiments: one module per family of claims, each runnable as ``python -m experiments.<name>``.

The shared machinery lives in :mod:`experiments.kit`. Importing this package sets the suite's
XLA optimisation level (:mod:`experiments.kit.fastcompile`) unless JAX was imported first or
``XLA_FLAGS`` already names a level.
"""

from experiments.kit import fastcompile as _fastcompile

_fastcompile.use_default()

"""Experiments: one module per family of claims, each runnable as ``python -m experiments.<name>``.

The shared machinery lives in :mod:`experiments.kit`.
"""

"""Activations of one's own, in no registry, to score with ``python -m experiments.scorecard`` (README)."""

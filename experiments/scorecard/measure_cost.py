"""Section ``cost`` of the scorecard: time per element alone and share of a training step (claim H2).

experiments.cost's own measurements at its own settings (its config at the card's preset; the card
sets only the activations and the number of rounds): ``measure_alone`` (forward and forward+backward
chained in one jitted loop, the identity's time subtracted, ratio to ReLU with a bootstrap CI over
rounds; XLA's FLOPs and transcendentals per element) and ``measure_steps`` (a whole SGD step of an
MLP and a CNN: overhead over ReLU with its CI, and over the identity, the activation's share).
"""

from __future__ import annotations

import ml_collections

from . import adapter
from .common import activations


def measure_cost(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``cost_alone`` and ``cost_steps`` (identity and relu always timed: the floor and the reference)."""
    out = adapter.cost_tables(adapter.cost_config(config, activations(config)))
    return {"cost_alone": out["alone"], "cost_steps": out["steps"]}

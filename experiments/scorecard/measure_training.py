"""Section ``training`` of the scorecard: how fast and how well a net learns (claims H1, F5, C4, C5).

experiments.convergence's MLP populations (one jit per data set x activation: seeds x learning rates,
SGD with momentum, the same seeds and data order for every activation), each activation at its
customary init (R6) and at its own fastest stable learning rate (convergence's rule: no seed diverged,
fewest mean steps to the training-error threshold, then lowest loss). A best rate at an edge of the
grid (or a grid where every rate diverged) is re-run on the grid shifted to centre on that edge (same
number of rates: no recompile), and flagged when the best is at an edge again (R6). Steps of seeds
that never reach the threshold are censored at the budget + one log interval: with more than
``censored_bound`` of the seeds censored the mean is a lower bound (status ``censored``, R7); every
seed censored is ``never reached``.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import stats

from . import adapter
from .common import inits


def _tuned(runners: dict, config, dataset: str, activation: str, init: str) -> tuple[dict | None, tuple, bool, object]:
    """convergence's tuned measurements, re-run once on a shifted grid when the best rate is at an edge."""
    lrs = tuple(config.training.learning_rates)
    runner = runners.setdefault(lrs, adapter.training_runner(config, lrs))
    index = adapter.tuned_index(runner, runner.cell("mlp", dataset, activation, init=init))
    if index in (None, 0, len(lrs) - 1):  # every rate diverged, or the best at an edge: centre the grid there
        factor = float(np.sqrt(max(lrs) / min(lrs))) ** (1 if index == len(lrs) - 1 else -1)
        lrs = tuple(float(f"{v * factor:.3g}") for v in lrs)
        runner = runners.setdefault(lrs, adapter.training_runner(config, lrs))
        index = adapter.tuned_index(runner, runner.cell("mlp", dataset, activation, init=init))
    tuned = runner.tuned(runner.cell("mlp", dataset, activation, init=init))
    return tuned, lrs, index in (0, len(lrs) - 1), runner


def training_row(runners: dict, config: ml_collections.ConfigDict, dataset: str, activation: str, init: str) -> dict:
    """One (data set, activation): tuned lr, steps to the threshold [CI] with censoring, test accuracy [CI]."""
    tuned, lrs, edge, runner = _tuned(runners, config, dataset, activation, init)
    row = {"dataset": dataset, "activation": activation, "init": init, "grid": " ".join(f"{v:g}" for v in lrs),
           "at_grid_edge": edge, "threshold": runner.threshold(dataset), "n_seeds": config.seeds}
    if tuned is None:
        return {**row, "status": "diverged", "learning_rate": np.nan, "n_reached": 0}
    steps, test = stats.mean_ci(tuned["steps"]), stats.mean_ci(tuned["test_acc"])
    censored = 1.0 - tuned["reached"] / len(tuned["steps"])
    status = "never reached" if tuned["reached"] == 0 else ("censored" if censored > config.training.censored_bound else "ok")
    return {**row, "status": status, "learning_rate": tuned["learning_rate"], "n_reached": tuned["reached"],
            "steps": steps.mean, "steps_lo": steps.lo, "steps_hi": steps.hi,
            "test_acc": test.mean, "test_acc_lo": test.lo, "test_acc_hi": test.hi,
            "train_acc": float(np.nanmean(tuned["train_acc"]))}


def measure_training(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``training`` (per data set x activation, at the tuned rate) and ``training_by_lr`` (every rate)."""
    runners: dict = {}
    rows = [training_row(runners, config, d, a, init) for d in config.training.datasets for a, init in inits(config).items()]
    sweeps = [adapter.training_sweep(r) for r in runners.values()]
    return {"training": pd.DataFrame(rows), "training_by_lr": pd.concat(sweeps, ignore_index=True)}

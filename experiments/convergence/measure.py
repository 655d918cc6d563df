"""The populations of experiments.convergence (claims H1, H3, H4, F5, C4, C5) and the shared sweep.

One population (one jit: seeds x learning rates [x weight scales]) per (model, data set,
activation); the claims share them: H1 reads steps to a training-error threshold at each
activation's fastest stable learning rate, F5/H3/H4 the final accuracies at that learning rate,
C5 the whole learning-rate sweep (largest stable rate, best loss), C4 extra populations started
from small weights. All comparisons are paired by seed (same init keys and data order).
:func:`train_all` trains them in a fixed order and builds every table (:mod:`.measure_tables`).
"""

from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, models, train


@dataclasses.dataclass(frozen=True)
class Cell:
    """What a population measured, reduced over the log axis: arrays are (seeds, lrs, scales)."""

    model: str
    dataset: str
    label: str
    learning_rates: np.ndarray
    scales: np.ndarray
    steps_to: np.ndarray  # steps to the training-error threshold, inf if never
    diverged: np.ndarray
    train_loss: np.ndarray  # final
    train_acc: np.ndarray
    test_acc: np.ndarray
    slopes: np.ndarray | None  # PReLU: (seeds, lrs, scales, layers) mean learned slope
    budget: int


def act_spec(label: str, config: ml_collections.ConfigDict) -> tuple[str, dict]:
    """Activation name and parameters of a variant label (``leaky_relu_big`` = slope 1/5.5)."""
    if label == "leaky_relu":
        return "leaky_relu", {"alpha": float(config.leaky_alpha)}
    if label == "leaky_relu_big":
        return "leaky_relu", {"alpha": float(config.leaky_big_alpha)}
    if label == "rrelu":
        return "rrelu", {"lower": float(config.h4.rrelu_lower), "upper": float(config.h4.rrelu_upper)}
    return label, {}


def dataset_for(key: str, config: ml_collections.ConfigDict) -> data.Dataset:
    """``fashion_mnist`` is subsampled to ``fashion_n_train``; ``fashion_<n>k`` to n thousand images."""
    if key == "fashion_mnist":
        return data.load("fashion_mnist", n_train=config.fashion_n_train, n_test=config.n_test)
    if key.startswith("fashion_") and key.endswith("k"):
        return data.load("fashion_mnist", n_train=int(key[8:-1]) * 1000, n_test=config.n_test)
    return data.load(key, n_test=config.n_test if key != "digits" else None)


def steps_censored(steps_to: np.ndarray, budget: int, log_every: int) -> np.ndarray:
    """Never reached -> budget + one log interval (a lower bound on the true number of steps)."""
    return np.where(np.isfinite(steps_to), steps_to, budget + log_every)


def tuned_index(cell: Cell, log_every: int, scale: int = 0) -> int | None:
    """The fastest stable learning rate: no seed diverged; fewest mean steps, then lowest final loss."""
    stable = ~cell.diverged[:, :, scale].any(axis=0)
    if not stable.any():
        return None
    steps = steps_censored(cell.steps_to[:, :, scale], cell.budget, log_every).mean(axis=0)
    loss = np.nan_to_num(cell.train_loss[:, :, scale].mean(axis=0), nan=np.inf)
    order = sorted(np.flatnonzero(stable), key=lambda i: (steps[i], loss[i]))
    return int(order[0])


def mlp_pairs(config) -> list[tuple[str, str]]:
    """Every (data set, activation) the MLP is trained on: the main grid, then the extra activations."""
    pairs = [(d, a) for d in config.grid.datasets for a in config.grid.activations]
    pairs += [(d, a) for d in config.extra.datasets for a in config.extra.activations]
    return list(dict.fromkeys(pairs))  # an activation in both lists is one comparison, not two


class Runner:
    """Trains populations on demand and caches them, so every claim reuses the same runs."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config
        self.spec = train.TrainSpec.from_config(config)
        self.cells: dict[tuple, Cell] = {}
        self._data: dict[str, data.Dataset] = {}

    def data(self, key: str) -> data.Dataset:
        if key not in self._data:
            self._data[key] = dataset_for(key, self.config)
        return self._data[key]

    def threshold(self, key: str) -> float:
        return float(self.config.criteria.threshold[key])

    def cell(self, model_kind: str, key: str, label: str, init: str | None = None, scales=(1.0,)) -> Cell:
        init = init or self.config.init
        ident = (model_kind, key, label, init, tuple(scales))
        if ident in self.cells:
            return self.cells[ident]
        c = self.config
        name, params = act_spec(label, c)
        ds = self.data(key)
        if model_kind == "mlp":
            model = models.build("mlp", ds.n_classes, widths=tuple(c.mlp_widths), activation=name,
                                 act_params=params, initializer=init)
        else:
            model = models.build("cnn", ds.n_classes, channels=tuple(c.cnn.channels),
                                 dense_widths=tuple(c.cnn.dense_widths), activation=name, act_params=params,
                                 initializer=init)
        pop = train.train_population(model, ds, self.spec, range(c.seeds), tuple(c.learning_rates), tuple(scales))
        shape = pop.shape
        m = {k: v.reshape(*shape, -1) for k, v in pop.metrics.items()}
        steps_to = train.first_step_below(1.0 - m["train_acc"], pop.steps, self.threshold(key))
        slopes = None
        if name == "prelu":  # the one activation with learned slopes (params phi_<layer>.slope)
            params_final = pop.final["params"]
            layers = sorted((k for k in params_final if k.startswith("phi_")), key=lambda k: int(k.split("_")[1]))
            slopes = np.stack([params_final[k]["slope"].mean(axis=-1) for k in layers], -1).reshape(*shape, -1)
        cell = Cell(model_kind, key, label, np.asarray(c.learning_rates, float), np.asarray(scales, float), steps_to,
                    pop.diverged[:, -1].reshape(shape), m["train_loss"][..., -1], m["train_acc"][..., -1],
                    m["test_acc"][..., -1], slopes, self.spec.steps)
        self.cells[ident] = cell
        return cell

    def tuned(self, cell: Cell, scale: int = 0) -> dict | None:
        """Per-seed measurements at the tuned learning rate (None if every rate diverged)."""
        i = tuned_index(cell, self.spec.log_every, scale)
        if i is None:
            return None
        steps = cell.steps_to[:, i, scale]
        return {
            "learning_rate": float(cell.learning_rates[i]),
            "steps": steps_censored(steps, cell.budget, self.spec.log_every),
            "reached": int(np.isfinite(steps).sum()),
            "test_acc": cell.test_acc[:, i, scale],
            "train_acc": cell.train_acc[:, i, scale],
            "gap": cell.train_acc[:, i, scale] - cell.test_acc[:, i, scale],
            "slopes": None if cell.slopes is None else cell.slopes[:, i, scale],
        }

    def pair(self, model_kind: str, key: str, label: str) -> tuple[dict | None, dict | None]:
        """Tuned measurements of the baseline activation and of ``label`` (baseline trained first)."""
        base = self.tuned(self.cell(model_kind, key, self.config.baseline))
        return base, self.tuned(self.cell(model_kind, key, label))


def sweep_table(runner: Runner) -> pd.DataFrame:
    """Every learning rate of every population trained (C5 and the per-activation tuned numbers)."""
    rows = []
    for (model_kind, key, label, init, scales), cell in runner.cells.items():
        for j, scale in enumerate(scales):
            best = tuned_index(cell, runner.spec.log_every, j)
            for i, lr in enumerate(cell.learning_rates):
                reached = np.isfinite(cell.steps_to[:, i, j])
                rows.append({
                    "model": model_kind, "dataset": key, "activation": label, "init": init, "weight_scale": scale,
                    "learning_rate": lr, "n_diverged": int(cell.diverged[:, i, j].sum()), "n_reached": int(reached.sum()),
                    "mean_steps_censored": float(steps_censored(cell.steps_to[:, i, j], cell.budget,
                                                             runner.spec.log_every).mean()),
                    "final_train_loss": float(np.nanmean(cell.train_loss[:, i, j])) if not cell.diverged[:, i, j].all()
                    else float("nan"),
                    "final_test_acc": float(np.nanmean(cell.test_acc[:, i, j])) if not cell.diverged[:, i, j].all()
                    else float("nan"),
                    "status": "diverged" if cell.diverged[:, i, j].any() else "done",
                    "tuned": bool(best == i),
                })
    return pd.DataFrame(rows)


def train_all(config: ml_collections.ConfigDict, t) -> dict:
    """Train every population once (in the order H1, F5, H3, H4, C4, then the rest of the MLP grid) and
    build every table; the order fixes the rows of ``sweep``."""
    from . import measure_tables as mt

    runner = Runner(config)
    out = {"h1_step_ratios": mt.h1_table(runner, config), "f5_accuracy_vs_relu": mt.f5_table(runner, config)}
    out.update(mt.h3_tables(runner, config))
    out.update(mt.h4_tables(runner, config))
    out.update(mt.c4_tables(runner, config))
    for key, label in mlp_pairs(config):  # C5 reads the sweep of every MLP population (H1 has trained them all)
        runner.cell("mlp", key, label)
    out["sweep"] = sweep_table(runner)
    out["c5_stability"] = mt.c5_table(out["sweep"], config)
    out["n_populations"] = len(runner.cells)
    return out

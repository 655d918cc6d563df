"""The arms of experiments.convergence (claims H1, H3, H4, F5, C4, C5): data, programs and sweeps.

:class:`Runner` holds the data sets (on the device once), one compiled program per (model, data set)
whose branches are every activation the config trains there (:mod:`.population`), and the arms
(:mod:`.sweep`). :func:`.measure_arms.train_all` sweeps every arm in a fixed order and builds the tables. ``Runner.cell`` / ``tuned`` /
``tuned_index`` / ``sweep_table`` are the interface experiments.scorecard reads (a fixed list of rates).
"""

from __future__ import annotations

import dataclasses

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data

from . import population as pop
from . import sweep as sw


@dataclasses.dataclass(frozen=True)
class Prepared:
    """A data set as the programs take it: device arrays (x, y, x_ev, y_ev, x_val, y_val, x_test, y_test)."""

    arrays: tuple
    n_train: int
    n_classes: int
    input_shape: tuple


def act_spec(label: str, config: ml_collections.ConfigDict) -> tuple[str, tuple]:
    """Registry name and parameters of a variant label (``leaky_relu_big`` = slope 1/5.5)."""
    if label == "leaky_relu":
        return "leaky_relu", (("alpha", float(config.leaky_alpha)),)
    if label == "leaky_relu_big":
        return "leaky_relu", (("alpha", float(config.leaky_big_alpha)),)
    if label == "rrelu":
        return "rrelu", (("lower", float(config.h4.rrelu_lower)), ("upper", float(config.h4.rrelu_upper)))
    return label, ()


def split_key(key: str) -> tuple[str, int | None]:
    """``fashion_mnist_256`` -> (``fashion_mnist``, 256): H4's small set = the first 256 training images."""
    base, _, tail = key.rpartition("_")
    return (base, int(tail)) if base and tail.isdigit() else (key, None)


def mlp_pairs(config) -> list[tuple[str, str]]:
    """Every (data set, activation) of the MLP grid, then the extra activations."""
    pairs = [(d, a) for d in config.grid.datasets for a in config.grid.activations]
    pairs += [(d, a) for d in config.extra.datasets for a in config.extra.activations]
    return list(dict.fromkeys(pairs))


def branches_for(config, model: str, base: str) -> list[str]:
    """The activation labels a program trains (one compile serves them all)."""
    if model == "cnn":
        return list(config.cnn.activations)
    labels = [a for d, a in mlp_pairs(config) if d == base]
    labels += list(config.h4.variants) if base in config.h4.datasets else []
    if base == config.c4.dataset:
        labels += list(config.c4.activations)
    return list(dict.fromkeys([config.baseline, *labels]))


class Runner:
    """Data sets, programs and arms of one run; trains blocks of rates on demand."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config
        self.per_decade = int(config.lr_grid.per_decade)
        self.n_runs = self.per_decade * int(config.seeds)
        self.arms: dict[tuple, sw.Arm] = {}
        self._data: dict[str, Prepared] = {}
        self._programs: dict[tuple, tuple] = {}
        self.log_every = int(config.log_every)  # the scorecard's ``runner.spec.log_every``
        self.spec = self

    # --- data and programs -----------------------------------------------------------------------
    def data(self, key: str) -> Prepared:
        if key not in self._data:
            self._data[key] = self._prepare(key)
        return self._data[key]

    def _prepare(self, key: str) -> Prepared:
        c = self.config
        base, n_small = split_key(key)
        if n_small is not None:
            full = self.data(base)
            x, y = full.arrays[0], full.arrays[1]
            reps = int(c.n_eval) // n_small
            ev = pop.device_arrays(np.tile(np.asarray(x[:n_small]), (reps,) + (1,) * (x.ndim - 1)),
                                   np.tile(np.asarray(y[:n_small]), reps))
            return dataclasses.replace(full, arrays=(x, y, *ev, *full.arrays[4:]), n_train=n_small)
        n_val = int(c.n_val[base])
        n_train = int(c.fashion_n_train) + n_val if base == "fashion_mnist" else None
        ds = data.load(base, n_train=n_train, n_test=None if base == "digits" else int(c.n_test))
        x_val, y_val, x, y = ds.x_train[:n_val], ds.y_train[:n_val], ds.x_train[n_val:], ds.y_train[n_val:]
        n_ev = int(c.n_eval)
        arrays = pop.device_arrays(x, y, x[:n_ev], y[:n_ev], x_val, y_val, ds.x_test, ds.y_test)
        return Prepared(arrays, len(x), ds.n_classes, tuple(ds.input_shape))

    def program(self, model: str, key: str, label: str) -> tuple[pop.Program, int]:
        """The program of (model, data set) and ``label``'s branch in it (a single-branch one if the config
        does not train ``label`` there: the scorecard's activations)."""
        c, base = self.config, split_key(key)[0]
        labels = branches_for(c, model, base)
        labels = labels if label in labels else [label]
        ident = (model, base, tuple(labels))
        if ident not in self._programs:
            branches = tuple(act_spec(a, c) for a in labels)
            if model == "cnn":
                net = pop.Net(tuple(c.cnn.channels), tuple(c.cnn.dense_widths), self.data(key).n_classes, branches,
                              int(c.cnn.stem[base]), int(c.cnn.stem_width))
                steps, log_every = int(c.cnn.steps), int(c.cnn.log_every)
            else:
                net = pop.Net((), tuple(c.mlp_widths), self.data(key).n_classes, branches)
                steps, log_every = int(c.steps), int(c.log_every)
            program = pop.Program(net, steps, log_every, int(c.batch_size), float(c.momentum), self.n_runs)
            self._programs[ident] = (program, labels)
        program, labels = self._programs[ident]
        return program, labels.index(label)

    # --- arms ------------------------------------------------------------------------------------
    def arm(self, model: str, key: str, label: str, init: str | None = None, scale: float = 1.0) -> sw.Arm:
        c = self.config
        init = init or c.customary_init[label]
        ident = (model, key, label, init, float(scale))
        if ident not in self.arms:
            program, _ = self.program(model, key, label)
            d = self.data(key)
            steps = np.arange(program.n_logs + 1) * program.log_every
            self.arms[ident] = sw.Arm(model, key, label, init, float(scale), float(c.criteria.threshold[split_key(key)[0]]),
                                      steps, 1.0 / d.n_classes)
        return self.arms[ident]

    def train(self, arm: sw.Arm, lrs) -> None:
        """Train ``arm`` at the rates of ``lrs`` it has not tried, ``per_decade`` rates (one call) at a time."""
        todo = [sw.round_lr(lr, self.per_decade) for lr in lrs]
        todo = [lr for lr in todo if lr not in arm.results]
        todo = list(dict.fromkeys(todo))
        program, which = self.program(arm.model, arm.dataset, arm.activation)
        d, seeds = self.data(arm.dataset), np.arange(int(self.config.seeds))
        fans = pop.layer_fans(program.net, d.input_shape)
        stds = pop.layer_stds(arm.init, arm.init_scale, fans)
        for start in range(0, len(todo), self.per_decade):
            chunk = todo[start:start + self.per_decade]
            padded = chunk + [chunk[-1]] * (self.per_decade - len(chunk))
            lrs_runs = np.repeat(np.asarray(padded, np.float32), len(seeds))
            out = pop.run_chunk(program, which, np.tile(seeds, self.per_decade), lrs_runs,
                                np.tile(stds, (self.n_runs, 1)), d.n_train, d.arrays, d.n_classes)
            for j, lr in enumerate(chunk):
                rows = slice(j * len(seeds), (j + 1) * len(seeds))
                arm.results[lr] = {k: v[rows] for k, v in out.items()}

    def more_seeds(self, arm: sw.Arm, lr: float, n_total: int) -> None:
        """Train seeds len(seeds) .. n_total - 1 at ``lr`` (``n_runs`` runs a call, padded; no recompile)."""
        have = int(self.config.seeds) + len(arm.more.get(lr, {}).get("diverged", ()))
        seeds = np.arange(have, n_total)
        if not len(seeds):
            return
        program, which = self.program(arm.model, arm.dataset, arm.activation)
        d = self.data(arm.dataset)
        stds = pop.layer_stds(arm.init, arm.init_scale, pop.layer_fans(program.net, d.input_shape))
        outs = []
        for start in range(0, len(seeds), self.n_runs):
            chunk = seeds[start:start + self.n_runs]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], self.n_runs - len(chunk))])
            out = pop.run_chunk(program, which, padded, np.full(self.n_runs, lr, np.float32),
                                np.tile(stds, (self.n_runs, 1)), d.n_train, d.arrays, d.n_classes)
            outs.append({k: v[: len(chunk)] for k, v in out.items()})
        new = {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
        old = arm.more.get(lr)
        arm.more[lr] = new if old is None else {k: np.concatenate([old[k], new[k]]) for k in new}

    def sweep(self, arm: sw.Arm, first, objectives, train_edge: bool = False) -> sw.Arm:
        """Train ``first``, then a block beyond an edge while a best of ``objectives(arm)`` lies on it (or C5's
        edge still trains, ``train_edge``), at most ``lr_grid.max_blocks`` blocks in all."""
        g, crit = self.config.lr_grid, self.config.criteria
        self.train(arm, first)
        edge = (float(crit.c5.min_train_fraction), float(crit.trained.loss_fraction)) if train_edge else None
        while len(arm.lrs) < int(g.max_blocks) * self.per_decade:
            lrs = [lr for d in sw.extend(arm, objectives(arm), edge)
                   for lr in sw.block(arm, d, self.per_decade, float(g.lowest), float(g.highest))]
            if not lrs:
                break
            self.train(arm, lrs)
        return arm

    # --- the scorecard's interface (a fixed list of rates, revision-1 names) ------------------------
    def cell(self, model_kind: str, key: str, label: str, init: str | None = None, scales=(1.0,)) -> sw.Arm:
        arm = self.arm(model_kind, key, label, init, float(scales[0]))
        self.train(arm, self.config.learning_rates)
        return arm

    def threshold(self, key: str) -> float:
        return float(self.config.criteria.threshold[split_key(key)[0]])

    def tuned(self, cell: sw.Arm, scale: int = 0) -> dict | None:
        """Per-seed measurements at the fastest stable rate (steps of censored seeds: budget + one log interval)."""
        lr = sw.best_speed(cell, float(self.config.criteria.censoring.bound_fraction))
        if lr is None:
            return None
        steps = cell.steps_to(lr)
        r = cell.results[lr]
        return {"learning_rate": lr, "steps": np.where(np.isfinite(steps), steps, cell.budget + self.log_every),
                "reached": int(np.isfinite(steps).sum()), "test_acc": r["test_acc"], "train_acc": r["train_acc"][:, -1],
                "gap": r["train_acc"][:, -1] - r["test_acc"], "slopes": r["slopes"]}


def tuned_index(cell: sw.Arm, log_every: int, scale: int = 0) -> int | None:
    """Index into ``cell.lrs`` of the fastest stable rate (``Runner.tuned``'s, censoring bound 0.2)."""
    lr = sw.best_speed(cell, 0.2)
    return None if lr is None else cell.lrs.index(lr)


def sweep_table(runner: Runner) -> pd.DataFrame:
    """Every rate of every arm trained (see :func:`.measure_tables.sweep_rows`)."""
    from .measure_tables import sweep_rows

    return pd.DataFrame([row for arm in runner.arms.values() for row in sweep_rows(arm, runner.config)])

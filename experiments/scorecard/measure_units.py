"""Section ``units`` of the scorecard: dead or stuck units after SGD, mean output at init (F1-F4, E3, E4).

The dead-unit sweep is experiments.dead_relu's (revision 1) measurement, called at the kit level
(kit.train.train_population with kit.probes.dead_units as the probe: experiments.dead_relu's new
trainer covers the ReLU family only): an MLP of ``units.depth`` x ``units.width`` trained with plain
SGD at every rate of ``units.learning_rates`` x seeds (one jit per activation), evaluated on the whole
training set at every check. Dead: output exactly 0 on every example (ReLU), or max |f'| <= ``grad_tol``
on every example (the others: no gradient reaches the unit's weights); stuck: on the negative branch
(h <= 0) for every example (F4's count). Reported at the highest learning rate at which every seed
learned (R8: not diverged, train accuracy >= chance + ``learned_margin``), with the CI over seeds.
Mean output at init: per hidden layer the median over units of each unit's mean activation on the
evaluation set (experiments.zigzag's E4 statistic), from kit.models.layer_stats on the initial
variables train_population would start from; beside E[f(z)], z ~ N(0, 1).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, probes, stats, train

from .common import inits


@functools.cache
def _dead_probe(tol: float):
    def probe(model, variables, x, y):
        d = probes.dead_units(model, variables, x, tol)
        return {"dead_out": d["zero_output"], "dead_grad": d["zero_grad"], "stuck": d["never_positive"]}

    return probe


def _fraction(mask: np.ndarray, t: int) -> np.ndarray:
    return mask[:, t].reshape(len(mask), -1).mean(-1)


def dead_sweep(config: ml_collections.ConfigDict, activation: str, init: str) -> pd.DataFrame:
    """One row per (seed, learning rate): dead fraction at init and at the end, stuck fraction, accuracy."""
    u = config.units
    ds = data.load(u.dataset, n_train=u.n_train)
    ds = dataclasses.replace(ds, x_test=ds.x_test[: u.n_test], y_test=ds.y_test[: u.n_test])
    spec = train.TrainSpec(optimizer="sgd", steps=u.steps, batch_size=u.batch_size, log_every=u.log_every, n_eval=u.n_eval)
    model = models.build("mlp", ds.n_classes, widths=(u.width,) * u.depth, activation=activation, initializer=init)
    pop = train.train_population(model, ds, spec, range(config.seeds), [float(v) for v in u.learning_rates],
                                 probe=_dead_probe(float(u.grad_tol)))
    dead = pop.metrics["dead_out" if activation == "relu" else "dead_grad"]
    bad = pop.diverged[:, -1]
    final = lambda a: np.where(bad, np.nan, a)
    return pd.DataFrame({
        "activation": activation, "init": init, "seed": pop.runs["seed"], "learning_rate": pop.runs["learning_rate"],
        "born_dead": _fraction(dead, 0), "final_dead": final(_fraction(dead, -1)),
        "final_stuck": final(_fraction(pop.metrics["stuck"], -1)), "final_train_acc": pop.metrics["train_acc"][:, -1],
        "status": np.where(bad, "diverged", "ok"), "chance": 1.0 / ds.n_classes,
    })


def _ci(prefix: str, values) -> dict:
    e = stats.mean_ci(values)
    return {prefix: e.mean, f"{prefix}_lo": e.lo, f"{prefix}_hi": e.hi}


def by_lr(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and CI over seeds per (activation, learning rate), diverged runs counted."""
    rows = []
    for (activation, lr), g in runs.groupby(["activation", "learning_rate"], sort=False):
        n_bad = int((g.status == "diverged").sum())
        rows.append({"activation": activation, "learning_rate": lr, **_ci("final_dead", g.final_dead),
                     **_ci("final_stuck", g.final_stuck), **_ci("final_train_acc", g.final_train_acc),
                     "n_seeds": len(g), "n_diverged": n_bad,
                     "status": "diverged" if n_bad == len(g) else ("partly diverged" if n_bad else "ok")})
    return pd.DataFrame(rows)


def high_lr_row(runs: pd.DataFrame, margin: float) -> dict:
    """Dead and stuck fractions at the highest learning rate where every seed learned (R8)."""
    learned = (runs.status == "ok") & (runs.final_train_acc >= runs.chance + margin)
    ok_lrs = [lr for lr, g in runs.groupby("learning_rate") if learned[g.index].all()]
    activation = runs.activation.iloc[0]
    row = {"activation": activation, "init": runs.init.iloc[0],
           "dead_definition": "output 0 on every example" if activation == "relu" else "max |f'| <= grad_tol on every example",
           "n_diverged_runs": int((runs.status == "diverged").sum()), **_ci("born_dead", runs.born_dead)}
    if not ok_lrs:
        return {**row, "status": "no learning rate learned", "learning_rate": np.nan, "n_seeds": 0}
    at = runs[runs.learning_rate == max(ok_lrs)]
    return {**row, "status": "ok", "learning_rate": float(max(ok_lrs)), **_ci("final_dead", at.final_dead),
            **_ci("final_stuck", at.final_stuck), **_ci("final_train_acc", at.final_train_acc), "n_seeds": len(at)}


def centring_row(config: ml_collections.ConfigDict, activation: str, init: str) -> dict:
    """|median unit mean| over layers at init (CI over seeds), layer 1's and the last layer's, and E[f(z)]."""
    u = config.units
    ds = data.load(u.centring_dataset)
    x = jnp.asarray(ds.x_train[np.random.default_rng(0).permutation(len(ds.x_train))[: u.centring_n_eval]])
    model = models.build("mlp", ds.n_classes, widths=(u.centring_width,) * u.centring_depth, activation=activation,
                         initializer=init)
    loss_fn = train.loss_function("xent", ds.n_classes)

    def one(seed):  # train_population's init key: PRNGKey(seed) split by purpose, the first
        variables = models.init_variables(model, jax.random.split(jax.random.PRNGKey(seed), 3)[0], x[:1])
        a = models.layer_stats(model, variables, x, loss_fn, jnp.zeros(len(x), jnp.int32))["act"]
        return jnp.median(a.mean(axis=1), axis=-1)  # (layers,)

    med = np.asarray(perf.execute(perf.jit(jax.vmap(one)), jnp.arange(config.seeds)), float)
    return {"activation": activation, "init": init, **_ci("abs_median_unit_mean", np.abs(med).mean(axis=1)),
            **_ci("layer1_median_unit_mean", med[:, 0]), **_ci("last_layer_median_unit_mean", med[:, -1]),
            "gaussian_mean": acts.properties.properties(activation).gaussian_mean, "n_seeds": len(med)}


def measure_units(config: ml_collections.ConfigDict, t) -> dict:
    """Tables ``dead_units`` (at the high learning rate), ``dead_units_by_lr`` and ``centring``."""
    init_of = inits(config)
    runs = pd.concat([dead_sweep(config, a, init) for a, init in init_of.items()], ignore_index=True)
    dead = pd.DataFrame([high_lr_row(runs[runs.activation == a].reset_index(drop=True), config.units.learned_margin)
                         for a in init_of])
    centring = pd.DataFrame([centring_row(config, a, init) for a, init in init_of.items()])
    return {"dead_units": dead, "dead_units_by_lr": by_lr(runs), "centring": centring, "_dead_runs": runs}

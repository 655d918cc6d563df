"""The measurement of experiments.convergence: every arm swept in a fixed order, then every table.

Order: the MLP grid (each use's best rate inside the rates tried, C5's edge found), the CNN (centred on the MLP's
fastest rate of the same activation), H4's small sets (centred on the full set's best validation rate), C4's
inits (the reference run gives the target loss), and the further seeds of the accuracy comparisons.
"""

from __future__ import annotations

import functools

import ml_collections
import numpy as np

from experiments.kit import ondevices

from . import sweep as sw
from .measure import Runner, mlp_pairs, sweep_table


def sweep_all(runner: Runner, config) -> dict[str, float]:
    """Sweep every arm in a fixed order: the MLP grid, the CNN, H4's small sets, C4's inits. Returns C4's target
    losses (per activation).

    Arms are independent within each stage, so each stage's sweeps run concurrently over the devices
    (``ondevices.on_devices``): stage 1 the MLP grid; stage 2 the CNN, C4's chains (one per activation)
    and H4, whose starting windows are read from stage 1's arms before any of them runs; stage 3 the
    further seeds. The arms are created in the sequential order first, so tables list them in it."""
    crit = config.criteria
    bound, mtf, lf = float(crit.censoring.bound_fraction), float(crit.c5.min_train_fraction), float(crit.trained.loss_fraction)

    def speed(arm):
        return [sw.best_speed(arm, bound)]

    def sweeping(arm, first, objectives, **kw):
        return lambda: runner.sweep(arm, first, objectives, **kw)

    pd_ = runner.per_decade
    mlp = [runner.arm("mlp", key, label) for key, label in mlp_pairs(config)]  # H1, H3, F5, C5: every use's best rate
    ondevices.on_devices([sweeping(arm, config.learning_rates, lambda arm: [sw.best_speed(arm, bound), sw.best_val(arm),
                                                                         sw.best_loss(arm, mtf, lf)], train_edge=True)
                         for arm in mlp])

    def centre(key, label, best):
        source = runner.arms.get(("mlp", key, label, config.customary_init[label], 1.0))
        lr = best(source) if source is not None else None
        return lr if lr is not None else float(np.median(config.learning_rates))

    cnn = []  # H1's CNN: centred on the MLP's fastest rate of the same activation
    for key in config.cnn.datasets:
        for label in config.cnn.activations:
            first = sw.window(centre(key, label, lambda a: sw.best_speed(a, bound)), pd_)
            cnn.append(sweeping(runner.arm("cnn", key, label), first, speed))
    h4 = []  # H4: the small set, centred on the full set's best validation rate
    for key in config.h4.datasets:
        small = f"{key}_{int(config.h4.train_sizes[key])}"
        for label in config.h4.variants:
            known = ("mlp", key, label, config.customary_init[label], 1.0) in runner.arms
            first = sw.window(centre(key, label if known else config.baseline, sw.best_val), pd_)
            h4.append(sweeping(runner.arm("mlp", small, label), first, lambda arm: [sw.best_val(arm)]))
    c4 = c4_chains(runner, config, centre)
    targets = dict(zip(config.c4.activations, ondevices.on_devices([*cnn, *c4, *h4])[len(cnn):len(cnn) + len(c4)]))
    accuracy_seeds(runner, config)
    return targets


def accuracy_seeds(runner: Runner, config) -> None:
    """F5, H3 (b), H4: the compared arms get ``accuracy_seeds`` (H4's: ``h4.seeds``) seeds at their best validation
    rate (picked on the first ``seeds``), so that a CI can resolve the +-margin of R9; the arms run concurrently."""
    n, n_h4 = int(config.accuracy_seeds), int(config.h4.seeds)
    arms = {("mlp", key, label): n for key in config.grid.datasets
            for label in (config.baseline, config.h3.activation, *config.criteria.f5.named)}
    arms.update({("mlp", f"{key}_{int(config.h4.train_sizes[key])}", label): n_h4 for key in config.h4.datasets
                 for label in (config.baseline, config.h4.activation)})
    tasks = []
    for ident, seeds in arms.items():
        arm = runner.arm(*ident)
        lr = sw.best_val(arm)
        if lr is not None:
            tasks.append(functools.partial(runner.more_seeds, arm, lr, seeds))
    ondevices.on_devices(tasks)


def c4_chains(runner: Runner, config, centre) -> list:
    """C4, one task per activation (its arms are created here, in order): the reference-init arm (its fastest
    rate gives the target loss), then each small init, fastest to it. A task returns the target loss."""
    from .measure_tables import c4_target

    c4, bound = config.c4, float(config.criteria.censoring.bound_fraction)
    fraction = float(config.criteria.c4.target_step_fraction)

    def chain(label, ref, scaled):
        def run():
            first = sw.window(centre(c4.dataset, label, lambda a: sw.best_speed(a, bound)), runner.per_decade)
            runner.sweep(ref, first if not ref.results else [], lambda arm: [sw.best_speed(arm, bound)])
            target = c4_target(ref, sw.best_speed(ref, bound), fraction)

            def to_target(arm):
                return [sw.best_by_steps(arm, functools.partial(arm.steps_to_loss, target=target), bound)]

            runner.sweep(ref, [], to_target)
            for arm in scaled:
                runner.sweep(arm, sw.window(sw.best_speed(ref, bound), runner.per_decade), to_target)
            return target
        return run

    return [chain(label, runner.arm("mlp", c4.dataset, label, c4.reference_init),
                  [runner.arm("mlp", c4.dataset, label, c4.init, scale) for scale in c4.weight_scales])
            for label in c4.activations]


def train_all(config: ml_collections.ConfigDict, t) -> dict:
    """Sweep every arm (:func:`sweep_all`) and build every table."""
    from . import measure_tables as mt
    from . import measure_tables_acc as ma

    runner = Runner(config)
    targets = sweep_all(runner, config)
    out = {"h1_step_ratios": mt.h1_table(runner, config), "f5_accuracy_vs_relu": ma.f5_table(runner, config)}
    out.update(mt.h3_tables(runner, config))
    out.update(ma.h4_tables(runner, config))
    out.update(mt.c4_tables(runner, config, targets))
    out.update(ma.c5_tables(runner, config))
    out["sweep"] = sweep_table(runner)
    out["n_arms"] = len(runner.arms)
    out["n_programs"] = len(runner._programs)
    return out

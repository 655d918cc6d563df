"""The one door from the scorecard to the main experiments' measurements (no second copy of them).

Each function imports its experiment lazily and calls that experiment's own measurement with the
experiment's own config at the card's preset, overriding only what the card sets (the activations,
their inits, the seeds and the keys named in ``configs/scorecard.py``), so a built-in activation
scores exactly what the main experiment reports for it at those settings. A key the experiment no
longer has is one line (:class:`ConfigError`), never a silent default. Sources:

- profile at Xavier and He: experiments.vanishing's measurement ``run_profile``;
- training: experiments.convergence's ``Runner`` (populations, tuned learning rate) and ``sweep_table``;
- cost: experiments.cost's ``measure_alone`` and ``measure_steps``;
- the derivative check: experiments.derivatives' ``grid``, ``autodiff`` and ``compare``;
- the correlation map: kit.meanfield.pair_expectation.

The dead-unit sweep and the mean output at init call the kit directly (kit.train.train_population with
kit.probes.dead_units, kit.models.layer_stats: what experiments.dead_relu and zigzag call), since
experiments.dead_relu's new trainer covers the ReLU family only; the critical-init profile uses
experiments.vanishing's scan net (its profile net has no biases): see :mod:`.measure_nets`.
"""

from __future__ import annotations

import importlib
import types

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import meanfield, perf, registry, theory
from experiments.kit.config import ConfigError


def _module(path: str):
    return importlib.import_module(path)


def main_config(name: str, preset: str, overrides: dict) -> ml_collections.ConfigDict:
    """``configs/<name>.py:get_config(preset)`` with ``overrides`` (dotted keys that must exist) applied."""
    config = registry.config(name, preset)
    config.unlock()
    for key, value in overrides.items():
        *parents, leaf = key.split(".")
        node = config
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"scorecard: configs/{name}.py has no key {key!r} any more; update experiments/scorecard/adapter.py")
        with node.ignore_type():
            node[leaf] = value
    config.lock()
    return config


# --- experiments.derivatives: a formula against autodiff -----------------------------------------
def derivative_check(name: str, derivative, cfg: ml_collections.ConfigDict) -> dict:
    """experiments.derivatives' comparison of a closed-form derivative with ``jax.grad`` on its grid."""
    import acts

    m = _module("experiments.derivatives.measure")
    x = m.grid(cfg)
    auto = np.asarray(m.autodiff(lambda v: acts.get(name).fn(v))(x))
    given = np.asarray(perf.jit(derivative)(x))
    return m.compare(given, auto, np.asarray(x), cfg.rtol, cfg.atol)


# --- kit.theory ----------------------------------------------------------------------------------
def pair_expectations(name: str, q: float, c: float) -> tuple[float, float]:
    """(E[phi(u1) phi(u2)], E[phi'(u1) phi'(u2)]), (u1, u2) of variance q and correlation c (kit.theory's own)."""
    return meanfield.pair_expectation(theory._both(name), q, c)


# --- experiments.vanishing: the gradient profile at init ----------------------------------------
def vanishing_config(card: ml_collections.ConfigDict, activations, inits) -> ml_collections.ConfigDict:
    """experiments.vanishing's config at the card's preset, its ``profile`` at the card's settings."""
    p = card.profile
    return main_config("vanishing", card.preset, {
        "parts": ("profile",), "profile.activations": tuple(activations), "profile.inits": tuple(inits),
        "profile.datasets": (p.dataset,), "profile.depth": p.depth, "profile.width": p.width,
        "profile.seeds": card.seeds, "profile.batch_size": p.batch_size, "profile.fit_skip": p.fit_skip,
    })


def gradient_profile(vcfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """experiments.vanishing's measurement ``profile``: (per-layer table, per-condition summary)."""
    out = _module("experiments.vanishing.measure").run_profile(vcfg, {})
    return out[f"profile_{vcfg.profile.datasets[0]}"], out["profile_summary"]


def vanishing_net() -> types.ModuleType:
    """experiments.vanishing's scan net (``init_params`` with biases, ``scale_weights``, ``forward``, ``xent``)."""
    return _module("experiments.vanishing.net")


# --- experiments.convergence: steps to a threshold and accuracy at the tuned lr ----------------
def training_runner(card: ml_collections.ConfigDict, learning_rates: tuple[float, ...]):
    """experiments.convergence's ``Runner`` (its config at the card's preset, the card's seeds and rates)."""
    cfg = main_config("convergence", card.preset, {"seeds": card.seeds, "learning_rates": tuple(learning_rates)})
    return _module("experiments.convergence.measure").Runner(cfg)


def tuned_index(runner, cell) -> int | None:
    """experiments.convergence's choice of learning rate: the fastest stable one."""
    return _module("experiments.convergence.measure").tuned_index(cell, runner.spec.log_every)


def training_sweep(runner) -> pd.DataFrame:
    """experiments.convergence's table of every learning rate of every population a runner trained."""
    return _module("experiments.convergence.measure").sweep_table(runner)


# --- experiments.cost: time alone and share of a training step -----------------------------------
def cost_config(card: ml_collections.ConfigDict, activations) -> ml_collections.ConfigDict:
    """experiments.cost's config at the card's preset, timing these activations (its floor and reference added)."""
    base = registry.config("cost", card.preset)
    names = tuple(dict.fromkeys((base.floor, base.reference, *activations)))
    return main_config("cost", card.preset, {"activations": names, "step_activations": names,
                                             "criteria.h2.expensive": (), "reps": card.cost.reps})


def cost_tables(cfg: ml_collections.ConfigDict) -> dict[str, pd.DataFrame]:
    """experiments.cost's ``measure_alone`` and ``measure_steps`` tables."""
    m = _module("experiments.cost.measure")
    return {**m.measure_alone(cfg), **m.measure_steps(cfg)}

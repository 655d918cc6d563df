"""Tests of experiments.convergence (claims H1, H3, H4, F5, C4, C5): measurement logic and CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from experiments.convergence import EXPERIMENT
from experiments.convergence import measure as conv
from experiments.kit import config as kit_config
from experiments.kit import registry, results
from experiments.kit.experiment import Tables
from experiments.kit.registry import ROOT


def _cell(steps_to, diverged, loss) -> conv.Cell:
    steps_to, diverged, loss = (np.asarray(a, float)[..., None] for a in (steps_to, diverged, loss))
    zeros = np.zeros_like(steps_to)
    return conv.Cell("mlp", "digits", "relu", np.array([0.1, 0.3, 1.0]), np.array([1.0]), steps_to,
                     diverged.astype(bool), loss, zeros, zeros, None, budget=100)


def test_censoring_counts_never_reached_as_budget_plus_one_interval():
    out = conv.steps_censored(np.array([20.0, np.inf, 100.0]), budget=100, log_every=20)
    np.testing.assert_array_equal(out, [20.0, 120.0, 100.0])


def test_tuned_lr_is_fastest_stable_and_skips_diverged_rates():
    # lr 1.0 is fastest but one seed diverged there -> excluded; lrs 0.1 and 0.3 tie on steps,
    # so the lower final loss (lr 0.3) wins.
    steps = [[40, 40, 20], [60, 60, 20]]
    diverged = [[0, 0, 0], [0, 0, 1]]
    loss = [[0.5, 0.2, 0.1], [0.5, 0.2, 0.1]]
    assert conv.tuned_index(_cell(steps, diverged, loss), log_every=20) == 1
    # every rate diverged somewhere -> no tuned rate
    assert conv.tuned_index(_cell(steps, [[1, 0, 0], [0, 1, 1]], loss), log_every=20) is None
    # a never-reached seed is censored, so it makes its rate slower than a rate that always reaches
    steps = [[np.inf, 80, 60], [20, 80, 60]]
    assert conv.tuned_index(_cell(steps, np.zeros((2, 3)), loss), log_every=20) == 2


def test_activation_variants():
    config = registry.config("convergence", "smoke")
    assert conv.act_spec("leaky_relu_big", config) == ("leaky_relu", {"alpha": 1 / 5.5})
    assert conv.act_spec("rrelu", config) == ("rrelu", {"lower": 3.0, "upper": 8.0})
    assert conv.act_spec("elu", config) == ("elu", {})


def test_default_preset_is_valid_and_paired():
    for preset in ("smoke", "default", "paper"):
        config = kit_config.validate(registry.config("convergence", preset))
        assert "relu" in config.grid.activations  # every comparison needs the ReLU baseline
    assert registry.config("convergence", "default").seeds >= 10


def test_smoke_run_measures_every_claim(smoke):
    result = smoke("convergence")
    assert {v.claim for v in result.verdicts} == {"H1", "H3", "H4", "F5", "C4", "C5"}
    h1 = result.tables["h1_step_ratios"]
    assert set(h1.activation) >= {"tanh"} and (h1.ratio.dropna() > 0).all()
    slopes = result.tables["prelu_slopes"]
    assert len(slopes) == 2 and np.isfinite(slopes.mean_slope).all()
    # the learned slopes moved away from their initial value 0.25
    assert (np.abs(slopes.mean_slope - 0.25) > 1e-6).all()
    sweep = result.tables["sweep"]
    assert set(sweep.status) <= {"done", "diverged"}
    # exactly one tuned learning rate per (model, data set, activation, init, scale) that has a stable rate
    groups = sweep.groupby(["model", "dataset", "activation", "init", "weight_scale"])
    assert (groups.tuned.sum() <= 1).all()


def test_verdicts_follow_from_the_written_tables(smoke, tmp_path):
    """Claims decide from tables + config alone: the written folder re-decides to the same verdicts."""
    result = smoke("convergence")
    config = kit_config.validate(registry.config("convergence", "smoke"))
    folder = results.write(result, tmp_path / "convergence", config.to_dict(), {})
    again = [v.to_json() for v in EXPERIMENT.redecide(folder)]
    assert results.to_jsonable(again) == results.to_jsonable([v.to_json() for v in result.verdicts])


def test_h1_reads_the_activations_of_its_config(smoke):
    """The activations H1's verdict reads are config.criteria.h1.activations, not names in the code."""
    t = Tables(smoke("convergence").tables)
    config = registry.config("convergence", "smoke")
    h1 = next(c for c in EXPERIMENT.claims if c.id == "H1")
    assert {p.part.split()[1].split("/")[0] for p in h1.fn(t, config).parts} == {"tanh"}
    config.unlock()
    config.criteria.h1.activations = ("leaky_relu", "prelu")
    assert {p.part.split()[1].split("/")[0] for p in h1.fn(t, config).parts} == {"leaky_relu", "prelu"}


def test_cli_rejects_bad_input():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.convergence", "--config", "configs/convergence.py:smoke",
         "--config.seeds=0", "--workdir", "/tmp/convergence_bad"],
        check=False, cwd=ROOT, capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"},
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "seeds" in proc.stderr

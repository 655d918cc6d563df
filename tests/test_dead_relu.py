"""Tests of experiments.dead_relu (claims F1-F4, G3): measurement logic on known cases, smoke run, CLI."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from experiments.dead_relu import measure, measure_g3
from experiments.kit import models, probes


def test_dead_summary_known_case():
    # one run, 3 checks, 1 layer, 4 units: u0 always dead, u1 dead then revived, u2 alive, u3 dies at the end
    dead = np.zeros((2, 3, 1, 4), bool)
    dead[:, :, 0, 0] = True
    dead[:, 1, 0, 1] = True
    dead[:, 2, 0, 3] = True
    diverged = np.zeros((2, 3), bool)
    diverged[1, 2] = True  # second run diverges at the last check
    s = measure.dead_summary(dead, diverged)
    assert s["born"][0] == 0.25
    assert s["final"][0] == 0.5
    assert s["revival"][0] == 0.5  # u1 revived out of {u0, u1} dead before the last check
    np.testing.assert_allclose(s["per_layer"][0, :, 0], [0.25, 0.5, 0.5])
    assert np.isnan(s["final"][1]) and np.isnan(s["revival"][1]) and np.isnan(s["overall"][1, 2])
    assert s["overall"][1, 1] == 0.5


def test_revival_needs_a_later_alive_check():
    dead = np.zeros((1, 3, 1, 2), bool)
    dead[0, 2, 0, 0] = True  # dead only at the last check: not a revival candidate
    dead[0, :, 0, 1] = True  # dead throughout: never revived
    s = measure.dead_summary(dead, np.zeros((1, 3), bool))
    assert s["revival"][0] == 0.0


def test_lu_bound_matches_published_depth10():
    published = {2: 0.925, 3: 0.70, 5: 0.25, 10: 0.009}
    for width, value in published.items():
        assert abs(measure_g3.lu_bound([width] * 9) - value) < 0.006, width
    assert measure_g3.lu_bound([2] * 9) > measure_g3.lu_bound([2] * 5)


def test_born_dead_by_depth_is_cumulative():
    const = np.array([[False, True, False], [False, False, False]])
    np.testing.assert_array_equal(measure_g3.born_dead_by_depth(const), [[False, True, True], [False, False, False]])


def _forced(activation: str):
    model = models.build("mlp", 2, widths=(2,), activation=activation, initializer="he_normal")
    x = jnp.abs(jnp.linspace(-1, 1, 32).reshape(16, 2)) + 0.1  # positive inputs
    variables = models.init_variables(model, jax.random.PRNGKey(0), x[:1])
    params = dict(variables["params"])
    params["dense_0"] = {"kernel": jnp.array([[-1.0, 1.0], [-1.0, 1.0]]), "bias": jnp.array([-1.0, 0.0])}
    return model, {**variables, "params": params}, x


def test_dead_units_probe_on_forced_units():
    model, variables, x = _forced("relu")
    d = probes.dead_units(model, variables, x)
    np.testing.assert_array_equal(d["zero_output"], [[True, False]])
    np.testing.assert_array_equal(d["zero_grad"], [[True, False]])
    model, variables, x = _forced("leaky_relu")
    d = probes.dead_units(model, variables, x, tol=1e-6)
    np.testing.assert_array_equal(d["zero_grad"], [[False, False]])  # slope 0.01 > tol
    np.testing.assert_array_equal(d["never_positive"], [[True, False]])
    model, variables, x = _forced("prelu")
    params = dict(variables["params"])
    params["phi_0"] = {"slope": jnp.array([0.0, 0.25])}  # a PReLU whose slope reached 0 is dead
    d = probes.dead_units(model, {**variables, "params": params}, x, tol=1e-6)
    np.testing.assert_array_equal(d["zero_grad"], [[True, False]])


def test_smoke_result(smoke):
    result = smoke("dead_relu")
    assert {v.claim for v in result.verdicts} == {"F1", "F2", "F3", "F4", "G3"}
    born = result.tables["g3_born_dead"]
    assert (born["born_dead_lo"] <= born["lu_bound"] + 1e-9).all()  # measured P(born dead) respects the upper bound
    assert (np.diff(born[born["width"] == 2]["born_dead"].to_numpy()) >= 0).all()  # monotone in depth
    runs = result.tables["runs"]
    assert (runs.loc[runs["status"] == "ok", "final_dead"].between(0, 1)).all()


def test_cli_rejects_bad_depth():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.dead_relu", "--config.g3.max_depth=1"],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "max_depth" in proc.stderr


def test_constant_is_relative_to_scale():
    # a unit with tiny (1e-9) but input-dependent output is alive, not constant; a dead one is constant
    model, variables, x = _forced("relu")
    params = dict(variables["params"])
    params["dense_0"] = {"kernel": jnp.array([[-1.0, 1e-9], [-1.0, 1e-9]]), "bias": jnp.array([-1.0, 0.0])}
    d = probes.dead_units(model, {**variables, "params": params}, x)
    np.testing.assert_array_equal(d["constant"], [[True, False]])

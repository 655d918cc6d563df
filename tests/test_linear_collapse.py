"""Tests of experiments.linear_collapse (claims A1, C1)."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np

from experiments.kit import models, train
from experiments.linear_collapse import measure as lc


def test_composed_map_matches_hand_computation():
    rng = np.random.default_rng(0)
    w0, w1, wr = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
    b0, b1, br = rng.normal(size=4), rng.normal(size=4), rng.normal(size=2)
    params = {
        "dense_0": {"kernel": w0, "bias": b0},
        "dense_1": {"kernel": w1, "bias": b1},
        "readout": {"kernel": wr, "bias": br},
    }
    params = {k: {n: jnp.asarray(v) for n, v in d.items()} for k, d in params.items()}
    a, b = lc.composed_map(params, 2, c=2.0)
    x = rng.normal(size=(5, 3))
    want = (2 * ((2 * (x @ w0 + b0)) @ w1 + b1)) @ wr + br
    assert np.allclose(x @ np.asarray(a) + np.asarray(b), want, atol=1e-10)
    assert not np.allclose(x @ np.asarray(lc.composed_map(params, 2, c=1.0)[0]), want - br)


def test_collapse_error_is_zero_for_linear_and_large_for_relu():
    x = np.random.default_rng(1).normal(size=(64, 2)).astype(np.float32)
    for act, small in (("identity", True), ("relu", False)):
        model = models.build("mlp", 2, widths=(8, 8), activation=act, bias_std=0.1)
        params = models.init_variables(model, jax.random.PRNGKey(0), x[:1])["params"]
        batch = jax.tree_util.tree_map(lambda p: p[None], params)
        err = lc.collapse_error(model, batch, x, 1.0)[0]
        assert (err < 1e-5) == small


def test_best_losses_picks_best_learning_rate():
    loss = np.array([[3, 2, 1.0], [3, 1, 0.5], [3, np.nan, np.nan], [3, 2, 0.9]])  # (seed, lr) row-major
    pop = train.Population(
        runs={},
        shape=(2, 2, 1),
        steps=np.arange(3),
        metrics={"train_loss": loss},
        diverged=np.zeros((4, 3), bool),
        final={},
    )
    best, j = lc.best_losses(pop)  # per-run minima (1, 0.5, 3, 0.9): lr 1 has the lower mean
    assert j == 1 and np.allclose(best, [0.5, 0.9])


def test_smoke_verdicts(smoke):
    result = smoke("linear_collapse")
    got = {v.claim: v.verdict for v in result.verdicts}
    assert got["A1"] == "supported" and got["C1"] == "supported"
    assert result.tables["collapse"].max_rel_err.max() < 1e-5


def test_cli_rejects_bad_value():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.linear_collapse", "--config.depth=0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1

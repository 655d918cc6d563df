"""Tests of experiments.linear_collapse (claims A1, C1)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
import pytest

from experiments.kit import models, registry
from experiments.kit.experiment import Tables
from experiments.linear_collapse import claims
from experiments.linear_collapse import measure as lc

# pinned from a fresh smoke run: 3 trainers, 2 collapse checks, 3 figure forwards, the scalar check; host arrays go
# in as numpy (no staging programs, issue 16; was 21); a regression fails
SMOKE_COMPILES = 9


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
        variables = models.init_variables(model, jax.random.PRNGKey(0), x[:1])
        batch = jax.tree_util.tree_map(lambda p: p[None], variables)
        err = lc.collapse_error(model, batch, x, 1.0)[0]
        assert (err < 1e-5) == small


def test_next_block_extends_beyond_the_edge_on_the_lattice():
    grid = [0.001, 0.00215, 0.00464, 0.01]
    assert lc.next_block(grid, 0.00464, 4) is None  # interior best
    up = lc.next_block(grid, 0.01, 4)
    assert np.allclose(up, [0.01 * 10 ** (k / 3) for k in range(1, 5)], rtol=1e-6)
    down = lc.next_block(grid, 0.001, 2)
    assert np.allclose(down, [0.001 * 10 ** (-2 / 3), 0.001 * 10 ** (-1 / 3)], rtol=1e-6)


def test_edge_is_extended_only_when_it_beats_its_neighbour():
    seeds = np.linspace(-1, 1, 10)
    flat = {0.01: {"best": 1.0 + 1e-3 * seeds}, 0.0215: {"best": 1.0 + 1e-3 * seeds[::-1]}, 0.0464: {"best": 1.2 + 0 * seeds}}
    assert lc.best_rate(flat) in (0.01, 0.0215) and not lc.edge_beats_neighbour(flat)  # a plateau at the edge
    falling = {0.01: {"best": 1.0 + 1e-3 * seeds}, 0.0215: {"best": 1.1 + 1e-3 * seeds}, 0.0464: {"best": 1.2 + 0 * seeds}}
    assert lc.best_rate(falling) == 0.01 and lc.edge_beats_neighbour(falling)
    inside = {**falling, 0.00464: {"best": 1.05 + 0 * seeds}}
    assert not lc.edge_beats_neighbour(inside)


def _tables(deep_minus_one: dict[str, np.ndarray]) -> Tables:
    """Per-seed best losses: one layer at 1.0, each deep condition at 1.0 + the given differences."""
    n = len(next(iter(deep_minus_one.values())))
    seeds = [{"dataset": "xor", "condition": lc.ONE_LAYER, "seed": s, "best_loss": 1.0} for s in range(n)]
    for cond, d in deep_minus_one.items():
        seeds += [{"dataset": "xor", "condition": cond, "seed": s, "best_loss": 1.0 + v} for s, v in enumerate(d)]
    best = pd.DataFrame([{"dataset": "xor", "condition": c, "best_learning_rate": 0.01, "initializer": "xavier_uniform"}
                         for c in (lc.ONE_LAYER, *deep_minus_one)])
    return Tables(best_loss_seeds=pd.DataFrame(seeds), best_loss=best)


CONFIG = ml_collections.ConfigDict({"datasets": ("xor",), "criteria": {"a1": {"equiv_margin": 0.02, "equiv_alpha": 0.025}}})


@pytest.mark.parametrize(("shift", "want"), [(0.0, "supported"), (0.0198, "inconclusive"), (0.017, "supported"), (0.05, "refuted"),
                                              (-0.05, "refuted")])
def test_equivalence_parts_follow_the_margin(shift, want):
    d = shift + 0.002 * np.linspace(-1, 1, 10)
    parts = claims.equivalence_parts(_tables({lc.DEEP_LINEAR: d, lc.DEEP_C: d}), CONFIG)
    assert [p.verdict for p in parts] == [want, want]
    assert parts[0].unit == "nats" and "TOST p" in parts[0].condition


def test_smoke_verdicts(smoke):
    result = smoke("linear_collapse")
    got = {v.claim: v.verdict for v in result.verdicts}
    assert got["A1"] == "supported" and got["C1"] == "supported"
    assert result.tables["collapse"].max_rel_err.max() < 1e-5
    best = result.tables["best_loss"].set_index("condition")
    assert best.loc["relu", "initializer"] == "he_uniform" and best.loc["tanh", "initializer"] == "xavier_uniform"
    sweep = result.tables["lr_sweep"]
    assert (sweep.groupby("condition").size() >= 2).all()


def test_smoke_compile_count_is_pinned(smoke):
    config = registry.config("linear_collapse", "smoke")
    assert len(config.learning_rates) == 2
    n = smoke.compiles("linear_collapse")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_bad_value(run_cli):
    proc = run_cli("linear_collapse", "--config.depth=0")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "config.depth = 0" in proc.stderr and ">= 1" in proc.stderr, proc.stderr  # names the key and the bad value


def test_fill_uses_idle_slots_for_further_blocks():
    tried = [{0.001: {}, 0.00215: {}, 0.00464: {}}, {0.01: {}, 0.0215: {}, 0.0464: {}}, {0.01: {}, 0.0215: {}}]
    up = lc.next_block(list(tried[1]), 0.0464, 3)
    filled = lc._fill([(1, up)], tried, 3)
    assert [v for v, _ in filled] == [1, 1, 1]
    rates = sorted(lr for _, b in filled for lr in b)
    assert np.allclose(rates, [0.0464 * 10 ** (k / 3) for k in range(1, 10)], rtol=1e-3)

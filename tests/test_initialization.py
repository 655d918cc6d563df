"""Tests of experiments.initialization (claims G1, G2): measurement logic on known answers, smoke run, CLI."""

from __future__ import annotations

import subprocess
import sys

import ml_collections
import numpy as np
import pandas as pd
import pytest

from experiments.initialization import claims as init_claims
from experiments.initialization import measure as init_exp
from experiments.initialization import measure_train as init_train
from experiments.kit import probes, registry
from experiments.kit.experiment import Tables
from experiments.kit.registry import ROOT


def test_log_slope_of_geometric_profile():
    values = np.array([[2.0 * 0.5**k for k in range(6)], [3.0 * np.e**k for k in range(6)]])
    np.testing.assert_allclose(probes.log_slope(values), [np.log(0.5), 1.0], rtol=1e-9)
    assert np.isnan(probes.log_slope(np.array([1.0, 0.0, 1.0])))


def test_clamped_slope_treats_underflow_as_vanishing():
    assert init_exp._clamped_slope(np.array([[1.0, 1e-20, 0.0, 0.0]]))[0] < -10


def test_linear_net_standard_init_matches_theory():
    """Identity activation, U[+-1/sqrt(n)] weights: E[h^2] shrinks by exactly 1/3 per layer, and the
    mean singular value of the square Jacobian W^T is sqrt(1/3) * 8/(3 pi) (quarter-circle law)."""
    cfg = ml_collections.ConfigDict({"width": 256, "depth": 4, "jac_examples": 1, "seeds": 3})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 32)).astype(np.float32)
    y = rng.integers(0, 4, 256).astype(np.int32)
    p = init_exp.profile_variant("identity", "standard", cfg, x, y, 4)
    ratio = np.exp(probes.log_slope(p["preact_sq"][:, 1:]))
    np.testing.assert_allclose(ratio, 1 / 3, rtol=0.08)
    np.testing.assert_allclose(p["jac_sv"].mean(), np.sqrt(1 / 3) * 8 / (3 * np.pi), rtol=0.05)
    np.testing.assert_allclose(p["dphi_mean"], 1.0, rtol=1e-6)


def test_choose_lr_avoids_diverged_rates():
    final = np.array([[0.5, np.nan, 1.0], [0.6, 0.1, 1.1]])  # lr 1 has the lowest finite loss but one NaN
    assert init_train.choose_lr(final) == 0


def test_rank_correlation_known_orderings():
    pub = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}
    same = {k: np.array([v, v + 0.01, v - 0.01]) for k, v in pub.items()}
    rev = {k: np.array([10 - v] * 3) for k, v in pub.items()}
    assert init_train.rank_correlation(same, pub)[0] == pytest.approx(1.0)
    assert init_train.rank_correlation(rev, pub)[0] == pytest.approx(-1.0)
    assert np.isnan(init_train.rank_correlation({"a": np.ones(3)}, pub)[0])


def test_stall_drop():
    losses = np.array([[2.0, 1.5, 1.0], [2.0, 2.0, 1.9], [2.0, np.nan, np.nan]])
    np.testing.assert_allclose(init_train.stall_fraction_drop(losses), [0.5, 0.05, 0.0])


def _g1_verdict(rows, config) -> str:
    t = Tables(profile_slopes=pd.DataFrame(rows))
    return init_claims.g1.decide(t, config, {"profile_slopes"}).verdict


def test_g1_decision_logic():
    config = registry.config("initialization", "smoke")  # steady |s| <= 0.1, vanish/explode |s| >= 0.5

    def row(act, init, sa, act_status, sg, grad_status):
        return {"activation": act, "init": init, "slope_act_var": sa, "slope_act_var_lo": sa, "slope_act_var_hi": sa,
                "act_status": act_status, "slope_grad_var": sg, "slope_grad_var_lo": sg, "slope_grad_var_hi": sg,
                "grad_status": grad_status, "n_seeds": 5}

    good = [row("tanh", "normal", 0.0, "steady", 2.0, "explodes"),
            row("tanh", "small_normal", -4.0, "vanishes", -4.0, "vanishes"),
            row("tanh", "xavier_uniform", 0.01, "steady", -0.02, "steady")]
    assert _g1_verdict(good, config) == "supported"
    drift = good[:2] + [row("tanh", "xavier_uniform", -0.3, "drifts", 0.2, "drifts")]
    assert _g1_verdict(drift, config) == "qualified"
    naive_fine = [row("tanh", "normal", 0.0, "steady", 0.0, "steady")] + good[1:]
    assert _g1_verdict(naive_fine, config) == "refuted"


def test_smoke_run(smoke):
    result = smoke("initialization")
    claims = {v.claim for v in result.verdicts}
    assert claims == {"G1", "G2"}
    slopes = result.tables["profile_slopes"].set_index(["activation", "init"])
    # tiny weights vanish forwards in every activation; He keeps relu's second moment near 1 per layer
    assert (slopes.xs("small_normal", level="init")["slope_act_var"] < -1).all()
    g2 = result.tables["g2_ratios"].set_index("init")
    assert g2.loc["xavier_uniform", "preact_sq_ratio_per_layer"] < g2.loc["he_normal", "preact_sq_ratio_per_layer"]
    for fig in result.figures:
        assert fig in result.tables, f"figure {fig} has no table"


def test_cli_rejects_bad_depth():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.initialization", "--config", "configs/initialization.py:smoke",
         "--config.profile.depth=0"],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"},
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "depth" in proc.stderr

"""Tests of experiments.zigzag (claims E1-E4): measurement logic on known answers, smoke run, CLI."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.kit import config as kit_config
from experiments.kit import registry, results
from experiments.kit.claim import lookup, on_interval
from experiments.kit.experiment import Tables
from experiments.zigzag import EXPERIMENT
from experiments.zigzag import measure as zigzag


def test_single_signed_exact_for_one_positive_example():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1, 64, 20))  # all-positive inputs
    d = rng.standard_normal((1, 64, 7))
    assert zigzag.single_signed_fraction(x, d, 1, 64)[0] == 1.0
    # centred inputs: a 20-dim gradient delta*x is almost never single-signed
    assert zigzag.single_signed_fraction(x - 0.5, d, 1, 64)[0] < 0.05


def test_single_signed_broken_by_summing_opposite_deltas():
    # two examples, inputs (1, 0) and (0, 1), deltas +1 and -1: gradient (1, -1) is mixed
    x = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    d = np.array([[[1.0], [-1.0]]])
    assert zigzag.single_signed_fraction(x, d, 2, 1)[0] == 0.0
    assert zigzag.single_signed_fraction(x, d, 1, 2)[0] == 1.0
    # same-signed deltas keep the sum single-signed
    assert zigzag.single_signed_fraction(x, np.abs(d), 2, 1)[0] == 1.0
    # sign agreement: (1, -1) -> 0, (1, 1) -> 1
    assert zigzag.sign_agreement(x, d, 2, 1)[0] == 0.0
    assert zigzag.sign_agreement(x, np.abs(d), 2, 1)[0] == 1.0


def test_path_summary_on_a_zigzag():
    upd = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, 1.0], [-0.5, -0.5]])
    path = np.concatenate([np.zeros((1, 2)), np.cumsum(upd, axis=0)])
    s = zigzag.path_summary(path, upd, np.array([0.5, 0.5]), tol=0.01)
    assert s["frac_quadrant_13"] == 1.0
    assert s["mean_cos"] == pytest.approx(-1.0)
    assert s["frac_neg_cos"] == 1.0
    assert s["steps_to_wstar"] == 4  # path[4] = (0.5, 0.5)
    assert s["path_over_disp"] == pytest.approx(np.linalg.norm(upd, axis=1).sum() / np.linalg.norm([0.5, 0.5]))


def test_two_input_updates_confined_to_quadrants_one_three_and_converge():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.uniform(0.1, 1.0, (200, 2)), jnp.float32)
    w_star = jnp.asarray([2.0, -1.0])
    path, upd = zigzag.two_input_path(x, w_star, 1.0, 2000, 1, jax.random.PRNGKey(0))
    upd = np.asarray(upd)
    moving = np.all(np.abs(upd) > 0, axis=1)
    assert np.all(upd[moving, 0] * upd[moving, 1] > 0)
    assert np.linalg.norm(np.asarray(path[-1]) - np.asarray(w_star)) < 0.05
    # centred inputs: updates fall in all four quadrants
    _, upd_c = zigzag.two_input_path(x - x.mean(0), w_star, 1.0, 200, 1, jax.random.PRNGKey(0))
    frac = np.mean(np.asarray(upd_c)[:, 0] * np.asarray(upd_c)[:, 1] > 0)
    assert 0.2 < frac < 0.8


def test_hessian_condition_shift():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 5))
    centred = zigzag.hessian_condition(x)
    shifted = zigzag.hessian_condition(x + 3.0)
    assert centred < 1.2  # E[x x^T] with a bias column is ~ the identity
    # shift c on d features: the mean direction gets eigenvalue ~ 1 + d c^2 (+1), the smallest ~ 1/(d c^2)
    assert shifted > 100 * centred
    y = (x[:, 0] > 0).astype(float)
    assert zigzag.hessian_condition(x + 3.0, y, l2=1e-3, logistic=True) > zigzag.hessian_condition(x, y, l2=1e-3, logistic=True)


def test_censoring_and_tuning():
    steps = np.array([[10.0, np.inf], [20.0, 40.0]])
    ls = zigzag.censored_log_steps(steps, budget=100, censor_factor=2.0, floor=5)
    assert ls[0, 1] == np.log2(200)
    assert zigzag.tune(ls, np.zeros_like(ls)) == 0
    # ties in steps are broken by the lower final loss
    assert zigzag.tune(np.zeros((2, 3)), np.array([[3.0, 1.0, 2.0], [3.0, 1.0, np.nan]])) == 1


def test_smoke_result(smoke):
    result = smoke("zigzag")
    sign = result.tables["e1_sign_fraction"]
    pos = sign[(sign.condition == "pixels in [0,1] (all >= 0)") & (sign.batch_size == 1)]
    cen = sign[(sign.condition == "standardised pixels (centred)") & (sign.batch_size == 1)]
    assert (pos.single_signed == 1.0).all() and pos.inputs_all_positive.all()
    assert (cen.single_signed < 0.5).all()
    two = result.tables["e1_two_input"]
    assert two[two.inputs.str.startswith("positive")].frac_quadrant_13.iloc[0] == 1.0
    assert {v.claim for v in result.verdicts} == {"E1", "E2", "E3", "E4"}
    assert result.tables["e2_hessian"].kappa_linear.notna().all()


def _claim(claim_id: str):
    return next(c for c in EXPERIMENT.claims if c.id == claim_id)


def test_verdicts_follow_from_the_written_tables(smoke, tmp_path):
    """Claims decide from tables + config alone: the written folder re-decides to the same verdicts."""
    result = smoke("zigzag")
    config = kit_config.validate(registry.config("zigzag", "smoke"))
    folder = results.write(result, tmp_path / "zigzag", config.to_dict(), {})
    again = [v.to_json() for v in EXPERIMENT.redecide(folder)]
    assert results.to_jsonable(again) == results.to_jsonable([v.to_json() for v in result.verdicts])


def test_parts_follow_their_thresholds(smoke):
    """Every part compared with a config threshold follows it: moved beyond its CI, the verdict flips."""
    t = Tables(smoke("zigzag").tables)
    for c in EXPERIMENT.claims:
        for p in [p for p in c.fn(t, registry.config("zigzag", "smoke")).parts if p.threshold]:
            if p.ci is None or not np.isfinite(p.ci).all():
                continue
            for moved in (min(p.ci) - 1.0, max(p.ci) + 1.0):
                config = registry.config("zigzag", "smoke")
                config.unlock()
                *parents, leaf = p.threshold.split(".")
                lookup(config, ".".join(parents))[leaf] = moved
                again = next(q for q in c.fn(t, config).parts if q.part == p.part)
                assert again.verdict == on_interval(*p.ci, moved, p.side), (c.id, p.part, moved)


def test_e2_parts_keep_the_revision_1_rule(smoke):
    """E2's parts are the table's `faster` flags (CI of log2 steps above 0 and speed-up >= min_speedup)."""
    t = Tables(smoke("zigzag").tables)
    parts = _claim("E2").fn(t, registry.config("zigzag", "smoke")).parts
    faster = t.e2_compare[t.e2_compare["to"].isin(["centred", "raw_centred"])].faster
    assert [p.verdict == "supported" for p in parts] == list(faster)


def test_e3_e4_read_their_activations_from_the_config(smoke):
    """The activations E3 and E4 decide from are config keys, not names in the code."""
    t = Tables(smoke("zigzag").tables)
    config = registry.config("zigzag", "smoke")
    assert _claim("E4").fn(t, config).parts[1].part == "elu/relu |median unit mean|"
    assert _claim("E3").fn(t, config).parts[0].part == "sigmoid slower than tanh"
    config.unlock()
    config.e4.near_zero_activation, config.e4.baseline_activation = "relu", "elu"
    config.e3.uncentred_activation, config.e3.centred_activation = "tanh", "sigmoid"
    e4 = _claim("E4").fn(t, config)
    assert e4.parts[1].part == "relu/elu |median unit mean|" and e4.parts[1].value > 1
    e3 = _claim("E3").fn(t, config)
    assert e3.parts[0].part == "tanh slower than sigmoid" and e3.parts[0].verdict == "inconclusive"  # not measured


def test_cli_rejects_bad_value():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.zigzag", "--config.e4.depth=0"],
        check=False, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "depth" in proc.stderr

"""Tests of experiments.zigzag (claims E1-E4): measurement logic on known answers, decisions at
their thresholds, the smoke run, its compile count, the CLI."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from experiments.kit import config as kit_config
from experiments.kit import registry, results
from experiments.kit.claim import lookup, on_interval
from experiments.kit.experiment import Tables
from experiments.zigzag import EXPERIMENT, claims_means
from experiments.zigzag import measure as zigzag
from experiments.zigzag.measure_centring import compare_row, load
from experiments.zigzag.measure_means import groups

# pinned from a fresh smoke run: 3 trainers (E2/E3 switch MLP, E4 He family, E4 Glorot), the E1 probe, SGD path and
# two-input programs; host arrays go in as numpy, so no staging or eager programs (issue 16; was 29); a regression fails
SMOKE_COMPILES = 6


def test_single_signed_exact_for_one_positive_example():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1, 64, 20))  # all-positive inputs
    d = rng.standard_normal((1, 64, 7))
    assert zigzag.sign_stats(x, d, 1, 64)[0][0] == 1.0
    # centred inputs: a 20-dim gradient delta*x is almost never single-signed
    assert zigzag.sign_stats(x - 0.5, d, 1, 64)[0][0] < 0.05


def test_single_signed_broken_by_summing_opposite_deltas():
    # two examples, inputs (1, 0) and (0, 1), deltas +1 and -1: gradient (1, -1) is mixed
    x = np.array([[[1.0, 0.0], [0.0, 1.0]]])
    d = np.array([[[1.0], [-1.0]]])
    assert zigzag.sign_stats(x, d, 2, 1)[0][0] == 0.0
    assert zigzag.sign_stats(x, d, 1, 2)[0][0] == 1.0
    # same-signed deltas keep the sum single-signed; sign agreement: (1, -1) -> 0, (1, 1) -> 1
    assert zigzag.sign_stats(x, np.abs(d), 2, 1)[0][0] == 1.0
    assert zigzag.sign_stats(x, d, 2, 1)[1][0] == 0.0
    assert zigzag.sign_stats(x, np.abs(d), 2, 1)[1][0] == 1.0


def test_sign_stats_match_the_einsum_definition():
    rng = np.random.default_rng(3)
    x, d = rng.uniform(0, 1, (2, 64, 5)) - 0.2, rng.standard_normal((2, 64, 4))
    g = np.einsum("rkbi,rkbj->rkij", x.reshape(2, 8, 8, 5), d.reshape(2, 8, 8, 4))
    single = (np.all(g >= 0, axis=2) | np.all(g <= 0, axis=2)).mean(axis=(1, 2))
    np.testing.assert_allclose(zigzag.sign_stats(x, d, 8, 8)[0], single)


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


def test_second_moment_spectrum_follows_lecun():
    """A common mean m on d features adds an eigenvalue ~ d*m^2 (LeCun et al. 1998); centring removes it."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 5))
    centred = zigzag.second_moment_spectrum(x + 3.0, centre=True)
    shifted = zigzag.second_moment_spectrum(x + 3.0, centre=False)
    assert centred["kappa"] < 1.2 and centred["mean_sq_norm"] == pytest.approx(45.0, rel=0.01)
    assert shifted["lambda_max"] == pytest.approx(1.0 + 5 * 9.0, rel=0.02)
    assert shifted["kappa"] > 30
    # a constant feature is dropped, not a zero eigenvalue
    assert zigzag.second_moment_spectrum(np.c_[x, np.ones(len(x))], centre=True)["n_features"] == 5


def test_censoring_tuning_and_grid_extension():
    steps = np.array([[10.0, np.inf], [20.0, 40.0]])
    ls = zigzag.censored_log_steps(steps, budget=100, censor_factor=2.0, floor=5)
    assert ls[0, 1] == np.log2(200)
    assert zigzag.tune(ls, np.zeros_like(ls)) == 0
    # ties in steps are broken by the lower final loss; a diverged (NaN) run sorts last
    assert zigzag.tune(np.zeros((2, 3)), np.array([[3.0, 1.0, 2.0], [3.0, 1.0, np.nan]])) == 1
    grid = [0.1, 0.2154, 0.4642, 1.0]
    assert zigzag.beyond_edge(grid, 0.2154, 4) is None
    assert zigzag.beyond_edge(grid, 1.0, 2) == pytest.approx([2.154, 4.642], rel=1e-3)
    assert zigzag.beyond_edge(grid, 0.1, 2) == pytest.approx([0.02154, 0.04642], rel=1e-3)


def test_ratio_of_means_keeps_zero_denominators():
    est = zigzag.ratio_of_means_ci([1.0, 0.0, 1.0, 0.0], [2.0, 0.0, 2.0, 2.0])
    assert est.mean == pytest.approx(2.0 / 6.0) and est.n == 4 and est.lo <= est.mean <= est.hi
    assert np.isnan(zigzag.ratio_of_means_ci([1.0], [0.0]).mean)


def test_arms_shift_by_a_fraction_of_the_range():
    config = registry.config("zigzag", "smoke")
    half = load(config, "digits", "half_shift")
    assert half.x_train.min() == pytest.approx(-0.5) and half.x_train.max() == pytest.approx(0.5)
    assert load(config, "digits", "raw_half_shift").x_train.max() == pytest.approx(8.0)  # [0,16] -> [-8, 8]
    assert abs(load(config, "digits", "centred").x_train.mean(axis=0)).max() < 1e-6  # zero mean per feature


def test_e4_inits_share_trainers():
    """LeCun normal runs in the He trainer scaled by 1/sqrt 2; tanh and sigmoid (Glorot) have their own."""
    config = registry.config("zigzag", None)
    g = groups(config)
    assert set(g) == {"he_normal", "xavier_uniform"}
    assert dict(g["he_normal"])["selu"] == pytest.approx(2**-0.5) and dict(g["he_normal"])["relu"] == 1.0


def _res(steps_to):
    return {"steps_to": np.asarray(steps_to, float), "lr": 0.1}


def test_speedup_bounds_follow_censoring():
    config = registry.config("zigzag", "smoke")
    fast, slow, censored = _res([10, 10, 10]), _res([40, 40, 40]), _res([np.inf, np.inf, 40])
    r = compare_row(slow, fast, {}, config, 0.2)
    assert r["speedup"] == pytest.approx(4.0) and r["bound"] == "none"
    assert compare_row(censored, fast, {}, config, 0.2)["bound"] == "lower"
    assert compare_row(fast, censored, {}, config, 0.2)["bound"] == "upper"
    assert compare_row(censored, censored, {}, config, 0.2)["bound"] == "both"


def _e3_row(lo, hi, bound="none", cens=0.0):
    return pd.Series({"from": "sigmoid", "to": "tanh", "speedup": (lo + hi) / 2, "speedup_lo": lo, "speedup_hi": hi,
                      "n_seeds": 10, "bound": bound, "censored_fraction_from": cens, "censored_fraction_to": cens,
                      "learning_rate_from": 1.0, "learning_rate_to": 0.3})


def test_e3_parts_at_their_thresholds_and_bounds():
    config = registry.config("zigzag", None)
    slower = lambda r: claims_means._slower("x", r, config).verdict
    assert slower(_e3_row(1.0 + 1e-9, 2.0)) == "supported"
    assert slower(_e3_row(0.5, 1.0)) == "refuted"
    assert slower(_e3_row(0.9, 1.1)) == "inconclusive"
    assert slower(_e3_row(1.2, 2.0, bound="lower", cens=0.3)) == "supported"  # a lower bound above 1 stays
    assert slower(_e3_row(0.5, 0.9, bound="lower", cens=0.3)) == "inconclusive"
    assert slower(_e3_row(0.5, 0.9, bound="upper", cens=0.3)) == "refuted"
    assert slower(_e3_row(1.2, 2.0, bound="both", cens=0.6)) == "inconclusive"  # > 50% censored in both arms


def test_e4_every_layer_rule():
    rows = pd.DataFrame({"layer": [1, 2, 3], "gap": [0.3, 0.2, 0.1], "gap_lo": [0.2, 0.1, 0.01], "gap_hi": [0.4, 0.3, 0.2]})
    verdict, r = claims_means.every_layer(rows, 0.0)
    assert verdict == "supported" and r.layer == 3  # the least favourable layer is reported
    assert claims_means.every_layer(rows, 0.05)[0] == "inconclusive"
    verdict, r = claims_means.every_layer(rows, 0.25)  # layer 3's CI wholly below: not every layer
    assert verdict == "refuted" and r.layer == 3


def test_smoke_result(smoke):
    result = smoke("zigzag")
    sign = result.tables["e1_sign_fraction"]
    b1 = sign[sign.batch_size == 1]
    assert (b1[b1.role.str.startswith("positive")].single_signed == 1.0).all()
    assert (b1[b1.role.str.startswith("positive")].inputs_all_positive).all()
    assert (sign[sign.role.str.startswith("centred")].single_signed < 0.5).all()
    two = result.tables["e1_two_input"]
    assert two[two.inputs.str.startswith("positive")].frac_quadrant_13.iloc[0] == 1.0
    assert {v.claim for v in result.verdicts} == {"E1", "E2", "E3", "E4"}
    steps = result.tables["e2_steps"].set_index("scaling")
    assert abs(steps.loc["centred", "x_mean"]) < 1e-6 and steps.loc["half_shift", "x_mean"] < -0.1  # the shift is not centring
    close = result.tables["e4_close"]
    assert (close.close_ratio_lo.dropna() >= 0).all()  # bootstrap CIs of a non-negative ratio stay non-negative
    e3 = result.tables["e3_steps"].set_index("activation")
    assert (e3.init == "xavier_uniform").all()


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
                want = on_interval(*p.ci, moved, p.side)  # a middle band (floor) changes only the verdicts below supported
                assert (again.verdict == "supported") == (want == "supported"), (c.id, p.part, moved)


def test_e2_censored_arm_makes_the_part_inconclusive(smoke):
    t = Tables(smoke("zigzag").tables)
    config = registry.config("zigzag", "smoke")
    cmp = t.e2_compare.copy()
    cmp["censored_fraction_from"] = config.criteria.e2.censor_max_fraction + 0.01
    parts = _claim("E2").fn(Tables({**t, "e2_compare": cmp}), config).parts
    assert all(p.verdict == "inconclusive" and p.threshold is None for p in parts)


def test_e3_e4_read_their_activations_from_the_config(smoke):
    """The activations E3 and E4 decide from are config keys, not names in the code."""
    t = Tables(smoke("zigzag").tables)
    config = registry.config("zigzag", "smoke")
    assert _claim("E4").fn(t, config).parts[0].part == "(a) elu mean close to 0 (init)"
    assert _claim("E3").fn(t, config).parts[0].part == "(a) sigmoid slower than tanh"
    config.unlock()
    config.e4.near_zero_activation, config.e4.baseline_activation = "relu", "elu"
    config.e3.uncentred_activation, config.e3.centred_activation = "tanh", "sigmoid"
    e4 = _claim("E4").fn(t, config)
    assert e4.parts[0].part == "(a) relu mean close to 0 (init)" and e4.parts[0].verdict == "refuted"
    e3 = _claim("E3").fn(t, config)
    assert e3.parts[0].part == "(a) tanh slower than sigmoid" and e3.parts[0].verdict == "inconclusive"  # not measured


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("zigzag")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_bad_value(run_cli):
    proc = run_cli("zigzag", "--config.e4.depth=0")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "depth" in proc.stderr

"""Tests of experiments.derivatives (claims B1-B12, A2, C2)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import acts
from experiments.derivatives import EXPERIMENT, measure_training
from experiments.derivatives import measure as derivatives
from experiments.kit import config as kit_config
from experiments.kit import data, registry, results

SMOKE_COMPILES = 4  # pinned from a fresh smoke run (issue 16): the formulas part (checks, properties, figure curves), perceptrons, one MLP trainer, its init gradients


def test_compare_detects_errors():
    x = np.linspace(-3, 3, 101)
    ref = np.tanh(x)
    assert derivatives.compare(ref, ref, x, 1e-5, 1e-6)["agrees"]
    bumped = ref.copy()
    bumped[50] += 1e-3
    out = derivatives.compare(bumped, ref, x, 1e-5, 1e-6)
    assert not out["agrees"] and np.isclose(out["max_abs_err"], 1e-3) and out["worst_x"] == x[50]
    nan = ref.copy()
    nan[3] = np.nan
    out = derivatives.compare(nan, ref, x, 1e-5, 1e-6)
    assert not out["agrees"] and out["nonfinite"] == 1


def test_autodiff_matches_known_derivative_and_catches_wrong_one():
    x = jnp.linspace(-5, 5, 201)
    d = derivatives.autodiff(acts.get("swish", beta=2.0).fn)(x)
    assert derivatives.compare(acts.derivatives.d_swish(x, 2.0), d, np.asarray(x), 1e-5, 1e-6)["agrees"]
    printed = acts.printed.printed_swish_prime(x, 2.0)
    assert not derivatives.compare(printed, d, np.asarray(x), 1e-5, 1e-6)["agrees"]


def test_mish_float64_formula():
    printed, exact = derivatives.mish_prime_float64(np.array([-3.0, 0.0, 1.0, 5.0]))
    assert np.allclose(printed, exact, rtol=1e-12, atol=1e-14)
    assert np.isclose(exact[1], 0.6, atol=1e-12)  # mish'(0) = tanh(ln 2) = 0.6


def test_smoke_verdicts(smoke):
    result = smoke("derivatives")
    got = {v.claim: v.verdict for v in result.verdicts}
    assert got["B1"] == "supported" and got["B11"] == "supported" and got["B12"] == "supported"
    assert got["B7"] == "qualified" and got["B9"] == "refuted"  # ELU right, its label ELU′ wrong; Swish′ wrong
    assert got["B6"] == "qualified" and got["B8"] == "supported"
    assert got["A2"] == "supported"
    training = result.tables["step_training"].set_index(["model", "activation"])
    assert training.loc[("perceptron", "step"), "max_abs_loss_change"] == 0.0
    assert training.loc[("mlp", "step"), "max_hidden_weight_change"] == 0.0
    assert training.loc[("mlp", "sigmoid"), "max_hidden_weight_change"] > 0.0
    props = result.tables["properties"].set_index("quantity")["value"]
    assert abs(props["b6_rel_gap"] - (np.log(8 / 3) / 5 * 5.5 - 1)) < 0.02  # E[1/a]·5.5 − 1 for a ~ U(3, 8)
    assert 21.5 < props["b10_float32_overflow_from"] < 22.5
    assert props["b6_gaussian_ks_p"] < 1e-6 < props["b6_ks_p"]  # document 002's "Gaussian U(l,u)": the draws are uniform
    b7 = next(v for v in result.verdicts if v.claim == "B7")
    assert [p["verdict"] for p in b7.parts] == ["supported", "refuted"] and "ELU′" in b7.parts[1]["part"]
    assert b7.parts[1]["condition"].startswith("float32")
    b9 = next(v for v in result.verdicts if v.claim == "B9")
    assert "Ramachandran" in b9.published and "σ(βx)(1 − βf(x))" in b9.published


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("derivatives")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES}; revision 1 built 252)"


def test_switched_mlps_train_each_activation():
    """The MLP populations share one trainer; the step net's hidden weights stay exactly where they started."""
    config = kit_config.validate(registry.config("derivatives", "smoke"))
    ds = data.load(config.mlp_dataset, seed=0)
    pops = measure_training.mlp_populations(config, ("step", "sigmoid"), ds)
    assert (pops["step"]["hidden_change"] == 0).all() and (pops["sigmoid"]["hidden_change"] > 0).all()
    assert (pops["step"]["grad_hidden"] == 0).all() and (pops["step"]["grad_readout"] > 0).all()


def test_cli_rejects_bad_value(run_cli):
    proc = run_cli("derivatives", "--config.seeds=0")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "config.seeds = 0" in proc.stderr and ">= 1" in proc.stderr, proc.stderr  # names the key and the bad value


def test_verdicts_follow_from_the_written_tables(smoke, tmp_path):
    """Claims decide from tables + config alone: the written folder re-decides to the same verdicts."""
    result = smoke("derivatives")
    config = kit_config.validate(registry.config("derivatives", "smoke"))
    folder = results.write(result, tmp_path / "derivatives", config.to_dict(), {})
    again = [v.to_json() for v in EXPERIMENT.redecide(folder)]
    assert results.to_jsonable(again) == results.to_jsonable([v.to_json() for v in result.verdicts])

"""Tests of experiments.initialization (claims G1, G2): the net at init, decisions at their thresholds, smoke, CLI."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from experiments.initialization import claims as g1_claims
from experiments.initialization import claims_g2, measure, net
from experiments.initialization import measure_train as init_train
from experiments.kit import inits, models, registry, train
from experiments.kit.experiment import Tables

SMOKE_COMPILES = 20  # pinned from a fresh smoke run: 2 profile programs (one per width), 1 gb, 2 Glorot trainers + 1
# evaluation, the He trainer and its extension block, the kit's staging and step-FLOP programs


@pytest.mark.parametrize("name", sorted(net.INIT_STD))
def test_init_std_matches_the_kit(name):
    w = np.asarray(inits.get(name)(jax.random.PRNGKey(1), (300, 200), jnp.float32))
    assert w.std() == pytest.approx(net.layer_stds(name, [300, 200])[0][0], rel=0.01)


def test_uniform_draw_from_shared_normals_is_uniform():
    z = jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(0), 0), (200_000,))
    u = np.asarray(net._weights(jax.random.PRNGKey(0), 0, (200_000,), 1.0, 1.0, jnp.float32))
    assert np.abs(u).max() <= np.sqrt(3) + 1e-6 and u.std() == pytest.approx(1.0, abs=0.01)
    assert np.histogram(u, bins=10)[0].min() > 0.95 * len(u) / 10  # flat
    assert np.corrcoef(u, np.asarray(z))[0, 1] > 0.9  # same draw, monotone transform


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_forward_backward_matches_the_suite_mlp(act):
    """Activations and dL/dh of :mod:`net` equal those of kit.models.layer_stats with the same weights."""
    depth, width, nc = 4, 32, 5
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 12)).astype(np.float32), rng.integers(0, nc, 16).astype(np.int32)
    pairs = [("relu", "he_normal"), (act, "xavier_uniform")]  # the second condition is checked
    c = {k: jnp.asarray(v) for k, v in net.conditions(pairs, [12] + [width] * depth + [nc]).items()}
    key = jax.random.PRNGKey(3)
    fn = net.forward_backward(tuple(a for a, _ in pairs), depth, width, nc, keep=16)
    out = {k: v[1] for k, v in fn(key, c, x, y).items()}
    c = {k: v[1] for k, v in c.items()}
    model = models.build("mlp", nc, widths=(width,) * depth, activation=act)
    params = models.init_variables(model, jax.random.PRNGKey(0), x[:1])["params"]
    for layer in range(depth + 1):
        name = f"dense_{layer}" if layer < depth else "readout"
        params[name]["kernel"] = net._weights(key, layer, params[name]["kernel"].shape, c["std"][layer], c["uniform"],
                                              jnp.float32)
    s = models.layer_stats(model, {"params": params}, x, train.loss_function("xent", nc), y)
    np.testing.assert_allclose(out["grad"], s["grad_preact"], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(out["act"], s["act"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["ln_grad_var"], np.log(np.asarray(s["grad_preact"]).reshape(depth, -1).var(1)),
                               rtol=1e-4)


def test_linear_net_standard_init_matches_theory():
    """Identity activation, U[+-1/sqrt(n)]: E[h^2] shrinks by 1/3 per layer, and the mean singular value of the
    square Jacobian W^T is sqrt(1/3) * 8/(3 pi) (quarter-circle law)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 32)).astype(np.float32), rng.integers(0, 4, 64).astype(np.int32)
    p = measure.evaluate([("identity", "standard")], 4, 256, x, y, 4, 3, dtype="float32", keep=1,
                         jac_examples=1)
    ratio = np.exp(np.diff(p["ln_preact_sq"][:, 0, 1:], axis=-1))
    np.testing.assert_allclose(ratio, 1 / 3, rtol=0.08)
    np.testing.assert_allclose(p["jac_sv"].mean(), np.sqrt(1 / 3) * measure.QUARTER_CIRCLE_MEAN, rtol=0.05)
    np.testing.assert_allclose(p["dphi_mean"], 1.0, rtol=1e-6)


def test_float64_profile_keeps_100_decades_finite():
    """R10: ReLU + N(0,1) over 50 layers grows ~10^100 in variance; float64 keeps every log-variance finite."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 16)), rng.integers(0, 3, 8).astype(np.int32)
    p = measure.evaluate([("relu", "normal"), ("tanh", "small_normal")], 50, 64, x, y, 3, 2)
    assert np.isfinite(p["ln_act_var"]).all() and np.isfinite(p["ln_grad_var"]).all()
    gain = (p["ln_act_var"][:, :, -1] - p["ln_act_var"][:, :, 0]) / np.log(10)
    assert (gain[:, 0] > 40).all() and (gain[:, 1] < -40).all()  # beyond float32's 76 decades over the net


def test_abs_interval():
    np.testing.assert_allclose(measure.abs_interval(-2.0, -3.0, -1.0), (2.0, 1.0, 3.0))
    np.testing.assert_allclose(measure.abs_interval(0.1, -0.5, 0.7), (0.1, 0.0, 0.7))
    np.testing.assert_allclose(measure.abs_interval(1.5, 1.0, 2.0), (1.5, 1.0, 2.0))


def test_rates_beyond_extends_on_the_lattice():
    grid = [0.01, 0.0215443, 0.0464159]
    assert init_train.rates_beyond(grid, 0.0215443, 3) is None
    up = init_train.rates_beyond(grid, 0.0464159, 3)
    np.testing.assert_allclose(up, [0.1, 0.215443, 0.464159], rtol=1e-4)
    np.testing.assert_allclose(init_train.rates_beyond(grid, 0.01, 3), [0.001, 0.00215443, 0.00464159], rtol=1e-4)


def test_censored_verdict_follows_r7():
    crit = registry.config("initialization").criteria.he
    assert claims_g2.censored_verdict("supported", 0.0, 0.0, crit)[0] == "supported"
    assert claims_g2.censored_verdict("refuted", 0.1, 0.0, crit)[0] == "refuted"
    assert claims_g2.censored_verdict("supported", 1.0, 0.0, crit)[0] == "supported"  # a lower bound above 1
    assert claims_g2.censored_verdict("refuted", 1.0, 0.0, crit)[0] == "inconclusive"  # a lower bound below 1
    assert claims_g2.censored_verdict("supported", 0.0, 0.3, crit)[0] == "inconclusive"  # an upper bound
    assert claims_g2.censored_verdict("refuted", 0.0, 0.3, crit)[0] == "refuted"
    assert claims_g2.censored_verdict("supported", 0.3, 0.3, crit)[0] == "inconclusive"
    assert claims_g2.censored_verdict("supported", 0.6, 0.6, crit)[0] == "inconclusive"


def _gain_rows(values: dict) -> pd.DataFrame:
    rows = []
    for (act, init), (act_ci, grad_ci) in values.items():
        row = {"activation": act, "init": init, "width": 256, "n_seeds": 10}
        for q, (lo, hi) in (("act", act_ci), ("grad", grad_ci)):
            m = (lo + hi) / 2
            row.update({f"log10_{q}_gain": m, f"log10_{q}_gain_lo": lo, f"log10_{q}_gain_hi": hi})
            row.update(zip((f"abs_log10_{q}_gain", f"abs_log10_{q}_gain_lo", f"abs_log10_{q}_gain_hi"),
                           measure.abs_interval(m, lo, hi), strict=True))
        rows.append(row)
    return pd.DataFrame(rows)


def test_g1_parts_at_the_x10_band():
    """Naive parts supported beyond 1 decade, Xavier parts supported within it, a CI across it inconclusive."""
    config = registry.config("initialization")
    assert config.criteria.g1.max_decades == 1.0
    cases = {(a, i): ((-0.5, 0.5), (-0.5, 0.5)) for a in config.criteria.g1.activations
             for i in ("normal", "small_normal", "xavier_uniform")}
    cases[("tanh", "normal")] = ((-0.02, 0.01), (1.01, 3.0))  # activations steady, gradients explode
    cases[("relu", "xavier_uniform")] = ((-1.2, -0.9), (-0.999, -0.5))  # across the band; within it
    parts = {p.part: p.verdict for p in g1_claims.g1_parts(Tables(profile_gains=_gain_rows(cases)), config)}
    assert parts["tanh+normal (256 units): act vanishes/explodes"] == "refuted"
    assert parts["tanh+normal (256 units): grad vanishes/explodes"] == "supported"
    assert parts["relu+xavier_uniform (256 units): act steady"] == "inconclusive"
    assert parts["relu+xavier_uniform (256 units): grad steady"] == "supported"
    assert parts["sigmoid+small_normal (256 units): grad vanishes/explodes"] == "refuted"


def test_smoke_run(smoke):
    result = smoke("initialization")
    assert {v.claim for v in result.verdicts} == {"G1", "G2"}
    gains = result.tables["profile_gains"].set_index(["activation", "init", "width"])
    assert (gains.xs("small_normal", level="init")["log10_act_gain"] < -1).all()  # tiny weights vanish
    assert (gains["status"] == "ok").all() and gains["n_nonfinite"].eq(0).all()
    g2 = result.tables["g2_ratios"].set_index("init")
    assert g2.loc["xavier_uniform", "preact_sq_ratio_per_layer"] < g2.loc["he_normal", "preact_sq_ratio_per_layer"]
    seeds = result.tables["he_seeds"]
    assert set(seeds["status"]) <= {"ok", "diverged", "collapsed", "censored"}
    for table in result.tables.values():  # R10 / issue 13: no -inf or silently dropped cell
        numeric = table.select_dtypes("number").to_numpy(float)
        assert not np.isneginf(numeric).any()
    for fig in result.figures:
        assert fig in result.tables, f"figure {fig} has no table"


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("initialization")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_bad_depth(run_cli):
    proc = run_cli("initialization", "--config", "configs/initialization.py:smoke", "--config.profile.depth=0")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "depth" in proc.stderr

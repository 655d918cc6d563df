"""Tests of experiments.vanishing (claims D1-D6): measurement logic on known answers, the decisions
at their thresholds, the compile budget of the smoke run, CLI errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
import pytest

import acts
from experiments.kit import config as kit_config
from experiments.kit import inits, registry
from experiments.kit.experiment import Tables
from experiments.vanishing import claims_training, measure_training, profile_net
from experiments.vanishing import measure as vanishing
from experiments.vanishing import net as vanishing_net

# The smoke run's compiled programs (fresh process, no persistent cache): profile draws + profile
# (one for every activation and init) + theory evaluator, D4 trainer, D6 trainer x BatchNorm on/off,
# chaos trainer + its theory evaluator. A regression to one program per activation or init fails.
SMOKE_COMPILES = 8


def test_log_gain_fit_recovers_a_known_geometric_decay():
    layers = np.arange(20)
    log_grad = 0.3 * layers[None, :] + np.log(np.array([[1.0], [2.0]]))  # ln g grows 0.3 per layer upwards
    np.testing.assert_allclose(vanishing._fit_log_gain(log_grad, skip=2), -0.3, atol=1e-9)


def _one_net(init, activation, depth=4, width=7, d_in=5, n_out=3, batch=6):
    """The profile program on one seed of one init, and the same net's weights."""
    names = (activation,)
    shapes = ((d_in, width), (depth - 1, width, width), (width, n_out))
    kinds = profile_net.kinds_of([init])
    base = profile_net.make_draws(shapes, kinds)(np.array([3], np.int32))
    coef = profile_net.coefficients([init], ((d_in, width), (width, width), (width, n_out)), kinds)
    x = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (batch, d_in)))
    y = np.arange(batch) % n_out
    out = profile_net.make_profile(names, profile_net.groups_of(coef))(np.int32(0), coef, *base, x, y)
    w = [np.tensordot(coef[0, j], np.asarray(b[0]), axes=(0, 0)) for j, b in enumerate(base)]
    params = {"w_in": w[0], "w_hid": w[1], "w_out": w[2], "b": jnp.zeros((depth, width)), "b_out": jnp.zeros(n_out),
              "gamma": jnp.ones((depth, width)), "beta": jnp.zeros((depth, width))}
    return {k: np.asarray(v)[0, 0] for k, v in out.items()}, params, x, y


@pytest.mark.parametrize("init, activation", [("xavier_normal", "tanh"), ("he_normal", "relu"), ("orthogonal", "sigmoid")])
def test_log_space_profile_matches_autodiff(init, activation):
    """ln||dL/dh_l|| of the rescaled backprop equals the norm of jax.grad."""
    out, params, x, y = _one_net(init, activation)
    phi = acts.get(activation).fn

    def loss(p, eps):
        return vanishing_net.xent(vanishing_net.forward(p, x, phi, False, eps)[0], y)

    eps = jnp.zeros((4, x.shape[0], 7))
    g_h = jax.grad(loss, argnums=1)(params, eps)
    np.testing.assert_allclose(out["log_grad_h"], np.log(np.linalg.norm(np.asarray(g_h).reshape(4, -1), axis=1)), atol=1e-4)
    assert out["finite"]


def test_log_space_norms_survive_float32_underflow():
    """Sigmoid with N(0, 0.01^2) weights: the gradient falls ~e^-3.6 per layer, below float32's range
    after ~25 layers; the log-space norms stay finite and fall at the mean-field rate 0.5 ln(sigma_w^2 / 16)."""
    out, *_ = _one_net("small_normal", "sigmoid", depth=60, width=64, batch=8)
    lg = out["log_grad_h"]
    assert np.isfinite(lg).all() and (lg[-1] - lg[0]) / np.log(10) > 70  # 1e-70 relative: far below float32
    gain = vanishing._fit_log_gain(lg[None], 5)[0]
    assert gain == pytest.approx(0.5 * np.log(64 * 1e-4 / 16), abs=0.05)


def test_homogeneous_activations_do_not_overflow():
    """relu with N(0,1) weights grows ~e^1.4 per layer at width 32 (activations ~1e60 at depth 100): finite in log space."""
    out, *_ = _one_net("normal", "relu", depth=100, width=32, batch=8)
    assert out["finite"] and np.isfinite(out["log_grad_h"]).all()
    assert out["log_q"][-1] / np.log(10) > 100
    gain = vanishing._fit_log_gain(out["log_grad_h"][None], 5)[0]
    assert gain == pytest.approx(0.5 * np.log(32 / 2), abs=0.15)


def test_coefficients_rebuild_every_init():
    """Each init is a row of coefficients on standard draws with the variance kit.inits gives it."""
    names = ("normal", "small_normal", "standard", "xavier_normal", "he_normal", "orthogonal", "lecun_normal")
    kinds = profile_net.kinds_of(names)
    coef = profile_net.coefficients(names, [(64, 128)], kinds)
    draws = profile_net.make_draws(((64, 128),), kinds)(np.arange(4, dtype=np.int32))[0]  # (S, K, 64, 128)
    for i, name in enumerate(names):
        w = np.tensordot(np.asarray(draws), coef[i, 0], axes=(1, 0))
        kind, scale = inits.form(name, (64, 128))
        want = scale**2 / 3 if kind == "uniform" else (1 / 128 if kind == "orthogonal" else scale**2)
        assert w.var() == pytest.approx(want, rel=0.05), name
    q = np.tensordot(np.asarray(draws[0]), coef[names.index("orthogonal"), 0], axes=(0, 0))
    np.testing.assert_allclose(q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T, np.eye(64), atol=1e-4)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_switched_off_layers_equal_a_shallower_net(batch_norm):
    """forward(n_layers=d) of a deep net = forward of the same net cut to its first d layers, and the
    switched-off layers get exactly zero gradient (the depth sweep relies on both)."""
    params = vanishing_net.init_params(jax.random.PRNGKey(0), "he_normal", 5, 8, 6, 3, bias_std=0.1)
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 5))
    y = jnp.arange(7) % 3
    d = 3
    cut = {**params, "w_hid": params["w_hid"][: d - 1],
           **{k: params[k][:d] for k in ("b", "gamma", "beta")}}
    deep = vanishing_net.forward(params, x, jax.nn.relu, batch_norm, n_layers=jnp.int32(d))[0]
    shallow = vanishing_net.forward(cut, x, jax.nn.relu, batch_norm)[0]
    np.testing.assert_allclose(deep, shallow, rtol=1e-5, atol=1e-6)

    def loss(p):
        return vanishing_net.xent(vanishing_net.forward(p, x, jax.nn.relu, batch_norm, n_layers=d)[0], y)

    g = jax.grad(loss)(params)
    assert float(jnp.abs(g["w_hid"][d - 1 :]).max()) == 0.0 and float(jnp.abs(g["w_hid"][: d - 1]).max()) > 0.0


def test_kernel_stds_are_the_inits():
    dims = (64, 32, 10, 10)
    np.testing.assert_allclose(measure_training.kernel_stds("he_normal", dims), np.sqrt([2 / 64, 2 / 32, 2 / 32]), rtol=1e-6)
    np.testing.assert_allclose(measure_training.kernel_stds("xavier_normal", dims), np.sqrt([2 / 96, 2 / 64, 2 / 42]), rtol=1e-6)
    with pytest.raises(ValueError, match="uniform"):
        measure_training.kernel_stds("standard", dims)


def test_lr_grid_is_extended_while_the_best_is_at_an_edge(monkeypatch):
    """R6: a best lr at the grid's top edge extends the grid upwards (same run count: no recompile);
    the reported seeds are fresh (ids from 1000), trained at the best lr."""
    calls = []

    def fake_runs(names, index, bn, init, ds, cfg, depths, seeds, lrs, scales, bias_std=0.0, pad_to=0):
        calls.append((len(seeds), np.asarray(lrs).copy(), np.asarray(seeds).copy()))
        acc = -np.abs(np.log(np.asarray(lrs, float) / 2.0))[None]  # best at lr = 2
        return acc, np.zeros_like(acc, bool)

    monkeypatch.setattr(measure_training, "_train_runs", fake_runs)
    cfg = ml_collections.ConfigDict({"activations": ("relu",), "learning_rates": (0.1, 0.215, 0.464), "search_seeds": 2,
                                     "seeds": 4, "max_extensions": 3})
    r = measure_training.sweep_depth("relu", False, "he_normal", None, cfg, 10)
    assert r["lrs"][r["best"]] == pytest.approx(2.15, rel=0.01) and 0 < r["best"] < len(r["lrs"]) - 1
    assert len(r["lrs"]) == 6 and len(calls) == 3  # the grid, one extension of 3 points, then the final run
    assert set(calls[-1][2]) == {1000, 1001, 1002, 1003} and np.allclose(calls[-1][1], r["lrs"][r["best"]])


def _saturation_table(top_means, drops, acts=("sigmoid", "tanh")):
    rows = []
    for a in acts:
        for s, (low, drop) in enumerate(zip(top_means, drops)):
            for t, step in enumerate((0, 10, 20)):
                for layer in (1, 2):
                    rows.append({"activation": a, "seed": s, "step": step, "layer": layer,
                                 "mean_act": (0.5 if t == 0 else low) if layer == 2 else 0.5,
                                 "saturated": 0.05 * t * layer, "log10_grad_w1": 0.0 if t == 0 else drop,
                                 "train_acc": 0.1, "status": "ok", "std_act": 0.1, "train_loss": 2.3})
    return pd.DataFrame(rows)


def _config(name="vanishing"):
    return kit_config.validate(registry.config(name, "smoke"))


def test_d4_censored_seeds_are_not_numbers():
    """(b) reads only seeds whose top layer fell below the threshold; more than max_censored of them censored -> inconclusive."""
    config = _config()
    t = Tables({"saturation_seeds": _saturation_table([0.05, 0.3, 0.3], [-2.0, -2.0, -2.0])})
    t["saturation_summary"] = measure_training.saturation_summary(t.saturation_seeds, config.criteria.d4)
    parts = {p.part[:3]: p for p in claims_training.d4.fn(t, config).parts}
    assert parts["(b)"].verdict == "inconclusive" and "2/3 seeds censored" in parts["(b)"].condition
    t = Tables({"saturation_seeds": _saturation_table([0.05, 0.04, 0.3], [-2.0, -2.2, 0.0])})
    parts = {p.part[:3]: p for p in claims_training.d4.fn(t, config).parts}
    assert parts["(b)"].n_seeds == 2 and parts["(b)"].value == pytest.approx(-2.1)


def _depth_tables(acc):
    """depth_sweep(_seeds) from {(activation, bn, depth): per-seed accuracies}."""
    seeds, table = [], []
    for (a, bn, d), values in acc.items():
        seeds += [{"activation": a, "batch_norm": bn, "depth": d, "seed": s, "train_acc": v, "status": "ok",
                   "learning_rate": 0.1} for s, v in enumerate(values)]
        table.append({"activation": a, "init": "he_normal", "batch_norm": bn, "depth": d, "best_learning_rate": 0.1,
                      "train_acc": float(np.mean(values)), "train_acc_lo": 0.0, "train_acc_hi": 1.0})
    return Tables({"depth_sweep_seeds": pd.DataFrame(seeds), "depth_sweep": pd.DataFrame(table)})


def test_d6_parts_and_the_depth2_budget_rule():
    config = _config()
    rng = np.random.default_rng(0)
    noise = lambda: 0.01 * rng.standard_normal(3)
    acc = {("relu", False, 2): 0.97 + noise(), ("relu", True, 2): 0.97 + noise(), ("relu", False, 20): 0.9 + noise(),
           ("relu", True, 20): 0.9 + noise(), ("sigmoid", False, 2): 0.95 + noise(), ("sigmoid", True, 2): 0.96 + noise(),
           ("sigmoid", False, 20): 0.11 + noise(), ("sigmoid", True, 20): 0.8 + noise()}
    parts = {p.part: p.verdict for p in claims_training.d6.fn(_depth_tables(acc), config).parts}
    assert parts == {"(a) sigmoid depth 2 - depth 20": "supported", "(b) relu - sigmoid at depth 20": "supported",
                     "(c) sigmoid+BN - sigmoid at depth 20": "supported"}
    acc[("sigmoid", False, 2)] = 0.85 + noise()  # the budget does not train every depth-2 sigmoid net to 0.9
    parts = {p.part: p.verdict for p in claims_training.d6.fn(_depth_tables(acc), config).parts}
    assert set(parts.values()) == {"inconclusive"}


def test_smoke_profile_respects_the_bound_and_has_no_dropped_cell(smoke):
    summary = smoke("vanishing").tables["profile_summary"]
    s = summary[summary.activation == "sigmoid"]
    assert len(s) and (s.log10_prod_max_dphi <= s.log10_bound + 1e-6).all()
    assert np.isfinite(summary.log10_ratio).all() and (summary.n_seeds == 3).all()  # nothing -inf, nothing dropped


def test_smoke_compile_count_and_no_runtime_warning(smoke):
    """The smoke run, in a fresh process with every RuntimeWarning shown (conftest), builds
    SMOKE_COMPILES programs (a margin of one) and prints no warning."""
    assert "RuntimeWarning" not in smoke.stderr("vanishing")
    assert SMOKE_COMPILES <= smoke.compiles("vanishing") <= SMOKE_COMPILES + 1


def test_cli_rejects_unknown_activation(run_cli):
    proc = run_cli("vanishing", "--config", "configs/vanishing.py:smoke", "--config.profile.activations=('nosuch',)")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "nosuch" in proc.stderr


def test_per_example_theory_sums_gradient_norms_over_the_batch():
    """Issue 13, defect 1: the batch's ||dL/dh_l||^2 is a sum over examples, so the theory multiplies each
    example's chi_1 down the layers and adds the products (by hand here for two examples)."""
    from experiments.kit import theory
    from experiments.vanishing import measure

    def lw(chi):
        chi = np.asarray(chi, float)
        return theory.Layerwise(np.ones_like(chi), chi, np.ones_like(chi), np.full_like(chi, 2.0), float("nan"))

    a, b = [0.5, 0.5, 0.5, 0.9], [1.0, 1.0, 1.0, 0.9]
    out = measure._per_example([lw([0.7] * 4), lw(a), lw(b)], batch=2)
    s = [0.5**3 + 1.0, 0.5**2 + 1.0, 0.5 + 1.0, 2.0]  # S_l = sum_b prod_(k>=l) chi_b(k), S_L = batch size
    np.testing.assert_allclose(out.chi_1[:3], [s[0] / s[1], s[1] / s[2], s[2] / s[3]], rtol=1e-12)
    assert out.kappa[0] == 2.0 and np.isnan(out.q_star)  # tolerance inputs are the batch-mean q_1's
    same = measure._per_example([lw(a), lw(a), lw(a)], batch=2)
    np.testing.assert_allclose(same.chi_1, a, rtol=1e-12)  # equal examples: the one-example theory

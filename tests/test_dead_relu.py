"""Tests of experiments.dead_relu (claims F1-F4, G3): measurement logic on known cases, the one-compile
trainer against optax and the activation registry, decisions at their thresholds, smoke run, CLI."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest

import acts
from experiments.dead_relu import derive, measure, measure_g3, numbers, trainer
from experiments.kit import config as kit_config
from experiments.kit import perf, registry
from experiments.kit.experiment import Tables

SMOKE_COMPILES = 10  # measured (fresh process, cache off): 4 programs (trainer, G3 table, |x| init, |x| fit) + 6 array transfers


def _config(preset="smoke"):
    return kit_config.validate(registry.config("dead_relu", preset))


def test_dead_summary_known_case():
    # one run, 4 checks, 1 layer, 4 units: u0 always dead, u1 dead at check 1 then alive, u2 alive,
    # u3 dead at the last two checks; the second run diverges at the last check
    neg = np.zeros((2, 4, 1, 4), bool)
    neg[:, :, 0, 0] = True
    neg[:, 1, 0, 1] = True
    neg[:, 2:, 0, 3] = True
    diverged = np.zeros((2, 4), bool)
    diverged[1, 3] = True
    s = measure.dead_summary(neg, diverged, last=2)
    assert s["born"][0] == 0.25 and s["final"][0] == 0.5
    assert s["dead"][0] == 0.5  # u0 and u3 dead at each of the last 2 checks
    assert s["n_dead_before_last"][0] == 3 and s["n_revived"][0] == 1  # u1 revived of {u0, u1, u3}
    np.testing.assert_allclose(s["per_layer"][0, :, 0], [0.25, 0.5, 0.5, 0.5])
    assert np.isnan(s["dead"][1]) and np.isnan(s["n_revived"][1]) and np.isnan(s["per_layer"][1, 3, 0])
    assert measure.dead_summary(neg, diverged, last=3)["dead"][0] == 0.25  # u3 not dead at check 1


def test_optimizer_rule_is_optax():
    params = {"a": jnp.array([1.0, -2.0, 0.5]), "b": jnp.array([[0.3, 0.1]])}

    def loss(p):
        return jnp.sum(p["a"] ** 4) + 3 * jnp.sum(jnp.sin(p["b"]))

    for name, tx in [("sgd", optax.sgd(0.05)), ("momentum", optax.sgd(0.05, momentum=0.9)),
                     ("adagrad", optax.adagrad(0.05)), ("adam", optax.adam(0.05))]:
        hp = jnp.array(trainer.HYPER[name], jnp.float32)
        p1, s1, p2, s2 = params, tx.init(params), params, trainer.optimizer_init(params, hp)
        for _ in range(20):
            u, s1 = tx.update(jax.grad(loss)(p1), s1, p1)
            p1 = optax.apply_updates(p1, u)
            u, s2 = trainer.optimizer_update(jax.grad(loss)(p2), s2, hp, jnp.float32(0.05))
            p2 = optax.apply_updates(p2, u)
        for a, b in zip(jax.tree_util.tree_leaves(p1), jax.tree_util.tree_leaves(p2)):
            np.testing.assert_allclose(a, b, atol=2e-6, err_msg=name)


def test_activation_family_is_the_registry():
    h = jnp.linspace(-4, 4, 401)
    for name in ("relu", "leaky_relu", "elu"):
        s, c, _ = trainer.activation_row(name)
        np.testing.assert_allclose(trainer.phi(h, s, c), acts.get(name).fn(h), atol=1e-6, err_msg=name)
        d_ours = jax.vmap(jax.grad(lambda v, s=s, c=c: trainer.phi(v, s, c)))(h)
        d_reg = jax.vmap(jax.grad(acts.get(name).fn))(h)
        np.testing.assert_allclose(d_ours, d_reg, atol=1e-6, err_msg=name)
    s, c, learned = trainer.activation_row("prelu")
    assert learned == 1.0 and s == acts.get("prelu").params["alpha"]
    np.testing.assert_allclose(trainer.phi(h, 0.3, 0.0), acts.functions.prelu(h, 0.3), atol=1e-6)
    with pytest.raises(ValueError, match="ReLU family"):
        trainer.activation_row("tanh")


def test_init_index_picks_the_named_initialiser():
    spec = trainer.Spec((256,), 10, 10, 8, 5, ("he_normal", "small_normal", "xavier_uniform"), 2)
    stds = []
    for i in range(3):
        p = trainer.init_params(spec, jax.random.PRNGKey(0), 200, jnp.int32(i), jnp.float32(0.0))
        stds.append(float(jnp.std(p["layers"][0]["w"])))
        assert float(jnp.abs(p["layers"][0]["b"]).max()) == 0.0
    np.testing.assert_allclose(stds, [np.sqrt(2 / 200), 0.01, np.sqrt(6 / 456) / np.sqrt(3)], rtol=0.05)


def test_draws_are_independent_per_init_and_lr_but_shared_by_activations():
    assert trainer.draw_id("he_normal", 0.1) != trainer.draw_id("he_normal", 0.316)
    assert trainer.draw_id("he_normal", 0.1) != trainer.draw_id("normal", 0.1)
    assert trainer.draw_id("he_normal", 0.1) == trainer.draw_id("he_normal", 0.1000000001)


def test_one_compile_for_inits_optimizers_lrs_and_activations():
    x = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    spec = trainer.Spec((8, 8), 2, 20, 16, 10, ("he_normal", "normal"), 4)
    runs = {"seed": np.array([0, 1, 0, 1, 2]), "init_index": np.array([0, 1, 0, 0, 1]),
            "draw": np.array([trainer.draw_id(i, lr) for i, lr in [("he_normal", 0.1), ("normal", 1e-3),
                                                                    ("he_normal", 0.1), ("he_normal", 10.0), ("normal", 1.0)]]),
            "optimizer": ["sgd", "adam", "adagrad", "momentum", "sgd"], "learning_rate": np.array([0.1, 1e-3, 0.1, 10.0, 1e3]),
            "activation": ["relu", "leaky_relu", "elu", "prelu", "relu"]}
    trainer.train(x, y, spec, runs)
    before = perf.compile_count()
    out = trainer.train(x, y, spec, {**runs, "learning_rate": runs["learning_rate"][::-1].copy()})
    assert perf.compile_count() == before, "a second sweep of the same shapes compiled again"
    assert out["negative"].shape == (5, 3, 2, 8) and out["acc"].shape == (5, 3)


def _locate_cells():
    rows = []
    for lr, n_ok, score in [(0.01, 3, 0.3), (0.1, 3, 0.7), (0.316, 3, 0.8), (1.0, 3, 0.6), (1.78, 1, 0.2), (3.16, 0, 0.1)]:
        rows.append({"dataset": "mnist1d", "activation": "relu", "optimizer": "sgd", "init": "he_normal", "learning_rate": lr,
                     "n_seeds": n_ok, "n_runs": 3, "score": score, "dead": lr / 10})
    return pd.DataFrame(rows)


def test_select_picks_best_edge_and_low():
    config = _config()
    config.unlock()
    config.arms = {"a": {"dataset": "mnist1d", "optimizer": "sgd", "init": "he_normal", "learning_rates": (0.01, 1.0)}}
    s = derive.select(_locate_cells(), config).iloc[0]
    assert (s["best_learning_rate"], s["edge_learning_rate"], s["low_learning_rate"]) == (0.316, 1.0, 0.01)
    assert not s["best_at_grid_end"] and not s["edge_at_grid_end"] and s["edge_dead"] == pytest.approx(0.1)
    assert s["below_edge_learning_rate"] == 0.316


def test_paired_drop_uses_seeds_that_learned_in_both():
    runs = pd.DataFrame({"seed": [0, 1, 2, 0, 1, 2], "learning_rate": [1.0] * 3 + [0.1] * 3,
                         "dead": [0.3, 0.2, 0.9, 0.0, 0.0, 0.0], "status": ["ok", "ok", "collapsed", "ok", "ok", "ok"]})
    est, n = derive.paired_drop(runs, {"learning_rate": 1.0}, {"learning_rate": 0.1}, 0.95)
    assert n == 2 and est.mean == pytest.approx(0.25)


def test_lu_bound_matches_published_depth10():
    published = {2: 0.925, 3: 0.70, 5: 0.25, 10: 0.009}
    for width, value in published.items():
        assert abs(measure_g3.lu_bound([width] * 9) - value) < 0.006, width
    assert measure_g3.lu_bound([2] * 9) > measure_g3.lu_bound([2] * 5)


def test_born_dead_by_depth_is_cumulative():
    const = np.array([[False, True, False], [False, False, False]])
    np.testing.assert_array_equal(measure_g3.born_dead_by_depth(const), [[False, True, True], [False, False, False]])


def test_masked_wide_nets_are_born_dead_like_narrow_ones():
    x = jnp.linspace(-np.sqrt(3), np.sqrt(3), 65)[:, None]
    keys = jax.random.split(jax.random.PRNGKey(3), 600)

    def p_dead(width, wide, depth):
        const = jax.vmap(lambda k: measure_g3.constant_layers(k, width, x, depth - 1, wide, 0.0))(keys)
        return measure_g3.born_dead_by_depth(np.asarray(const))[:, -1].mean()

    p_narrow, p_masked = p_dead(2, 2, 10), p_dead(2, 20, 10)
    assert abs(p_narrow - p_masked) < 0.06  # same distribution (different draws)
    assert p_masked <= measure_g3.lu_bound([2] * 9) + 0.03 and p_masked > 0.75
    assert p_dead(20, 20, 10) < 0.01


def test_born_dead_abs_nets_stay_collapsed_without_training():
    g3 = _config().g3
    model = measure_g3._fit_model(g3)
    x_grid = jnp.linspace(-np.sqrt(3), np.sqrt(3), 513)[:, None]
    params = jax.vmap(lambda k: measure_g3.models.init_variables(model, k, x_grid[:1])["params"])(
        jax.random.split(jax.random.PRNGKey(0), 64))
    _, state = jax.vmap(lambda p: model.apply({"params": p}, x_grid, mutable=["intermediates"]))(params)
    zero = np.any([np.all(np.asarray(a[0]) == 0, axis=(1, 2)) for k, a in state["intermediates"].items()
                   if k.startswith("act_")], axis=0)
    assert zero.any()
    dead = jax.tree_util.tree_map(lambda a: a[np.flatnonzero(zero)[:4]], params)
    collapsed, _ = measure_g3.fit_nets(model, dead, np.arange(4, dtype=np.int32), g3, x_grid)
    assert np.asarray(collapsed).all()  # trained for fit_steps anyway: still constant


def _tables_with(cells_rows, selected_rows):
    return Tables({"cells": pd.DataFrame(cells_rows), "selected": pd.DataFrame(selected_rows)})


def _cell(act, dead, lo, hi, n=10):
    return {"dataset": "mnist1d", "activation": act, "optimizer": "sgd", "init": "he_normal", "learning_rate": 1.0,
            "dead": dead, "dead_lo": lo, "dead_hi": hi, "dead_finite": dead, "dead_finite_lo": lo, "dead_finite_hi": hi,
            "n_seeds": n, "n_finite": n, "n_runs": 10}


def test_f4_needs_power_and_decides_on_the_stuck_interval():
    config = _config()
    sel_row = {"arm": "a", "dataset": "mnist1d", "optimizer": "sgd", "init": "he_normal", "below_edge_learning_rate": 1.0}
    weak = _tables_with([_cell("relu", 0.06, 0.03, 0.09), _cell("leaky_relu", 0.0, 0.0, 0.0)], [sel_row])
    power, refs = numbers.f4_power_cells(weak, config)
    assert not power and len(refs) == 1
    assert numbers.f4_variant_part(weak, config, "leaky_relu", power, refs).verdict == "inconclusive"
    for stuck, want in [((0.0, 0.0, 0.009), "supported"), ((0.05, 0.02, 0.08), "refuted"), ((0.01, 0.0, 0.02), "inconclusive")]:
        t = _tables_with([_cell("relu", 0.2, 0.1, 0.3), _cell("leaky_relu", *stuck)], [sel_row])
        power, refs = numbers.f4_power_cells(t, config)
        assert numbers.f4_variant_part(t, config, "leaky_relu", power, refs).verdict == want


def test_fraction_part_is_inconclusive_with_too_few_learned_seeds():
    config = _config("default")
    c = pd.Series(_cell("relu", 0.3, 0.2, 0.4, n=4))
    assert numbers.fraction_part("x", c, config, "criteria.f1.min_dead", ">=", "u", "c").verdict == "inconclusive"
    c = pd.Series(_cell("relu", 0.3, 0.2, 0.4, n=5))
    assert numbers.fraction_part("x", c, config, "criteria.f1.min_dead", ">=", "u", "c").verdict == "supported"


def test_smoke_result(smoke):
    result = smoke("dead_relu")
    assert {v.claim for v in result.verdicts} == {"F1", "F2", "F3", "F4", "G3"}
    born = result.tables["g3_born_dead"]
    assert (np.diff(born[born["width"] == 2]["born_dead"].to_numpy()) >= 0).all()  # monotone in depth
    runs = result.tables["runs"]
    assert (runs.loc[runs["status"] != "diverged", "dead"].between(0, 1)).all()
    assert set(runs["status"]) <= {"ok", "collapsed", "diverged"}
    config = _config()
    assert set(runs["seed"]) == set(range(config.locate_seeds, config.locate_seeds + config.decide_seeds))
    assert set(result.tables["locate_runs"]["seed"]) == set(range(config.locate_seeds))  # decide seeds are new
    assert set(runs["activation"]) == {"relu", *config.roles.variants}


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("dead_relu")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_bad_depth(run_cli):
    proc = run_cli("dead_relu", "--config.g3.max_depth=1")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "max_depth" in proc.stderr

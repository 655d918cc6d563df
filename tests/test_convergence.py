"""Tests of experiments.convergence (claims H1, H3, H4, F5, C4, C5): sweeps, decisions at their thresholds,
the smoke run (statuses, re-decision from the tables, compile count) and the CLI."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from experiments.convergence import EXPERIMENT, claims_accuracy, claims_speed
from experiments.convergence import population as pop
from experiments.convergence import sweep as sw
from experiments.convergence.parts import bounded
from experiments.kit import config as kit_config
from experiments.kit import registry, results
from experiments.kit.experiment import Tables

# pinned from a fresh smoke run (revision 1: one compile per population, ~20): the digits MLP program serving every
# activation, rate, init and seed, plus a few staging programs; a regression fails
SMOKE_COMPILES = 5
STATUSES = {"ok", "diverged", "collapsed", "censored"}


def _config():
    return kit_config.validate(registry.config("convergence", "smoke"))


def _arm(steps_to: dict, diverged: dict | None = None, loss: dict | None = None, budget: int = 100) -> sw.Arm:
    """An arm whose seeds reach 5% training error at the given steps (inf: never) at each rate."""
    steps = np.arange(0, budget + 10, 10)
    arm = sw.Arm("mlp", "digits", "relu", "he_normal", 1.0, 0.05, steps, 0.1)
    for lr, reach in steps_to.items():
        reach = np.asarray(reach, float)
        acc = np.where(steps[None, :] >= reach[:, None], 0.99, 0.5)
        final = np.full(len(reach), (loss or {}).get(lr, 0.1))
        curve = np.concatenate([np.full((len(reach), 1), 2.3), np.repeat(final[:, None], len(steps) - 1, 1)], 1)
        arm.results[lr] = {"train_acc": acc, "train_loss": curve, "diverged": np.asarray((diverged or {}).get(
            lr, np.zeros(len(reach))), bool), "val_acc": acc[:, -1], "test_acc": acc[:, -1], "slopes": np.zeros((len(reach), 0))}
    return arm


def test_best_speed_is_the_fastest_stable_rate_and_avoids_censoring():
    arm = _arm({0.1: [40, 40], 0.2154: [30, 30], 0.4642: [20, 20]}, diverged={0.4642: [0, 1]})
    assert sw.best_speed(arm, 0.2) == 0.2154  # the fastest rate diverged in one seed
    arm = _arm({0.1: [60, 60, 60, 60, 60], 0.2154: [20, 20, 20, np.inf, np.inf]})
    assert sw.best_speed(arm, 0.2) == 0.1  # 40% censored at the faster median: the uncensored rate wins
    assert sw.best_speed(arm, 0.5) == 0.2154
    assert sw.median_inf(np.array([10.0, np.inf, np.inf])) == np.inf and sw.median_inf(np.array([10.0, 20, np.inf])) == 20


def test_extend_beyond_an_edge_on_the_grid():
    arm = _arm({0.1: [40, 40], 0.2154: [30, 30], 0.4642: [20, 20]})
    assert sw.extend(arm, [sw.best_speed(arm, 0.2)], None) == ["up"]
    assert sw.block(arm, "up", 3, 1e-4, 100.0) == [1.0, 2.154, 4.642]
    assert sw.block(arm, "down", 3, 0.04, 100.0) == [0.04642]  # the grid's lowest rate caps the block
    assert sw.window(0.1, 3) == [0.04642, 0.1, 0.2154]
    assert sw.round_lr(0.0464) == 0.04642 and sw.round_lr(0.03) == 0.03
    # C5's edge: the largest rate still trains -> extend up even with the best inside
    inside = _arm({0.1: [40, 40], 0.2154: [20, 20], 0.4642: [30, 30]})
    assert sw.extend(inside, [sw.best_speed(inside, 0.2)], None) == []
    assert sw.extend(inside, [sw.best_speed(inside, 0.2)], (0.8, 0.5)) == ["up"]


def test_c5_rates_follow_the_training_fraction():
    arm = _arm({0.1: [40, 40], 1.0: [40, 40], 10.0: [40, 40]}, loss={0.1: 0.5, 1.0: 0.2, 10.0: 2.0})
    assert sw.max_training_lr(arm, 0.8, 0.5) == 1.0  # loss 2.0 is not below half of 2.3
    assert sw.best_loss(arm, 0.8, 0.5) == 1.0


def _row(lo, hi, bound="exact", value=None):
    return {"ratio": (lo + hi) / 2 if value is None else value, "ratio_lo": lo, "ratio_hi": hi, "n_seeds": 10,
            "bound": bound}


@pytest.mark.parametrize(("lo", "hi", "bound", "want"), [
    (1.6, 2.0, "exact", "supported"), (1.2, 2.0, "exact", "qualified"), (0.5, 0.9, "exact", "refuted"),
    (0.9, 1.2, "exact", "inconclusive"),
    (1.6, 2.0, "lower", "supported"),  # the true ratio is even larger
    (1.2, 2.0, "lower", "inconclusive"),  # at least qualified, maybe supported: a lower bound cannot tell
    (0.5, 0.9, "lower", "inconclusive"),  # cannot refute: the true ratio may be larger
    (0.5, 0.9, "upper", "refuted"), (1.6, 2.0, "upper", "inconclusive"), (1.6, 2.0, "none", "inconclusive"),
])
def test_h1_part_at_its_thresholds_and_under_censoring(lo, hi, bound, want):
    config = _config()
    p = bounded("p", _row(lo, hi, bound), config, "criteria.h1.min_ratio", ">", unit="u", condition="c",
                value_key="ratio", floor="criteria.h1.as_fast", bound=bound)
    assert p.verdict == want
    assert (p.threshold is None) == (bound != "exact")


def _h4_tables(gap_lo: float, lo: float, hi: float, equivalent: bool) -> Tables:
    paired = pd.DataFrame([{
        "dataset": "digits_128", "n_train": 128, "activation": "rrelu", "baseline": "relu", "learning_rate": 0.1,
        "baseline_learning_rate": 0.1, "diff_pp": (lo + hi) / 2, "diff_pp_lo": lo, "diff_pp_hi": hi, "n_seeds": 10,
        "acc": 0.8, "baseline_acc": 0.8, "baseline_gap_pp": gap_lo + 2, "baseline_gap_pp_lo": gap_lo,
        "baseline_gap_pp_hi": gap_lo + 4, "tost_lo": lo / 2, "tost_hi": hi / 2, "p_tost": 0.01, "equivalent": equivalent}])
    return Tables(h4_paired=paired, h4_small_data=pd.DataFrame([{"dataset": "digits_128", "activation": "relu",
                                                                 "status": "diverged"}]))


@pytest.mark.parametrize(("gap_lo", "lo", "hi", "equivalent", "want"), [
    (12.0, 0.2, 1.0, False, "supported"), (12.0, -1.0, -0.1, False, "refuted"), (12.0, -0.4, 0.4, True, "refuted"),
    (12.0, -0.9, 0.9, False, "inconclusive"), (8.0, 0.2, 1.0, False, "inconclusive"),  # ReLU does not overfit
])
def test_h4_only_where_relu_overfits_and_equivalence_refutes(gap_lo, lo, hi, equivalent, want):
    decision = claims_accuracy.h4.fn(_h4_tables(gap_lo, lo, hi, equivalent), _config())
    assert [p.verdict for p in decision.parts] == [want]


def _f5(rows) -> Tables:
    base = {"baseline": "relu", "init": "he_normal", "named": True, "status": "ok", "learning_rate": 0.1,
            "baseline_learning_rate": 0.1, "n_seeds": 10}
    return Tables(f5_accuracy_vs_relu=pd.DataFrame([{**base, **r} for r in rows]))


def test_f5_rival_parts():
    def rows(label, pb, pn):
        return [{"dataset": d, "activation": label, "diff_pp": 1.0, "diff_pp_lo": 0.5, "diff_pp_hi": 1.5,
                 "p_better_holm": b, "p_not_better_holm": n} for d, b, n in zip(("digits", "fashion_mnist"), pb, pn)]
    config = _config()
    verdicts = {p.part.split()[0]: p.verdict for p in claims_accuracy.f5.fn(_f5(
        rows("leaky_relu", (0.01, 0.01), (1, 1)) + rows("elu", (0.01, 0.5), (1, 0.01))), config).parts}
    assert verdicts == {"leaky_relu": "refuted", "elu": "qualified"}
    verdicts = {p.part.split()[0]: p.verdict for p in claims_accuracy.f5.fn(_f5(
        rows("leaky_relu", (0.5, 0.5), (0.01, 0.01)) + rows("elu", (0.5, 0.5), (0.01, 0.3))), config).parts}
    assert verdicts == {"leaky_relu": "supported", "elu": "inconclusive"}  # not better shown / not shown


def test_layer_stds_are_the_named_inits():
    fans = [(64, 32), (32, 10)]
    np.testing.assert_allclose(pop.layer_stds("he_normal", 1.0, fans), [np.sqrt(2 / 64), np.sqrt(2 / 32)], rtol=1e-6)
    np.testing.assert_allclose(pop.layer_stds("xavier_normal", 1.0, fans), [np.sqrt(2 / 96), np.sqrt(2 / 42)], rtol=1e-6)
    np.testing.assert_allclose(pop.layer_stds("small_normal", 10.0, fans), [0.1, 0.1], rtol=1e-6)
    with pytest.raises(ValueError):
        pop.layer_stds("xavier_uniform", 1.0, fans)


def test_switch_net_applies_the_chosen_branch():
    net = pop.Net((), (4,), 3, (("relu", ()), ("tanh", ()), ("prelu", ())))
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 6))
    params = net.init(jax.random.PRNGKey(1), x, 0)["params"]
    hidden = x @ params["layer_0"]["kernel"] + params["layer_0"]["bias"]
    for which, fn in enumerate((jax.nn.relu, jnp.tanh, lambda h: jnp.where(h > 0, h, 0.25 * h))):
        want = fn(hidden) @ params["layer_1"]["kernel"] + params["layer_1"]["bias"]
        np.testing.assert_allclose(net.apply({"params": params}, x, which), want, rtol=1e-5, atol=1e-6)
    assert pop.layer_fans(net, (6,)) == [(6, 4), (4, 3)]


def test_cnn_stem_cuts_patches():
    x = jnp.arange(2 * 4 * 4 * 1, dtype=jnp.float32).reshape(2, 4, 4, 1)
    p = pop.patches(x, 2)
    assert p.shape == (2, 2, 2, 4)
    np.testing.assert_array_equal(p[0, 0, 1], [2, 3, 6, 7])  # the top-right 2x2 patch, row-major


def test_smoke_run_measures_every_claim(smoke):
    result = smoke("convergence")
    assert {v.claim for v in result.verdicts} == {"H1", "H3", "H4", "F5", "C4", "C5"}
    for name in ("sweep", "h1_step_ratios", "h4_small_data", "c4_step_ratios"):
        assert set(result.tables[name].status) <= STATUSES | {"diverged"}, name
    sweep = result.tables["sweep"]
    groups = sweep.groupby(["model", "dataset", "activation", "init", "init_scale"])
    for key, g in groups:  # exactly one tuned rate per arm, none only if every rate diverged
        expected = int((g.status != "diverged").any())
        assert g.best_speed.sum() == expected and g.best_val.sum() == expected, key
    assert sweep.n_seeds.eq(2).all()
    slopes = result.tables["prelu_slopes"]
    assert len(slopes) == 2 and np.isfinite(slopes.mean_slope).all() and (np.abs(slopes.mean_slope - 0.25) > 1e-6).all()
    h1 = result.tables["h1_step_ratios"]
    assert set(h1.bound) <= {"exact", "lower", "upper", "none"} and set(h1.init) >= {"xavier_normal"}
    assert set(h1.baseline_init) == {"he_normal"}  # R6: ReLU with He init


def test_verdicts_follow_from_the_written_tables(smoke, tmp_path):
    """Claims decide from tables + config alone: the written folder re-decides to the same verdicts."""
    result = smoke("convergence")
    folder = results.write(result, tmp_path / "convergence", _config().to_dict(), {})
    again = [v.to_json() for v in EXPERIMENT.redecide(folder)]
    assert results.to_jsonable(again) == results.to_jsonable([v.to_json() for v in result.verdicts])


def test_h1_reads_the_activations_of_its_config(smoke):
    t = Tables(smoke("convergence").tables)
    config = registry.config("convergence", "smoke")
    assert {p.part.split("/")[0] for p in claims_speed.h1.fn(t, config).parts} == {"sigmoid", "tanh"}
    config.unlock()
    config.criteria.h1.activations = ("leaky_relu", "prelu")
    assert {p.part.split("/")[0] for p in claims_speed.h1.fn(t, config).parts} == {"leaky_relu", "prelu"}


def test_scorecard_interface(smoke):
    """experiments.scorecard reads Runner.cell / tuned / tuned_index / sweep_table on a fixed list of rates."""
    from experiments.convergence import measure

    config = _config()
    runner = measure.Runner(config)
    cell = runner.cell("mlp", "digits", "relu", init="he_normal")
    assert cell.lrs == sorted(sw.round_lr(lr) for lr in config.learning_rates)
    tuned = runner.tuned(cell)
    assert tuned["learning_rate"] == cell.lrs[measure.tuned_index(cell, runner.spec.log_every)]
    assert tuned["steps"].shape == (config.seeds,) and np.isfinite(tuned["steps"]).all()
    assert len(measure.sweep_table(runner)) == len(config.learning_rates)


def test_more_seeds_equal_the_same_seeds_in_a_sweep(smoke):
    """Seeds added at one rate (the accuracy claims) are the runs a sweep with more seeds gives: runs are independent
    and paired by seed, padding included."""
    from experiments.convergence import measure

    config = _config()
    runner = measure.Runner(config)
    arm = runner.arm("mlp", "digits", "tanh")
    runner.train(arm, [0.1])
    runner.more_seeds(arm, 0.1, 3)
    bigger = config.copy_and_resolve_references()
    bigger.unlock()
    bigger.seeds = 3
    runner = measure.Runner(bigger)
    other = runner.arm("mlp", "digits", "tanh")
    runner.train(other, [0.1])
    for key in ("train_loss", "test_acc", "val_acc"):
        np.testing.assert_allclose(arm.decided().get(0.1, key), other.get(0.1, key), rtol=1e-5, atol=1e-6)


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("convergence")
    assert n <= SMOKE_COMPILES + 2, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_bad_input(run_cli):
    proc = run_cli("convergence", "--config", "configs/convergence.py:smoke", "--config.seeds=0", "--workdir", "/tmp/convergence_bad")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "seeds" in proc.stderr

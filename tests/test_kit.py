"""The kit: data, initialisers, models and probes, training, statistics, theory, results, ledger."""

from __future__ import annotations

import json
import os
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

from experiments.kit import config as kit_config
from experiments.kit import (
    data,
    fastcompile,
    inits,
    ledger,
    meanfield,
    models,
    perf,
    results,
    stats,
    theory,
    train,
    verdicts,
)

SHARED_CLAIMS = Path(__file__).resolve().parents[2] / "shared" / "CLAIMS.md"


# --- data -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["digits", "mnist1d", "xor", "two_moons", "gaussian"])
def test_datasets_load_standardised(name):
    d = data.load(name)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int32
    assert len(d.x_train) > len(d.x_test) > 0
    assert abs(d.x_train.mean()) < 0.05
    assert set(np.unique(d.y_train)) <= set(range(d.n_classes))


def test_scalings_of_digits():
    raw, unit = data.load("digits", scaling="raw"), data.load("digits", scaling="unit")
    assert raw.x_train.max() == 16.0 and unit.x_train.max() == 1.0 and unit.x_train.min() == 0.0
    centred = data.load("digits", scaling="centred")
    np.testing.assert_allclose(centred.x_train.mean(0), 0, atol=1e-5)
    shifted = data.load("digits", shift=3.0)
    np.testing.assert_allclose(shifted.x_train.mean(), 3.0, atol=1e-4)


def test_missing_fashion_mnist_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(tmp_path))
    data._raw.cache_clear()
    with pytest.raises(data.DataMissing, match="apt-get install dataset-fashion-mnist"):
        data.load("fashion_mnist")
    data._raw.cache_clear()


def test_unknown_dataset_lists_names():
    with pytest.raises(ValueError, match="valid names: digits"):
        data.load("cifar")


# --- initialisers ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, variance",
    [
        ("normal", lambda i, o: 1.0),
        ("small_normal", lambda i, o: 1e-4),
        ("standard", lambda i, o: 1.0 / (3 * i)),
        ("xavier_uniform", lambda i, o: 2.0 / (i + o)),
        ("xavier_normal", lambda i, o: 2.0 / (i + o)),
        ("he_normal", lambda i, o: 2.0 / i),
        ("he_uniform", lambda i, o: 2.0 / i),
        ("lecun_normal", lambda i, o: 1.0 / i),
        ("orthogonal", lambda i, o: 1.0 / max(i, o)),
    ],
)
def test_initialiser_variances(name, variance):
    fan_in, fan_out = 400, 300
    w = inits.get(name)(jax.random.PRNGKey(0), (fan_in, fan_out), jnp.float32)
    assert float(jnp.var(w)) == pytest.approx(variance(fan_in, fan_out), rel=0.05)


def test_gain_and_unknown_initialiser():
    w1 = inits.get("he_normal")(jax.random.PRNGKey(1), (50, 50), jnp.float32)
    w3 = inits.get("he_normal", gain=3.0)(jax.random.PRNGKey(1), (50, 50), jnp.float32)
    np.testing.assert_allclose(w3, 3 * w1, rtol=1e-6)
    with pytest.raises(ValueError, match="valid names"):
        inits.get("glorot")


# --- models and probes ----------------------------------------------------------------------
def test_mlp_probes_give_gradients_of_preactivations():
    model = models.build("mlp", 3, widths=(8, 8, 8), activation="tanh", initializer="xavier_uniform")
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 4))
    y = jnp.array([0, 1, 2, 0, 1])
    variables = models.init_variables(model, jax.random.PRNGKey(1), x)
    loss_fn = train.loss_function("xent", 3)
    s = models.layer_stats(model, variables, x, loss_fn, y)
    assert s["preact"].shape == (3, 5, 8)
    np.testing.assert_allclose(s["act"], np.tanh(s["preact"]), atol=1e-6)
    # dL/dh_2 by hand: the read-out's gradient backpropagated through tanh of the last layer.
    params = variables["params"]
    logits = s["act"][2] @ params["readout"]["kernel"] + params["readout"]["bias"]
    dlogits = (jax.nn.softmax(logits) - jax.nn.one_hot(y, 3)) / 5
    dh = (dlogits @ params["readout"]["kernel"].T) * (1 - s["act"][2] ** 2)
    np.testing.assert_allclose(s["grad_preact"][2], dh, atol=1e-6)


def test_cnn_shapes_and_special_activations():
    x = jnp.ones((2, 8, 8, 1))
    for act, params in [("prelu", {}), ("rrelu", {"lower": 3.0, "upper": 8.0}), ("maxout", {"k": 2})]:
        model = models.build("cnn", 10, channels=(4, 8), dense_widths=(16,), activation=act, act_params=params)
        v = models.init_variables(model, jax.random.PRNGKey(0), x)
        assert model.apply(v, x).shape == (2, 10)
    prelu = models.build("mlp", 2, widths=(4,), activation="prelu")
    slope = models.init_variables(prelu, jax.random.PRNGKey(0), x)["params"]["phi_0"]["slope"]
    np.testing.assert_allclose(slope, 0.25)


@pytest.mark.parametrize("shape", [(2, 8, 8, 3), (2, 7, 5, 2), (3, 11, 4)])
def test_conv3_and_max_pool2_match_flax(shape):
    """The CNN's matmul convolution and reshape pooling compute what nn.Conv / nn.max_pool do."""
    x = jax.random.normal(jax.random.PRNGKey(1), shape)
    spatial = x.ndim - 2
    ours = models.Conv3(6)
    flax_conv = nn.Conv(6, (3,) * spatial, padding="SAME")
    params = ours.init(jax.random.PRNGKey(2), x)
    ref_params = flax_conv.init(jax.random.PRNGKey(2), x)
    assert jax.tree_util.tree_map(jnp.shape, params) == jax.tree_util.tree_map(jnp.shape, ref_params)
    params = jax.tree_util.tree_map(lambda a: a + jax.random.normal(jax.random.PRNGKey(3), a.shape), params)
    y = ours.apply(params, x)
    np.testing.assert_allclose(y, flax_conv.apply(params, x), rtol=1e-5, atol=1e-5)
    pooled = models.max_pool2(y)
    np.testing.assert_array_equal(pooled, nn.max_pool(y, (2,) * spatial, strides=(2,) * spatial))


def test_suite_compile_level_yields_to_xla_flags(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
    assert perf.compiler_options(perf.SUITE_LEVEL) == {"xla_backend_optimization_level": perf.SUITE_LEVEL}
    assert perf.compiler_options(None) == {}
    monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=3")
    assert perf.compiler_options(perf.SUITE_LEVEL) == {}


def test_tests_run_at_the_fast_compile_level():
    assert set(fastcompile.FLAGS) <= set(os.environ["XLA_FLAGS"].split())


def test_scale_kernels_scales_only_kernels():
    model = models.build("mlp", 2, widths=(4,), bias_std=0.1)
    p = models.init_variables(model, jax.random.PRNGKey(0), jnp.ones((1, 3)))["params"]
    q = models.scale_kernels(p, 2.0)
    np.testing.assert_allclose(q["dense_0"]["kernel"], 2 * p["dense_0"]["kernel"])
    np.testing.assert_allclose(q["dense_0"]["bias"], p["dense_0"]["bias"])


# --- training -------------------------------------------------------------------------------
def test_population_learns_is_deterministic_and_records_divergence():
    d = data.load("two_moons")
    model = models.build("mlp", 2, widths=(16, 16), activation="relu")
    spec = train.TrainSpec(steps=60, batch_size=32, log_every=20, n_eval=256)
    pop = train.train_population(model, d, spec, seeds=(0, 1), learning_rates=(0.1, 1e4))
    assert pop.shape == (2, 2, 1) and pop.metrics["train_loss"].shape == (4, 4)
    ok = pop.runs["learning_rate"] == 0.1
    assert np.all(pop.metrics["train_loss"][ok, -1] < pop.metrics["train_loss"][ok, 0])
    assert not pop.diverged[ok].any()
    again = train.train_population(model, d, spec, seeds=(0, 1), learning_rates=(0.1, 1e4))
    np.testing.assert_array_equal(pop.metrics["train_loss"], again.metrics["train_loss"])
    huge = train.train_population(model, d, spec, seeds=(0,), learning_rates=(1e30,))
    assert huge.diverged[0, -1] and np.isnan(huge.metrics["train_loss"][0, -1])


def test_first_step_below():
    steps = np.array([0, 10, 20, 30])
    values = np.array([[1.0, 0.5, 0.2, 0.1], [1.0, 0.9, np.nan, np.nan]])
    np.testing.assert_array_equal(train.first_step_below(values, steps, 0.3), [20.0, np.inf])


def test_run_grid_is_row_major():
    runs, shape = train.run_grid((0, 1), learning_rate=(0.1, 0.2, 0.3))
    assert shape == (2, 3)
    assert list(runs["seed"]) == [0, 0, 0, 1, 1, 1]
    assert list(runs["learning_rate"]) == [0.1, 0.2, 0.3] * 2


# --- statistics -----------------------------------------------------------------------------
def test_mean_ci_covers_and_drops_nonfinite():
    est = stats.mean_ci([1.0, 2.0, 3.0, np.nan, np.inf])
    assert est.n == 3 and est.mean == 2.0
    assert est.lo == pytest.approx(2 - 4.302653 * 1 / np.sqrt(3), rel=1e-5)


def test_paired_detects_a_shift_and_not_noise():
    rng = np.random.default_rng(0)
    a = rng.normal(size=20)
    assert stats.paired(a + 1.0, a).significant
    assert stats.paired(a + 1.0, a).diff.mean == pytest.approx(1.0)
    noise = rng.normal(scale=0.1, size=20)
    noise -= noise.mean()  # b differs from a run by run, with no shift: not significant, whatever the draw
    assert not stats.paired(a + noise, a).significant
    assert stats.paired(a + noise + 0.5, a).significant  # the same noise around a real shift is found


def test_paired_with_two_seeds_is_never_significant():
    """n = 2: the exact sign / signed-rank test cannot go below p = 0.5 (issue 17, item 7)."""
    for a, b in (([1.0, 2.0], [0.0, 1.0]), ([1.0, 3.0], [0.0, 1.0]), ([5.0, 5.0], [1.0, 1.0])):
        p = stats.paired(a, b)
        assert p.p_wilcoxon >= 0.5 and not p.significant, (a, b, p)


def test_holm_and_wilson():
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    held = stats.holm([0.01, np.nan, 0.04])  # an untestable comparison stays NaN and still counts in the family
    assert np.isnan(held[1]) and held[0] == pytest.approx(0.03) and held[2] == pytest.approx(0.08)
    est = stats.proportion_ci(0, 100)
    assert est.mean == 0 and est.lo == pytest.approx(0, abs=1e-12) and 0.03 < est.hi < 0.04


def test_bootstrap_ci_covers_the_statistic_and_drops_nonfinite():
    rng = np.random.default_rng(1)
    v = rng.normal(3.0, 1.0, size=200)
    est = stats.bootstrap_ci(np.append(v, [np.nan, np.inf]))
    assert est.n == 200 and est.mean == pytest.approx(v.mean())
    half = 1.96 * v.std(ddof=1) / np.sqrt(200)  # the normal-theory interval, independent of the bootstrap
    assert est.lo == pytest.approx(v.mean() - half, abs=0.03) and est.hi == pytest.approx(v.mean() + half, abs=0.03)
    med = stats.bootstrap_ci(v, statistic=np.median)
    assert med.mean == pytest.approx(np.median(v)) and med.lo < np.median(v) < med.hi
    assert stats.bootstrap_ci([np.nan]).n == 0 and np.isnan(stats.bootstrap_ci([]).mean)


def test_ratio_ci_is_the_ratio_of_means_with_a_covering_interval():
    num, den = np.array([2.0, 4.0, 6.0, 8.0, np.nan, 1.0]), np.array([1.0, 2.0, 3.0, 4.0, 1.0, 0.0])
    est = stats.ratio_ci(num, den)  # the NaN and the zero denominator are dropped
    assert est.n == 4 and est.mean == pytest.approx(2.0) and est.lo == pytest.approx(2.0) and est.hi == pytest.approx(2.0)
    rng = np.random.default_rng(2)
    den = rng.uniform(1, 2, size=50)
    num = 3.0 * den * rng.uniform(0.8, 1.2, size=50)
    est = stats.ratio_ci(num, den)
    assert est.mean == pytest.approx(num.mean() / den.mean()) and est.lo < 3.0 < est.hi and est.hi - est.lo < 0.3
    assert stats.ratio_ci([1.0], [0.0]).n == 0


# --- theory ---------------------------------------------------------------------------------
def test_mean_field_known_cases():
    relu = meanfield.mean_field("relu", 2.0, 0.0)
    assert relu.chi_1 == pytest.approx(1.0, abs=1e-3)
    identity = meanfield.mean_field("identity", 0.5, 0.1)
    assert identity.q_star == pytest.approx(0.1 / 0.5, rel=1e-4)
    assert identity.chi_1 == pytest.approx(0.5, rel=1e-6)
    tanh = meanfield.mean_field("tanh", 1.0, 0.0)
    # At criticality q* -> 0 only like 1/(2l): after the 500 iterations q is about 1e-3.
    assert tanh.q_star < 2e-3 and tanh.chi_1 == pytest.approx(1.0, abs=0.01)
    assert theory.gaussian_expectation(lambda z: z**2) == pytest.approx(1.0)


# --- config, results, ledger ----------------------------------------------------------------
def test_validate_rejects_impossible_values():
    for fields, message in [
        ({"depth": -1}, "must be >= 1"),
        ({"learning_rates": (0.1, -1.0)}, "must be > 0"),
        ({"activations": ("relu", "nope")}, "valid names"),
        ({"init": "glorot"}, "unknown initialiser"),
        ({"dataset": "cifar"}, "unknown data set"),
    ]:
        with pytest.raises(kit_config.ConfigError, match=message):
            kit_config.validate(kit_config.build(fields))
    with pytest.raises(kit_config.ConfigError, match="unknown key"):
        kit_config.build({"a": 1}, {"b": 2})
    with pytest.raises(kit_config.ConfigError, match="unknown preset"):
        kit_config.preset_name("huge")


def _result():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    v = verdicts.Verdict("A1", "supported", "s.", "c.", 1.0, [0.5, float("inf")], 5, "t.csv")
    return results.Result("x", {"t": pd.DataFrame({"a": [1.0, np.nan]})}, {"f": fig}, [v], {"k": 1.0})


def test_results_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "x"
    results.write(_result(), target, {"a": 1}, {"wall_s": 1.0})
    assert {"t.csv", "t.md", "f.png", "verdicts.json", "summary.json", "config.json", "manifest.json", "README.md"} <= {
        p.name for p in target.iterdir()
    }
    record = json.loads((target / "verdicts.json").read_text())[0]
    assert record["ci"] == [0.5, None]
    # A failure while writing leaves the previous results intact and no staging folder behind.
    monkeypatch.setattr(results, "markdown_table", lambda df: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        results.write(_result(), target, {"a": 2}, {})
    assert json.loads((target / "config.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x"]


def test_verdict_rejects_unknown_verdict():
    with pytest.raises(ValueError):
        verdicts.Verdict("A1", "probably", "", "", None, None, 0, "")


def test_ledger_marks_unmeasured_claims(tmp_path):
    (tmp_path / "linear_collapse").mkdir()  # the ledger reads registered experiments' folders only
    (tmp_path / "linear_collapse" / "verdicts.json").write_text(json.dumps([_result().verdicts[0].to_json()]))
    text = ledger.report(tmp_path)
    assert "| A1 |" in text and "**supported**" in text
    assert "| H4 |" in text and "not yet measured" in text.split("| H4 |")[1].splitlines()[0]


def test_committed_ledger_is_the_committed_results():
    """REPORT.md and the README's ledger section are what scripts/report makes of results/ (none lags a rerun)."""
    root = Path(__file__).resolve().parents[1]
    assert (root / "results" / "REPORT.md").read_text() == ledger.report(root / "results"), "run scripts/report"
    readme = (root / "README.md").read_text()
    section = readme.split("<!-- ledger:start -->\n", 1)[1].split("<!-- ledger:end -->", 1)[0]
    assert section == ledger.summary(root / "results"), "run scripts/report"


@pytest.mark.skipif(not SHARED_CLAIMS.exists(), reason="shared/CLAIMS.md not beside this checkout")
def test_claims_copy_is_current():
    assert (Path(__file__).resolve().parents[1] / "configs" / "CLAIMS.md").read_text() == SHARED_CLAIMS.read_text()



@pytest.mark.parametrize("shape", [(64, 16), (16, 64), (32, 32), (3, 3, 4, 8)])
def test_orthogonal_initialiser_is_orthonormal_under_vmap(shape):
    """Rows or columns orthonormal to float32 precision; a vmapped draw (the case that deadlocked
    with jaxlib's threaded LAPACK QR on 2 cores) gives distinct matrices."""
    draw = jax.jit(jax.vmap(lambda k: inits.get("orthogonal")(k, shape, jnp.float32)))
    ws = draw(jax.random.split(jax.random.PRNGKey(0), 3)).reshape(3, -1, shape[-1])
    for w in ws:
        g = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        assert float(jnp.max(jnp.abs(g - jnp.eye(g.shape[0])))) < 1e-5
    assert float(jnp.max(jnp.abs(ws[0] - ws[1]))) > 0.1


def test_compile_wall_counts_overlapping_compiles_once():
    """compile_wall_s is the union of the compile intervals: overlaps once, gaps not at all, nesting inside."""
    assert perf._union_length([]) == 0.0
    assert perf._union_length([(0.0, 2.0), (1.0, 3.0)]) == pytest.approx(3.0)  # two threads at once
    assert perf._union_length([(5.0, 6.0), (0.0, 1.0)]) == pytest.approx(2.0)  # apart, any order
    assert perf._union_length([(0.0, 4.0), (1.0, 2.0), (3.0, 5.0)]) == pytest.approx(5.0)  # nested and chained
    snap = perf.snapshot()
    assert 0.0 <= snap["compile_wall_s"] <= snap["compile_s"] + 1e-9


@pytest.mark.parametrize("shape", [(128, 128), (64, 48), (40, 10), (7, 7)])
def test_gram_schmidt_is_the_qr_with_positive_diagonal(shape):
    """The blocked Gram-Schmidt (blocks of 16, 8, ... or 1 column) gives LAPACK's float64 Q with
    R's diagonal made positive, to float32 rounding, and columns orthonormal to 1e-6."""
    a = jax.random.normal(jax.random.PRNGKey(3), (4, *shape))
    q = np.asarray(jax.jit(jax.vmap(inits._gram_schmidt))(a), np.float64)
    q64, r64 = np.linalg.qr(np.asarray(a, np.float64))
    q64 = q64 * np.sign(np.diagonal(r64, axis1=1, axis2=2))[:, None, :]
    assert np.abs(q - q64).max() < 1e-4
    assert np.abs(np.einsum("bij,bik->bjk", q, q) - np.eye(shape[1])).max() < 1e-6

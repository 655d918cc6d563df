"""No recompilation (DESIGN.md, "Performance"; issue 7): seeds and swept scalars are array axes.

A second ``train.train_population`` call with other seeds, learning rates and weight scales of
the same lengths must compile nothing new, even when the model is rebuilt from the same fields
(experiments rebuild their models inside loops). A structurally different model must compile.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.kit import data, models, perf, train


@pytest.fixture(scope="module")
def small():
    ds = data.load("gaussian", n_train=256, n_test=64)
    spec = train.TrainSpec(optimizer="sgd", steps=8, batch_size=16, log_every=4, n_eval=64)
    return ds, spec


def _model(activation: str = "tanh") -> models.MLP:
    return models.build("mlp", 2, widths=(8, 8), activation=activation)


def test_compile_count_sees_a_new_compile():
    """The counter the other tests read does move when XLA compiles (so they can fail)."""
    before = perf.compile_count()
    jax.jit(lambda x: jnp.sin(x) * 3.0 + 1.0)(jnp.arange(7.0)).block_until_ready()
    assert perf.compile_count() > before


def test_execute_reuses_its_executable():
    fn = jax.jit(lambda x, s: jnp.tanh(x) * s)
    x1, x2, x3 = (jnp.asarray(np.arange(n, dtype=np.float32) + 1.0) for n in (5, 5, 6))
    s2, s3 = jnp.float32(2.0), jnp.float32(3.0)
    first = perf.execute(fn, x1, s2)
    before = perf.compile_count()
    second = perf.execute(fn, x2, s3)
    assert perf.compile_count() == before
    np.testing.assert_allclose(np.asarray(second), np.tanh(np.arange(5.0) + 1.0) * 3.0, rtol=1e-6)
    assert not np.allclose(np.asarray(first), np.asarray(second))  # not a stale cached output
    perf.execute(fn, x3, s3)  # another shape: a new executable
    assert perf.compile_count() > before


def test_second_population_compiles_nothing(small):
    ds, spec = small
    first = train.train_population(_model(), ds, spec, seeds=(0, 1), learning_rates=(0.1, 0.05), weight_scales=(1.0,))
    before = perf.compile_count()
    second = train.train_population(_model(), ds, spec, seeds=(7, 8), learning_rates=(0.3, 0.01), weight_scales=(0.5,))
    assert perf.compile_count() == before, f"{perf.compile_count() - before} new compiles on the second call"
    # the second call really ran with its own seeds and scalars
    assert second.runs["seed"].tolist() == [7, 7, 8, 8]
    np.testing.assert_allclose(second.runs["learning_rate"], [0.3, 0.01, 0.3, 0.01])
    assert not np.allclose(first.metrics["train_loss"], second.metrics["train_loss"])


def test_repeated_call_is_identical(small):
    """Same seeds and scalars through the cached executable give the same numbers."""
    ds, spec = small
    a = train.train_population(_model(), ds, spec, seeds=(3,), learning_rates=(0.2,))
    b = train.train_population(_model(), ds, spec, seeds=(3,), learning_rates=(0.2,))
    np.testing.assert_array_equal(a.metrics["train_loss"], b.metrics["train_loss"])


def test_other_structure_does_compile(small):
    ds, spec = small
    train.train_population(_model("tanh"), ds, spec, seeds=(0,), learning_rates=(0.1,))
    before = perf.compile_count()
    relu = train.train_population(_model("relu"), ds, spec, seeds=(0,), learning_rates=(0.1,))
    assert perf.compile_count() > before
    tanh = train.train_population(_model("tanh"), ds, spec, seeds=(0,), learning_rates=(0.1,))
    assert not np.allclose(relu.metrics["train_loss"], tanh.metrics["train_loss"])

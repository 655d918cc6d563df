"""kit.models ``switch`` activation and kit.train.train_runs: same-shape activations in one compile."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from experiments.kit import data, models, perf, train

SPEC = train.TrainSpec(optimizer="sgd", steps=20, batch_size=16, log_every=10, loss="xent", n_eval=64)


def test_switch_params_rejects_non_elementwise():
    assert models.switch_params(["relu", ("linear", {"c": 0.5})]) == (("relu", ()), ("linear", (("c", 0.5),)))
    with pytest.raises(ValueError, match="not elementwise"):
        models.switch_params(["relu", "prelu"])


def test_switched_runs_equal_plain_runs_in_one_compile():
    ds = data.load("xor", n_train=256, seed=0)
    branches = ["tanh", ("linear", {"c": 0.8}), "relu"]
    switched = models.build("mlp", ds.n_classes, widths=(8, 8), activation=models.SWITCH,
                            act_params=models.switch_params(branches), initializer="xavier_uniform")
    runs = {"seed": np.array([0, 1, 0, 1, 0, 1]), "learning_rate": np.array([0.1, 0.1, 0.2, 0.2, 0.05, 0.05]),
            "variant": np.array([0, 0, 1, 1, 2, 2])}
    before = perf.compile_count()
    pop = train.train_runs(switched, ds, SPEC, runs)
    train_compiles = perf.compile_count() - before
    assert pop.shape == (6,) and pop.metrics["train_loss"].shape == (6, 3)
    for v, branch in enumerate(branches):
        name, params = (branch, {}) if isinstance(branch, str) else branch
        plain = models.build("mlp", ds.n_classes, widths=(8, 8), activation=name, act_params=params,
                             initializer="xavier_uniform")
        ref = train.train_population(plain, ds, SPEC, [0, 1], float(runs["learning_rate"][2 * v]))
        np.testing.assert_allclose(pop.metrics["train_loss"][2 * v: 2 * v + 2], ref.metrics["train_loss"], rtol=2e-5)
    again = perf.compile_count()
    train.train_runs(switched, ds, SPEC, {**runs, "learning_rate": runs["learning_rate"] * 2})
    assert perf.compile_count() == again  # new learning rates, same program
    assert train_compiles <= 8  # the trainer plus small staging programs


def test_set_switch_leaves_plain_models_alone():
    model = models.build("mlp", 2, widths=(4,), activation="relu")
    variables = models.init_variables(model, jax.random.PRNGKey(0), np.zeros((1, 2), np.float32))
    assert models.set_switch(variables, 3) is variables

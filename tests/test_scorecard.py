"""experiments.scorecard (issue 18): a user's activation scored on the smoke preset, bad
``module:function`` inputs as one line and exit 2, and one source of truth: the card's numbers for a
built-in activation equal the main experiments' measurements called their own way at the same settings."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import textwrap

import numpy as np
import pytest

import acts
from experiments import scorecard
from experiments.kit import cli, data, meanfield, models, probes, registry, train
from experiments.kit import config as kit_config
from experiments.scorecard import common, measure_theory

SECTIONS = ("properties", "theory", "profile", "units", "training", "cost")
USER_MODULE = "scorecard_user_acts"
SOURCE = '''
import jax.numpy as jnp

CONSTANT = 3.0
_calls = [0]


def softclip(x):
    """A smooth clipped unit: 2 tanh(x / 2), in (-2, 2), f'(0) = 1."""
    return 2.0 * jnp.tanh(x / 2.0)


def softclip_prime(x):
    return 1.0 - jnp.tanh(x / 2.0) ** 2


def summed(x):
    return jnp.sum(x)


def logged(x):
    return jnp.log(x)


def impure(x):
    _calls[0] += 1
    return x * _calls[0]
'''


def _config_module():
    spec = importlib.util.spec_from_file_location("configs_scorecard", registry.ROOT / "configs" / "scorecard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def smoke_config(**overrides):
    module = _config_module()
    config = module.get_config("smoke")
    config.unlock()
    for key, value in overrides.items():
        config[key] = value
    config.lock()
    return kit_config.validate(config, experiment=scorecard.EXPERIMENT, domains=module.DOMAINS)


@pytest.fixture(scope="module")
def user_module(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user_acts")
    (folder / f"{USER_MODULE}.py").write_text(textwrap.dedent(SOURCE))
    sys.path.insert(0, str(folder))
    yield f"{USER_MODULE}:softclip:softclip_prime"
    sys.path.remove(str(folder))


@pytest.fixture(scope="module")
def card_run(user_module, request, tmp_path_factory):
    """The user's card on the smoke preset, computed once per session (shared by the xdist workers)."""
    from conftest import computed_once

    config = smoke_config(activation=user_module)
    return config, computed_once(request, tmp_path_factory, "scorecard", lambda _: scorecard.run(config))


def test_every_section_is_filled_for_a_user_function(card_run, user_module):
    config, result = card_run
    card = result.tables["card"]
    assert list(card.columns) == ["section", "measure", user_module, *config.references]
    assert set(card.section) == set(SECTIONS)
    for section in SECTIONS:
        cells = card[card.section == section][user_module]
        assert len(cells) and (cells != "—").all(), (section, cells.tolist())
    for table in ("properties", "derivative", "signal_theory", "correlation_map", "gradient_profile", "gradient_layers",
                  "dead_units", "dead_units_by_lr", "centring", "training", "cost_alone", "cost_steps"):
        assert (result.tables[table].activation == user_module).any(), table
    derivative = result.tables["derivative"].set_index("activation").loc[user_module]
    assert derivative.source.startswith("given") and bool(derivative.agrees)
    assert set(result.tables["gradient_profile"].query("activation == @user_module").init) == {
        "xavier_normal", "he_normal", "critical"}
    assert "scorecard" in result.figures and not result.verdicts
    assert all(v is None or isinstance(v, float) for v in result.summary.values())


def test_a_resolved_user_function_is_fetchable_but_not_listed(user_module):
    """Resolving a user's function must not change the built-in list a later error message or sweep reads."""
    before = acts.names()
    assert acts.resolve(user_module) == user_module
    assert acts.get(user_module).fn(np.float32(1.0)) == pytest.approx(2.0 * np.tanh(0.5))
    assert acts.names() == before and user_module not in acts.names(kind="elementwise")
    with pytest.raises(ValueError, match="valid names: ") as err:
        acts.get("foo")
    assert USER_MODULE not in str(err.value)


BAD = {
    "missing module": ("no_such_module_for_scorecard:f", "cannot import module"),
    "missing name": (f"{USER_MODULE}:nope", "has no 'nope'"),
    "not callable": (f"{USER_MODULE}:CONSTANT", "is not callable"),
    "shape-changing": (f"{USER_MODULE}:summed", "changes the shape"),
    "NaN-producing": (f"{USER_MODULE}:logged", "is not finite"),
    "impure under jit": (f"{USER_MODULE}:impure", "is not a pure elementwise function"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_module_function_is_one_line_and_exit_2(case, user_module, tmp_path, capsys):
    spec, words = BAD[case]
    argv = ["scorecard", f"--config.activation={spec}", f"--workdir={tmp_path / 'out'}"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(scorecard.EXPERIMENT, argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert len(err) == 1 and err[0].startswith("error:") and words in err[0], err
    assert not (tmp_path / "out").exists()


def test_default_workdir_is_per_activation():
    assert common.file_safe("mypkg.acts:softclip:softclip_prime") == "mypkg.acts.softclip"
    assert common.file_safe("relu") == "relu"
    config = _config_module().get_config("smoke")
    assert scorecard.default_workdir(config) == registry.ROOT / "results" / "scorecards" / "examples.snake.snake"


# --- one source of truth: relu's numbers as the main experiments measure them -----------------------
def _row(result, table, **where):
    df = result.tables[table]
    for k, v in where.items():
        df = df[df[k] == v]
    assert len(df) == 1, (table, where)
    return df.iloc[0]


def _main_config(name: str, overrides: dict):
    config = registry.config(name, "smoke")
    config.unlock()
    for key, value in overrides.items():
        node, *path = key.split(".")
        target = config if not path else config[node]
        with target.ignore_type():
            target[path[-1] if path else node] = value
    config.lock()
    return config


def test_theory_and_properties_equal_the_kit(card_run):
    config, result = card_run
    he = meanfield.mean_field("relu", 2.0, 0.0)
    assert _row(result, "signal_theory", activation="relu", init="he").chi_1 == pytest.approx(he.chi_1, rel=1e-9)
    crit = measure_theory.critical_sigma_w2("tanh", config.theory)
    assert crit == pytest.approx(1.76, abs=0.01)  # Schoenholz et al. 2017's edge of chaos at sigma_b^2 = 0.05
    props = acts.properties.properties("relu")
    row = _row(result, "properties", activation="relu")
    assert (row.df0, row.max_abs_derivative, row.gaussian_mean) == (props.df0, props.max_abs_derivative, props.gaussian_mean)


def test_profile_equals_experiments_vanishing(card_run):
    config, result = card_run
    p = config.profile
    vcfg = _main_config("vanishing", {
        "parts": ("profile",), "profile.activations": tuple(common.activations(config)),
        "profile.inits": ("xavier_normal", "he_normal"), "profile.datasets": (p.dataset,), "profile.depth": p.depth,
        "profile.width": p.width, "profile.seeds": config.seeds, "profile.batch_size": p.batch_size,
        "profile.fit_skip": p.fit_skip,
    })
    theirs = registry.experiment("vanishing").measure(vcfg)["profile_summary"]
    for init in ("xavier_normal", "he_normal"):
        want = theirs[(theirs.activation == "relu") & (theirs.init == init)].iloc[0]
        got = _row(result, "gradient_profile", activation="relu", init=init)
        np.testing.assert_allclose([got.log_gain, got.log10_ratio], [want.log_gain, want.log10_ratio], rtol=1e-6)


def test_training_equals_experiments_convergence(card_run):
    config, result = card_run
    from experiments.convergence import measure as conv

    for ds in config.training.datasets:
        got = _row(result, "training", activation="relu", dataset=ds)
        lrs = tuple(float(v) for v in got.grid.split())
        runner = conv.Runner(_main_config("convergence", {"seeds": config.seeds, "learning_rates": lrs}))
        want = runner.tuned(runner.cell("mlp", ds, "relu", init=got.init))
        assert got.learning_rate == want["learning_rate"]
        np.testing.assert_allclose([got.steps, got.test_acc], [want["steps"].mean(), want["test_acc"].mean()], rtol=1e-6)


def test_dead_units_equal_the_kit_sweep(card_run):
    config, result = card_run
    u, got = config.units, _row(result, "dead_units", activation="relu")
    ds = data.load(u.dataset, n_train=u.n_train)
    ds = dataclasses.replace(ds, x_test=ds.x_test[: u.n_test], y_test=ds.y_test[: u.n_test])
    spec = train.TrainSpec(optimizer="sgd", steps=u.steps, batch_size=u.batch_size, log_every=u.log_every, n_eval=u.n_eval)
    model = models.build("mlp", ds.n_classes, widths=(u.width,) * u.depth, activation="relu", initializer=got.init)

    def probe(model, variables, x, y):  # experiments.dead_relu's (revision 1) probe
        return {"dead": probes.dead_units(model, variables, x, u.grad_tol)["zero_output"]}

    pop = train.train_population(model, ds, spec, range(config.seeds), [float(got.learning_rate)], probe=probe)
    final = pop.metrics["dead"][:, -1].reshape(config.seeds, -1).mean(-1)
    np.testing.assert_allclose(got.final_dead, final.mean(), rtol=1e-6)


def test_cost_counts_equal_experiments_cost(card_run):
    _, result = card_run
    from experiments.cost import measure as cost

    _, fwd_bwd = cost.alone_functions("relu")
    x = np.zeros(1024, np.float32)
    want = cost.cost_per_element(fwd_bwd, x, x)["transcendentals"]
    assert _row(result, "cost_alone", activation="relu").fwd_bwd_transcendentals_per_elem == want

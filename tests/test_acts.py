"""Tests of the ``acts`` package: functions vs jax.nn, closed-form and printed derivatives vs
autodiff (claims B1–B11), rrelu, the registry, and computed properties (claims B1, B2, C3–C5)."""

import dataclasses
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

# make the repository root importable when pytest is run without an installed package
_ROOT = str(pathlib.Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import acts  # noqa: E402
from acts import derivatives as d  # noqa: E402
from acts import functions as f  # noqa: E402
from acts import printed as p  # noqa: E402

ALL_NAMES = [
    "elu", "gelu", "identity", "leaky_relu", "lecun_tanh", "linear", "maxout", "mish", "prelu",
    "relu", "rrelu", "selu", "shifted_sigmoid", "sigmoid", "softmax", "softplus", "softsign",
    "step", "swish", "tanh",
]  # fmt: skip
ELEMENTWISE_LIKE = [n for n in acts.names() if acts.get(n).kind not in ("group", "vector")]

# dense grid (0 excluded: kinks are tested separately) plus edge values
EDGES = [30.0, 1e-7, 1e4, 1e3, 1e2, 88.0, 89.0, 1e-30]
EDGES = np.array(EDGES + [-e for e in EDGES], dtype=np.float32)
GRID = np.linspace(-30, 30, 6000, dtype=np.float32)  # even count: 0 not on it
GRID = jnp.asarray(np.concatenate([GRID[GRID != 0], EDGES]))
GRID_WITH_0 = jnp.concatenate([GRID, jnp.zeros(1, jnp.float32)])

RTOL, ATOL = 1e-5, 1e-6

# (name, params) -> reference from jax.nn (or its documented definition)
JAX_REFERENCES = {
    ("sigmoid", ()): jax.nn.sigmoid,
    ("tanh", ()): jax.nn.tanh,
    ("relu", ()): jax.nn.relu,
    ("leaky_relu", ()): lambda x: jax.nn.leaky_relu(x, 0.01),
    ("leaky_relu", (("alpha", 0.2),)): lambda x: jax.nn.leaky_relu(x, 0.2),
    ("elu", ()): jax.nn.elu,
    ("elu", (("alpha", 0.5),)): lambda x: jax.nn.elu(x, 0.5),
    ("selu", ()): jax.nn.selu,
    ("softplus", ()): jax.nn.softplus,
    ("gelu", ()): lambda x: jax.nn.gelu(x, approximate=False),
    ("swish", ()): jax.nn.silu,
    ("swish", (("beta", 2.0),)): lambda x: x * jax.nn.sigmoid(2.0 * x),
    ("mish", ()): jax.nn.mish,
    ("softsign", ()): jax.nn.soft_sign,
    ("identity", ()): jax.nn.identity,
    ("shifted_sigmoid", ()): lambda x: jax.nn.sigmoid(x) - 0.5,
    ("lecun_tanh", ()): lambda x: 1.7159 * jnp.tanh(2.0 * x / 3.0),
    ("linear", (("c", 3.0),)): lambda x: 3.0 * x,
    ("softmax", ()): jax.nn.softmax,
}
REF_IDS = [f"{n}{dict(ps) or ''}" for n, ps in JAX_REFERENCES]

# every activation with a closed-form derivative, at default and at non-default params
DERIV_CASES = [(n, {}) for n in ELEMENTWISE_LIKE] + [
    ("linear", {"c": -2.5}),
    ("leaky_relu", {"alpha": 0.3}),
    ("prelu", {"alpha": -0.5}),
    ("rrelu", {"lower": 2.0, "upper": 4.0}),
    ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": 2.0}),
    ("swish", {"beta": 0.5}),
    ("swish", {"beta": 3.0}),
]
DERIV_IDS = [f"{n}{ps or ''}" for n, ps in DERIV_CASES]


def grad_of(fn):
    return jax.vmap(jax.grad(lambda x: fn(x)))


# --- functions vs jax.nn ------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "ref"), JAX_REFERENCES.items(), ids=REF_IDS)
def test_matches_jax_nn_on_grid(key, ref):
    act = acts.get(key[0], **dict(key[1]))
    x = GRID_WITH_0 if act.kind != "vector" else GRID.reshape(-1, 2)
    np.testing.assert_allclose(act.fn(x), ref(x), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("key", "ref"), JAX_REFERENCES.items(), ids=REF_IDS)
@settings(max_examples=30, deadline=None)
@given(x=arrays(np.float32, (16,), elements=st.floats(-50, 50, width=32)))
def test_matches_jax_nn_hypothesis(key, ref, x):
    act = acts.get(key[0], **dict(key[1]))
    np.testing.assert_allclose(act.fn(x), ref(x), rtol=RTOL, atol=ATOL)


def test_gelu_is_exact_not_jax_default_approximation():
    x = jnp.linspace(-4, 4, 101)
    assert np.max(np.abs(f.gelu(x) - jax.nn.gelu(x))) > 1e-4  # jax default: approximate=True
    np.testing.assert_allclose(f.gelu(x), jax.nn.gelu(x, approximate=False), rtol=RTOL, atol=ATOL)


# --- closed-form derivatives vs autodiff --------------------------------------------------------
@pytest.mark.parametrize(("name", "params"), DERIV_CASES, ids=DERIV_IDS)
def test_derivative_matches_autodiff(name, params):
    act = acts.get(name, **params)
    auto = grad_of(act.fn)(GRID)
    closed = act.derivative(GRID)
    np.testing.assert_allclose(closed, auto, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("name", "params"), DERIV_CASES, ids=DERIV_IDS)
def test_values_and_gradients_finite_up_to_1e4(name, params):
    act = acts.get(name, **params)
    x = jnp.concatenate([GRID_WITH_0, jnp.linspace(-1e4, 1e4, 2001)])
    for out in (act.fn(x), grad_of(act.fn)(x), act.derivative(x)):
        assert np.all(np.isfinite(out)), name


@pytest.mark.parametrize("name", ELEMENTWISE_LIKE)
def test_derivative_convention_at_zero_matches_jax(name):
    act = acts.get(name)
    zero = jnp.zeros(1, jnp.float32)
    np.testing.assert_allclose(act.derivative(zero), grad_of(act.fn)(zero), rtol=RTOL, atol=ATOL)


def test_kink_conventions_match_jax_nn():
    assert float(jax.grad(f.relu)(0.0)) == float(jax.grad(jax.nn.relu)(0.0)) == 0.0
    assert float(jax.grad(f.leaky_relu)(0.0)) == pytest.approx(0.01)
    assert float(jax.grad(f.elu)(0.0)) == pytest.approx(1.0)  # C¹ for alpha = 1


def test_step_gradient_is_exactly_zero():
    g = grad_of(f.step)(GRID_WITH_0)
    assert np.all(np.asarray(g) == 0.0)
    np.testing.assert_array_equal(f.step(jnp.array([-1.0, 0.0, 1e-7, 3.0])), [0, 0, 1, 1])


def test_prelu_per_unit_alpha_and_alpha_gradient():
    x = jnp.asarray(np.random.default_rng(0).normal(size=(5, 3)), jnp.float32)
    alpha = jnp.array([0.1, 0.25, -0.3])
    act = acts.get("prelu", alpha=alpha)
    np.testing.assert_allclose(act.fn(x), jnp.where(x > 0, x, alpha * x), rtol=RTOL)
    np.testing.assert_allclose(act.derivative(x), jax.grad(lambda z: act.fn(z).sum())(x))
    g_alpha = jax.grad(lambda a: f.prelu(x, a).sum())(alpha)
    np.testing.assert_allclose(g_alpha, d.d_prelu_dalpha(x).sum(0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(g_alpha, p.printed_prelu_dalpha(x).sum(0), rtol=RTOL, atol=ATOL)


def test_softmax_jacobian_closed_form():
    x = jnp.array([0.3, -1.2, 2.0, 0.0, 5.0])
    np.testing.assert_allclose(d.softmax_jacobian(x), jax.jacobian(f.softmax)(x), atol=1e-7)


# --- printed formulas ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("printed_fn", "fn"),
    [
        (p.printed_sigmoid_prime, f.sigmoid),  # B1
        (p.printed_tanh_prime, f.tanh),  # B2
        (p.printed_relu_prime, f.relu),  # B3 (0 included: jax's relu'(0) = 0 as printed)
        (p.printed_leaky_relu_prime, f.leaky_relu),  # B4
        (lambda x: p.printed_prelu_prime(x, 0.25), lambda x: f.prelu(x, 0.25)),  # B5
    ],
    ids=["B1-sigmoid", "B2-tanh", "B3-relu", "B4-leaky", "B5-prelu"],
)
def test_correct_printed_derivatives_match_autodiff(printed_fn, fn):
    x = jnp.concatenate([GRID_WITH_0[jnp.abs(GRID_WITH_0) <= 30]])
    np.testing.assert_allclose(printed_fn(x), grad_of(fn)(x), rtol=RTOL, atol=ATOL)


def test_printed_b1_sigmoid_and_b2_tanh_functions():
    x = jnp.linspace(-20, 20, 401)
    np.testing.assert_allclose(p.printed_sigmoid(x), f.sigmoid(x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(p.printed_tanh(x), f.tanh(x), rtol=1e-5, atol=1e-6)
    # the printed tanh overflows: inf/inf = NaN beyond |x| ~ 89 in float32
    assert np.all(np.isnan(p.printed_tanh(jnp.array([90.0, -90.0]))))


def test_printed_b4_max_form_is_leaky_only_for_alpha_at_most_one():
    x = GRID_WITH_0
    np.testing.assert_allclose(p.printed_leaky_relu(x, 0.01), f.leaky_relu(x, 0.01), rtol=RTOL)
    assert not np.allclose(p.printed_leaky_relu(x, 2.0), f.leaky_relu(x, 2.0))


def test_printed_b5_prelu_dalpha_matches_autodiff():
    x = GRID_WITH_0
    auto = jax.vmap(jax.grad(lambda a, z: f.prelu(z, a)), in_axes=(None, 0))(0.25, x)
    np.testing.assert_allclose(p.printed_prelu_dalpha(x), auto, rtol=RTOL, atol=ATOL)


def test_printed_b7_elu_prime_is_the_function_not_its_derivative():
    x = GRID_WITH_0[jnp.abs(GRID_WITH_0) <= 30]
    for alpha in (1.0, 0.5):
        np.testing.assert_allclose(p.printed_elu_prime(x, alpha), f.elu(x, alpha), atol=1e-6)
        np.testing.assert_allclose(p.printed_elu(x, alpha), f.elu(x, alpha), atol=1e-6)
        err = np.abs(p.printed_elu_prime(x, alpha) - grad_of(lambda z: f.elu(z, alpha))(x))
        assert err.max() > 1.0  # wrong as a derivative


def test_printed_b8_maxout_matches_grouped_max():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 4)).astype(np.float32)
    w, b = rng.normal(size=(4, 3, 5)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)
    z = (np.einsum("nd,duk->nuk", x, w) + b).reshape(7, 15)
    np.testing.assert_allclose(p.printed_maxout(x, w, b), acts.get("maxout", k=5).fn(z), rtol=1e-5)


def test_printed_b9_swish_derivative_is_wrong():
    """B9: the printed f' has an extra factor βx in its second term. It must DISAGREE with
    autodiff; it coincides only where βx = 1 (so x = 1 with β = 1 is NOT a counter-example)."""
    true = grad_of(f.swish)
    x = jnp.array([0.0, 2.0, -1.0, 5.0])
    err = np.abs(p.printed_swish_prime(x, beta=1.0) - true(x))
    assert np.all(err > 0.1), err
    np.testing.assert_allclose(p.printed_swish_prime(0.0), 0.0)  # true value: 0.5
    # the coincidence at βx = 1 (documented, so nobody mistakes it for a check of correctness)
    for beta in (1.0, 2.0, 0.5):
        x1 = jnp.array([1.0 / beta])
        auto = grad_of(lambda z, b=beta: f.swish(z, b))(x1)
        np.testing.assert_allclose(p.printed_swish_prime(x1, beta=beta), auto, rtol=1e-5)
    # β = 2 at x = 1: wrong
    auto2 = grad_of(lambda z: f.swish(z, 2.0))(jnp.array([1.0]))
    assert abs(float(p.printed_swish_prime(jnp.array([1.0]), beta=2.0)[0] - auto2[0])) > 0.5


def test_printed_b9_swish_function_ignores_beta():
    x = jnp.linspace(-10, 10, 201)
    np.testing.assert_allclose(p.printed_swish(x), f.swish(x, 1.0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(p.printed_swish(x), f.swish(x, 2.0))
    # with f taken from the printed right-hand side, the printed f' still uses β elsewhere
    assert not np.allclose(
        p.printed_swish_prime(x, beta=2.0, f_as_printed=True), p.printed_swish_prime(x, beta=2.0)
    )


def test_printed_b10_mish_derivative_correct_where_finite():
    x = GRID_WITH_0[jnp.abs(GRID_WITH_0) <= 30]
    pr = np.asarray(p.printed_mish_prime(x))
    finite = np.isfinite(pr)
    assert finite[np.asarray(x) <= 22.0].all()  # finite up to x ~ 22.18 in float32
    assert not finite[np.asarray(x) >= 22.5].any()  # then δ² overflows: inf/inf = NaN
    auto = np.asarray(grad_of(f.mish)(x))
    np.testing.assert_allclose(pr[finite], auto[finite], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(p.printed_mish(x[x < 80]), f.mish(x[x < 80]), rtol=1e-5, atol=1e-6)


def test_printed_b11_softmax_jacobian_matches_autodiff():
    rng = np.random.default_rng(2)
    for n in (2, 5, 10):
        x = jnp.asarray(rng.normal(scale=3.0, size=n), jnp.float32)
        np.testing.assert_allclose(
            p.printed_softmax_jacobian(x), jax.jacobian(f.softmax)(x), atol=1e-7
        )
    x = jnp.array([0.1, 2.0, -3.0])
    np.testing.assert_allclose(p.printed_softmax(x), f.softmax(x), rtol=1e-6)
    jac = acts.get("softmax").printed_derivative(x)
    np.testing.assert_allclose(jac, jax.jacobian(f.softmax)(x), atol=1e-7)


def test_registry_printed_derivatives_are_bound():
    x = jnp.array([-2.0, 0.5])
    np.testing.assert_allclose(acts.get("elu", alpha=0.5).printed_derivative(x), f.elu(x, 0.5))
    np.testing.assert_allclose(
        acts.get("swish", beta=2.0).printed_derivative(x), p.printed_swish_prime(x, 2.0)
    )
    assert acts.get("gelu").printed_derivative is None


# --- rrelu (B6) ---------------------------------------------------------------------------------
def test_rrelu_training_random_within_bounds_and_test_deterministic():
    lower, upper = 3.0, 8.0
    act = acts.get("rrelu", lower=lower, upper=upper)
    assert act.kind == "stochastic" and act.train_fn is not None
    x = jnp.linspace(-10, 10, 1001)
    y1 = act.train_fn(x, jax.random.key(0))
    y2 = act.train_fn(x, jax.random.key(1))
    neg, pos = np.asarray(x) < 0, np.asarray(x) > 0
    assert not np.allclose(y1[neg], y2[neg])  # varies with the key
    np.testing.assert_array_equal(y1, act.train_fn(x, jax.random.key(0)))  # same key, same draw
    for y in (y1, y2):
        y = np.asarray(y)
        xn = np.asarray(x)[neg]
        assert np.all(y[neg] >= xn / lower - 1e-6) and np.all(y[neg] <= xn / upper + 1e-6)
        np.testing.assert_array_equal(y[pos], np.asarray(x)[pos])
    # divisors spread over U(3, 8): not a constant
    a = np.asarray(x)[neg] / np.asarray(y1)[neg]
    assert a.min() < 3.5 and a.max() > 7.5
    test_out = act.fn(x)
    np.testing.assert_array_equal(test_out, act.fn(x))
    np.testing.assert_allclose(test_out, jnp.where(x > 0, x, x / 5.5), rtol=1e-6)
    with pytest.raises(ValueError, match="key"):
        f.rrelu(x, training=True)


# --- maxout (B8) --------------------------------------------------------------------------------
def test_maxout_groups_last_axis():
    z = jnp.arange(12.0).reshape(2, 6) * jnp.array([1, -1, 1, -1, 1, -1])
    out = acts.get("maxout", k=3).fn(z)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, np.asarray(z).reshape(2, 2, 3).max(-1))
    with pytest.raises(ValueError, match="multiple of k"):
        f.maxout(z, 4)


# --- registry -----------------------------------------------------------------------------------
def test_names():
    assert acts.names() == ALL_NAMES
    assert acts.names(kind="vector") == ["softmax"]
    assert acts.names(kind="group") == ["maxout"]
    assert acts.names(kind="parametric") == ["prelu"]
    assert acts.names(kind="stochastic") == ["rrelu"]
    assert "relu" in acts.names(kind="elementwise") and "prelu" not in acts.names("elementwise")
    with pytest.raises(ValueError, match="unknown kind"):
        acts.names(kind="nope")


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as err:
        acts.get("foo")
    assert str(err.value) == f"unknown activation 'foo'; valid names: {', '.join(ALL_NAMES)}"


@pytest.mark.parametrize(
    ("name", "params", "pattern"),
    [
        ("elu", {"beta": 1.0}, "has no parameter 'beta'; valid parameters: alpha"),
        ("relu", {"alpha": 0.1}, "valid parameters: \\(none\\)"),
        ("leaky_relu", {"alpha": -0.1}, "alpha must be >= 0"),
        ("elu", {"alpha": -1.0}, "alpha must be >= 0"),
        ("elu", {"alpha": float("nan")}, "must be finite"),
        ("swish", {"beta": "big"}, "must be a number"),
        ("swish", {"beta": True}, "must be a number"),
        ("rrelu", {"lower": 0.0}, "0 < lower <= upper"),
        ("rrelu", {"lower": 9.0}, "0 < lower <= upper"),
        ("maxout", {"k": 0}, "k must be >= 1"),
        ("maxout", {"k": 1.5}, "must be an integer"),
        ("leaky_relu", {"alpha": [0.1, 0.2]}, "must be a scalar"),
    ],
)
def test_invalid_params(name, params, pattern):
    with pytest.raises(ValueError, match=pattern) as err:
        acts.get(name, **params)
    assert "\n" not in str(err.value)


def test_get_binds_params_and_is_frozen():
    act = acts.get("leaky_relu", alpha=0.2)
    assert act.params == {"alpha": 0.2} and act.kind == "elementwise" and "B4" in act.claims
    np.testing.assert_allclose(act.fn(jnp.array([-1.0, 2.0])), [-0.2, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.name = "x"
    with pytest.raises(TypeError):
        act.params["alpha"] = 1.0
    assert acts.get("prelu").params == {"alpha": 0.25}
    assert acts.get("maxout").derivative is None and acts.get("softmax").derivative is None


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_registered_activation_is_usable(name):
    act = acts.get(name)
    z = jnp.linspace(-3, 3, 12).reshape(2, 6)
    out = act.fn(z)
    assert np.all(np.isfinite(out)) and act.claims and isinstance(act.claims, tuple)
    assert act.kind in acts.KINDS
    if act.kind == "group":
        assert out.shape == (2, 3)
    else:
        assert out.shape == z.shape


def test_exports():
    for mod in ("functions", "derivatives", "printed", "properties"):
        assert hasattr(acts, mod)
    assert callable(acts.properties.properties) and callable(acts.properties.properties_table)


# --- computed properties (B1, B2, C3, C4, C5, E3) ----------------------------------------------
@pytest.fixture(scope="module")
def props():
    return {n: acts.properties.properties(n) for n in ("sigmoid", "tanh", "relu", "swish", "step")}


def test_sigmoid_max_derivative_is_quarter_at_zero(props):
    s = props["sigmoid"]
    assert s.max_abs_derivative == pytest.approx(0.25, abs=1e-6)
    assert s.argmax_abs_derivative == 0.0
    assert props["tanh"].max_abs_derivative == pytest.approx(1.0, abs=1e-6)  # B2: max slope 1


def test_zero_centred(props):
    assert props["tanh"].zero_centred and not props["sigmoid"].zero_centred
    assert props["sigmoid"].gaussian_mean == pytest.approx(0.5, abs=1e-6)
    assert props["relu"].gaussian_mean == pytest.approx(1 / np.sqrt(2 * np.pi), abs=5e-3)
    assert acts.properties.properties("sigmoid", zero_centred_tol=0.6).zero_centred


def test_boundedness(props):
    r, s = props["relu"], props["sigmoid"]
    assert not r.bounded_above and r.bounded_below
    assert s.bounded_above and s.bounded_below and (s.f_min, s.f_max) == (0.0, 1.0)
    assert props["swish"].bounded_below and not props["swish"].bounded_above


def test_identity_near_zero(props):
    assert props["tanh"].identity_near_zero and not props["sigmoid"].identity_near_zero
    assert not props["relu"].identity_near_zero  # jax convention relu'(0) = 0


def test_monotonic_and_smooth(props):
    assert props["relu"].monotonic and not props["swish"].monotonic
    assert props["swish"].min_derivative < -0.09
    assert props["tanh"].smooth and props["swish"].smooth
    assert not props["relu"].smooth and not props["step"].smooth
    assert props["step"].df0 == 0.0 and props["relu"].df0 == 0.0


def test_properties_table_and_errors():
    df = acts.properties.properties_table(["tanh", "elu"])
    assert list(df.index) == ["tanh", "elu"] and bool(df.loc["elu", "smooth"])
    with pytest.raises(ValueError, match="kind 'vector'"):
        acts.properties.properties("softmax")

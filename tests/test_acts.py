"""Tests of the ``acts`` package: functions vs jax.nn, closed-form and printed derivatives vs
autodiff (claims B1–B11), rrelu, the registry, and computed properties (claims B1, B2, C3–C5)."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import acts
from acts import derivatives as d
from acts import functions as f
from acts import printed as p

ALL_NAMES = [
    "elu", "gelu", "identity", "leaky_relu", "lecun_tanh", "linear", "maxout", "mish", "prelu",
    "relu", "rrelu", "selu", "shifted_sigmoid", "sigmoid", "softmax", "softplus", "softsign",
    "step", "swish", "tanh",
]  # fmt: skip
ELEMENTWISE_LIKE = [n for n in acts.names() if acts.get(n).kind not in ("group", "vector")]

# dense grid (0 excluded: kinks are tested separately) plus edge values; numpy inputs, so that
# building them compiles nothing (compilation dominates this file's run time)
EDGES = [30.0, 1e-7, 1e4, 1e3, 1e2, 88.0, 89.0, 1e-30]
EDGES = np.array(EDGES + [-e for e in EDGES], dtype=np.float32)
GRID = np.linspace(-30, 30, 6000, dtype=np.float32)  # even count: 0 not on it
GRID = np.concatenate([GRID[GRID != 0], EDGES])
GRID_WITH_0 = np.concatenate([GRID, np.zeros(1, np.float32)])
SMALL = GRID_WITH_0[np.abs(GRID_WITH_0) <= 30]  # |x| <= 30, 0 included
WIDE = np.concatenate([GRID_WITH_0, np.linspace(-1e4, 1e4, 2001, dtype=np.float32)])

RTOL, ATOL = 1e-5, 1e-6

# (name, params) -> reference from jax.nn (or its documented definition)
JAX_REFERENCES = {
    ("relu", ()): jax.nn.relu,
    ("leaky_relu", ()): lambda x: jax.nn.leaky_relu(x, 0.01),
    ("leaky_relu", (("alpha", 0.2),)): lambda x: jax.nn.leaky_relu(x, 0.2),
    ("elu", ()): jax.nn.elu,
    ("elu", (("alpha", 0.5),)): lambda x: jax.nn.elu(x, 0.5),
    ("selu", ()): jax.nn.selu,
    ("softplus", ()): jax.nn.softplus,
    ("gelu", ()): lambda x: jax.nn.gelu(x, approximate=False),
    ("mish", ()): jax.nn.mish,
    ("softsign", ()): jax.nn.soft_sign,
    ("identity", ()): jax.nn.identity,
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


def dgrad(fn):
    """Elementwise autodiff derivative of ``fn`` (not jitted: use inside ``run``)."""
    return jax.vmap(jax.grad(lambda x: fn(x)))


def run(fn, *args):
    """Evaluate ``fn(*args)`` in ONE compiled call and return numpy arrays (a pytree of them)."""
    return jax.tree.map(np.asarray, jax.jit(fn)(*args))


_JITTED_PAIRS = {}


def jitted_pair(key, ref):
    """(activation, reference), jitted once per case so hypothesis examples reuse the compile."""
    if key not in _JITTED_PAIRS:
        _JITTED_PAIRS[key] = jax.jit(lambda x: (acts.get(key[0], **dict(key[1])).fn(x), ref(x)))
    return _JITTED_PAIRS[key]


# --- functions vs jax.nn ------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "ref"), JAX_REFERENCES.items(), ids=REF_IDS)
@settings(max_examples=20, deadline=None)
@given(sample=arrays(np.float32, (16,), elements=st.floats(-50, 50, width=32)))
def test_matches_jax_nn(key, ref, sample):
    """On the dense grid (with 0 and edge values) plus 16 hypothesis floats in [-50, 50]; one
    input shape, so one compile per case."""
    x = np.concatenate([GRID_WITH_0, sample])
    if key[0] == "softmax":  # rows of 3
        x = x[: x.shape[0] // 3 * 3].reshape(-1, 3)
    ours, theirs = jitted_pair(key, ref)(x)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def _np_sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


# Activations that are themselves jax.nn.sigmoid / jnp.tanh (a comparison with jax.nn would compare
# them with themselves): independent closed forms in float64 numpy, from exp alone.
CLOSED_FORMS = {
    ("sigmoid", ()): _np_sigmoid,
    ("tanh", ()): lambda x: 2.0 * _np_sigmoid(2.0 * x) - 1.0,
    ("swish", ()): lambda x: x * _np_sigmoid(x),
    ("swish", (("beta", 2.0),)): lambda x: x * _np_sigmoid(2.0 * x),
    ("shifted_sigmoid", ()): lambda x: _np_sigmoid(x) - 0.5,
    ("lecun_tanh", ()): lambda x: 1.7159 * (2.0 * _np_sigmoid(4.0 * x / 3.0) - 1.0),
}


@pytest.mark.parametrize(("key", "ref"), CLOSED_FORMS.items(), ids=[f"{n}{dict(ps) or ''}" for n, ps in CLOSED_FORMS])
def test_matches_closed_forms(key, ref):
    x = np.concatenate([GRID_WITH_0, np.float32([-50.0, -20.0, 20.0, 50.0])])
    ours = run(lambda z: acts.get(key[0], **dict(key[1])).fn(z), x)
    np.testing.assert_allclose(ours, ref(x.astype(np.float64)), rtol=RTOL, atol=ATOL)


def test_gelu_is_exact_not_jax_default_approximation():
    x = np.linspace(-4, 4, 101, dtype=np.float32)
    ours, approx, exact = run(lambda z: (f.gelu(z), jax.nn.gelu(z), jax.nn.gelu(z, approximate=False)), x)
    assert np.max(np.abs(ours - approx)) > 1e-4  # jax's default is approximate=True
    np.testing.assert_allclose(ours, exact, rtol=RTOL, atol=ATOL)


# --- closed-form derivatives vs autodiff --------------------------------------------------------
@pytest.mark.parametrize(("name", "params"), DERIV_CASES, ids=DERIV_IDS)
def test_derivative_matches_autodiff_and_is_finite(name, params):
    """Closed form vs jax.grad on the dense grid, edge values, 0 (same kink convention as jax)
    and a sweep up to |x| = 1e4, where values and both derivatives must be finite."""
    act = acts.get(name, **params)
    y, auto, closed = run(lambda z: (act.fn(z), dgrad(act.fn)(z), act.derivative(z)), WIDE)
    for out in (y, auto, closed):
        assert np.all(np.isfinite(out)), name
    np.testing.assert_allclose(closed, auto, rtol=RTOL, atol=ATOL)


def test_kink_conventions_match_jax_nn():
    zero = np.zeros(1, np.float32)
    ours = run(lambda z: (dgrad(f.relu)(z), dgrad(jax.nn.relu)(z), dgrad(f.leaky_relu)(z), dgrad(f.elu)(z)), zero)
    assert float(ours[0][0]) == float(ours[1][0]) == 0.0
    assert float(ours[2][0]) == pytest.approx(0.01)
    assert float(ours[3][0]) == pytest.approx(1.0)  # ELU is C¹ for alpha = 1


def test_step_gradient_is_exactly_zero():
    g = run(dgrad(f.step), GRID_WITH_0)
    assert np.all(g == 0.0)
    np.testing.assert_array_equal(f.step(np.array([-1.0, 0.0, 1e-7, 3.0], np.float32)), [0, 0, 1, 1])


def test_prelu_per_unit_alpha_and_alpha_gradient():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    alpha = np.array([0.1, 0.25, -0.3], np.float32)
    act = acts.get("prelu", alpha=alpha)

    def bundle(x):
        g_x = jax.grad(lambda z: act.fn(z).sum())(x)
        g_alpha = jax.grad(lambda a: f.prelu(x, a).sum())(jnp.asarray(alpha))
        return act.fn(x), act.derivative(x), g_x, g_alpha, d.d_prelu_dalpha(x), p.printed_prelu_dalpha(x)

    y, closed, g_x, g_alpha, d_alpha, printed_alpha = run(bundle, x)
    np.testing.assert_allclose(y, np.where(x > 0, x, alpha * x), rtol=RTOL)
    np.testing.assert_allclose(closed, g_x, rtol=RTOL)
    np.testing.assert_allclose(g_alpha, d_alpha.sum(0), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(g_alpha, printed_alpha.sum(0), rtol=RTOL, atol=ATOL)  # B5


def test_softmax_jacobian_closed_form():
    x = np.array([0.3, -1.2, 2.0, 0.0, 5.0, -4.0], np.float32)
    closed, auto = run(lambda z: (d.softmax_jacobian(z), jax.jacobian(f.softmax)(z)), x)
    np.testing.assert_allclose(closed, auto, atol=1e-7)


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
    printed, auto = run(lambda z: (printed_fn(z), dgrad(fn)(z)), SMALL)
    np.testing.assert_allclose(printed, auto, rtol=RTOL, atol=ATOL)


def test_printed_b1_sigmoid_and_b2_tanh_functions():
    x = np.concatenate([np.linspace(-20, 20, 401, dtype=np.float32), [90.0, -90.0]]).astype(np.float32)
    ps, s, pt, t = run(lambda z: (p.printed_sigmoid(z), f.sigmoid(z), p.printed_tanh(z), f.tanh(z)), x)
    np.testing.assert_allclose(ps, s, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(pt[:-2], t[:-2], rtol=1e-5, atol=1e-6)
    # the printed tanh overflows: inf/inf = NaN beyond |x| ~ 89 in float32
    assert np.all(np.isnan(pt[-2:]))


def test_printed_b4_max_form_is_leaky_only_for_alpha_at_most_one():
    def bundle(x):
        return (
            p.printed_leaky_relu(x, 0.01),
            f.leaky_relu(x, 0.01),
            p.printed_leaky_relu(x, 2.0),
            f.leaky_relu(x, 2.0),
        )

    pr, ok, pr2, ok2 = run(bundle, GRID_WITH_0)
    np.testing.assert_allclose(pr, ok, rtol=RTOL)
    assert not np.allclose(pr2, ok2)


def test_printed_b5_prelu_dalpha_matches_autodiff():
    def bundle(x):
        auto = jax.vmap(jax.grad(lambda a, z: f.prelu(z, a)), in_axes=(None, 0))(0.25, x)
        return p.printed_prelu_dalpha(x), auto

    printed, auto = run(bundle, GRID_WITH_0)
    np.testing.assert_allclose(printed, auto, rtol=RTOL, atol=ATOL)


def test_printed_b7_elu_prime_is_the_function_not_its_derivative():
    def bundle(x, alpha):
        elu = lambda z: f.elu(z, alpha)
        return p.printed_elu_prime(x, alpha), p.printed_elu(x, alpha), elu(x), dgrad(elu)(x)

    for alpha in (1.0, 0.5):
        printed_prime, printed_fn, elu, auto = run(bundle, SMALL, alpha)
        np.testing.assert_allclose(printed_prime, elu, atol=1e-6)
        np.testing.assert_allclose(printed_fn, elu, atol=1e-6)
        assert np.abs(printed_prime - auto).max() > 1.0  # wrong as a derivative


def test_printed_b8_maxout_matches_grouped_max():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 4)).astype(np.float32)
    w, b = rng.normal(size=(4, 3, 5)).astype(np.float32), rng.normal(size=(3, 5)).astype(np.float32)
    z = (np.einsum("nd,duk->nuk", x, w) + b).reshape(7, 15)
    np.testing.assert_allclose(p.printed_maxout(x, w, b), acts.get("maxout", k=5).fn(z), rtol=1e-5)


def test_printed_b9_swish_derivative_is_wrong():
    """B9: the printed f' has an extra factor βx in its second term. It must DISAGREE with
    autodiff; it coincides only where βx = 1 (so x = 1 with β = 1 is NOT a counter-example)."""

    def bundle(x, beta):  # printed and autodiff derivative at (x_i, beta_i)
        auto = jax.vmap(jax.grad(lambda z, b: f.swish(z, b)))(x, beta)
        return p.printed_swish_prime(x, beta=beta), auto

    # beta = 1 at x = 0, 2, -1, 5; beta = 2 at x = 1; then the coincidences at x = 1/beta
    x = np.array([0.0, 2.0, -1.0, 5.0, 1.0, 1.0, 0.5, 2.0], np.float32)
    beta = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 2.0, 0.5], np.float32)
    printed, auto = run(bundle, x, beta)
    err = np.abs(printed - auto)
    assert np.all(err[:5] > 0.1), err  # wrong
    assert printed[0] == 0.0 and auto[0] == pytest.approx(0.5)  # at x = 0: 0 printed, 1/2 true
    np.testing.assert_allclose(printed[5:], auto[5:], rtol=1e-5)  # the coincidence at βx = 1


def test_printed_b9_swish_function_ignores_beta():
    def bundle(x):
        return (
            p.printed_swish(x),
            f.swish(x, 1.0),
            f.swish(x, 2.0),
            p.printed_swish_prime(x, beta=2.0, f_as_printed=True),
            p.printed_swish_prime(x, beta=2.0),
        )

    ps, s1, s2, pp_printed_f, pp = run(bundle, np.linspace(-10, 10, 201, dtype=np.float32))
    np.testing.assert_allclose(ps, s1, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ps, s2)
    assert not np.allclose(pp_printed_f, pp)  # the printed f' depends on which printed f is used


def test_printed_b10_mish_derivative_correct_where_finite():
    x = SMALL
    pr, auto, pm, m = run(lambda z: (p.printed_mish_prime(z), dgrad(f.mish)(z), p.printed_mish(z), f.mish(z)), x)
    finite = np.isfinite(pr)
    assert finite[x <= 22.0].all()  # finite up to x ~ 22.18 in float32
    assert not finite[x >= 22.5].any()  # then δ² overflows: inf/inf = NaN
    np.testing.assert_allclose(pr[finite], auto[finite], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(pm, m, rtol=1e-5, atol=1e-6)


def test_printed_b11_softmax_jacobian_matches_autodiff():
    xs = np.random.default_rng(2).normal(scale=3.0, size=(4, 6)).astype(np.float32)

    def bundle(xs):
        return (
            jax.vmap(p.printed_softmax_jacobian)(xs),
            jax.vmap(jax.jacobian(f.softmax))(xs),
            p.printed_softmax(xs),
            f.softmax(xs),
            acts.get("softmax").printed_derivative(xs[0]),
        )

    printed_jac, auto_jac, printed_sm, sm, registry_jac = run(bundle, xs)
    np.testing.assert_allclose(printed_jac, auto_jac, atol=1e-7)
    np.testing.assert_allclose(printed_sm, sm, rtol=1e-6)
    np.testing.assert_allclose(registry_jac, auto_jac[0], atol=1e-7)


def test_registry_printed_derivatives_are_bound():
    x = np.array([-2.0, 0.5], np.float32)

    def bundle(x):
        return (
            acts.get("elu", alpha=0.5).printed_derivative(x),
            f.elu(x, 0.5),
            acts.get("swish", beta=2.0).printed_derivative(x),
            p.printed_swish_prime(x, 2.0),
        )

    e1, e2, s1, s2 = run(bundle, x)
    np.testing.assert_allclose(e1, e2)
    np.testing.assert_allclose(s1, s2)
    assert acts.get("gelu").printed_derivative is None


# --- rrelu (B6) ---------------------------------------------------------------------------------
def test_rrelu_training_random_within_bounds_and_test_deterministic():
    lower, upper = 3.0, 8.0
    act = acts.get("rrelu", lower=lower, upper=upper)
    assert act.kind == "stochastic" and act.train_fn is not None
    x = np.linspace(-10, 10, 1001, dtype=np.float32)
    keys = jax.random.split(jax.random.key(0), 2)

    def bundle(x, keys):
        return act.train_fn(x, keys[0]), act.train_fn(x, keys[1]), act.train_fn(x, keys[0]), act.fn(x)

    y1, y2, y1_again, test_out = run(bundle, x, keys)
    neg, pos = x < 0, x > 0
    assert not np.allclose(y1[neg], y2[neg])  # varies with the key
    np.testing.assert_array_equal(y1, y1_again)  # same key, same draw
    for y in (y1, y2):
        assert np.all(y[neg] >= x[neg] / lower - 1e-6) and np.all(y[neg] <= x[neg] / upper + 1e-6)
        np.testing.assert_array_equal(y[pos], x[pos])
    a = x[neg] / y1[neg]  # the divisors spread over U(3, 8)
    assert a.min() < 3.5 and a.max() > 7.5
    np.testing.assert_array_equal(test_out, run(act.fn, x))  # deterministic at test time
    np.testing.assert_allclose(test_out, np.where(x > 0, x, x / 5.5), rtol=1e-6)
    with pytest.raises(ValueError, match="key"):
        f.rrelu(x, training=True)


# --- maxout (B8) --------------------------------------------------------------------------------
def test_maxout_groups_last_axis():
    z = (np.arange(12.0).reshape(2, 6) * np.array([1, -1, 1, -1, 1, -1])).astype(np.float32)
    out = acts.get("maxout", k=3).fn(z)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, z.reshape(2, 2, 3).max(-1))
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
    np.testing.assert_allclose(act.fn(np.array([-1.0, 2.0], np.float32)), [-0.2, 2.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        act.name = "x"
    with pytest.raises(TypeError):
        act.params["alpha"] = 1.0
    assert acts.get("prelu").params == {"alpha": 0.25}
    assert acts.get("maxout").derivative is None and acts.get("softmax").derivative is None


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_registered_activation_is_usable(name):
    act = acts.get(name)
    z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(2, 6)
    out = run(act.fn, z)
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

"""Tests of experiments.vanishing (claims D1-D6): measurement logic on known answers, CLI errors."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments.vanishing import measure as vanishing
from experiments.vanishing import net as vanishing_net


def test_log_gain_fit_recovers_a_known_geometric_decay():
    layers = np.arange(20)
    grad = np.exp(0.3 * layers)[None, :] * np.array([[1.0], [2.0]])  # ln g grows 0.3 per layer upwards
    gain = vanishing._fit_log_gain(grad, skip=2)
    np.testing.assert_allclose(gain, -0.3, atol=1e-9)


def test_log10_ratio_marks_overflow_and_underflow():
    g = np.array([[1e-3, 1.0, 10.0], [0.0, 1.0, 1.0], [np.inf, 1.0, 1.0]])
    r = vanishing._log10_ratio(g)
    assert np.isclose(r[0], -4.0) and np.isneginf(r[1]) and np.isnan(r[2])


def test_profile_gradients_match_autodiff_of_the_weights():
    """||dL/dW_l|| from the Gram identity equals the norm of jax.grad with respect to the kernel."""
    key = jax.random.PRNGKey(0)
    params = vanishing_net.init_params(key, "xavier_normal", 5, 7, 4, 3)
    x = jax.random.normal(jax.random.PRNGKey(1), (6, 5))
    y = jnp.array([0, 1, 2, 0, 1, 2])
    out = vanishing._profile_fn("tanh")(jax.tree_util.tree_map(lambda a: a[None], params), x, y)

    def loss(p):
        return vanishing_net.xent(vanishing_net.forward(p, x, jnp.tanh, False)[0], y)

    g = jax.grad(loss)(params)
    want = [jnp.linalg.norm(g["w_in"])] + [jnp.linalg.norm(w) for w in g["w_hid"]]
    np.testing.assert_allclose(out["grad_w"][0], np.array(want), rtol=1e-4)
    # sigmoid-free check of the derivative statistics: tanh' <= 1 everywhere
    assert np.all(np.asarray(out["max_abs_dphi"]) <= 1.0 + 1e-6)


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


def test_smoke_sigmoid_derivative_product_respects_quarter_bound(smoke):
    summary = smoke("vanishing").tables["profile_summary"]
    s = summary[summary.activation == "sigmoid"]
    assert len(s) and (s.log10_prod_max_dphi <= s.log10_bound + 1e-6).all()


def test_cli_rejects_unknown_activation():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.vanishing", "--config", "configs/vanishing.py:smoke",
         "--config.profile.activations=('nosuch',)"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "nosuch" in proc.stderr

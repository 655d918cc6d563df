"""Tests of experiments/kit/theory.py: the quadrature against closed forms, adaptive integration and
large-q asymptotics (DECISIONS.md R10), the layer-wise length map and the converged correlation map."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import integrate

from experiments.kit import meanfield, perf, theory


def _sech4(h):
    return 1.0 / np.cosh(np.clip(h, -100, 100)) ** 4


def _sigmoid_prime_sq(h):
    s = 1.0 / (1.0 + np.exp(-np.clip(h, -700, 700)))
    return (s * (1 - s)) ** 2


def _quad(f, q):
    """E[f(sqrt(q) z)] by adaptive quadrature in z, split where the integrand has its features (h = 0, +-2, +-20)."""
    density = lambda z: f(np.sqrt(q) * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi)
    inner = sorted({float(np.clip(h / np.sqrt(q), -40, 40)) for h in (-20, -2, 0, 2, 20)})
    edges = [-np.inf, *inner, np.inf]
    return sum(integrate.quad(density, a, b, epsabs=1e-16, epsrel=1e-12, limit=500)[0] for a, b in itertools.pairwise(edges) if b > a)


@pytest.mark.parametrize("q", [1e-8, 0.3, 1.0, 40.0, 120.0, 1e4, 1e8])
def test_moments_match_adaptive_quadrature(q):
    tanh, sigmoid = theory.moments("tanh", q), theory.moments("sigmoid", q)
    assert tanh["dphi2"] == pytest.approx(_quad(_sech4, q), rel=1e-9)
    assert sigmoid["dphi2"] == pytest.approx(_quad(_sigmoid_prime_sq, q), rel=1e-9)


def test_the_old_fixed_grid_failed_where_the_rule_does_not():
    """The issue's numbers: a 100-node Gauss-Hermite grid is off by about -47% at q = 40 and -92% at q = 120."""
    for q, old_error in ((40.0, -0.47), (120.0, -0.92)):
        exact = _quad(_sech4, q)
        grid = theory.gaussian_expectation(lambda z, q=q: _sech4(np.sqrt(q) * z))
        assert grid / exact - 1 == pytest.approx(old_error, abs=0.02)
        assert theory.moments("tanh", q)["dphi2"] == pytest.approx(exact, rel=1e-9)


@pytest.mark.parametrize("q", [1e2, 1e4, 1e6, 1e10])
def test_large_q_asymptotics(q):
    """sqrt(2 pi q) E[g(sqrt(q) z)] -> integral of g over the line: 4/3 for sech^4, 1/6 for sigmoid'^2, 2 for 1 - tanh^2."""
    root = np.sqrt(2 * np.pi * q)
    tanh, sigmoid = theory.moments("tanh", q), theory.moments("sigmoid", q)
    rel = 10.0 / q  # the next term of the expansion is O(1/q)
    assert root * tanh["dphi2"] == pytest.approx(4 / 3, rel=rel)
    assert root * sigmoid["dphi2"] == pytest.approx(1 / 6, rel=rel)
    assert root * (1 - tanh["phi2"]) == pytest.approx(2.0, rel=rel)


@pytest.mark.parametrize("q", [1e-12, 1e-3, 1.0, 1e3, 1e12])
def test_relu_closed_forms_and_gaussian_moments(q):
    relu = theory.moments("relu", q)
    assert relu["phi2"] == pytest.approx(q / 2, rel=1e-12)
    assert relu["phi"] == pytest.approx(np.sqrt(q / (2 * np.pi)), rel=1e-12)
    assert relu["dphi"] == pytest.approx(0.5, rel=1e-12) and relu["dphi2"] == pytest.approx(0.5, rel=1e-12)
    assert theory.expectation(lambda h: h**4, q) == pytest.approx(3 * q * q, rel=1e-12)
    assert theory.expectation(lambda h: np.abs(h), q, centre=3.0) == pytest.approx(
        _quad(lambda h: np.abs(h + 3.0), q), rel=1e-9)


def test_one_compile_serves_a_group_of_activations():
    group = ("softsign", "gelu", "elu")
    before = perf.compile_count()
    for name in group:
        theory.moments(name, np.geomspace(1e-3, 1e3, 700), group=group)
    assert perf.compile_count() - before == 1


def test_layerwise_length_map():
    relu = theory.layerwise("relu", 2.0, 0.7, 20)
    np.testing.assert_allclose(relu.q, 0.7, rtol=1e-12)
    np.testing.assert_allclose(relu.chi_1, 1.0, rtol=1e-12)
    assert relu.q_star == pytest.approx(0.7)
    identity = theory.layerwise("identity", 1.5, 1.0, 10)
    np.testing.assert_allclose(identity.q, 1.5 ** np.arange(10), rtol=1e-12)
    assert np.isnan(identity.q_star)  # no fixed point within the depth: q_l, not a q*
    # tanh with N(0,1) weights at width 128 (sigma_w^2 = 128): q_l ~ 124 and the gradient grows by ~e^0.9 per layer,
    # the measured +0.89 of issue 13 (the fixed grid predicted -0.44)
    tanh = theory.layerwise("tanh", 128.0, 32.0, 50)
    assert 0.85 < 0.5 * np.log(tanh.chi_1[10:]).mean() < 0.95
    assert tanh.kappa[-1] > 10  # phi'^2 concentrated on few units: large finite-width sensitivity


def test_correlation_map_is_converged():
    mf = meanfield.mean_field("tanh", 2.5, 0.05)
    both = theory._both("tanh")
    gap = (2.5 * meanfield.pair_expectation(both, mf.q_star, mf.c_star)[0] + 0.05) / mf.q_star - mf.c_star
    assert abs(gap) < 1e-9 and 0 < mf.c_star < 1 and mf.chi_c < 1
    assert mf.xi_c == pytest.approx(-1 / np.log(mf.chi_c))
    ordered = meanfield.mean_field("tanh", 1.75, 0.05)  # just below the transition: c* = 1, xi_c from chi_1
    assert ordered.c_star == 1.0 and ordered.chi_1 < 1
    assert ordered.xi_c == pytest.approx(-1 / np.log(ordered.chi_1)) and ordered.xi_c > 300
    many = meanfield.mean_field_many("tanh", [1.75, 2.5], 0.05)
    assert [m.xi_c for m in many] == pytest.approx([ordered.xi_c, mf.xi_c])

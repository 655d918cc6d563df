"""The property measurements of experiments.derivatives (claims B1, B2, B6, B8) and the ``formulas`` part.

B1/B2: max slopes and zero-centring of sigmoid and tanh; B6: RReLU's random divisors and test-time
rule; B8: the Flax maxout layer against the printed formula. :func:`formulas_and_properties` is
the measurement that writes ``formula_checks`` and ``properties``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
from scipy import stats as sps

import acts
from acts import printed as pr
from experiments.kit import models, stats, theory

from .measure import autodiff, formula_checks, grid


def formulas_and_properties(config: ml_collections.ConfigDict, t) -> dict:
    """Measurement: the ``formula_checks`` table and the ``properties`` table (quantity, value)."""
    checks, extra = formula_checks(config)
    props = {**extra, **sigmoid_tanh_properties(config), **rrelu_check(config), **maxout_check(config)}
    properties = pd.DataFrame({"quantity": list(props), "value": [float(v) for v in props.values()]})
    return {"formula_checks": checks, "properties": properties}


def sigmoid_tanh_properties(config) -> dict:
    """B1: max σ' and where; B2: E[tanh z], z~N(0,1) (quadrature and Monte Carlo), max tanh' (computed)."""
    x = np.linspace(-10, 10, 200001, dtype=np.float32)
    ds = np.asarray(autodiff(acts.get("sigmoid").fn)(jnp.asarray(x)))
    dt = np.asarray(autodiff(acts.get("tanh").fn)(jnp.asarray(x)))
    zs = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (200000,)))
    mc = stats.mean_ci(np.tanh(zs))
    return {
        "b1_max_sigmoid_slope": float(ds.max()),
        "b1_argmax_sigmoid_slope": float(x[np.argmax(ds)]),
        "b2_mean_tanh_quadrature": theory.gaussian_expectation(np.tanh),
        "b2_mean_sigmoid_quadrature": theory.gaussian_expectation(lambda v: 0.5 * (1 + np.tanh(0.5 * v))),
        "b2_mean_tanh_mc": mc.mean,
        "b2_mean_tanh_mc_lo": mc.lo,
        "b2_mean_tanh_mc_hi": mc.hi,
        "b2_max_tanh_slope": float(dt.max()),
        "b2_argmax_tanh_slope": float(x[np.argmax(dt)]),
    }


def rrelu_check(config) -> dict:
    """B6: divisors drawn per unit and step from U(l, u) (KS test), test-time rule vs mean training output."""
    lo, hi = config.rrelu_lower, config.rrelu_upper
    act = acts.get("rrelu", lower=lo, upper=hi)
    x = -jnp.ones((config.rrelu_draws,), jnp.float32)
    y1 = act.train_fn(x, jax.random.PRNGKey(11))
    y2 = act.train_fn(x, jax.random.PRNGKey(12))
    divisors = np.asarray(x / y1, np.float64)
    ks = sps.kstest(divisors, "uniform", args=(lo, hi - lo))
    corr = float(np.corrcoef(np.asarray(y1), np.asarray(y2))[0, 1])
    test_out = float(act.fn(jnp.float32(-1.0)))
    mean_train = stats.mean_ci(np.asarray(y1))
    exact_mean = -np.log(hi / lo) / (hi - lo)  # E[-1/a], a ~ U(lo, hi)
    pos = np.asarray(act.train_fn(jnp.ones((1000,)), jax.random.PRNGKey(13)))
    return {
        "b6_ks_p": float(ks.pvalue),
        "b6_ks_stat": float(ks.statistic),
        "b6_divisor_min": float(divisors.min()),
        "b6_divisor_max": float(divisors.max()),
        "b6_corr_between_steps": corr,
        "b6_units_distinct": len(np.unique(np.asarray(y1))),
        "b6_test_output_at_minus1": test_out,
        "b6_test_rule": -2.0 / (lo + hi),
        "b6_mean_train_output_at_minus1": mean_train.mean,
        "b6_mean_train_lo": mean_train.lo,
        "b6_mean_train_hi": mean_train.hi,
        "b6_mean_train_exact": float(exact_mean),
        "b6_rel_gap": float(abs(mean_train.mean - test_out) / abs(test_out)),
        "b6_positive_side_max_err": float(np.max(np.abs(pos - 1.0))),
    }


def maxout_check(config) -> dict:
    """B8: the Flax maxout layer vs the printed h_i = max_j (W_ijᵀx + b_ij); maxout k=2 makes relu and |x|."""
    out = {}
    x = jax.random.normal(jax.random.PRNGKey(3), (256, 6))
    for k in config.maxout_ks:
        model = models.build(
            "mlp",
            3,
            widths=(config.maxout_width,),
            activation="maxout",
            act_params={"k": k},
            initializer="xavier_uniform",
            bias_std=0.5,
        )
        variables = models.init_variables(model, jax.random.PRNGKey(k), x)
        _, state = model.apply(variables, x, mutable=["intermediates"])
        flax_out = state["intermediates"]["act_0"][0]
        dense = variables["params"]["dense_0"]
        w = dense["kernel"].reshape(x.shape[1], config.maxout_width, k)
        b = dense["bias"].reshape(config.maxout_width, k)
        printed = pr.printed_maxout(x, w, b)
        err = jnp.abs(flax_out - printed)
        tol = config.criteria.formula
        out[f"b8_flax_vs_printed_k{k}"] = float(jnp.max(err))
        # the same float32 criterion as every printed formula: |a - b| <= atol + rtol |b| (summation
        # order of the matmul differs between XLA optimisation levels, so exact equality is not the test)
        out[f"b8_flax_excess_k{k}"] = float(jnp.max(err - (tol.atol + tol.rtol * jnp.abs(printed))))
    xs = grid(config)[:, None]
    zeros = jnp.zeros((1, 2))
    out["b8_relu_err"] = float(
        jnp.max(jnp.abs(pr.printed_maxout(xs, jnp.array([[[1.0, 0.0]]]), zeros)[:, 0] - acts.functions.relu(xs[:, 0])))
    )
    out["b8_abs_err"] = float(
        jnp.max(jnp.abs(pr.printed_maxout(xs, jnp.array([[[1.0, -1.0]]]), zeros)[:, 0] - jnp.abs(xs[:, 0])))
    )
    return out

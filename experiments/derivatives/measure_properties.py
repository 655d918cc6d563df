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

from .measure import derivative, formula_body, formula_checks, formula_inputs, run_together, split_curves


def formulas_and_properties(config: ml_collections.ConfigDict, t) -> dict:
    """Measurement: the ``formula_checks`` table and the ``properties`` table (quantity, value), and the
    figure's ``curves``; every check of the part is one body of ONE compiled program (issue 16)."""
    inputs, args = formula_inputs(config)
    got = run_together({
        "formulas": (formula_body(config, len(inputs["grid"])), args),
        "slopes": (_slopes, (SLOPE_X,)),
        "rrelu": (_rrelu_draws(config), (-np.ones(config.rrelu_draws, np.float32), np.ones(1000, np.float32))),
        "maxout": (_maxout_errors(config), (np.int32(MAXOUT_X_SEED), tuple(np.int32(k) for k in config.maxout_ks),
                                            inputs["grid"][:, None])),
    })
    formulas, curves = split_curves(got["formulas"], len(inputs["grid"]))
    checks, extra = formula_checks(config, inputs, formulas)
    props = {**extra, **sigmoid_tanh_properties(got["slopes"]), **rrelu_check(config, *got["rrelu"]),
             **maxout_check(config, got["maxout"])}
    properties = pd.DataFrame({"quantity": list(props), "value": [float(v) for v in props.values()]})
    return {"formula_checks": checks, "properties": properties, "curves": curves}


SLOPE_X = np.linspace(-10, 10, 200001, dtype=np.float32)  # where B1/B2 find the max slopes


def _slopes(v):
    """B1/B2: σ′ and tanh′ on ``v``; tanh z for 200000 draws z ~ N(0, 1)."""
    return (derivative(acts.get("sigmoid").fn)(v), derivative(acts.get("tanh").fn)(v),
            jnp.tanh(jax.random.normal(jax.random.PRNGKey(1), (200000,))))


def sigmoid_tanh_properties(slopes) -> dict:
    """B1: max σ' and where; B2: E[tanh z], z~N(0,1) (quadrature and Monte Carlo), max tanh' (computed)."""
    x, (ds, dt, tanh_z) = SLOPE_X, slopes
    mc = stats.mean_ci(tanh_z)
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


def _rrelu_draws(config):
    """B6: the body drawing RReLU's training outputs at x = −1 (two steps), its test output, and the positive side."""
    act = acts.get("rrelu", lower=config.rrelu_lower, upper=config.rrelu_upper)

    def draws(x, ones):  # the two steps' draws vmapped over their keys: one random program
        y1, y2 = jax.vmap(lambda seed: act.train_fn(x, jax.random.PRNGKey(seed)))(jnp.arange(11, 13))
        return y1, y2, act.fn(x[:1]), act.train_fn(ones, jax.random.PRNGKey(13))

    return draws


def rrelu_check(config, y1, y2, test, pos) -> dict:
    """B6: divisors drawn per unit and step from U(l, u) (KS test), test-time rule vs mean training output.

    Document 002 calls U(l, u) "a Gaussian distribution U(l,u)": the draws are also tested against the
    Gaussian of their own mean and variance (reported, not decided: the claim is U(l, u)).
    """
    lo, hi = config.rrelu_lower, config.rrelu_upper
    divisors = np.asarray(-1.0 / y1.astype(np.float64))
    ks = sps.kstest(divisors, "uniform", args=(lo, hi - lo))
    gauss = sps.kstest(divisors, "norm", args=(divisors.mean(), divisors.std(ddof=1)))
    test_out = float(test[0])
    mean_train = stats.mean_ci(y1)
    exact_mean = -np.log(hi / lo) / (hi - lo)  # E[-1/a], a ~ U(lo, hi)
    return {
        "b6_ks_p": float(ks.pvalue),
        "b6_ks_stat": float(ks.statistic),
        "b6_gaussian_ks_p": float(gauss.pvalue),
        "b6_gaussian_ks_stat": float(gauss.statistic),
        "b6_divisor_min": float(divisors.min()),
        "b6_divisor_max": float(divisors.max()),
        "b6_corr_between_steps": float(np.corrcoef(y1, y2)[0, 1]),
        "b6_units_distinct": len(np.unique(y1)),
        "b6_test_output_at_minus1": test_out,
        "b6_test_rule": -2.0 / (lo + hi),
        "b6_mean_train_output_at_minus1": mean_train.mean,
        "b6_mean_train_lo": mean_train.lo,
        "b6_mean_train_hi": mean_train.hi,
        "b6_mean_train_exact": float(exact_mean),
        "b6_rel_gap": float(abs(mean_train.mean - test_out) / abs(test_out)),
        "b6_positive_side_max_err": float(np.max(np.abs(pos - 1.0))),
    }


MAXOUT_X_SEED = 3  # the inputs of the B8 layers: x ~ N(0, 1), (256, 6)


def _maxout_errors(config):
    """B8: the body comparing the Flax maxout layer (one per k, seeded k) with the printed formula, and
    maxout k=2 with relu and |x| on the grid."""
    tol = config.criteria.formula

    def layer(xx, seed, k):
        model = models.build("mlp", 3, widths=(config.maxout_width,), activation="maxout", act_params={"k": k},
                             initializer="xavier_uniform", bias_std=0.5)
        variables = models.init_variables(model, jax.random.PRNGKey(seed), xx)
        _, state = model.apply(variables, xx, mutable=["intermediates"])
        dense = variables["params"]["dense_0"]
        w = dense["kernel"].reshape(xx.shape[1], config.maxout_width, k)
        printed = pr.printed_maxout(xx, w, dense["bias"].reshape(config.maxout_width, k))
        err = jnp.abs(state["intermediates"]["act_0"][0] - printed)
        # the float32 criterion of every printed formula (summation order differs between XLA levels)
        return jnp.max(err), jnp.max(err - (tol.atol + tol.rtol * jnp.abs(printed)))

    def special(xs):
        zeros = jnp.zeros((1, 2))
        relu = pr.printed_maxout(xs, jnp.array([[[1.0, 0.0]]]), zeros)[:, 0] - acts.functions.relu(xs[:, 0])
        absx = pr.printed_maxout(xs, jnp.array([[[1.0, -1.0]]]), zeros)[:, 0] - jnp.abs(xs[:, 0])
        return jnp.max(jnp.abs(relu)), jnp.max(jnp.abs(absx))

    def errors(x_seed, seeds, grid_column):
        xx = jax.random.normal(jax.random.PRNGKey(x_seed), (256, 6))
        return [layer(xx, seed, k) for seed, k in zip(seeds, config.maxout_ks, strict=True)], special(grid_column)

    return errors


def maxout_check(config, errors) -> dict:
    """B8: the Flax maxout layer vs the printed h_i = max_j (W_ijᵀx + b_ij); maxout k=2 makes relu and |x|."""
    out, (layers, (relu_err, abs_err)) = {}, errors
    for k, (err, excess) in zip(config.maxout_ks, layers, strict=True):
        out[f"b8_flax_vs_printed_k{k}"], out[f"b8_flax_excess_k{k}"] = float(err), float(excess)
    out["b8_relu_err"], out["b8_abs_err"] = float(relu_err), float(abs_err)
    return out

"""The formula measurements of experiments.derivatives (claims B1-B12): printed formulas vs autodiff.

Each formula exactly as the documents print it (``acts.printed``) is compared with ``jax.grad`` /
``jax.jacobian`` of the activation on a dense float32 grid plus edge values (±30, 0, tiny
magnitudes); a formula agrees when ``|printed − autodiff| <= atol + rtol·|autodiff|`` everywhere
(tolerances in the config). A wrong formula is refuted with its max error and the correct one.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from acts import printed as pr
from experiments.kit import perf

MISH_WHOLE_GRID = "Mish′ = eˣω/δ² (float32, whole grid)"  # informational row: B10 is decided where float32 is finite


def swish_labels(beta: float) -> dict[str, str]:
    """The ``formula`` labels of the three B9 rows at ``beta``: printed f′, corrected f′, printed f."""
    return {
        "printed": f"Swish′ as printed, β={beta}",
        "corrected": f"Swish′ corrected βf+σ(βx)(1−βf), β={beta}",
        "f": f"Swish f as printed x/(1+e^{{−x}}), β={beta}",
    }


# --- measurement helpers ------------------------------------------------------------------------
def grid(config: ml_collections.ConfigDict) -> jax.Array:
    """The dense float32 grid plus the edge values."""
    dense = np.linspace(config.grid_lo, config.grid_hi, config.grid_n, dtype=np.float32)
    return jnp.asarray(np.concatenate([dense, np.asarray(config.edges, np.float32)]))


def autodiff(fn, argnum: int = 0):
    """Elementwise derivative of scalar ``fn`` by ``jax.grad`` (vmapped)."""
    return perf.jit(jax.vmap(jax.grad(fn, argnums=argnum)))


def compare(printed: np.ndarray, reference: np.ndarray, x: np.ndarray, rtol: float, atol: float) -> dict:
    """Max abs/rel error of ``printed`` against ``reference`` (rel floored at ``atol``) and the verdict.

    Non-finite printed values where the reference is finite count as failures (``nonfinite``).
    """
    p, r = np.asarray(printed, np.float64), np.asarray(reference, np.float64)
    bad = ~np.isfinite(p) & np.isfinite(r)
    err = np.where(bad, np.inf, np.abs(p - r))
    rel = err / np.maximum(np.abs(r), atol)
    worst = int(np.argmax(np.where(np.isfinite(err), err, np.finfo(float).max)))
    ok = bool(np.all(err <= atol + rtol * np.abs(r)))
    finite = np.isfinite(err)
    return {
        "n_points": int(p.size),
        "max_abs_err": float(np.max(err[finite])) if finite.any() else float("inf"),
        "max_rel_err": float(np.max(rel[finite])) if finite.any() else float("inf"),
        "worst_x": float(np.ravel(x)[worst]) if np.size(x) == p.size else float("nan"),
        "nonfinite": int(bad.sum()),
        "agrees": ok,
    }


def mish_prime_float64(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(printed Mish derivative, closed form) in numpy float64 (claim B10)."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        ex = np.exp(x)
        omega = 4 * (x + 1) + 4 * np.exp(2 * x) + np.exp(3 * x) + ex * (4 * x + 6)
        delta = 2 * ex + np.exp(2 * x) + 2
        printed = ex * omega / delta**2
    t = np.tanh(np.logaddexp(0.0, x))
    sig = 0.5 * (1 + np.tanh(0.5 * x))
    return printed, t + x * sig * (1 - t * t)


# --- B1-B12 -------------------------------------------------------------------------------------
def formula_checks(config) -> tuple[pd.DataFrame, dict]:
    """One row per printed formula (function or derivative) against its autodiff/exact reference."""
    tol = config.criteria.formula
    x = grid(config)
    xn = np.asarray(x)
    rows, extra = [], {}

    def add(claim, formula, printed, reference, correct, pts=xn, rtol=tol.rtol, atol=tol.atol, dtype="float32"):
        row = {"claim": claim, "formula": formula, "dtype": dtype, **compare(printed, reference, pts, rtol, atol)}
        row["correct_formula"] = correct
        rows.append(row)
        return row

    sig, tanh, relu = acts.get("sigmoid"), acts.get("tanh"), acts.get("relu")
    add("B1", "σ(x) = 1/(1+e^{−x})", pr.printed_sigmoid(x), sig.fn(x), "")
    add("B1", "σ'(x) = σ(x)(1−σ(x))", pr.printed_sigmoid_prime(x), autodiff(sig.fn)(x), "")
    add("B2", "tanh(x) = (eˣ−e^{−x})/(eˣ+e^{−x})", pr.printed_tanh(x), tanh.fn(x), "")
    add("B2", "tanh'(x) = 1 − tanh²(x)", pr.printed_tanh_prime(x), autodiff(tanh.fn)(x), "")
    add("B3", "ReLU(x) = max(0, x)", pr.printed_relu(x), relu.fn(x), "")
    add("B3", "ReLU' = 0 (x≤0), 1 (x>0)", pr.printed_relu_prime(x), autodiff(relu.fn)(x), "")
    a = config.leaky_alpha
    leaky = acts.get("leaky_relu", alpha=a)
    add("B4", f"leaky: max(αx, x), α={a}", pr.printed_leaky_relu(x, a), leaky.fn(x), "")
    add("B4", f"leaky': 1 (x>0), α (x≤0), α={a}", pr.printed_leaky_relu_prime(x, a), autodiff(leaky.fn)(x), "")
    extra["b4_alpha2_max_abs_err"] = float(
        jnp.max(jnp.abs(pr.printed_leaky_relu(x, 2.0) - acts.functions.leaky_relu(x, 2.0)))
    )
    pa = config.prelu_alpha
    prelu = acts.functions.prelu
    add("B5", f"PReLU: max(αx, x), α={pa}", pr.printed_prelu(x, pa), prelu(x, pa), "")
    add("B5", "PReLU ∂f/∂x", pr.printed_prelu_prime(x, pa), autodiff(prelu, 0)(x, jnp.full_like(x, pa)), "")
    add(
        "B5",
        "PReLU ∂f/∂α = x (x<0), 0 otherwise",
        pr.printed_prelu_dalpha(x),
        autodiff(prelu, 1)(x, jnp.full_like(x, pa)),
        "",
    )
    ea = config.elu_alpha
    elu = acts.get("elu", alpha=ea)
    add("B7", "ELU(x) = x (x>0), α(eˣ−1) (x≤0)", pr.printed_elu(x, ea), elu.fn(x), "")
    add(
        "B7",
        "ELU′ as printed = x (x>0), α(eˣ−1) (x≤0)",
        pr.printed_elu_prime(x, ea),
        autodiff(elu.fn)(x),
        "ELU′(x) = 1 (x>0), α·eˣ (x≤0)",
    )
    extra["b7_printed_minus_function"] = float(jnp.max(jnp.abs(pr.printed_elu_prime(x, ea) - elu.fn(x))))
    for beta in config.swish_betas:
        sw = acts.get("swish", beta=beta)
        ref = autodiff(sw.fn)(x)
        label = swish_labels(beta)
        add("B9", label["printed"], pr.printed_swish_prime(x, beta), ref, "f′(x) = βf(x) + σ(βx)(1 − βf(x))")
        f = sw.fn(x)
        add("B9", label["corrected"], beta * f + jax.nn.sigmoid(beta * x) * (1 - beta * f), ref, "")
        add("B9", label["f"], pr.printed_swish(x), f, "f(x) = x/(1+e^{−βx})")
    mish = acts.get("mish")
    add("B10", "Mish f = x·tanh(ln(1+eˣ))", pr.printed_mish(x), mish.fn(x), "")
    p32, r32 = np.asarray(pr.printed_mish_prime(x)), np.asarray(autodiff(mish.fn)(x))
    fin = np.isfinite(p32)
    add("B10", "Mish′ = eˣω/δ² (float32, where finite)", p32[fin], r32[fin], "", pts=xn[fin])
    add("B10", MISH_WHOLE_GRID, p32, r32, "")
    p64, r64 = mish_prime_float64(xn)
    add("B10", "Mish′ = eˣω/δ² (numpy float64)", p64, r64, "", rtol=tol.rtol64, atol=tol.atol64, dtype="float64")
    scan = np.arange(config.mish_scan_lo, config.mish_scan_hi, 0.01)
    bad32 = ~np.isfinite(np.asarray(pr.printed_mish_prime(jnp.asarray(scan, jnp.float32))))
    bad64 = ~np.isfinite(mish_prime_float64(scan)[0])
    extra["b10_float32_overflow_from"] = float(scan[bad32].min()) if bad32.any() else float("nan")
    extra["b10_float32_overflow_to"] = float(scan[bad32].max()) if bad32.any() else float("nan")
    extra["b10_float64_overflow_from"] = float(scan[bad64].min()) if bad64.any() else float("nan")
    # B11: softmax Jacobian on random vectors of several scales
    key = jax.random.PRNGKey(0)
    vecs = jnp.concatenate(
        [
            s * jax.random.normal(jax.random.fold_in(key, i), (config.softmax_vectors, config.softmax_dim))
            for i, s in enumerate(config.softmax_scales)
        ]
    )
    jac = jax.vmap(jax.jacobian(acts.functions.softmax))(vecs)
    add(
        "B11",
        "softmax ∂y_i/∂x_j = y_i(1−y_i) (i=j), −y_i y_j (i≠j)",
        jax.vmap(pr.printed_softmax_jacobian)(vecs),
        jac,
        "",
        pts=np.zeros(0),
    )
    eye = np.eye(config.softmax_dim, dtype=bool)
    extra["b12_softmax_max_offdiag_jacobian"] = float(np.max(np.asarray(jac)[:, ~eye]))
    extra["b12_sigmoid_max_abs_offdiag_jacobian"] = float(
        np.max(np.abs(np.asarray(jax.vmap(jax.jacobian(jax.nn.sigmoid))(vecs))[:, ~eye]))
    )
    # B12: two classes
    z = np.linspace(config.grid_lo, config.grid_hi, config.two_class_n, dtype=np.float32)
    z1, z2 = (jnp.asarray(v.ravel()) for v in np.meshgrid(z, z))
    soft = acts.functions.softmax(jnp.stack([z1, z2], -1))[:, 0]
    add("B12", "softmax([z₁,z₂])₁ = σ(z₁−z₂)", soft, jax.nn.sigmoid(z1 - z2), "", pts=np.zeros(0))
    sums = jnp.sum(acts.functions.softmax(vecs), -1)
    extra["b12_softmax_max_abs_sum_minus_1"] = float(jnp.max(jnp.abs(sums - 1)))
    high = config.criteria.b12.all_high
    logit = float(np.log(high / (1 - high)))
    s_out = np.asarray(jax.nn.sigmoid(jnp.full((config.softmax_dim,), logit + 1e-3)))
    extra["b12_sigmoid_min_output_all_high"] = float(s_out.min())
    extra["b12_sigmoid_sum_all_high"] = float(s_out.sum())
    return pd.DataFrame(rows), extra

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
def grid_points(config: ml_collections.ConfigDict) -> np.ndarray:
    """The dense float32 grid plus the edge values (numpy)."""
    dense = np.linspace(config.grid_lo, config.grid_hi, config.grid_n, dtype=np.float32)
    return np.concatenate([dense, np.asarray(config.edges, np.float32)])


def grid(config: ml_collections.ConfigDict) -> jax.Array:
    """The dense float32 grid plus the edge values."""
    return jnp.asarray(grid_points(config))


def derivative(fn, argnum: int = 0):
    """Elementwise derivative of scalar ``fn`` by ``jax.grad`` (vmapped, not jitted: for use inside a program)."""
    return jax.vmap(jax.grad(fn, argnums=argnum))


def autodiff(fn, argnum: int = 0):
    """Elementwise derivative of scalar ``fn`` by ``jax.grad`` (vmapped, jitted)."""
    return perf.jit(derivative(fn, argnum))


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


# --- one program -------------------------------------------------------------------------------
def run_together(bodies: dict[str, tuple]) -> dict:
    """``{name: fn(*args)}`` for ``bodies = {name: (fn, args)}``, all in ONE compiled program, as numpy.

    Issue 16: every program costs a compile of its own, so the measurements of the ``formulas`` part
    (B1-B12) are traced bodies run together. Arguments are numpy arrays (lifting them with
    ``jnp.asarray`` outside would compile a staging program per shape).
    """
    fns = {name: fn for name, (fn, _) in bodies.items()}
    got = perf.jit(lambda args: {name: fns[name](*args[name]) for name in fns})({k: a for k, (_, a) in bodies.items()})
    return jax.tree_util.tree_map(np.asarray, got)


# --- B1-B12 -------------------------------------------------------------------------------------
CURVE_X = np.linspace(-5, 5, 401, dtype=np.float32)  # where figures.activations_and_derivatives draws the curves


def figure_panels(config) -> list[tuple[str, str, str, str | None]]:
    """The figure's panels (B1-B10, A2): (title, then the :func:`formula_body` keys of f, its autodiff
    derivative and its derivative as printed, or None)."""
    a, pa = config.leaky_alpha, config.prelu_alpha
    named = [("sigmoid (B1)", "sig"), ("tanh (B2)", "tanh"), ("relu (B3)", "relu"), (f"leaky relu α={a} (B4)", "leaky"),
             (f"prelu α={pa} (B5)", "prelu"), ("elu (B7): printed ELU′ wrong", "elu")]
    panels = [(title, f"{key}_ref", f"d{key}_ref", f"d{key}") for title, key in named]
    panels += [(f"swish β={b:g} (B9): printed f′ wrong", f"swish_f_{b}", f"swish_ref_{b}", f"swish_printed_{b}")
               for b in config.swish_betas[-2:]]
    return [*panels, ("mish (B10)", "mish_ref", "dmish_ref", "dmish"), ("step (A2)", "step", "dstep", None)]


def _inputs(config) -> dict[str, np.ndarray]:
    """Every input array of the formula checks (float32); ``x`` is the ``grid`` followed by :data:`CURVE_X`."""
    z = np.linspace(config.grid_lo, config.grid_hi, config.two_class_n, dtype=np.float32)
    z1, z2 = np.meshgrid(z, z)
    points = grid_points(config)
    return {"grid": points, "x": np.concatenate([points, CURVE_X]), "scan": np.arange(config.mish_scan_lo, config.mish_scan_hi, 0.01).astype(np.float32),
            "z1": z1.ravel(), "z2": z2.ravel()}


def formula_body(config, n_grid: int):
    """Every printed formula and its reference: the traced body ``compute(x, scan, z1, z2)`` of :func:`run_together`
    (B1-B12). Its ``on_x`` values are on the whole of ``x``, the grid (the first ``n_grid`` points) and
    :data:`CURVE_X`: the figure's curves cost no program of their own (:func:`split_curves`)."""
    a, pa, ea = config.leaky_alpha, config.prelu_alpha, config.elu_alpha
    sig, tanh, relu, mish = (acts.get(n) for n in ("sigmoid", "tanh", "relu", "mish"))
    leaky, elu, prelu = acts.get("leaky_relu", alpha=a), acts.get("elu", alpha=ea), acts.functions.prelu
    high = config.criteria.b12.all_high
    grad = derivative

    def softmax_vectors():  # one draw vmapped over the scales' keys: one random program, not one per scale
        shape, scales = (config.softmax_vectors, config.softmax_dim), jnp.asarray(config.softmax_scales, jnp.float32)
        draws = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(jax.random.PRNGKey(0), i), shape))(jnp.arange(len(scales)))
        return (scales[:, None, None] * draws).reshape(-1, config.softmax_dim)

    def on_x(x):
        out = {
            "sig": pr.printed_sigmoid(x), "sig_ref": sig.fn(x), "dsig": pr.printed_sigmoid_prime(x), "dsig_ref": grad(sig.fn)(x),
            "tanh": pr.printed_tanh(x), "tanh_ref": tanh.fn(x), "dtanh": pr.printed_tanh_prime(x), "dtanh_ref": grad(tanh.fn)(x),
            "relu": pr.printed_relu(x), "relu_ref": relu.fn(x), "drelu": pr.printed_relu_prime(x), "drelu_ref": grad(relu.fn)(x),
            "leaky": pr.printed_leaky_relu(x, a), "leaky_ref": leaky.fn(x),
            "dleaky": pr.printed_leaky_relu_prime(x, a), "dleaky_ref": grad(leaky.fn)(x),
            "prelu": pr.printed_prelu(x, pa), "prelu_ref": prelu(x, pa), "dprelu": pr.printed_prelu_prime(x, pa),
            "dprelu_ref": grad(prelu, 0)(x, jnp.full_like(x, pa)), "daprelu": pr.printed_prelu_dalpha(x),
            "daprelu_ref": grad(prelu, 1)(x, jnp.full_like(x, pa)),
            "elu": pr.printed_elu(x, ea), "elu_ref": elu.fn(x), "delu": pr.printed_elu_prime(x, ea), "delu_ref": grad(elu.fn)(x),
            "mish": pr.printed_mish(x), "mish_ref": mish.fn(x), "dmish": pr.printed_mish_prime(x), "dmish_ref": grad(mish.fn)(x),
        }
        for beta in config.swish_betas:
            f = acts.get("swish", beta=beta).fn(x)
            out[f"swish_ref_{beta}"] = grad(acts.get("swish", beta=beta).fn)(x)
            out[f"swish_printed_{beta}"] = pr.printed_swish_prime(x, beta)
            out[f"swish_corrected_{beta}"] = beta * f + jax.nn.sigmoid(beta * x) * (1 - beta * f)
            out[f"swish_f_{beta}"], out[f"swish_f_printed_{beta}"] = f, pr.printed_swish(x)
        step = acts.get("step").fn
        return {**out, "step": step(x), "dstep": grad(step)(x)}

    def compute(x, scan, z1, z2):
        vecs, grid_x = softmax_vectors(), x[:n_grid]
        return {
            "on_x": on_x(x),
            "leaky2_err": jnp.max(jnp.abs(pr.printed_leaky_relu(grid_x, 2.0) - acts.functions.leaky_relu(grid_x, 2.0))),
            "dmish_scan": pr.printed_mish_prime(scan),
            "softmax_jac": jax.vmap(jax.jacobian(acts.functions.softmax))(vecs),
            "softmax_jac_printed": jax.vmap(pr.printed_softmax_jacobian)(vecs),
            "sigmoid_jac": jax.vmap(jax.jacobian(jax.nn.sigmoid))(vecs),
            "softmax_sums": jnp.sum(acts.functions.softmax(vecs), -1),
            "two_class": acts.functions.softmax(jnp.stack([z1, z2], -1))[:, 0], "two_class_ref": jax.nn.sigmoid(z1 - z2),
            "all_high": jax.nn.sigmoid(jnp.full((config.softmax_dim,), float(np.log(high / (1 - high))) + 1e-3)),
        }

    return compute


def split_curves(got: dict, n_grid: int) -> tuple[dict, dict]:
    """:func:`formula_body`'s outputs with the ``on_x`` values cut to the grid, and those values on :data:`CURVE_X`."""
    rest = {k: v for k, v in got.items() if k != "on_x"}
    return {**rest, **{k: v[:n_grid] for k, v in got["on_x"].items()}}, {k: v[n_grid:] for k, v in got["on_x"].items()}


def formula_inputs(config) -> tuple[dict[str, np.ndarray], tuple]:
    """The inputs of the formula checks and :func:`formula_body`'s arguments."""
    inputs = _inputs(config)
    return inputs, tuple(inputs[k] for k in ("x", "scan", "z1", "z2"))


def formula_checks(config, inputs: dict[str, np.ndarray], v: dict[str, np.ndarray]) -> tuple[pd.DataFrame, dict]:
    """One row per printed formula (function or derivative) against its autodiff/exact reference, from the
    outputs ``v`` of :func:`formula_body` on ``inputs`` (:func:`formula_inputs`)."""
    tol, xn = config.criteria.formula, inputs["grid"]
    rows, extra = [], {}

    def add(claim, formula, printed, reference, correct, pts=xn, rtol=tol.rtol, atol=tol.atol, dtype="float32"):
        rows.append({"claim": claim, "formula": formula, "dtype": dtype, **compare(printed, reference, pts, rtol, atol),
                     "correct_formula": correct})

    a, pa = config.leaky_alpha, config.prelu_alpha
    add("B1", "σ(x) = 1/(1+e^{−x})", v["sig"], v["sig_ref"], "")
    add("B1", "σ'(x) = σ(x)(1−σ(x))", v["dsig"], v["dsig_ref"], "")
    add("B2", "tanh(x) = (eˣ−e^{−x})/(eˣ+e^{−x})", v["tanh"], v["tanh_ref"], "")
    add("B2", "tanh'(x) = 1 − tanh²(x)", v["dtanh"], v["dtanh_ref"], "")
    add("B3", "ReLU(x) = max(0, x)", v["relu"], v["relu_ref"], "")
    add("B3", "ReLU' = 0 (x≤0), 1 (x>0)", v["drelu"], v["drelu_ref"], "")
    add("B4", f"leaky: max(αx, x), α={a}", v["leaky"], v["leaky_ref"], "")
    add("B4", f"leaky': 1 (x>0), α (x≤0), α={a}", v["dleaky"], v["dleaky_ref"], "")
    extra["b4_alpha2_max_abs_err"] = float(v["leaky2_err"])
    add("B5", f"PReLU: max(αx, x), α={pa}", v["prelu"], v["prelu_ref"], "")
    add("B5", "PReLU ∂f/∂x", v["dprelu"], v["dprelu_ref"], "")
    add("B5", "PReLU ∂f/∂α = x (x<0), 0 otherwise", v["daprelu"], v["daprelu_ref"], "")
    add("B7", "ELU(x) = x (x>0), α(eˣ−1) (x≤0)", v["elu"], v["elu_ref"], "")
    add("B7", "ELU′ as printed = x (x>0), α(eˣ−1) (x≤0)", v["delu"], v["delu_ref"], "ELU′(x) = 1 (x>0), α·eˣ (x≤0)")
    extra["b7_printed_minus_function"] = float(np.max(np.abs(v["delu"] - v["elu_ref"])))
    for beta in config.swish_betas:
        label, ref = swish_labels(beta), v[f"swish_ref_{beta}"]
        add("B9", label["printed"], v[f"swish_printed_{beta}"], ref, "f′(x) = βf(x) + σ(βx)(1 − βf(x))")
        add("B9", label["corrected"], v[f"swish_corrected_{beta}"], ref, "")
        add("B9", label["f"], v[f"swish_f_printed_{beta}"], v[f"swish_f_{beta}"], "f(x) = x/(1+e^{−βx})")
    add("B10", "Mish f = x·tanh(ln(1+eˣ))", v["mish"], v["mish_ref"], "")
    fin = np.isfinite(v["dmish"])
    add("B10", "Mish′ = eˣω/δ² (float32, where finite)", v["dmish"][fin], v["dmish_ref"][fin], "", pts=xn[fin])
    add("B10", MISH_WHOLE_GRID, v["dmish"], v["dmish_ref"], "")
    p64, r64 = mish_prime_float64(xn)
    add("B10", "Mish′ = eˣω/δ² (numpy float64)", p64, r64, "", rtol=tol.rtol64, atol=tol.atol64, dtype="float64")
    scan = inputs["scan"]
    bad32, bad64 = ~np.isfinite(v["dmish_scan"]), ~np.isfinite(mish_prime_float64(scan)[0])
    extra["b10_float32_overflow_from"] = float(scan[bad32].min()) if bad32.any() else float("nan")
    extra["b10_float32_overflow_to"] = float(scan[bad32].max()) if bad32.any() else float("nan")
    extra["b10_float64_overflow_from"] = float(scan[bad64].min()) if bad64.any() else float("nan")
    add("B11", "softmax ∂y_i/∂x_j = y_i(1−y_i) (i=j), −y_i y_j (i≠j)", v["softmax_jac_printed"], v["softmax_jac"], "",
        pts=np.zeros(0))
    eye = np.eye(config.softmax_dim, dtype=bool)
    extra["b12_softmax_max_offdiag_jacobian"] = float(np.max(v["softmax_jac"][:, ~eye]))
    extra["b12_sigmoid_max_abs_offdiag_jacobian"] = float(np.max(np.abs(v["sigmoid_jac"][:, ~eye])))
    add("B12", "softmax([z₁,z₂])₁ = σ(z₁−z₂)", v["two_class"], v["two_class_ref"], "", pts=np.zeros(0))
    extra["b12_softmax_max_abs_sum_minus_1"] = float(np.max(np.abs(v["softmax_sums"] - 1)))
    extra["b12_sigmoid_min_output_all_high"] = float(v["all_high"].min())
    extra["b12_sigmoid_sum_all_high"] = float(v["all_high"].sum())
    return pd.DataFrame(rows), extra

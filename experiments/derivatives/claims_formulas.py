"""Claims B1-B5, B7, B9-B12: each printed formula against autodiff (rows of ``formula_checks``).

Every formula row is a part (supported when it agrees with its reference at every grid and edge
point, else refuted); B1, B2 and B12 add the properties they state (``properties`` table).
"""

from __future__ import annotations

import dataclasses

from experiments.kit.claim import Decision, claim, part

from .figures import activations_and_derivatives, formula_errors
from .measure import MISH_WHOLE_GRID, swish_labels
from .parts import (
    EVIDENCE,
    FORMULA,
    exact,
    fmt_row,
    formula_decision,
    formula_rows,
    key_of,
    number,
    props,
    row_part,
    rows_text,
    tol_text,
)

READS = ("formula_checks", "properties")
SLOPE_GRID = "σ′ and tanh′ by autodiff on a float32 grid of [−10, 10]"


def formula_claim(claim_id: str, criteria=FORMULA, **kw):
    """``@claim`` for a formula claim: reads the two tables, draws both formula figures, cites the table."""
    return claim(claim_id, reads=READS, figure=(activations_and_derivatives, formula_errors), evidence=EVIDENCE,
                 criteria=criteria, **kw)


@formula_claim("B1", criteria=(*FORMULA, "criteria.b1"))
def b1(t, config) -> Decision:
    """σ(x)=1/(1+e^{-x}); σ'(x)=σ(x)(1−σ(x)); max σ' = 0.25 at x=0 (B1)."""
    c, p = config.criteria.b1, props(t)
    extra = [
        number("max σ′ is the stated maximum", abs(p["b1_max_sigmoid_slope"] - c.max_slope), config, "criteria.b1.slope_tol",
               "<=", f"|max σ′ − {c.max_slope:g}|", SLOPE_GRID),
        number("max σ′ is at x = 0", abs(p["b1_argmax_sigmoid_slope"]), config, "criteria.b1.argmax_tol", "<=", "|argmax σ′|",
               SLOPE_GRID),
    ]
    tail = f". Computed max σ' = {p['b1_max_sigmoid_slope']:.7f} at x = {p['b1_argmax_sigmoid_slope']:.2g}."
    criterion = f"; max σ' within {c.slope_tol:g} of {c.max_slope:g} at |x| ≤ {c.argmax_tol:g}"
    return formula_decision(t, config, "B1", tail, extra, criterion)


@formula_claim("B2", criteria=(*FORMULA, "criteria.b2"))
def b2(t, config) -> Decision:
    """tanh'(x)=1−tanh²(x); tanh is zero-centred, max slope 1 (B2)."""
    c, p = config.criteria.b2, props(t)
    mc, lo, hi = p["b2_mean_tanh_mc"], p["b2_mean_tanh_mc_lo"], p["b2_mean_tanh_mc_hi"]
    extra = [
        number("tanh is zero-centred (quadrature)", abs(p["b2_mean_tanh_quadrature"]), config, "criteria.b2.mean_tol", "<=",
               "|E tanh(z)|", "z ~ N(0, 1), Gauss–Hermite quadrature"),
        exact("tanh is zero-centred (Monte Carlo CI contains 0)", lo <= 0 <= hi, mc, "E tanh(z)",
              "200000 draws z ~ N(0, 1), 95% CI", ci=(lo, hi)),
        number("max tanh′ is the stated maximum", abs(p["b2_max_tanh_slope"] - c.max_slope), config, "criteria.b2.slope_tol",
               "<=", f"|max tanh′ − {c.max_slope:g}|", SLOPE_GRID),
    ]
    tail = (
        f". E[tanh z], z~N(0,1): {p['b2_mean_tanh_quadrature']:.2g} "
        f"(quadrature), {mc:.2g} [{lo:.2g}, {hi:.2g}] (Monte Carlo, 95% CI) vs E[σ(z)] = "
        f"{p['b2_mean_sigmoid_quadrature']:.3f}; max tanh' = {p['b2_max_tanh_slope']:.7f}."
    )
    criterion = f"; |E tanh| ≤ {c.mean_tol:g} and MC CI contains 0; max slope within {c.slope_tol:g} of {c.max_slope:g}"
    return formula_decision(t, config, "B2", tail, extra, criterion)


@formula_claim("B3")
def b3(t, config) -> Decision:
    """ReLU(x)=max(0,x); ReLU'=0 for x≤0, 1 for x>0 (B3)."""
    return formula_decision(t, config, "B3", ".")


@formula_claim("B4")
def b4(t, config) -> Decision:
    """Leaky ReLU f(x)=max(αx,x), α small and fixed (B4)."""
    tail = (f". (max(αx, x) equals leaky ReLU only for 0 ≤ α ≤ 1: at α = 2 it differs by up to "
            f"{props(t)['b4_alpha2_max_abs_err']:.3g} on the grid; the documents state α small.)")
    return formula_decision(t, config, "B4", tail)


@formula_claim("B5")
def b5(t, config) -> Decision:
    """PReLU and its derivatives in x and in the trained slope α (B5)."""
    return formula_decision(t, config, "B5", " (∂f/∂α by jax.grad with respect to α).")


@formula_claim("B7", revised_by="R2; DECISIONS.md B7 row: the ELU function is right (supported), document 003's label "
                                 "ELU′ on it is wrong (refuted as a derivative): a part each")
def b7(t, config) -> Decision:
    """ELU as printed, and document 003's label 'ELU′' on it (B7): the function is right, the label is wrong."""
    fn_row, d_row = list(formula_rows(t, "B7").itertuples())[:2]  # rows as tuples: r.dtype is the column, not pandas'
    function, label = row_part(fn_row, config), row_part(d_row, config)
    label = dataclasses.replace(label, part="document 003's label ELU′: the printed f as the derivative")
    statement = (
        f"The ELU function as printed is right ({fmt_row(fn_row)}): {function.verdict}. Document 003 prints it under "
        f"the label ELU′, and as a derivative it is wrong (it is the function itself: max |printed ELU′ − ELU| = "
        f"{props(t)['b7_printed_minus_function']:.3g}): {fmt_row(d_row)}: {label.verdict}. Correct derivative: "
        f"{d_row.correct_formula} (Clevert et al.: f(x) + α for x ≤ 0)."
    )
    return Decision([function, label], statement, tol_text(config), key=label.part)


@formula_claim("B9")
def b9(t, config) -> Decision:
    """Swish f(x)=x·σ(βx) and its derivative exactly as document 003 prints them (B9).

    One part per β: the printed f, the printed f′ and the corrected f′ at that β all agree with autodiff.
    """
    rows, labels = formula_rows(t, "B9"), [swish_labels(beta) for beta in config.swish_betas]
    parts = []
    for beta, label in zip(config.swish_betas, labels, strict=True):
        at = rows[rows.formula.isin(list(label.values()))]
        printed = at[at.formula == label["printed"]].iloc[0]
        parts.append(part(f"Swish β={beta}: printed f and f′ agree with autodiff", "supported" if at.agrees.all() else "refuted",
                          value=float(printed.max_abs_err), n_seeds=1, unit="max |printed f′ − autodiff f′|",
                          condition=f"{printed['dtype']}, {int(printed.n_points)} points; the corrected f′ checked alongside"))
    printed_rows = rows[rows.formula.isin([label["printed"] for label in labels])]
    corrected = rows[rows.formula.isin([label["corrected"] for label in labels])]
    f_rows = rows[rows.formula.isin([label["f"] for label in labels])]
    statement = (
        f"Printed derivative vs autodiff: {rows_text(printed_rows)}. Correct (Ramachandran et al. 2017): "
        f"f′(x) = βf(x) + σ(βx)(1 − βf(x)), which agrees (max abs err {corrected.max_abs_err.max():.2g}); the printed "
        "one has (βx)/(1+e^{−βx}) = βx·σ(βx) where σ(βx) belongs, an extra factor βx. The printed f = x/(1+e^{−x}) "
        f"ignores β: {rows_text(f_rows)}. Parts: " + "; ".join(f"{p.part}: {p.verdict}" for p in parts) + "."
    )
    return Decision(parts, statement, tol_text(config), key=key_of(parts, parts))


@formula_claim("B10", criteria=("criteria.formula",))
def b10(t, config) -> Decision:
    """Mish and its printed derivative eˣω/δ² (B10): correct where float32 is finite and in float64."""
    c, p, rows = config.criteria.formula, props(t), formula_rows(t, "B10")
    where, whole = rows[rows.formula != MISH_WHOLE_GRID], rows[rows.formula == MISH_WHOLE_GRID].iloc[0]
    tail = (
        f". The formula is correct, but evaluated literally in float32 it overflows (inf/inf = NaN) for "
        f"x in [{p['b10_float32_overflow_from']:.2f}, {p['b10_float32_overflow_to']:.2f}] of the scanned "
        f"range ({int(whole.nonfinite)} non-finite grid points); in float64 it is finite up to "
        f"x ≈ {p['b10_float64_overflow_from']:.2f}."
    )
    criterion = f" where float32 is finite, and in numpy float64 (rtol {c.rtol64:g}, atol {c.atol64:g}) on the whole grid"
    return formula_decision(t, config, "B10", tail, criterion=criterion, rows=where)


@formula_claim("B11")
def b11(t, config) -> Decision:
    """Softmax Jacobian ∂y_i/∂x_j = y_i(1−y_i) if i=j, −y_i·y_j otherwise (B11)."""
    tail = (f" over {len(config.softmax_scales) * config.softmax_vectors} random vectors of dim {config.softmax_dim} "
            f"(scales {tuple(config.softmax_scales)}), against jax.jacobian.")
    return formula_decision(t, config, "B11", tail)


@formula_claim("B12", criteria=(*FORMULA, "criteria.b12"))
def b12(t, config) -> Decision:
    """Sigmoid outputs are independent, softmax outputs sum to 1 and compete; two classes are equivalent (B12)."""
    c, p = config.criteria, props(t)
    vectors = f"{len(config.softmax_scales) * config.softmax_vectors} random vectors of dim {config.softmax_dim}"
    extra = [
        exact("sigmoid Jacobian is diagonal", p["b12_sigmoid_max_abs_offdiag_jacobian"] == 0.0,
              p["b12_sigmoid_max_abs_offdiag_jacobian"], "max |off-diagonal ∂σ_i/∂x_j|", vectors),
        number("sigmoid outputs can all be high at once", p["b12_sigmoid_min_output_all_high"], config, "criteria.b12.all_high",
               ">=", "min σ output", f"{config.softmax_dim} logits just above logit(all_high)"),
        number("softmax outputs sum to 1", p["b12_softmax_max_abs_sum_minus_1"], config, "criteria.formula.atol", "<=",
               "max |Σ softmax − 1|", vectors),
        exact("softmax outputs compete", p["b12_softmax_max_offdiag_jacobian"] <= 0, p["b12_softmax_max_offdiag_jacobian"],
              "max off-diagonal ∂y_i/∂x_j", vectors),
    ]
    statement = (
        f"Sigmoid outputs are independent (off-diagonal Jacobian max |·| = "
        f"{p['b12_sigmoid_max_abs_offdiag_jacobian']:.3g}) and can all be ≥ {c.b12.all_high} at once "
        f"(sum {p['b12_sigmoid_sum_all_high']:.3f} over {config.softmax_dim}); softmax sums to 1 (max "
        f"|Σ−1| = {p['b12_softmax_max_abs_sum_minus_1']:.2g}) and competes (max off-diagonal Jacobian "
        f"{p['b12_softmax_max_offdiag_jacobian']:.3g} ≤ 0). Two-class equivalence: {rows_text(formula_rows(t, 'B12'))}."
    )
    criterion = f"; sigmoid Jacobian diagonal, all outputs ≥ {c.b12.all_high:g} at once; softmax sums to 1 within atol"
    return formula_decision(t, config, "B12", extra=extra, criterion=criterion, statement=statement)

"""Claims B6 (RReLU's random slope and test-time rule) and B8 (maxout), from the ``properties`` table."""

from __future__ import annotations

from experiments.kit.claim import Decision, claim

from .parts import FORMULA, exact, key_of, number, props


@claim("B6", reads=("properties",), evidence="properties.csv", criteria=("criteria.b6", "criteria.formula.atol"))
def b6(t, config) -> Decision:
    """RReLU: divisors drawn from U(l, u) per unit and step; at test time the average, 'as with dropout' (B6)."""
    c, p = config.criteria, props(t)
    lo, hi, draws = config.rrelu_lower, config.rrelu_upper, config.rrelu_draws
    at = f"x = −1, {draws} units"
    parts = [
        number("training divisors are drawn from U(l, u)", p["b6_ks_p"], config, "criteria.b6.ks_p_min", ">=",
               "KS p-value", f"{draws} units of one step, against U({lo}, {hi})"),
        number("a fresh draw per step", abs(p["b6_corr_between_steps"]), config, "criteria.b6.max_abs_corr", "<=",
               "|correlation| between two steps' outputs", at),
        number("test output = x/((l+u)/2)", abs(p["b6_test_output_at_minus1"] - p["b6_test_rule"]), config,
               "criteria.formula.atol", "<=", "|test output − x/((l+u)/2)|", "x = −1"),
        number("test output = mean training output (as with dropout)", p["b6_rel_gap"], config, "criteria.b6.dropout_rel_tol",
               "<=", "relative gap |mean train − test| / |test|", at),
    ]
    statement = (
        f"Training divisors x/y over {draws} units: KS vs U({lo}, {hi}) "
        f"p = {p['b6_ks_p']:.3g} (range [{p['b6_divisor_min']:.4f}, {p['b6_divisor_max']:.4f}]), "
        f"correlation between two steps' draws {p['b6_corr_between_steps']:.2g}. Test output at x = −1: "
        f"{p['b6_test_output_at_minus1']:.6f} = −1/((l+u)/2) = {p['b6_test_rule']:.6f}. But unlike dropout "
        f"it is NOT the mean training output: E over draws of −1/a = {p['b6_mean_train_output_at_minus1']:.5f} "
        f"[{p['b6_mean_train_lo']:.5f}, {p['b6_mean_train_hi']:.5f}] (exact −ln(u/l)/(u−l) = "
        f"{p['b6_mean_train_exact']:.5f}), a relative gap of {p['b6_rel_gap']:.3%}: the test-time rule "
        "averages the divisor, not the slope. Document 002's wording: α is drawn \"from a Gaussian distribution "
        f"U(l,u)\" (高斯分布U(l,u)); U(l, u) is the uniform distribution (Xu et al. 2015), and the draws are uniform, "
        f"not Gaussian: KS against the Gaussian of their own mean and variance p = {p['b6_gaussian_ks_p']:.2g} "
        f"(statistic {p['b6_gaussian_ks_stat']:.3f}). Parts: " + "; ".join(f"{q.part}: {q.verdict}" for q in parts) + "."
    )
    criterion = (
        f"KS p ≥ {c.b6.ks_p_min:g} and |corr| ≤ {c.b6.max_abs_corr:g}; test output = x/((l+u)/2) within {c.formula.atol:g}; "
        f"'as with dropout': |mean train output − test output| ≤ {c.b6.dropout_rel_tol:g} relative"
    )
    failing = [q for q in parts if q.verdict != "supported"]  # R5: the first that failed, else the dropout gap
    return Decision(parts, statement, criterion, key=(failing or parts[-1:])[0].part)


@claim("B8", reads=("properties",), evidence="properties.csv", criteria=FORMULA)
def b8(t, config) -> Decision:
    """Maxout h_i(x) = max_j z_ij, z_ij = W_ijᵀx + b_ij (B8): the Flax layer, and relu / |x| as special cases."""
    c, p = config.criteria.formula, props(t)
    layer = f"256 random inputs, width {config.maxout_width}, within {c.atol:g} + {c.rtol:g}·|printed|"
    flax = [
        exact(f"Flax maxout layer = printed formula, k={k}", p[f"b8_flax_excess_k{k}"] <= 0.0, p[f"b8_flax_vs_printed_k{k}"],
              "max |flax − printed|", layer)
        for k in config.maxout_ks
    ]
    grid = "k = 2, hand-set weights, the formula grid"
    parts = [
        *flax,
        number("maxout (z₁ = x, z₂ = 0) is relu", p["b8_relu_err"], config, "criteria.formula.atol", "<=", "max abs error", grid),
        number("maxout (z₁ = x, z₂ = −x) is |x|", p["b8_abs_err"], config, "criteria.formula.atol", "<=", "max abs error", grid),
    ]
    statement = (
        f"The Flax maxout layer (models.build(activation='maxout')) equals the printed h_i = max_j (W_ijᵀx + b_ij) "
        f"computed from its own weights: max abs err {max(q.value for q in flax):.3g} for k in {tuple(config.maxout_ks)}. "
        f"With k = 2 and hand-set weights (z₁ = x, z₂ = 0) maxout is relu (max err {p['b8_relu_err']:.3g}) "
        f"and (z₁ = x, z₂ = −x) it is |x| (max err {p['b8_abs_err']:.3g}) on the grid."
    )
    criterion = (f"|flax − printed| ≤ {c.atol:g} + {c.rtol:g}·|printed| everywhere (the formula criterion); "
                 f"relu and |x| reproduced within {c.atol:g}")
    return Decision(parts, statement, criterion, key=key_of(parts, flax))

"""Every printed formula against autodiff; the step function's zero gradient (claims B1-B12, A2, C2).

Run: python -m experiments.derivatives --config configs/derivatives.py:smoke

Each formula exactly as the documents print it (``acts.printed``) is compared with ``jax.grad`` /
``jax.jacobian`` of the activation on a dense float32 grid plus edge values (±30, 0, tiny
magnitudes); a formula agrees when ``|printed − autodiff| <= atol + rtol·|autodiff|`` everywhere
(tolerances in the config). A wrong formula is refuted with its max error and the correct one.
A2/C2: a step-activated perceptron and MLP get exactly zero gradient (their loss, or their hidden
weights, never move), while the same nets with sigmoid (and relu) learn. Measurements in
:mod:`.measure`, :mod:`.measure_properties` and :mod:`.measure_training`; claims in :mod:`.claims`;
figures in :mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure_properties, measure_training
from .parts import props

SUMMARY_PROPERTIES = (
    "b1_max_sigmoid_slope", "b6_rel_gap", "b6_test_output_at_minus1", "b10_float32_overflow_from",
    "b12_softmax_max_abs_sum_minus_1",
)


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {f"err_{i:02d}_{r.claim}": float(min(r.max_abs_err, 1e30)) for i, r in enumerate(t.formula_checks.itertuples())}
    p = props(t)
    out.update({k: p[k] for k in SUMMARY_PROPERTIES})
    smooth = config.smooth_activation
    out["sigmoid_perceptron_rel_drop"] = float(np.mean(measure_training.rel_drop(t.perceptrons[smooth]["history"])))
    out["sigmoid_mlp_rel_drop"] = float(np.nanmean(t.mlps[smooth]["rel_drop"]))
    return out


def notes(t, config) -> str:
    """The experiment page's description of the checks and the nets."""
    return (
        "**Formulas.** Each formula is `acts.printed` (the document's formula transcribed literally, naive `exp` "
        f"included) evaluated in float32 on {config.grid_n} points of [{config.grid_lo}, {config.grid_hi}] plus the "
        f"edge values {tuple(config.edges)}, against `jax.grad` (elementwise) or `jax.jacobian` (softmax) of the "
        f"stable implementation in `acts.functions`. Agreement: |printed − autodiff| ≤ {config.criteria.formula.atol} "
        f"+ {config.criteria.formula.rtol}·|autodiff| at every point; `max_rel_err` uses |autodiff| floored at "
        "atol. Where a printed formula fails, `correct_formula` gives the right one. Mish′ is also checked in "
        "numpy float64, where it does not overflow on the grid.\n\n"
        "**Step vs sigmoid (A2, C2).** (i) A perceptron out = f(xW+b) (squared error, full-batch gradient "
        f"descent, lr {config.perceptron_learning_rate}, {config.perceptron_steps} steps, {config.perceptron_dataset} data); "
        f"(ii) the kit MLP with hidden widths {tuple(config.mlp_widths)} and f in every hidden layer, linear "
        f"read-out ({config.optimizer}, lr {config.learning_rate}, {config.steps} steps, {config.loss} loss, "
        f"{config.mlp_dataset}). In the MLP the read-out still learns on top of frozen random step features, so "
        "the test there is that the hidden weights never change. Seeds are paired across activations. "
        "`step_runs` has the same quantities per seed.\n\n"
        "**RReLU (B6)** follows Xu et al. (2015): negative inputs are divided by a ~ U(l, u). The mean training "
        "output for x<0 is x·E[1/a] = x·ln(u/l)/(u−l), not x/E[a]: the test-time rule averages the divisor."
    )


EXPERIMENT = Experiment(
    "derivatives",
    measurements={"formulas": measure_properties.formulas_and_properties, "training": measure_training.train_all},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

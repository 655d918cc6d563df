"""Convexity of a single-layer network's loss (claim C3).

Run: python -m experiments.convexity --config configs/convexity.py:smoke

Document 002 lists "when the activation is monotonic, a single-layer network is guaranteed to
be convex". We test it directly: the one-layer model ``y = f(W x + b)`` (activation on the
output), with squared error against one-hot targets or softmax cross-entropy on ``f(Wx+b)``,
is evaluated along many random lines in weight space; a line *violates* midpoint convexity when
``L(mid) > (L(left) + L(right))/2 + tol`` for some sub-segment of a 17-point grid. Violation
rates get Wilson 95% CIs; lines and seeds are one vmapped axis (one compile per activation x loss).
Measurements in :mod:`.measure`, the claim in :mod:`.claims`, figures in :mod:`.figures`.
"""

from __future__ import annotations

from experiments.kit.experiment import Experiment

from . import claims, measure
from .measure import SPANS


def summary(t, config) -> dict:
    """Violation rate per activation x loss (compared by the regression check)."""
    return {f"rate_{r.activation}_{r.loss}": float(r.rate) for r in t.violation_rates.itertuples()}


def notes(t, config) -> str:
    """The experiment page's description of the model, the lines and the figures."""
    return (
        "**Model.** One layer, activation on the output: `out = f(x W + b)`, `x` in R^32 (the `gaussian` "
        f"data set, {config.n_train} standardised examples, 2 classes from a random linear teacher), "
        "`W` 32x2, `b` 2. Losses: `mse` = 0.5·mean ||f(xW+b) − onehot(y)||², `xent` = softmax "
        "cross-entropy with `f(xW+b)` as the logits (for `identity` this is multinomial logistic "
        "regression, which is convex; note that the usual sigmoid + cross-entropy of logistic regression is "
        "this identity-logit case, whereas `sigmoid`+`xent` here feeds σ(xW+b) into a softmax). The `step` loss is "
        "piecewise constant (a jump between grid points counts as a violation).\n\n"
        "**Lines.** Endpoints a, b with i.i.d. entries N(0, (s/√32)²), s in "
        f"{tuple(config.weight_scales)} (so the pre-activation std is about s); {config.lines_per_seed} lines per "
        f"seed and scale, {config.seeds} seeds. The loss is evaluated at {config.points_per_line} equally spaced "
        f"points; a line violates midpoint convexity if for some centre and span h in {SPANS} the loss at the "
        "centre exceeds the chord by more than the float32 tolerance in the config. Monotonicity is measured "
        "(min of the autodiff derivative on a dense grid), not assumed.\n\n"
        "**Reading the figures.** `violation_rates`: fraction of lines with a violation, Wilson 95% CI; "
        "hatched bars are non-monotonic activations. `example_line`: the loss along one violating line of a "
        "monotonic activation, with the chord between its end points."
    )


EXPERIMENT = Experiment(
    "convexity",
    measurements={"lines": measure.measure_lines},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

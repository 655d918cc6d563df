"""Zig-zag of all-positive inputs, centring, sigmoid vs tanh, mean activations (claims E1-E4).

Run: python -m experiments.zigzag --config configs/zigzag.py:smoke

- E1 (sign argument): for a neuron with all-positive inputs x (pixels in [0,1], sigmoid outputs)
  the per-example gradient of its incoming weights is delta * x, single-signed. We measure the
  fraction of neurons whose weight-gradient vector is single-signed for minibatches of 1..512,
  against centred inputs ([0,1] pixels minus their mean, sigma(x)-1/2 outputs); the cosine between
  successive updates and path length / displacement in SGD at one lr per pair; and a two-input neuron with optimum
  w* = (+a, -b) whose batch-1 updates lie in quadrants I/III.
- E2 (centring the data): steps to a target loss for [0,1] pixels, the same minus each
  feature's mean (centred) and minus 1/2 (the documents' half-range shift), learning rate tuned
  per arm (R6); plus the spectrum of the inputs' second-moment matrix (LeCun et al. 1998).
- E3 (sigmoid vs tanh): sigmoid, tanh and sigma(x)-1/2 (centred, slope 1/4), each at its tuned lr.
- E4 (mean activations): median unit mean per layer, against the std of the layer's outputs, at
  init and over training (Clevert et al.'s 8x128 set-up scaled down), each activation its customary init.

Measurements in :mod:`.measure` (pure and jitted pieces), :mod:`.measure_centring` (E2, E3),
:mod:`.measure_signs` (E1) and :mod:`.measure_means` (E4); claims in :mod:`.claims` and
:mod:`.claims_means`, figures in
:mod:`.figures`. E2 runs first: E1 probes the weights E2 and E3 trained.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims
from .measure_centring import branches, measure_e2, measure_e3
from .measure_means import measure_e4
from .measure_signs import measure_e1


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {}
    sign = t.e1_sign_fraction
    for _, r in sign.iterrows():
        out[f"e1_single_signed_{r.role}_{r.stage}_b{r.batch_size}"] = float(r.single_signed)
    for _, r in t.e1_path.iterrows():
        out[f"e1_path_over_disp_{r.role}"] = float(r.path_over_disp)
        out[f"e1_abs_cos_{r.role}"] = float(r.mean_abs_cos)
    for _, r in t.e1_two_input.iterrows():
        tag = "pos" if r.inputs.startswith("positive") else "cen"
        out[f"e1_two_input_{tag}_b{r.batch_size}_frac13"] = float(r.frac_quadrant_13)
        out[f"e1_two_input_{tag}_b{r.batch_size}_path_over_disp"] = float(r.path_over_disp)
    for _, r in t.e2_steps.iterrows():
        out[f"e2_{r.dataset}_{r.scaling}_log2_steps"] = float(np.log2(r.geo_mean_steps))
    for _, r in t.e2_spectrum.iterrows():
        out[f"e2_{r.dataset}_log10_kappa_{r.inputs.replace(' ', '_')}"] = float(np.log10(r.kappa))
    for _, r in t.e3_steps.iterrows():
        out[f"e3_{r.activation}_log2_steps"] = float(np.log2(r.geo_mean_steps))
    for _, r in t.e4_close.iterrows():
        out[f"e4_{r.activation}_{r.stage}_close_ratio"] = float(r.close_ratio)
    return out


def notes(t, config) -> str:
    """The experiment page's description of the nets, conditions and tables."""
    e1, e2, e3, e4 = config.e1, config.e2, config.e3, config.e4
    return f"""
What was run (decision rules revision 2, shared/DECISIONS.md). One MLP {tuple(config.widths)} ({config.init} init, SGD,
batch {config.batch_size}, {config.steps} steps) per input shape; its activation is the kit's `switch` over
{', '.join(branches(config))}, so E2's scalings and E3's activations share one compile. R6: every arm (scaling
or activation) gets its own learning rate from {tuple(e2.learning_rates)} (3 per decade), extended by blocks of as
many rates beyond an edge where its best lies (at most {config.lr_extensions} times; `e2_lr_grid`, `e3_lr_grid`
list every rate tried). R7: a run that never reaches the target loss is censored (`n_censored`); it enters a
comparison at the budget (a bound). R8: `n_learned` = runs with final train accuracy >= chance +
{config.criteria.learned_margin:g}. CIs: percentile bootstrap over seeds ({config.seeds} seeds), paired where two arms are compared.

**E1**: per-example dL/dh of a layer's pre-activations on {e1.n_examples} examples, grouped into minibatches of
{tuple(e1.batch_sizes)}; a neuron's incoming-weight gradient sum_b delta_bj x_b is single-signed when all its
non-zero entries share a sign (`e1_sign_seeds` per seed, `e1_sign_fraction`, `e1_sign_compare` paired).
Layer 0 of E2's {e2.activation} net sees [0,1] pixels (all >= 0) or [0,1] pixels minus their mean; layer 1 of E3's
nets sees {e1.positive_activation} outputs (all > 0) or {e1.centred_activation} outputs (centred, the same function
class: the next layer's bias absorbs the 1/2). `e1_path`: plain SGD at batch 1 for {e1.path_steps} steps from init,
each pair at the SAME lr (the all-positive arm's tuned lr / {config.batch_size}); per neuron the cosine between
successive updates and path length / displacement (medians over neurons). `e1_two_input`: y = w.x with optimum
w* = {tuple(e1.w_star)}, SGD from 0, inputs U{tuple(e1.x_range)}^2 or the same centred.

**E2**: {e2.activation} MLP on {', '.join(e2.datasets)}; arms {', '.join(e2.arm_names)} (unit = [0,1]; centred = unit
minus each feature's training mean; half_shift = unit - 1/2, the documents' [-128, 127] at the /255 scale, not
zero-mean: see `x_mean`). `e2_spectrum`: eigenvalues of E[x x^T] (uncentred: the Hessian of a linear least-squares
model) or of the covariance (centred), constant features dropped; LeCun et al. 1998: a mean m on d features adds an
eigenvalue ~ d*m^2 = |m|^2 (`mean_sq_norm`; `lecun_predicted_lambda_max` = centred lambda_max + |m|^2).

**E3**: the same MLP on standardised {e3.dataset}, activations {', '.join(e3.activations)}; sigma(x)-1/2 = tanh(x/2)/2 is
the centred sigmoid with slope 1/4: sigmoid -> shifted isolates centring, shifted -> tanh isolates slope;
`e3_share` = the centring share of the sigmoid -> tanh log-steps gap.

**E4**: {e4.depth}x{e4.width} MLP, SGD lr {e4.learning_rate:g} (Clevert et al.'s, every activation), batch {e4.batch_size},
{e4.steps} steps on standardised {e4.dataset}; inits {dict(e4.init_by_activation)} (LeCun normal = He normal x 1/sqrt 2).
Per layer the median over units of each unit's mean output on {config.n_eval} training examples and the std of the
layer's outputs (`e4_per_seed_layers`); `e4_close` = |median unit mean| / std averaged over layers; `e4_below` =
|mean| of {e4.baseline_activation} minus {e4.near_zero_activation} per layer, paired. Published: {config.published.e4}.
"""


EXPERIMENT = Experiment(
    "zigzag",
    measurements={"e2": measure_e2, "e3": measure_e3, "e1": measure_e1, "e4": measure_e4},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

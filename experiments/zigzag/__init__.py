"""Zig-zag of all-positive inputs, centring, sigmoid vs tanh, mean activations (claims E1-E4).

Run: python -m experiments.zigzag --config configs/zigzag.py:smoke

- E1 (sign argument): for a neuron with all-positive inputs x (pixels in [0,1], sigmoid outputs)
  the per-example gradient of its incoming weights is delta * x, single-signed. We measure the
  fraction of neurons whose weight-gradient vector is single-signed for minibatches of 1..512,
  against centred inputs (standardised pixels, tanh outputs); the cosine between successive
  updates and path length / displacement in SGD; and a two-input neuron with optimum
  w* = (+a, -b) whose batch-1 updates lie in quadrants I/III.
- E2 (centring the data): steps to a target loss for raw / raw-minus-half-range / [0,1] /
  centred / standardised pixels, learning rate tuned per condition from a vmapped grid; plus the
  Hessian condition number of a linear and a logistic model with inputs shifted by +3.
- E3 (sigmoid vs tanh): sigmoid, tanh, sigma(x)-1/2 (centred, slope 1/4) and 1.7159 tanh(2x/3).
- E4 (mean activations): median unit mean per layer at init and over training (Clevert et al.'s
  8x128 set-up scaled down) for relu, leaky_relu, elu, selu, tanh, sigmoid.

Measurements in :mod:`.measure` (pure and jitted pieces), :mod:`.measure_centring` (E2, E3),
:mod:`.measure_signs` (E1) and :mod:`.measure_means` (E4); claims in :mod:`.claims`, figures in
:mod:`.figures`. E2 runs first: E1 probes the weights E2 and E3 trained.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims
from .measure_centring import measure_e2, measure_e3
from .measure_means import measure_e4
from .measure_signs import measure_e1


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {}
    sign = t.e1_sign_fraction
    for _, r in sign[sign.stage == "init"].iterrows():
        key = r.condition.split(" ")[0] + ("_pos" if "all" in r.condition else "_cen") if "shifted" not in r.condition else "shifted"
        out[f"e1_single_signed_{key}_b{r.batch_size}"] = float(r.single_signed)
    for _, r in t.e1_two_input.iterrows():
        tag = "pos" if r.inputs.startswith("positive") else "cen"
        out[f"e1_two_input_{tag}_b{r.batch_size}_frac13"] = float(r.frac_quadrant_13)
        out[f"e1_two_input_{tag}_b{r.batch_size}_path_over_disp"] = float(r.path_over_disp)
    for _, r in t.e2_steps.iterrows():
        out[f"e2_{r.dataset}_{r.scaling}_log2_steps"] = float(np.log2(r.geo_mean_steps))
    for _, r in t.e2_hessian.iterrows():
        out[f"e2_{r.dataset}_log10_kappa_linear_{'shift' if '+' in r.inputs else 'centred'}"] = float(np.log10(r.kappa_linear))
    for _, r in t.e3_steps.iterrows():
        out[f"e3_{r.activation}_log2_steps"] = float(np.log2(r.geo_mean_steps))
    for _, r in t.e4_summary.iterrows():
        out[f"e4_{r.activation}_abs_median_unit_mean"] = float(r.abs_median_unit_mean)
    return out


def notes(t, config) -> str:
    """The experiment page's description of the nets, conditions and tables."""
    hess = t.e2_hessian
    hl = "; ".join(f"{r.dataset} {r.inputs}: linear {r.kappa_linear:.3g}, logistic {r.kappa_logistic:.3g}"
                   for _, r in hess.iterrows())
    return f"""
What was run. **E1**: a {tuple(config.widths)} MLP on {config.e3.dataset} ({config.init} init). For each
condition we take per-example dL/dh of a layer's pre-activations on {config.e1.n_examples} examples, group
them into minibatches of {tuple(config.e1.batch_sizes)} and count the neurons whose incoming-weight gradient
sum_b delta_bj x_b has all its non-zero entries of one sign (`e1_sign_fraction`), at init and at the weights
trained in E2/E3 (tuned lr). Layer 0 sees pixels in [0,1] (all >= 0) or standardised pixels; layer 1 sees
sigmoid outputs (all > 0) or tanh / shifted-sigmoid outputs (centred). `e1_path`: plain SGD for
{config.e1.path_steps} steps at batch sizes {tuple(config.e1.path_batch_sizes)} (lr = tuned lr x B/{config.batch_size});
per neuron the mean cosine between successive updates of its incoming weights and path length / net
displacement (median over neurons); `e1_path_compare` pairs each all-positive condition with its centred one
(paired over seeds: log ratio of path / displacement). `e1_two_input`: a two-input linear neuron y = w.x with optimum
w* = {tuple(config.e1.w_star)}, SGD from w = 0, inputs U{tuple(config.e1.x_range)}^2 (all positive) or the same
inputs centred, lr = {config.e1.two_input_lr_scale} / E|x|^2 for each; the fraction of updates in quadrants I/III (both weights move the same way) and the path.

**E2**: tanh MLP, SGD, batch {config.batch_size}, {config.steps} steps; lr tuned per (data set, scaling) over
{len(config.e2.learning_rates)} log-spaced values {config.e2.learning_rates[0]:.1e}..{config.e2.learning_rates[-1]:.1e} (one vmapped call);
the tuned lr minimises the mean over the same {config.seeds} seeds of log2 steps to target (unreached =
{config.censor_factor} x budget), so tuning and evaluation share seeds (the `held_out_geo_mean_steps`
column re-tunes on the first half of the seeds and evaluates on the second half). `raw_centred` is raw
minus half the range (Fashion-MNIST [-127.5, 127.5], the documents' [-128, 127]). LeCun et al.'s argument:
condition number of the Hessian of a linear least-squares model with bias (exact: E[x x^T]) and of a binary
logistic model (class >= n/2, ridge {config.e2.logistic_l2}, at its optimum), standardised inputs vs
standardised + {config.e2.shift:g}; features constant on the training set are dropped. Ours: {hl}.
Published (conditions not stated): {config.published.e2}.

**E3**: same MLP with standardised inputs; lr tuned per activation over {len(config.e3.learning_rates)} values.
sigma(x)-1/2 = tanh(x/2)/2 is the centred sigmoid with slope 1/4: sigmoid->shifted isolates centring,
shifted->tanh isolates slope.

**E4**: {config.e4.depth}x{config.e4.width} MLP, {config.e4.init}, SGD lr {config.e4.learning_rate}, batch
{config.e4.batch_size}, {config.e4.steps} steps on standardised {config.e4.dataset}; the probe records per layer the
median over units of each unit's mean activation on {config.n_eval} training examples (per seed: `e4_per_seed`,
`e4_per_seed_layers`). Published: {config.published.e4}.
"""


EXPERIMENT = Experiment(
    "zigzag",
    measurements={"e2": measure_e2, "e3": measure_e3, "e1": measure_e1, "e4": measure_e4},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

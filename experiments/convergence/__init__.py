"""Speed, stability and accuracy of training per activation (claims H1, H3, H4, F5, C4, C5).

Run: python -m experiments.convergence --config configs/convergence.py:smoke

An *arm* is (model, data set, activation, init) trained for every seed on a log grid of learning rates
that is extended wherever a best rate lies at its edge (R6, :mod:`.sweep`). One compiled program per model
structure serves every activation, rate, init and seed (:mod:`.population`); arms in :mod:`.measure` (swept in order by :mod:`.measure_arms`),
tables in :mod:`.measure_tables` (H1, H3, C4) and :mod:`.measure_tables_acc` (F5, H4, C5), claims in
:mod:`.claims`, figures in :mod:`.figures`. Comparisons are paired by seed (same init draw, same data order).
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure_arms


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {}
    for r in t.h1_step_ratios.itertuples():
        out[f"h1_{r.model}_{r.dataset}_{r.activation}"] = r.ratio
    for r in t.f5_accuracy_vs_relu.itertuples():
        out[f"f5_{r.dataset}_{r.activation}_pp"] = getattr(r, "diff_pp", np.nan)
    for r in t.h3_prelu_vs_relu.itertuples():
        out[f"h3_{r.dataset}_speedup"], out[f"h3_{r.dataset}_gain_pp"] = r.speedup, getattr(r, "gain_pp", np.nan)
    out.update({f"h3_slope_{r.dataset}_{r.layer}": r.mean_slope for r in t.prelu_slopes.itertuples()})
    for r in t.h4_small_data.itertuples():
        out[f"h4_{r.dataset}_{r.activation}_gap_pp"] = getattr(r, "gap_pp", np.nan)
    out.update({f"c4_{r.activation}_{r.init_std:g}": r.ratio for r in t.c4_step_ratios.itertuples()})
    for r in t.c5_stability.itertuples():
        out[f"c5_{r.dataset}_{r.activation}_max_train_lr"] = r.max_train_learning_rate
    for r in t.c5_pairs.itertuples():
        out[f"c5_{r.dataset}_{r.bounded}_{r.unbounded}_loss_gap"] = getattr(r, "loss_gap", np.nan)
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in out.items()}


def notes(t, config) -> str:
    """The experiment page's description of the arms and the protocol."""
    c = config
    return f"""
Training speed, stability and accuracy per activation: {t.n_arms} arms (model, data set, activation, init), each
trained for {c.seeds} seeds on a log grid of {c.lr_grid.per_decade} learning rates per decade, extended by a block
beyond an edge wherever a best rate lies on it (R6); {t.n_programs} compiled programs (one per model structure).
SGD with momentum {c.momentum}, batch {c.batch_size}, {c.steps} steps (CNN {c.cnn.steps}), no regularisation (none on
PReLU's slopes, initialised at 0.25). Customary inits (R6): {dict(c.customary_init)}. MLP hidden widths
{tuple(c.mlp_widths)}; CNN: stem {dict(c.cnn.stem)} ({c.cnn.stem_width} channels), 3x3 convs {tuple(c.cnn.channels)}
with 2x max pooling, dense {tuple(c.cnn.dense_widths)}, on {', '.join(c.cnn.datasets) or 'no data set'}.
**Fashion-MNIST is subsampled** to {c.fashion_n_train} training images; validation images (held out of the training
pool, they pick the learning rate of the accuracy claims): {dict(c.n_val)}; test sets capped at {c.n_test}; training
error measured on {c.n_eval} training images every {c.log_every} steps. H4's small sets: the first
{dict(c.h4.train_sizes)} training images. Best rates: *speed* (H1, H3 a, C4) = fewest median steps to the threshold
({dict(c.criteria.threshold)}) among rates where no seed diverged; *validation* (F5, H3 b, H4); *loss* (C5).
Step ratios are ratios of medians; a seed that never reaches the threshold is censored and enters at the budget +
one log interval, so a ratio with more than {c.criteria.censoring.bound_fraction:g} of an arm censored is a bound
(stats.censored_ratio, R7). Published numbers beside ours: H1 {c.published.h1}; H3 {c.published.h3}; H4
{c.published.h4}; F5 {c.published.f5}. Our settings are far smaller (tiny MLPs/CNNs, hundreds of steps).
"""


EXPERIMENT = Experiment(
    "convergence", measurements={"train": measure_arms.train_all}, claims=claims.CLAIMS, summary=summary, notes=notes
)
run = EXPERIMENT.run

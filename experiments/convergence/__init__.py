"""Speed, stability and accuracy of training per activation (claims H1, H3, H4, F5, C4, C5).

Run: python -m experiments.convergence --config configs/convergence.py:smoke

One population (one jit: seeds x learning rates [x weight scales]) per (model, data set,
activation); the claims share them: H1 reads steps to a training-error threshold at each
activation's fastest stable learning rate, F5/H3/H4 the final accuracies at that learning rate,
C5 the whole learning-rate sweep (largest stable rate, best loss), C4 extra populations started
from small weights. All comparisons are paired by seed (same init keys and data order).
Populations in :mod:`.measure`, tables in :mod:`.measure_tables`, claims in :mod:`.claims`,
figures in :mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure
from .claims_accuracy import c5_fractions, f5_flags, h4_flags
from .claims_speed import h1_core, h1_summary


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check); keys as before the move."""
    core = h1_core(t, config)
    frac, geo = h1_summary(core)
    out = {"h1_geo_ratio": geo, "h1_fraction_faster": frac}
    out.update({f"h1_{r.model}_{r.dataset}_{r.activation}": float(r.ratio) for r in core.itertuples()})
    f5 = f5_flags(t, config)
    top = f5.loc[f5.diff_pct.idxmax()] if f5.p_t.notna().any() else None
    out.update({"f5_max_diff_pct": None if top is None else float(top.diff_pct),
                "f5_n_better": float(f5.better.sum()), "f5_n_worse": float(f5.worse.sum())})
    out["h3_pooled_diff_pct"] = float(t.h3_pooled.diff_pct.iloc[0])
    out.update({f"h3_slope_{r.dataset}_{r.layer}": float(r.mean_slope) for r in t.prelu_slopes.itertuples()})
    better, smaller = h4_flags(t)
    out["h4_fraction"] = float(np.mean(better.to_numpy() & smaller.to_numpy())) if len(better) else float("nan")
    done = t.h4_small_data[t.h4_small_data.status == "done"]
    out.update({f"h4_{r.dataset}_{r.variant}_acc": float(r.test_acc) for r in done.itertuples()})
    out.update({f"c4_{r.dataset}_{r.init_std:g}_{r.activation}_over_{r.reference}": r.ratio
                for r in t.c4_step_ratios.itertuples()})
    frac_stable, frac_loss, *_ = c5_fractions(t, config)
    out.update({"c5_frac_stable": frac_stable, "c5_frac_loss": frac_loss})
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in out.items()}


def notes(t, config) -> str:
    """The experiment page's description of the populations and the protocol."""
    return f"""
Training speed, stability and accuracy per activation: {t.n_populations} populations (one jit each: {config.seeds}
seeds x {len(config.learning_rates)} learning rates), SGD with momentum {config.momentum}, batch {config.batch_size},
{config.steps} steps, no regularisation (no weight decay, also none on PReLU's slopes, initialised at 0.25).
MLP hidden widths {tuple(config.mlp_widths)}; CNN channels {tuple(config.cnn.channels)} + dense
{tuple(config.cnn.dense_widths)} on {', '.join(config.cnn.datasets) or 'no data set'}. **Fashion-MNIST is subsampled**
to {config.fashion_n_train} training images (`fashion_mnist`; also `fashion_<n>k` for n in
{tuple(config.h4.fashion_sizes)} thousand, H4); test sets capped at {config.n_test}, accuracies measured on {config.n_eval} examples.
Each activation's learning rate is tuned per (model, data set) as the fastest stable rate to reach the
training-error threshold ({dict(config.criteria.threshold)}), the same seeds measure the result
(the selection bias is the same for every activation). Comparisons are paired by seed against {config.baseline}.

Published beside ours: H1 {config.published.h1}; H3 {config.published.h3}; H4 {config.published.h4}.
Our settings are far smaller (tiny MLPs/CNNs, hundreds of steps), so magnitudes need not match.
"""


EXPERIMENT = Experiment(
    "convergence", measurements={"train": measure.train_all}, claims=claims.CLAIMS, summary=summary, notes=notes
)
run = EXPERIMENT.run

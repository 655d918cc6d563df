"""Dead ReLU: causes, remedies, leaky variants and born-dead nets (claims F1, F2, F3, F4, G3).

Run: python -m experiments.dead_relu --config configs/dead_relu.py:smoke

A unit is *dead* (ReLU) or *stuck* (Leaky ReLU / PReLU / ELU) when its pre-activation is <= 0 on
every example of the whole training set, checked at step 0 and every ``log_every`` steps; a net is
*born dead* (G3, Lu et al. 2019) when its output is constant over the input domain. Measurements
in :mod:`.measure` (two-stage training sweeps, one compile per data set via :mod:`.trainer`),
:mod:`.measure_g3` (G3) and :mod:`.derive` (derived tables); claims in :mod:`.claims` with
:mod:`.numbers`; figures in :mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure, measure_g3


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {}
    for r in t.selected.itertuples():
        out[f"edge_lr_{r.arm}"] = None if not np.isfinite(r.edge_learning_rate) else float(r.edge_learning_rate)
        out[f"best_lr_{r.arm}"] = float(r.best_learning_rate)
    for r in t.cells.itertuples():
        key = f"dead_{r.dataset}_{r.activation}_{r.optimizer}_{r.init}_lr{r.learning_rate:.3g}"
        out[key] = None if not np.isfinite(r.dead) else float(r.dead)
    for r in t.f3_pairs.itertuples():
        out[f"f3_drop_{r.comparison}"] = None if not np.isfinite(r.drop) else float(r.drop)
    fit = t.g3_abs_fit.iloc[0]
    out.update({"abs_collapse": float(fit["collapsed"]), "abs_born_dead": float(fit["born_dead"]),
                "cs231n_largest_cell": float(t.cs231n_40_percent["dead"].iloc[0])})
    for r in t.g3_depth10_vs_published.itertuples():
        out[f"g3_depth10_w{r.width}"] = float(r.born_dead)
    return out


def notes(t, config) -> str:
    """The experiment page's description of the runs and definitions."""
    g3, crit = config.g3, config.criteria
    eval_note = "; ".join(f"{r.dataset}: {r.n_eval} of {r.n_train} training examples" for r in t.eval_sets.itertuples())
    arms = "; ".join(f"{name}: {a.dataset}, {a.optimizer}, {a.init}, lrs {', '.join(f'{v:g}' for v in a.learning_rates)}"
                     for name, a in config.arms.items())
    return f"""
**What was run.** MLPs with {config.depth} hidden layers of width {config.width}, trained {config.steps} steps of batch
{config.batch_size}, cross-entropy, one compile per data set (every init, optimiser, lr and ReLU-family activation
is an array argument). Dead units are evaluated on the **whole training set** ({eval_note}) at
{config.steps // config.log_every + 1} checks (step 0 and every {config.log_every} steps).

**Two stages.** *Locate*: each ReLU arm on its lr grid with {config.locate_seeds} seeds ({arms}). From these the
arm's best lr (highest mean train accuracy, diverged runs at chance), edge lr (largest lr at which >=
{crit.learned_share:g} of the seeds learn) and low lr (smallest such) are picked (`selected`). *Decide*:
{config.decide_seeds} new seeds at the picked lrs, F3(a)'s multiples of the best lr, and Leaky ReLU / PReLU / ELU at the
lr one grid step below the edge of the {', '.join(config.roles.f4_optimizers)} He arms (same seeds and init draws as ReLU). Every verdict
reads the decide runs (`runs`, `cells`).

**Definitions.** Dead (ReLU) / stuck (variants) unit: pre-activation <= 0 on every training example. Permanently
dead (column `dead`): dead at each of the last {crit.f1.last_checks} checks. A run learned when its final train
accuracy >= chance + {crit.chance_margin:g} (R8, status `ok`), else `collapsed`, or `diverged` (non-finite).
Dead fractions are means over the seeds that learned with bootstrap CIs (`dead_finite`: over all finite seeds,
F4's variants); revival is unit-weighted (revived units / units dead at a check before the last, bootstrap over
seeds). Each (seed, init, lr) is an independent init draw (born-dead CIs are over draws, R4).

**CS231n's 40%.** `cs231n_40_percent`: the largest dead fraction in nets that learned (a decide cell and a single
net), with its train accuracy, beside the published 40%.

**G3.** {g3.n_init} He-normal initialisations per width (zero biases, input dimension {g3.input_dim}, {g3.n_points}
inputs on [-sqrt3, sqrt3]); a net of depth L has L-1 hidden layers and is born dead when a hidden layer is constant
over those inputs (Wilson CIs). |x| fit: {g3.fit_nets} width-{g3.fit_width} depth-{g3.fit_depth} nets, Adam lr
{g3.fit_learning_rate:g}, {g3.fit_steps} steps of {g3.fit_batch} fresh uniform samples, MSE; collapsed = output range
over 513 grid points <= {g3.collapse_tol:g}; nets with a hidden layer exactly 0 at init are provably frozen and
counted collapsed without training.
"""


EXPERIMENT = Experiment(
    "dead_relu", measurements={"sweeps": measure.sweeps, "g3": measure_g3.g3}, claims=claims.CLAIMS,
    summary=summary, notes=notes,
)
run = EXPERIMENT.run

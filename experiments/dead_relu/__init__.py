"""Dead ReLU: causes, remedies, leaky variants and born-dead nets (claims F1, F2, F3, F4, G3).

Run: python -m experiments.dead_relu --config configs/dead_relu.py:smoke

A unit is *dead* when it outputs exactly 0 on every example of the whole training set (for Leaky
ReLU / PReLU / ELU: max |phi'| <= ``grad_tol`` there), checked every ``log_every`` steps; a net
is *born dead* (G3, Lu et al. 2019) when its output is constant over the input domain.
Measurements in :mod:`.measure` (training sweeps, F1-F4), :mod:`.measure_g3` (G3) and
:mod:`.derive` (derived tables); claims in :mod:`.claims`; figures in :mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure, measure_g3, numbers
from .derive import relu_sgd


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    born, effect = numbers.f2_numbers(t, config)
    fit, agg, opt_init = t.g3_fit, t.f2_dead_vs_lr, config.sweeps.optimisers.inits[0]
    out = {
        "born_dead_relu": born.mean, "lr_effect": effect[4].diff.mean, "max_dead_relu": numbers.high_lr_dead(t, config),
        "f1_value": numbers.f1_numbers(t, config)[1].mean, "f4_value": numbers.f4_numbers(t, config)["estimate"].mean,
        "f3_remedies_ok": float(numbers.f3_numbers(t, config)["n_ok"]),
        "abs_collapse": float(fit["collapsed"].mean()), "abs_born_dead": float(fit["born"].mean()),
        "n_cells_ge_40pct": float(len(t.cs231n_40_percent)),
    }
    for r in t.g3_depth10_vs_published.itertuples():
        out[f"g3_depth10_w{r.width}"] = float(r.born_dead)
    for ds, g in relu_sgd(agg, config).groupby("dataset"):
        for r in g[g["init"] == opt_init].itertuples():
            out[f"dead_{ds}_{opt_init}_sgd_lr{r.learning_rate:.3g}"] = None if not np.isfinite(r.final_dead) else float(r.final_dead)
    return out


def notes(t, config) -> str:
    """The experiment page's description of the runs and definitions."""
    lrs = [float(v) for v in config.learning_rates]
    eval_note = "; ".join(f"{r.dataset}: {r.n_eval} of {r.n_train} training examples" for r in t.eval_sets.itertuples())
    sweeps = ", ".join(f"{k} = {tuple(v.datasets)} x {tuple(v.activations)} x {tuple(v.optimizers)} x {tuple(v.inits)}"
                       for k, v in config.sweeps.items())
    g3 = config.g3
    return f"""
**What was run.** MLPs with {config.depth} hidden layers of width {config.width}, trained {config.steps} steps
(batch {config.batch_size}) for every learning rate of the log grid {', '.join(f'{v:.3g}' for v in lrs)} x
{config.seeds} seeds (one vmapped jit per data set x activation x optimiser x init group). Fashion-MNIST is
**subsampled to {config.n_train} training examples** so that dead units are evaluated on the **whole training set**
at every check (every {config.log_every} steps, step 0 = init): {eval_note}. Sweeps: {sweeps}. The full grid (4
activations x 4 optimisers x 4 inits x 2 data sets, 10 seeds) is the `paper` preset. Xavier = `xavier_uniform`,
He = `he_normal`, normal = N(0,1), small_normal = N(0,0.01^2).

**Definitions.** Dead ReLU unit: output exactly 0 on every example of the evaluation set. Leaky ReLU / PReLU / ELU:
max_n |phi'(h_n)| <= {config.grad_tol:g} on the set (no gradient to the incoming weights). Revival: dead at one check,
alive at a later one. Diverged runs (non-finite loss) are recorded as diverged (x markers), not averaged.

**CS231n's 40%.** Cells with mean dead fraction >= 40% are listed in `cs231n_40_percent`
({len(t.cs231n_40_percent)} cells), beside the published 40%.

**G3.** {g3.n_init} He-normal initialisations per width (zero biases, input dimension {g3.input_dim},
{g3.n_points} inputs {'evenly spaced' if g3.input_dim == 1 else 'uniform'} on [-sqrt3, sqrt3]); a net of
depth L has L-1 hidden layers and is born dead when a hidden layer is constant over those inputs. Depth 10 vs the
published bound: see `g3_depth10_vs_published`. |x| fit: {g3.fit_nets} vmapped width-{g3.fit_width}
depth-{g3.fit_depth} nets, Adam lr {g3.fit_learning_rate:g}, {g3.fit_steps} steps of {g3.fit_batch}
fresh uniform samples, MSE; collapsed = output range over 513 grid points <= {g3.collapse_tol:g}.
"""


EXPERIMENT = Experiment(
    "dead_relu", measurements={"sweeps": measure.sweeps, "g3": measure_g3.g3}, claims=claims.CLAIMS,
    summary=summary, notes=notes,
)
run = EXPERIMENT.run

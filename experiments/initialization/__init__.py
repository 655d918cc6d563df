"""Initialisation: signal propagation at init, Glorot & Bengio's nets, He et al.'s deep-ReLU stall (G1, G2).

Run: python -m experiments.initialization --config configs/initialization.py:smoke

Part ``profile`` (G1, G2): per-layer variance of activations and back-propagated gradients dL/dh_l
of 50-layer MLPs at initialisation, in float64, for activations x initialisers (N(0,1) also at a
second width): the variance's gain over the depth and the per-layer ratio E[h_(l+1)^2]/E[h_l^2].
Part ``gb``: Glorot & Bengio 2010's 5-layer tanh nets at init (Jacobian singular values, per-layer
histograms), inputs standardised and in [0, 1]. Part ``glorot``: their Table 1 scaled down. Part
``he`` (G2): He et al. 2015's 22- and 30-layer experiment scaled down to ReLU MLPs, Xavier vs He.
Measurements in :mod:`.measure` and :mod:`.measure_train`, claims in :mod:`.claims` (G1) and
:mod:`.claims_g2`, figures in :mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure, measure_train
from .figures import glorot_table1

_SUMMARY = (("g2_ratios", "relu_ratio_{init}", "preact_sq_ratio_per_layer"),
            ("gb_summary", "jac_sv_{scaling}_{init}", "jac_mean_sv"),
            ("glorot_table1", "test_err_{dataset}_{activation}_{init}", "test_error_pct"),
            ("he_summary", "he_trained_{depth}_{init}", "trained_fraction"),
            ("he_speed", "he_steps_ratio_{depth}", "steps_ratio"))


def summary(t, config) -> dict[str, float]:
    """The numbers behind the figures (compared by the regression check)."""
    out: dict[str, float] = {}
    for _, r in t.profile_gains.iterrows():
        for q in ("act", "grad"):
            out[f"log10_{q}_gain_{r.activation}_{r.init}_{r.width}"] = float(r[f"log10_{q}_gain"])
    for table, key, column in _SUMMARY:
        for _, r in (t[table].iterrows() if table in t else ()):
            out[key.format(**r)] = float(r[column])
    return {k: (v if np.isfinite(v) else None) for k, v in out.items()}


def notes(t, config) -> str:
    """The experiment page's description of what was run and what is published beside it."""
    p, b, g, h = config.profile, config.gb, config.glorot, config.he
    corr = "not run"
    if "glorot_rank_correlation" in t:
        corr = "; ".join(f"{r.dataset}: Spearman rho = {r.spearman_rho_vs_glorot_mnist:.2f} "
                         f"[{r.spearman_rho_vs_glorot_mnist_lo:.2f}, {r.spearman_rho_vs_glorot_mnist_hi:.2f}] "
                         f"over {r.n_conditions} conditions" for _, r in t.glorot_rank_correlation.iterrows())
    gt = t.get("glorot_table1")
    stuck = ", ".join(f"{r.dataset} {r.condition} ({r.n_collapsed} of {r.n_seeds} seeds)" for _, r in gt.iterrows()
                      if r.n_collapsed) if gt is not None else ""
    return f"""
**What was run.** (1) `profile`: MLPs of {p.depth} hidden layers of {p.width} units at initialisation on {p.n_examples}
{p.dataset} inputs (standardised), {p.seeds} seeds, activations {', '.join(p.activations)} x inits {', '.join(p.inits)}
(and {', '.join(p.extra_inits)} at {p.extra_width} units), computed in float64 so that no variance under- or
overflows (R10): per-layer log10 variance of activations and of the back-propagated gradient dL/dh_l
(`profile_layers`), the gain of each over the depth (`profile_gains`: log10 of last/first layer, gradients backwards;
G1 decides on its CI) and the per-layer ratio E[h_(l+1)^2]/E[h_l^2] (`g2_ratios`). Weights are drawn inside one
compiled function per width, activations and inits as array arguments.
(2) `gb`: Glorot & Bengio's setting at init, {b.depth} hidden {b.activation} layers of {b.width} units (theirs: 1000),
{b.seeds} seeds, inits {', '.join(b.inits)}, inputs {' and '.join(b.scalings)}: the mean singular value of
J_l = d a_(l+1)/d a_l on {b.jac_examples} input(s) per seed (`gb_jacobian`, `gb_summary`, beside their ~0.5 / ~0.8 and
the linear-regime value 8/(3 pi) sqrt(n Var w) of the quarter-circle law) and per-layer histograms (`gb_histograms`,
their Figs 6-7).
(3) `glorot`: Glorot & Bengio's Table 1 scaled down: {g.depth} hidden layers of {g.width} units, SGD minibatch
{g.batch_size}, {g.steps} steps, learning rate from {tuple(g.learning_rates)} chosen by the mean validation loss
({g.n_val} examples held out of the training set; never by test), {g.seeds} seeds. Rank correlation with their
ordering: {corr}. Our budget is a fraction of theirs, so only the ordering is compared; seeds that never left chance
(train accuracy < chance + 0.1, R8): {stuck or 'none'}.
(4) `he`: He et al.'s experiment scaled down: ReLU MLPs of depth {tuple(h.depths)} and width {h.width} on {h.dataset},
"Xavier" as in He et al. (N(0, 1/fan_in) = {h.base_init} x {h.weight_scales[0]:.4g}) vs He ({h.base_init}), plain SGD
(batch {h.batch_size}, {h.steps} steps), each init its own learning rate from a 3-per-decade grid
{tuple(round(x, 5) for x in h.learning_rates)} extended beyond an edge (R6), {h.seeds} seeds; per seed whether it
trained (R8) and its steps to training loss {h.target_loss:g} (censored if never, R7): `he_seeds`, `he_summary`,
`he_speed`.
""".strip()


EXPERIMENT = Experiment(
    "initialization",
    measurements={"profile": measure.profile, "gb": measure.gb, "glorot": measure_train.glorot, "he": measure_train.he},
    claims=claims.CLAIMS, summary=summary, notes=notes, figures=(glorot_table1,),
)
run = EXPERIMENT.run

"""Initialisation: signal propagation at init, Glorot & Bengio's Table 1, He et al.'s deep-ReLU stall (G1, G2).

Run: python -m experiments.initialization --config configs/initialization.py:smoke

Part ``profile`` (G1, G2): per-layer variance of activations and back-propagated gradients dL/dh_l
at initialisation, their histograms and the mean singular value of the layer-to-layer Jacobians
J_l = d a_{l+1}/d a_l, for activations x initialisers; one jitted function per (activation, init),
vmapped over seeds. Part ``glorot``: Glorot & Bengio 2010 Table 1 scaled down (test error after
SGD, learning rate chosen on a held-out validation split). Part ``he`` (G2): He et al. 2015's 22-
and 30-layer experiment scaled down to ReLU MLPs trained with plain SGD, Xavier vs He.
Measurements in :mod:`.measure` and :mod:`.measure_train`, claims in :mod:`.claims`, figures in
:mod:`.figures`.
"""

from __future__ import annotations

import numpy as np

from experiments.kit.experiment import Experiment

from . import claims, measure, measure_train
from .figures import glorot_table1


def summary(t, config) -> dict[str, float]:
    """The numbers behind the figures (compared by the regression check)."""
    out: dict[str, float] = {}
    s = t.profile_slopes
    for _, r in s.iterrows():
        if r.init in ("standard", "xavier_uniform", "he_normal"):
            out[f"slope_act_{r.activation}_{r.init}"] = float(r.slope_act_var)
            out[f"slope_grad_{r.activation}_{r.init}"] = float(r.slope_grad_var)
            if "jac_mean_sv" in r and r.activation == "tanh":
                out[f"jac_sv_{r.activation}_{r.init}"] = float(r.jac_mean_sv)
    act = config.criteria.g2.activation
    for _, r in s[s["activation"] == act].iterrows():
        out[f"{act}_ratio_{r.init}"] = float(r.preact_ratio)
    for _, r in t.glorot_table1.iterrows():
        out[f"test_err_{r.dataset}_{r.activation}_{r.init}"] = float(r.test_error_pct)
    for _, r in t.he_summary.iterrows():
        out[f"he_drop_{r.depth}_{r.init}"] = float(r.loss_drop)
    return {k: (v if np.isfinite(v) else None) for k, v in out.items()}


def notes(t, config) -> str:
    """The experiment page's description of what was run and what is published beside it."""
    p, g, h = config.profile, config.glorot, config.he
    s = t.profile_slopes.set_index(["activation", "init"])
    jac = []
    for init in ("standard", "xavier_uniform"):
        if ("tanh", init) in s.index and "jac_mean_sv" in s.columns:
            r = s.loc[("tanh", init)]
            jac.append(f"tanh + {init}: ours {r.jac_mean_sv:.3f} [{r.jac_mean_sv_lo:.3f}, {r.jac_mean_sv_hi:.3f}] vs "
                       f"Glorot & Bengio {config.published.glorot_jacobian.get(f'tanh_{init}')}")
    corr = "; ".join(f"{r.dataset}: Spearman rho = {r.spearman_rho_vs_glorot_mnist:.2f} "
                     f"[{r.spearman_rho_vs_glorot_mnist_lo:.2f}, {r.spearman_rho_vs_glorot_mnist_hi:.2f}] "
                     f"over {r.n_conditions} conditions" for _, r in t.glorot_rank_correlation.iterrows())
    gt = t.glorot_table1
    chance = gt[gt["test_error_pct"] >= 100.0 * (1 - 1.5 / 10)] if len(gt) else gt
    stuck = ", ".join(f"{r.dataset} {r.condition}" for _, r in chance.iterrows()) or "none"
    he_lines = "; ".join(
        f"{r.depth} layers {r.init}: loss drop {r.loss_drop:.2f} [{r.loss_drop_lo:.2f}, {r.loss_drop_hi:.2f}], "
        f"{'stalls' if r.stalls else 'trains'}, {r.frac_seeds_reached_target:.0%} of seeds reach loss "
        f"{h.target_loss} (median step {r.steps_to_target_median:g})" for _, r in t.he_summary.iterrows())
    return f"""
**What was run.** (1) At initialisation, MLPs of {p.depth} hidden layers of {p.width} units (Glorot & Bengio used
1000; {p.width} keeps the SVDs affordable on CPU) on {p.n_examples} {p.dataset} inputs, {p.seeds} seeds, for
activations {', '.join(p.activations)} x inits {', '.join(p.inits)}: per-layer variance of activations and of the
back-propagated gradient dL/dh_l (`profile_layers`), the slope of ln Var per layer in the direction the signal travels
(`profile_slopes`, nats per layer: forwards for activations, backwards from the output for gradients; negative =
vanishes, positive = explodes), histograms per layer (`histograms`; activation
bins span the first layer's 0.1-99.9% range, gradient bins the last layer's), and the mean singular value of
J_l = d a_(l+1)/d a_l = diag(phi'(h_(l+1))) W_(l+1)^T on {p.jac_examples} inputs per seed (`jacobian`; the
comparison number averages J_1..J_{p.jac_layers}, the Jacobians of a 5-hidden-layer net).
(2) Glorot & Bengio's Table 1 scaled down: {g.depth} hidden layers of {g.width} units, SGD minibatch
{g.batch_size}, {g.steps} steps, learning rate from {tuple(g.learning_rates)} chosen by the mean validation loss
({g.n_val} examples held out of the training set; never by test), {g.seeds} seeds, test error on the full test set.
(3) He et al.'s experiment scaled down: ReLU MLPs of depth {tuple(h.depths)} and width {h.width} on {h.dataset},
"Xavier" as in He et al. (N(0, 1/fan_in), i.e. {h.base_init} x {h.weight_scales[0]:.4g}) vs He ({h.base_init}),
plain SGD (batch {h.batch_size}, {h.steps} steps), learning rate from {tuple(h.learning_rates)} chosen by final
training loss (the most generous choice for each init), {h.seeds} seeds. "Stalls" (fixed before the run): the loss
drops by less than {config.criteria.he.stall_drop:.0%} of its initial value within the budget.

**Published beside ours.** Jacobian mean singular value: {'; '.join(jac) or 'tanh not run'}.
Glorot & Bengio Table 1 (MNIST, 1000 units, minibatch 10): {dict(config.published.glorot_table1_mnist)};
rank correlation of our ordering with theirs: {corr}. Our budgets are far smaller (a fraction of an epoch),
so absolute errors are much larger than theirs; only the ordering is compared.
He et al. 2015 (30-layer conv net, ImageNet): Xavier stalls, He converges; 22 layers: both converge, He earlier.
Ours: {he_lines}.

**Caveat.** Conditions still near chance test error (>= 85%) after the budget, i.e. not trained at all within it:
{stuck}. Their place in the ordering reflects the short budget (Glorot & Bengio trained to convergence).
""".strip()


EXPERIMENT = Experiment(
    "initialization",
    measurements={"profile": measure.profile, "glorot": measure_train.glorot, "he": measure_train.he},
    claims=claims.CLAIMS, summary=summary, notes=notes, figures=(glorot_table1,),
)
run = EXPERIMENT.run

"""Vanishing gradients with depth (claims D1-D6).

Run: python -m experiments.vanishing --config configs/vanishing.py:smoke

Four measurements, the names of ``config.parts``:
``profile`` (D1, D2, D3, D5): the gradient profile at initialisation, per activation x init, on
Gaussian inputs and real data (:mod:`.measure`); ``saturation`` (D4): Glorot & Bengio's MLP during
SGD training; ``depth`` (D6): trainability vs depth with and without BatchNorm; ``chaos``: the
edge-of-chaos map, tanh over sigma_w^2 x depth against depth < 6 xi_c (:mod:`.measure_training`).
The deep nets are a ``lax.scan`` over stacked layers (:mod:`.net`). Claims in :mod:`.claims` and
:mod:`.claims_training`, figures in :mod:`.figures`.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import config as kit_config
from experiments.kit.experiment import Experiment

from . import claims, figures, measure, measure_training


def check(config: ml_collections.ConfigDict) -> None:
    """Config errors the kit's key-name rules cannot see (one line each)."""
    ds = config.depth_sweep
    if len(ds.inits) != len(ds.activations):
        raise kit_config.ConfigError("config.depth_sweep.inits needs one initialiser per activation")
    if config.profile.depth < 2:
        raise kit_config.ConfigError("config.profile.depth must be >= 2 (a ratio needs two layers)")
    if config.chaos.sigma_b2 < 0 or min(config.chaos.sigma_w2) <= 0:
        raise kit_config.ConfigError("config.chaos.sigma_w2 must be > 0 and sigma_b2 >= 0")
    if len(ds.learning_rates) < 2:
        raise kit_config.ConfigError("config.depth_sweep.learning_rates needs >= 2 points of a log grid")
    if config.saturation.steps % config.saturation.log_every:
        raise kit_config.ConfigError("config.saturation.steps must be a multiple of config.saturation.log_every")


class VanishingExperiment(Experiment):
    """The kit's Experiment with three additions this experiment needs.

    The config is checked before any work; the profile figure is drawn once per data set of
    ``config.profile.datasets`` (``profile_<data set>.png``) and the edge-of-chaos map when that
    part ran (no claim decides from it); a claim whose activation was not measured (say, no
    sigmoid in ``config.profile.activations`` for D1) is not decided, as before the move.
    """

    def measure(self, config):
        check(config)
        return super().measure(config)

    def draw(self, t, config):
        drawn = {}
        if "profile_summary" in t:
            for d in config.profile.datasets:
                fn = figures.profile_figure(d)
                drawn[fn.__name__] = fn(t, config)
        drawn.update(super().draw(t, config))
        if "chaos_map" in t:
            drawn["chaos_map"] = figures.chaos_map(t, config)
        return drawn

    def decide(self, t, config, produced):
        return [c.decide(t, config, produced) for c in self.active_claims(t) if claims.applies(c.id, t, config)]


_FINITE_WIDTH = """ Why gelu and mish with He init can disagree (measured with this profile code at widths 128 and 512,
10 seeds; mean field cross-checked by scipy quadrature to 1e-14): their length map contracts fast at small q and hardly
at all at large q (relu-like), so examples whose inputs have a larger norm keep q_l, and chi_1, near 1 for longer and
dominate the batch's ||dL/dh_l|| (per-example q_1 spans 1.2-3.6 on gaussian, 0.7-4.1 on digits): hence the theory
per example, summed over the batch (a mean field at the batch-mean q_1 alone gave gelu -0.305 (gaussian) and -0.329
(digits), mish -0.111 and -0.137 against measured -0.162, -0.204, -0.040, -0.085). What remains is finite-width noise
in q_l: with every input rescaled to the batch's mean norm the gap shrinks from width 128 to 512, gelu 0.096 -> 0.015
(gaussian) and 0.045 -> 0.005 (digits), mish 0.042 -> 0.012 and 0.038 -> 0.005; with the data's inputs at width 512 gelu
still measures -0.217 (gaussian) against -0.263 per example: the two effects compound at this width."""


def _theory(t) -> tuple[int, int, list[str]]:
    if "profile_summary" not in t:
        return 0, 0, []
    layers = pd.concat([v for k, v in t.items() if k.startswith("profile_") and k != "profile_summary"])
    return claims.theory_rows(t.profile_summary, layers)


def _chaos_agreement(t, config) -> dict:
    """Share of decided cells where depth < 6 xi_c predicts trainability, all depths and deep ones
    (``criteria.chaos.deep_depth``), with how often "every cell trainable" would be right there."""
    chaos = t.get("chaos_map")
    if chaos is None or chaos.empty:
        return {}
    out = {}
    for name, cells in (("all", chaos), ("deep", chaos[chaos.depth >= config.criteria.chaos.deep_depth])):
        decided = cells[cells.agree != "undecided"]
        out[name] = {"agree": float((decided.agree == "yes").mean()) if len(decided) else float("nan"),
                     "all_trainable": float((decided.trainable == "yes").mean()) if len(decided) else float("nan"),
                     "none_trainable": float((decided.trainable == "no").mean()) if len(decided) else float("nan"),
                     "n_decided": len(decided), "n_cells": len(cells)}
    return out


def _budget_caveat(t, config) -> str:
    """Say so when no deep cell trains at any sigma_w^2: then the map measures the training budget, not 6 xi_c."""
    chaos = t.get("chaos_map")
    if chaos is None or chaos.empty:
        return ""
    trained = chaos[chaos.trainable == "yes"]
    deepest = int(trained.depth.max()) if len(trained) else 0
    if deepest >= max(chaos.depth) or not (chaos.six_xi_c > deepest).any():
        return ""
    return (f"No net deeper than {deepest} trains at any sigma_w^2 in this budget ({config.chaos.steps} steps), although mean "
            f"field predicts trainability to depth {float(chaos.six_xi_c.max()):.3g} near criticality: beyond depth {deepest} the "
            "map measures the training budget, not 6 xi_c (Schoenholz et al. trained far longer; the `paper` preset). ")


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    n_both, n_agree, _ = _theory(t)
    summ = {"theory_rows_compared": n_both, "theory_rows_agreeing": n_agree}
    for name, c in _chaos_agreement(t, config).items():
        summ[f"chaos_agreement/{name}"] = c["agree"]
    crit = config.criteria
    if "profile_summary" in t:
        s = t.profile_summary
        for r in s[s.dataset == config.profile.datasets[0]].itertuples():
            if r.activation in (crit.d1.activation, crit.d3.activation, crit.d5.activation):
                summ[f"log10_ratio/{r.activation}/{r.init}"] = r.log10_ratio
    if "saturation_summary" in t:
        for r in t.saturation_summary.itertuples():
            summ[f"d4_top_mean_min/{r.activation}"] = r.top_mean_min
    if "depth_sweep" in t:
        table = t.depth_sweep
        for r in table[table.depth == max(config.depth_sweep.depths)].itertuples():
            summ[f"d6_acc/{r.activation}/bn={r.batch_norm}"] = r.train_acc
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in summ.items()}


def notes(t, config) -> str:
    """The experiment page's description of the measurements."""
    p, crit, sat, sweep, ch = config.profile, config.criteria, config.saturation, config.depth_sweep, config.chaos
    n_both, n_agree, bad = _theory(t)
    chaos = _chaos_agreement(t, config)
    chaos_text = "; ".join(f"{k}: {c['agree']:.0%} of {c['n_decided']} decided cells (of {c['n_cells']}; predicting 'every cell "
                           f"trainable' would score {c['all_trainable']:.0%}, 'no cell' {c['none_trainable']:.0%})"
                           for k, c in chaos.items())
    return f"""
Parts run: {', '.join(config.parts)}.

**Profile at init (D1, D2, D3, D5)**: {len(p.activations)} activations x {len(p.inits)} initialisations, depth {p.depth},
width {p.width}, {p.seeds} seeds, a fixed batch of {p.batch_size} examples of {', '.join(p.datasets)}, cross-entropy through a
linear read-out, biases zero. Gradient norms are computed in log space (each layer's backpropagated gradient divided by its
norm, the log of the norm carried; experiments/vanishing/profile_net.py), so no norm underflows; for positively homogeneous
activations (relu, leaky relu, identity) the forward pass is rescaled the same way, so their N(0,1) nets no longer overflow;
"overflow" rows are nets of other activations whose float32 forward pass overflows (not drawn, marked in the figure);
`log10_q` is taken rescaled by max |h_l| where the mean of squares would flush to 0, and "q underflow" layer rows (log10_q
empty) are layers whose float32 pre-activations are exactly 0 (small inits of non-homogeneous activations, q_l < ~1e-76;
their gradient norms are still measured, in log space). One
compiled program per data set serves every activation (a traced index), init (coefficients of shared standard draws) and seed.
`log10_ratio` = log10 ||dL/dh_1|| / ||dL/dh_L|| over n = {p.depth - 1} layers, `factor` = its per-layer value 10^(ratio/n) (CIs
over seeds), against `log10_bound` = n log10 {crit.d1.bound:g}. `log_gain` = fitted ln||dL/dh_l|| - ln||dL/dh_(l+1)|| per layer
(layers {p.fit_skip}..L-{p.fit_skip}); `log_gain_theory` = the same fit to the theory's ln of the batch's gradient norm: per example b
the length map from q_1,b = measured q_1 x ||x_b||^2 / mean ||x_b||^2 (no fixed point assumed; `q_star`, at the batch-mean
q_1, only where the map converged within the depth), chi_1(q_l,b) multiplied down the layers and summed over the batch
(equal top-layer gradients; experiments/vanishing/measure.py), quadrature
accurate at any q (experiments/kit/theory.py). Tolerance per row: {crit.theory.abs_tol:g} + (3 kappa - 1)/(4 width) nats per
layer, kappa = E[phi'^4]/E[phi'^2]^2: the Jensen bias of ln of a sum of width terms chi_1 * phi'^2 zeta^2 (zeta ~ N(0,1)) for
one example, largest where phi'^2 is concentrated on few units (tanh or sigmoid at large q). Theory and measurement are both
finite in {n_both} rows and agree in {n_agree}; disagreeing: {'; '.join(bad) or 'none'}.{_FINITE_WIDTH if any(a in b for b in bad for a in ('/gelu/', '/mish/')) else ''}

**Saturation (D4)**: Glorot & Bengio's setting at CPU scale: {sat.hidden_layers} hidden layers of {sat.width}, `{sat.init}` init,
SGD lr {sat.learning_rate:g}, batch {sat.batch_size}, {sat.steps} steps on {sat.dataset} ({sat.n_train} training examples), {sat.seeds}
seeds; every {sat.log_every} steps on {sat.n_eval} fixed training examples: per layer mean/std output and |h|>2 fraction, ln||dL/dW_1||,
accuracy (`saturation_seeds`). Published: {config.published.d4}. The `paper` preset is the like-for-like run (width 1000).

**Depth sweep (D6)**: {', '.join(f'{a} ({i})' for a, i in zip(sweep.activations, sweep.inits))}, depths {tuple(sweep.depths)},
width {sweep.width}, {sweep.steps} SGD steps of {sweep.batch_size} on {sweep.dataset}, with and without BatchNorm (batch statistics
at evaluation too). R6: per (arm, depth) the best lr on {sweep.search_seeds} search seeds over the log grid
{tuple(sweep.learning_rates)} (3 points per decade), extended while the best is at an edge (at most {sweep.max_extensions} times;
`depth_sweep_lr`), then {sweep.seeds} fresh seeds at that lr (`depth_sweep_seeds`): the reported accuracy is not a maximum over the
grid of the same seeds. Every depth is one compiled net of the largest depth with later layers skipped; one compile per BatchNorm
setting serves every activation (a traced index) and init (kernel stds as arguments).

**Edge of chaos**: {ch.activation}, sigma_b^2 = {ch.sigma_b2:g}, width {ch.width}, depths {tuple(ch.depths)}, kernels N(0, sigma_w^2/fan_in),
{ch.steps} SGD steps of {ch.batch_size} at lr {ch.learning_rate:g} on {ch.dataset}, {ch.seeds} seeds; a cell is trainable when its
accuracy CI lies above {crit.chaos.trainable_acc:g}, untrainable when below, else undecided; xi_c from the correlation map's fixed point
found by root finding (converged). depth < {crit.chaos.multiple_of_xi:g} xi_c agrees with trainability in {chaos_text or 'no cell'}.
{_budget_caveat(t, config)}Published: {config.published.chaos}.
"""


EXPERIMENT = VanishingExperiment(
    "vanishing",
    measurements={"profile": measure.run_profile, "saturation": measure_training.run_saturation,
                  "depth": measure_training.run_depth, "chaos": measure_training.run_chaos},
    claims=claims.CLAIMS, summary=summary, notes=notes,
)
run = EXPERIMENT.run

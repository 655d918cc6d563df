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


def _mean_field(t, config) -> tuple[float, float]:
    """Share of finite non-orthogonal cells where mean field's log-gain is within tolerance; median error."""
    if "profile_summary" not in t:
        return float("nan"), float("nan")
    s = t.profile_summary
    gauss = s[np.isfinite(s.log_gain) & np.isfinite(s.log_gain_theory) & (s.init != "orthogonal")]
    err = (gauss.log_gain - gauss.log_gain_theory).abs()
    within = float((err <= config.criteria.d5.agreement_tol).mean()) if len(gauss) else float("nan")
    return within, float(err.median())


def summary(t, config) -> dict:
    """The numbers behind the figures and the key numbers of the old ledger (compared by the regression check)."""
    within, median_err = _mean_field(t, config)
    chaos = t.get("chaos_map")
    summ = {"mean_field_log_gain_within_tol": within, "mean_field_log_gain_median_abs_err": median_err,
            "chaos_agreement": float(chaos.agree.mean()) if chaos is not None and len(chaos) else float("nan")}
    crit = config.criteria
    named = (crit.d1.activation, crit.d3.activation, crit.d5.activation)
    if "profile_summary" in t:
        s = t.profile_summary
        for r in s[s.dataset == config.profile.datasets[0]].itertuples():
            if r.activation in named:
                summ[f"log10_ratio/{r.activation}/{r.init}"] = r.log10_ratio
    if "saturation_summary" in t:
        for r in t.saturation_summary.itertuples():
            summ[f"d4_rise/{r.activation}"] = r.rise
    if "depth_sweep" in t:
        table = t.depth_sweep
        for r in table[table.depth == max(config.depth_sweep.depths)].itertuples():
            summ[f"d6_acc/{r.activation}/bn={r.batch_norm}"] = r.train_acc
    for claim_id, value in claims.legacy_values(t, config).items():
        summ[f"verdict_value/{claim_id}"] = value
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in summ.items()}


def notes(t, config) -> str:
    """The experiment page's description of the measurements."""
    p, crit, sat, sweep = config.profile, config.criteria, config.saturation, config.depth_sweep
    within, median_err = _mean_field(t, config)
    chaos = t.get("chaos_map")
    chaos_agree = float(chaos.agree.mean()) if chaos is not None and len(chaos) else float("nan")
    return f"""
Parts run: {', '.join(config.parts)}.

Claims D1-D6 (vanishing gradients). **Profile at init**: {len(p.activations)} activations x {len(p.inits)}
initialisations, depth {p.depth}, width {p.width}, {p.seeds} seeds (vmapped; the same drawn weights for every
activation), a fixed batch of {p.batch_size} examples of {', '.join(p.datasets)}, cross-entropy loss through a
linear read-out, biases zero. `log10_ratio` = log10 ||dL/dh_1|| / ||dL/dh_L|| over n = {p.depth - 1} backprop
layers, against `log10_bound` = n log10 {crit.d1.bound:g}; `log10_prod_max_dphi` = log10 of the product over layers of the
largest phi' in the layer (an upper bound on every path's derivative product). `log_gain` = fitted
ln||dL/dh_l|| - ln||dL/dh_(l+1)|| per layer (layers {p.fit_skip}..L-{p.fit_skip}, CI over seeds) against the
mean-field `log_gain_theory` = 0.5 ln chi_1 at the measured sigma_w^2 = fan_in Var(W) (N(0,1) weights:
sigma_w^2 = fan_in). Mean field agrees within {crit.d5.agreement_tol} nats/layer in **{within:.0%}** of the finite
non-orthogonal cells (median abs error {median_err:.3g}). "overflow" = activations exceeded float32.

**Saturation (D4)**: {sat.hidden_layers} hidden layers of {sat.width} (Glorot & Bengio used
1000 and far longer training), `{sat.init}` init, SGD. Published: {config.published.d4}. This
default is far smaller than their run ({sat.steps} steps of batch {sat.batch_size}, a
fraction of one epoch, against about 100 epochs): a D4 verdict here says whether saturation appears in this
budget, read it with each activation's `final_train_acc`; the `paper` preset (width 1000, 20000 steps) is the
like-for-like run.

**Depth sweep (D6)**: best of learning rates {tuple(sweep.learning_rates)} per condition (chosen on the
seed mean, so mildly optimistic), {sweep.steps} SGD steps, width {sweep.width}. BatchNorm
uses batch statistics at evaluation too. `depth_sweep_seeds` holds each seed's accuracy at the best learning rate
(the paired differences of D6). The deep nets here are a scan over stacked layers (experiments/vanishing/net.py);
every depth of a sweep is the same compiled net of the largest depth with the layers past its depth skipped
(`lax.cond`, depths looped with `lax.map`): one compile per activation and BatchNorm setting.

**Edge of chaos**: {config.chaos.activation}, sigma_b^2 = {config.chaos.sigma_b2}, lecun_normal weights scaled to variance
sigma_w^2/fan_in (vmapped), {config.chaos.steps} SGD steps at lr {config.chaos.learning_rate}; a cell is trainable when
accuracy > {crit.chaos.trainable_acc}. depth < {crit.chaos.multiple_of_xi} xi_c agrees with trainability in
**{chaos_agree:.0%}** of cells (criterion >= {crit.chaos.min_agreement}). Published: {config.published.chaos}.
"""


EXPERIMENT = VanishingExperiment(
    "vanishing",
    measurements={"profile": measure.run_profile, "saturation": measure_training.run_saturation,
                  "depth": measure_training.run_depth, "chaos": measure_training.run_chaos},
    claims=claims.CLAIMS, summary=summary, notes=notes,
)
run = EXPERIMENT.run

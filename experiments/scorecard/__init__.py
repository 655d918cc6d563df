"""Score card of one activation beside a reference set: a measurement card, no claim verdicts (issue 18).

Run: python -m experiments.scorecard --config.activation=mypkg.acts:softclip[:softclip_prime]
     (a registered name works too); writes results/scorecards/<activation, file-safe>/ and prints the card.

Six sections, the names of ``config.parts``, each one of the main experiments' measurements called
through :mod:`.adapter` at the card's settings: ``properties`` and ``theory`` (:mod:`.measure_theory`),
``profile`` (:mod:`.measure_profile`), ``units`` (:mod:`.measure_units`), ``training``
(:mod:`.measure_training`), ``cost`` (:mod:`.measure_cost`); then the card itself (:mod:`.card`) and one
multi-panel figure (:mod:`.figures`).
"""

from __future__ import annotations

from pathlib import Path

import ml_collections

import acts
from experiments.kit import inits as kit_inits
from experiments.kit.config import ConfigError
from experiments.kit.experiment import Experiment, Tables
from experiments.kit.registry import ROOT
from experiments.kit.results import markdown_table

from . import card, figures, measure_cost, measure_profile, measure_theory, measure_training, measure_units
from .common import activations, file_safe, inits

MEANINGS = {  # one line per row of the card (README legend)
    "range of f": "the smallest and largest value of f on [-50, 50] (∞ where it keeps growing)",
    "E[f(z)], z ~ N(0,1)": "mean output for a unit-Gaussian input; near 0 is zero-centred (E3)",
    "monotonic / smooth (C¹)": "f′ ≥ 0 everywhere (C3); f and f′ continuous (C2)",
    "f′(0), max slope": "the slope at 0 (C4: f ≈ x near 0 when f′(0) = 1) and the largest slope (B1, B2)",
    "f′ formula − autodiff": "the derivative you gave (or the registry's) against jax.grad on [-30, 30] (B1-B12)",
    "χ₁, q* at Xavier / He": "mean field: the per-layer factor of ‖dL/dh‖², < 1 vanishes, > 1 explodes; the variance fixed point",
    "critical σ_w², ξ_c": "the edge of chaos (χ₁ = 1 at σ_b² = 0.05) and the correlation depth scale (nets train to ~6 ξ_c)",
    "c-map slope at c = 1": "slope of the correlation map c → c′ at 1 (equals χ₁ where q is the fixed point)",
    "log-gain / layer": "measured d ln‖dL/dh_l‖ per layer backwards in a 50-layer MLP at init [CI], mean field in ()",
    "log10 ‖dL/dh₁‖/‖dL/dh_L‖": "how many decades the gradient grows (> 0) or vanishes (< 0) over the net",
    "dead at init / after SGD": "fraction of hidden units with no gradient on the whole training set (F1, F2)",
    "highest SGD lr that learns": "the largest rate at which every seed still learns (R8); dead and stuck are read there",
    "stuck on the negative branch": "units with h ≤ 0 for every example (F4: leaky units still pass a gradient)",
    "mean output at init": "the absolute median unit mean over the layers of an 8 x 128 MLP at init (E4)",
    "best lr, steps, test accuracy": "each activation at its own fastest stable rate (R6): steps to the threshold (≥: censored, R7)",
    "cost": "time alone as a ratio to ReLU's and in ns per element above the identity's, and a whole SGD step "
            "against ReLU's and the identity's (H2)",
}


def check(config: ml_collections.ConfigDict) -> None:
    """The scored activation and the references resolve (a user's is imported and checked), the init rule is known."""
    for name in activations(config):
        try:
            acts.resolve(name)
        except ValueError as err:
            raise ConfigError(f"config.activation(s): {' '.join(str(err).split())}") from None
    if config.init_rule != "auto" and config.init_rule not in kit_inits.names():
        raise ConfigError(f"config.init_rule = {config.init_rule!r}: 'auto' or one of {', '.join(kit_inits.names())}")
    if config.seeds < 5:
        raise ConfigError(f"config.seeds = {config.seeds}: the card's CIs need >= 5 seeds")


class ScorecardExperiment(Experiment):
    """The kit's Experiment with the config checked first and the card built from whatever sections ran."""

    def measure(self, config: ml_collections.ConfigDict) -> Tables:
        check(config)
        t = super().measure(config)
        t.update(card.measure_card(config, t))
        return t


def default_workdir(config: ml_collections.ConfigDict) -> Path:
    """results/scorecards/<the scored activation, file-safe>/."""
    return ROOT / "results" / "scorecards" / file_safe(config.activation)


def summary(t: Tables, config: ml_collections.ConfigDict) -> dict:
    """Every card number that is not a timing (the regression-style numbers)."""
    v = t.card_values
    keep = v[(v.section != "cost") & v.value.notna()]
    return {f"{r.section}/{r.measure}/{r.activation}": float(r.value) for r in keep.itertuples()}


def notes(t: Tables, config: ml_collections.ConfigDict) -> str:
    """The page: the card first, then what each row means, then the settings."""
    init_of = ", ".join(f"{a} {i}" for a, i in inits(config).items())
    legend = "\n".join(f"| {k} | {v} |" for k, v in MEANINGS.items())
    return f"""
Score card of **`{config.activation}`** beside {', '.join(f'`{r}`' for r in config.references)}: the same
measurements the main experiments make, at the settings in `config.json`; 95% CIs over {config.seeds} seeds
(cost: over timing rounds). No verdicts: a measurement card. Sections run: {', '.join(config.parts)}.
Initialisation per activation (R6, `init_rule = {config.init_rule}`): {init_of}.

## The card

{markdown_table(t.card) if "card" in t else ''}
## What each row means

| row | what it measures |
|---|---|
{legend}
"""


EXPERIMENT = ScorecardExperiment(
    "scorecard",
    measurements={"properties": measure_theory.measure_properties, "theory": measure_theory.measure_theory,
                  "profile": measure_profile.measure_profile, "units": measure_units.measure_units,
                  "training": measure_training.measure_training, "cost": measure_cost.measure_cost},
    claims=(), summary=summary, notes=notes, figures=(figures.scorecard,), default_workdir=default_workdir,
)
run = EXPERIMENT.run

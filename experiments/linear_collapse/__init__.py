"""Depth without a nonlinearity collapses to one linear layer (claims A1, C1).

Run: python -m experiments.linear_collapse --config configs/linear_collapse.py:smoke

(a) A trained deep net with the identity (or c·x) activation equals the affine map obtained by
multiplying its weights (three layers of c·x = one layer of c³·x). (b) On tasks that are not
linearly separable (xor, two_moons, mnist1d) its best training loss equals a single linear
layer's, while relu/tanh nets of the same size do strictly better. Every condition is one
``train.train_population`` call (seeds x learning rates vmapped); comparisons are paired by seed.
Measurements in :mod:`.measure`, claims in :mod:`.claims`, figures in :mod:`.figures`.
"""

from __future__ import annotations

from experiments.kit.experiment import Experiment

from . import claims, measure


def summary(t, config) -> dict:
    """The numbers behind the figures (compared by the regression check)."""
    out = {f"best_{r.dataset}_{r.condition}": float(r.best_loss) for r in t.best_loss.itertuples()}
    out["max_collapse_rel_err"] = float(t.collapse.max_rel_err.max())
    return out


def notes(t, config) -> str:
    """The experiment page's description of the nets and tables."""
    return (
        f"**Nets.** MLPs of {config.depth} hidden layers of width {config.width} with the identity, c·x "
        f"(c = {config.linear_c}), relu or tanh activation, and a single linear layer (no hidden layer), trained with "
        f"{config.optimizer} for {config.steps} steps (batch {config.batch_size}, softmax cross-entropy), "
        f"{config.seeds} seeds (paired: same data order). R6: {config.relu_family_initializer} init for relu, "
        f"{config.initializer} otherwise; each condition its own learning rate, the best (lowest mean best-loss) from "
        f"a grid of 3 per decade starting at {tuple(config.learning_rates)} (linear conditions) or "
        f"{tuple(config.nonlinear_learning_rates)} (relu, tanh), extended by blocks beyond an edge where the best lies "
        f"(at most {config.lr_extensions} times; `lr_sweep` lists every rate tried, `best_loss.lr_at_edge` flags a best "
        "still at an edge). The deep identity, c·x and tanh nets share one compiled trainer (the kit's `switch` "
        "activation).\n\n"
        "**Best loss** = the lowest training loss logged (on a fixed training subset) during the run. "
        "(a) `collapse` compares the trained deep linear net with the affine map obtained by multiplying its "
        f"weights (with the factor c^{config.depth} for c·x). (b) `paired_differences`: best loss of each deep net "
        "minus that of the single linear layer, paired 95% CIs; A1 tests equivalence (TOST) on `best_loss_seeds`.\n\n"
        "**Figures.** `loss_curves`: mean training loss (best learning rate) per data set, each condition its own "
        "line style and marker; `decision_boundaries`: the seed-0 net of each condition on two_moons."
    )


EXPERIMENT = Experiment(
    "linear_collapse", measurements={"train": measure.train_all}, claims=claims.CLAIMS, summary=summary, notes=notes
)
run = EXPERIMENT.run

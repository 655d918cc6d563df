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
        f"**Nets.** MLPs of {config.depth} hidden layers of width {config.width} ({config.initializer} init) with the "
        f"identity, c·x (c = {config.linear_c}), relu or tanh activation, and a single linear layer (no hidden "
        f"layer), trained with {config.optimizer} for {config.steps} steps (batch {config.batch_size}, softmax "
        f"cross-entropy) over learning rates {tuple(config.learning_rates)} (vmapped; the best per condition is "
        f"the lowest mean best-loss) and {config.seeds} seeds (paired: same init keys and data order).\n\n"
        "**Best loss** = the lowest training loss logged (on a fixed training subset) during the run. "
        "(a) `collapse` compares the trained deep linear net with the affine map obtained by multiplying its "
        f"weights (with the factor c^{config.depth} for c·x). (b) `paired_differences`: best loss of each deep net "
        "minus that of the single linear layer, with paired 95% CIs.\n\n"
        "**Figures.** `loss_curves`: mean training loss (best learning rate) per data set; "
        "`decision_boundaries`: the seed-0 net of each condition on the last data set shown (two_moons by default)."
    )


EXPERIMENT = Experiment(
    "linear_collapse", measurements={"train": measure.train_all}, claims=claims.CLAIMS, summary=summary, notes=notes
)
run = EXPERIMENT.run

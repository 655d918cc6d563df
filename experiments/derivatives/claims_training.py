"""Claims A2 and C2: the step function's zero derivative stops learning; a kink does not.

Decided from ``step_training`` (per model and activation: gradients, weight change, relative loss
drop with its CI over seeds) and ``step_runs`` (the same per seed). The activations playing each
role are the config's ``step_activation``, ``smooth_activation`` and ``kinked_activation``.
"""

from __future__ import annotations

import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, Part, claim, compare, part

from .figures import step_vs_sigmoid

READS = ("step_training", "step_runs")
DROP = "relative loss drop (L_0 − L_T)/L_0"


def _row(t, model: str, activation: str) -> pd.Series | None:
    rows = t.step_training[(t.step_training.model == model) & (t.step_training.activation == activation)]
    return None if rows.empty else rows.iloc[0]


def _runs(t, model: str, activation: str) -> pd.DataFrame:
    runs = t.step_runs[(t.step_runs.model == model) & (t.step_runs.activation == activation)]
    return runs.sort_values("seed")


def _drop(row: pd.Series) -> stats.Estimate:
    return stats.Estimate(row.rel_loss_drop, row.rel_loss_drop_lo, row.rel_loss_drop_hi, int(row.n_seeds))


def _where(config, model: str) -> str:
    if model == "perceptron":
        return (f"perceptron f(xW+b) on {config.perceptron_dataset}, {config.perceptron_steps} full-batch GD steps, "
                f"{config.seeds} seeds")
    return f"MLP {tuple(config.mlp_widths)} on {config.mlp_dataset}, {config.steps} {config.optimizer} steps, {config.seeds} seeds"


def _zero(name: str, value: float, unit: str, where: str, n: int) -> Part:
    return part(name, "supported" if value == 0.0 else "refuted", value=value, n_seeds=n, unit=unit, condition=where)


def learns_name(config) -> str:
    return f"{config.smooth_activation} perceptron learns"


def a2_parts(t, config) -> list[Part]:
    """The step nets get exactly zero gradient and never move; the smooth ones learn (A2's parts, C2's too)."""
    step, smooth = config.step_activation, config.smooth_activation
    sp, sm, n = _row(t, "perceptron", step), _row(t, "mlp", step), int(config.seeds)
    perceptron, mlp = _where(config, "perceptron"), _where(config, "mlp")
    moved = float(_runs(t, "mlp", smooth).hidden_weight_change.min(skipna=False))
    return [
        _zero(f"{step} perceptron: gradient exactly 0", sp.max_grad_all_params, "max |∂L/∂θ| at init", perceptron, n),
        _zero(f"{step} perceptron: loss never changes", float(_runs(t, "perceptron", step).max_abs_loss_deviation.max(skipna=False)),
              "max |L_t − L_0| over steps", perceptron, n),
        _zero(f"{step} MLP: hidden-layer gradients exactly 0", sm.max_grad_hidden, "max |∂L/∂W_hidden| at init", mlp, n),
        _zero(f"{step} MLP: hidden weights never move", sm.max_hidden_weight_change, "max |W_T − W_0| (hidden)", mlp, n),
        compare(learns_name(config), _row(t, "perceptron", smooth), config, "criteria.a2.min_rel_drop", ">=", unit=DROP,
                condition=perceptron, value_key="rel_loss_drop"),
        part(f"{smooth} MLP: hidden weights move", "supported" if moved > 0 else "refuted", value=moved, n_seeds=n,
             unit="min over seeds of max |W_T − W_0| (hidden)", condition=mlp),
    ]


@claim("A2", reads=READS, figure=step_vs_sigmoid, criteria=("criteria.a2",))
def a2(t, config) -> Decision:
    """The step has zero derivative wherever defined, so gradient descent gets no signal; sigmoid learns (A2)."""
    step, smooth = config.step_activation, config.smooth_activation
    sp, ms, mg = _row(t, "perceptron", step), _row(t, "mlp", step), _row(t, "mlp", smooth)
    gain = stats.paired(_runs(t, "mlp", smooth).rel_loss_drop.to_numpy(), _runs(t, "mlp", step).rel_loss_drop.to_numpy())
    moved = _runs(t, "mlp", smooth).hidden_weight_change.min(skipna=False)
    statement = (
        f"{step} perceptron: max |∂L/∂θ| over all parameters = {sp.max_grad_all_params:.3g}, loss change over "
        f"{config.perceptron_steps} steps = {sp.max_abs_loss_change:.3g} (all {config.seeds} seeds); {smooth} perceptron "
        f"relative loss drop {_drop(_row(t, 'perceptron', smooth))}. {step} MLP: hidden-layer gradients max "
        f"{ms.max_grad_hidden:.3g}, hidden weights moved by {ms.max_hidden_weight_change:.3g}; {smooth} MLP hidden weights "
        f"moved by at least {moved:.3g}. Caveat: the {step} MLP's linear read-out still learns on its frozen random "
        f"{step} features (relative loss drop {_drop(ms)} vs {smooth} MLP {_drop(mg)}, paired difference "
        f"{smooth} − {step} {gain.diff}): the {step} only blocks learning of the layers below it."
    )
    criterion = (
        f"{step}: gradient and loss change exactly 0 (perceptron), hidden gradients and weight change exactly 0 (MLP); "
        f"{smooth}: perceptron relative drop CI lower bound ≥ {config.criteria.a2.min_rel_drop:g} and its MLP hidden "
        "weights move"
    )
    return Decision(a2_parts(t, config), statement, criterion, key=learns_name(config), evidence="step_vs_sigmoid.png")


@claim("C2", reads=READS, figure=step_vs_sigmoid, evidence="step_training.csv", criteria=("criteria.a2.min_rel_drop",))
def c2(t, config) -> Decision:
    """Differentiability is needed for gradient-based training (C2): A2's parts, and a kinked activation that learns."""
    kinked, thr = config.kinked_activation, config.criteria.a2.min_rel_drop
    name = f"{kinked} (not differentiable at 0) does not learn"
    row = _row(t, "mlp", kinked)
    statement = (
        f"Training needs a non-zero derivative: the {config.step_activation} function is differentiable almost everywhere, "
        "yet its derivative is 0 and nothing before it learns (see A2). "
    )
    if row is None:
        kink = part(name, "inconclusive", unit=DROP, condition=f"{kinked} is not in mlp_activations: not run in this preset")
        statement += f"({kinked} not run in this preset: whether differentiability everywhere is needed was not tested.)"
    else:
        kink = compare(name, row, config, "criteria.a2.min_rel_drop", "<", unit=DROP, condition=_where(config, "mlp"),
                       value_key="rel_loss_drop")
        statement += (
            f"{kinked}, not differentiable at 0, learns fine: MLP relative loss drop {_drop(row)}; so differentiability "
            "everywhere is not required, a useful (non-zero almost everywhere) derivative is."
            if kink.verdict == "refuted"
            else f"{kinked}, not differentiable at 0: MLP relative loss drop {_drop(row)} ({kink.verdict} that it does not learn)."
        )
    criterion = (
        f"supported if {config.step_activation} fails, {config.smooth_activation} learns (A2) and an activation not "
        f"differentiable everywhere ({kinked}) does not (MLP relative drop CI wholly below {thr:g}); a part each (R2)"
    )
    return Decision([*a2_parts(t, config), kink], statement, criterion, key=learns_name(config) if row is None else name)

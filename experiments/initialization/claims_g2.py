"""Claim G2: for ReLU the right scale is He's; with Xavier a deep ReLU net's signal halves per layer.

Decided from ``g2_ratios``, ``he_summary`` and ``he_speed`` with the config's criteria (DECISIONS.md
G2): (a) the per-layer ratio E[h_(l+1)^2]/E[h_l^2] of ReLU + Xavier is 0.5 and of ReLU + He is 1
(|ratio/predicted - 1| <= rel_tol on the CI, R3); (b) He et al.'s 30-layer case: Xavier stalls and
He trains, per seed by R8 (Wilson CI of the fraction of seeds that train against a majority);
(c) their 22-layer case: both train and He sooner (steps to a target loss, Xavier / He, R7).
"""

from __future__ import annotations

import dataclasses

from experiments.kit import stats
from experiments.kit.claim import Decision, Part, claim, compare

from .figures import he_deep_relu


def _ratio_part(ratios, init: str, config) -> Part:
    crit, r = config.criteria.g2, ratios.loc[init]
    return compare(f"{crit.activation}+{init} ratio = {r.predicted:g}", r, config, "criteria.g2.rel_tol", "<=",
                   unit="|ratio / predicted - 1| of E[h_(l+1)^2]/E[h_l^2] per hidden layer", value_key="rel_dev",
                   condition=(f"{crit.activation} + {init} at init, hidden-to-hidden layers of a {config.profile.depth}-layer "
                              f"MLP, {int(r.width)} units; ratio {r.preact_sq_ratio_per_layer:.4f} "
                              f"[{r.preact_sq_ratio_per_layer_lo:.4f}, {r.preact_sq_ratio_per_layer_hi:.4f}], "
                              f"predicted {r.predicted:g}"))


def _fraction_part(row, config, trains: bool) -> Part:
    """R8 per seed: the Wilson CI of the fraction of seeds that train, above (trains) or below (stalls) a majority."""
    h = config.he
    est = stats.Estimate(row.trained_fraction, row.trained_fraction_lo, row.trained_fraction_hi, int(row.n_seeds))
    name = f"{row.depth}-layer {h.activation} MLP, {row.init} {'trains' if trains else 'stalls'}"
    cond = (f"{row.init} init ({row.weights}), plain SGD, best lr {row.best_learning_rate:.3g} of "
            f"{row.learning_rates_tried}, {h.steps} steps, batch {h.batch_size}, width {h.width}, {h.dataset}; "
            f"{row.n_trained}/{row.n_seeds} seeds reach train accuracy >= chance + "
            f"{config.criteria.he.train_margin:g} (Wilson CI), {row.n_diverged} diverged")
    return compare(name, est, config, "criteria.he.majority", ">" if trains else "<",
                   unit="fraction of seeds that train (R8)", condition=cond)


def censored_verdict(verdict: str, cx: float, ch: float, crit) -> tuple[str, str]:
    """R7 on the ratio Xavier / He of steps to target: (verdict, what the censoring makes of the ratio)."""
    if cx > crit.censor_max and ch > crit.censor_max:
        return "inconclusive", "both arms > censor_max censored"
    if cx > crit.censor_bound and ch > crit.censor_bound:
        return "inconclusive", "both arms > censor_bound censored: the ratio bounds neither way"
    if cx > crit.censor_bound:  # Xavier's true steps exceed the budget: the ratio is a lower bound
        return (verdict if verdict == "supported" else "inconclusive"), "a lower bound (Xavier censored)"
    if ch > crit.censor_bound:  # He's true steps exceed the budget: an upper bound
        return (verdict if verdict == "refuted" else "inconclusive"), "an upper bound (He censored)"
    return verdict, "a ratio (censoring within censor_bound)"


def _speed_part(row, config) -> tuple[Part, str]:
    crit, h = config.criteria.he, config.he
    p = compare(f"{row.depth}-layer {h.activation} MLP, He sooner", row, config, "criteria.he.sooner_ratio", ">",
                unit=f"mean steps to train loss {h.target_loss:g}, {h.labels[0]} / {h.labels[1]} (paired bootstrap)",
                value_key="steps_ratio")
    verdict, kind = censored_verdict(p.verdict, row.censored_fraction_xavier, row.censored_fraction_he, crit)
    cond = (f"{row.depth} layers, best lr {h.labels[0]} {row.learning_rate_xavier:.3g}, {h.labels[1]} "
            f"{row.learning_rate_he:.3g}; censored {row.censored_fraction_xavier:.0%} / {row.censored_fraction_he:.0%} "
            f"of seeds (counted at the {row.budget_steps}-step budget): the value is {kind}")
    if not kind.startswith(("a lower", "a ratio")):  # censoring decides, not the threshold: not a threshold part
        return dataclasses.replace(p, verdict=verdict, condition=cond, threshold=None, side=None), kind
    return dataclasses.replace(p, verdict=verdict, condition=cond), kind


def _he_parts(t, config) -> tuple[list[Part], str]:
    summary, speed = t.he_summary, t.he_speed
    xl, hl = config.he.labels
    shallow, deep = min(config.he.depths), max(config.he.depths)

    def row(depth, init):
        return summary[(summary["depth"] == depth) & (summary["init"] == init)].iloc[0]

    parts = [_fraction_part(row(deep, xl), config, trains=False), _fraction_part(row(deep, hl), config, trains=True)]
    if shallow != deep:  # one depth only (smoke): its He part is not repeated
        parts += [_fraction_part(row(shallow, xl), config, trains=True), _fraction_part(row(shallow, hl), config, trains=True)]
    sp, kind = _speed_part(speed[speed["depth"] == shallow].iloc[0], config)
    lines = "; ".join(f"{r.depth} layers {r.init}: {r.n_trained}/{r.n_seeds} train, lr {r.best_learning_rate:.3g}, "
                      f"final train accuracy {r.final_train_acc:.2f}" for _, r in summary.iterrows())
    note = (f" He et al.'s experiment ({config.he.width}-unit ReLU MLPs, plain SGD, {config.he.steps} steps): {lines}. "
            f"{shallow} layers, steps to loss {config.he.target_loss:g} Xavier / He: {sp.value:.3g} "
            f"[{sp.ci[0]:.3g}, {sp.ci[1]:.3g}], {kind}.")
    return [*parts, sp], note


@claim("G2", reads=("g2_ratios", "he_summary", "he_speed"), figure=he_deep_relu, evidence="he_summary.csv",
       criteria=("criteria.g2", "criteria.he"),
       revised_by="R3, R7, R8; DECISIONS.md G2 row: trains per seed by R8, He et al.'s 22-layer case added")
def g2(t, config) -> Decision:
    """G2 part by part: the two ratios, the 30-layer stall, the 22-layer case (both train, He sooner)."""
    crit, he = config.criteria.g2, config.criteria.he
    ratios = t.g2_ratios.set_index("init")
    xavier_init, he_init = crit.inits
    parts = [_ratio_part(ratios, xavier_init, config), _ratio_part(ratios, he_init, config)]
    trained, note = _he_parts(t, config)
    parts += trained
    listing = "; ".join(f"{p.part}: {p.verdict} ({p.value:.3g} [{p.ci[0]:.3g}, {p.ci[1]:.3g}])" for p in parts)
    rx, rh = ratios.loc[xavier_init], ratios.loc[he_init]
    statement = (f"Per-layer ratio E[h_(l+1)^2]/E[h_l^2] at init: {crit.activation}+Xavier "
                 f"{rx.preact_sq_ratio_per_layer:.4f} [{rx.preact_sq_ratio_per_layer_lo:.4f}, "
                 f"{rx.preact_sq_ratio_per_layer_hi:.4f}] (He et al.: {crit.xavier_ratio:g}), {crit.activation}+He "
                 f"{rh.preact_sq_ratio_per_layer:.4f} [{rh.preact_sq_ratio_per_layer_lo:.4f}, "
                 f"{rh.preact_sq_ratio_per_layer_hi:.4f}] ({crit.he_ratio:g})." + note + f" Parts: {listing}.")
    return Decision(
        parts=parts, statement=statement,
        criterion=(f"(a) the CI of |ratio/predicted - 1| within {crit.rel_tol:g} for {crit.activation} + {xavier_init} "
                   f"(predicted {crit.xavier_ratio:g}) and + {he_init} (predicted {crit.he_ratio:g}); (b) deepest "
                   f"depth: Xavier stalls (Wilson CI of the fraction of seeds whose train accuracy reaches chance + "
                   f"{he.train_margin:g} below {he.majority:g}) and He trains (above {he.majority:g}); (c) shallowest "
                   f"depth: both train and He sooner (CI of mean steps to the target loss, Xavier / He, above "
                   f"{he.sooner_ratio:g}; R7: > {he.censor_bound:g} censored in one arm makes it a bound, > "
                   f"{he.censor_max:g} in both inconclusive); claim from the parts (R2)"),
    )

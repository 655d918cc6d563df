"""Claims A1 and C1: without a nonlinearity, depth collapses to one linear layer.

Each claim is a pure function of the tables of :mod:`.measure` / :mod:`.tables` and the config's
criteria. A1 (DECISIONS.md A1, R9): (a) the trained deep linear nets equal the product of their
weights; (b) per data set and deep linear condition, the best loss is equivalent to one linear
layer's by a two one-sided test (``stats.equivalence``, margin ``equiv_margin``) over seeds;
(c) relu and tanh of the same size do strictly better. Each part its own verdict (R2, R3).
"""

from __future__ import annotations

import pandas as pd

from experiments.kit import stats
from experiments.kit.claim import Decision, Part, claim, compare, part

from .figures import decision_boundaries, loss_curves
from .measure import DEEP_C, DEEP_LINEAR, ONE_LAYER


def _nonlinear(t, config) -> pd.DataFrame:
    return t.paired_differences[t.paired_differences.condition.isin(list(config.nonlinear))]


def _lrs(t, dataset: str, *conditions: str) -> str:
    best = t.best_loss[t.best_loss.dataset == dataset].set_index("condition")
    return ", ".join(f"{c} lr {best.loc[c, 'best_learning_rate']:.3g} ({best.loc[c, 'initializer']})" for c in conditions)


def equivalences(t, config) -> list[tuple[str, str, stats.Equivalence, float]]:
    """(data set, deep linear condition, TOST of its per-seed best loss minus one layer's, paired t p-value)."""
    crit, seeds, out = config.criteria.a1, t.best_loss_seeds, []
    for ds in config.datasets:
        one = seeds[(seeds.dataset == ds) & (seeds.condition == ONE_LAYER)].sort_values("seed").best_loss.to_numpy()
        for cond in (DEEP_LINEAR, DEEP_C):
            deep = seeds[(seeds.dataset == ds) & (seeds.condition == cond)].sort_values("seed").best_loss.to_numpy()
            eq = stats.equivalence(deep - one, crit.equiv_margin, crit.equiv_alpha)
            out.append((ds, cond, eq, stats.paired(deep, one).p_t))
    return out


def equivalence_parts(t, config) -> list[Part]:
    """(b) deep linear − one layer equivalent within ±equiv_margin (TOST): supported / refuted (CI outside) / inconclusive."""
    out = []
    for ds, cond, eq, _ in equivalences(t, config):
        verdict = "supported" if eq.equivalent else "refuted" if eq.outside else "inconclusive"
        out.append(part(f"{cond} ≡ one layer on {ds}", verdict, eq.diff.mean, (eq.diff.lo, eq.diff.hi), eq.diff.n, "nats",
                        f"{ds}, {_lrs(t, ds, cond, ONE_LAYER)}; TOST p = {eq.p:.2g}"))
    return out


def better_parts(t, config) -> list[Part]:
    """(c) a nonlinear net of the same size beats the single layer: improvement > better_margin."""
    out = []
    for r in _nonlinear(t, config).itertuples():
        gain = stats.Estimate(-r.difference, -r.difference_hi, -r.difference_lo, r.n_seeds)
        out.append(compare(f"{r.condition} beats one layer on {r.dataset}", gain, config, "criteria.a1.better_margin",
                           ">", unit="nats", condition=f"{r.dataset}, {_lrs(t, r.dataset, r.condition, ONE_LAYER)}"))
    return out


def _equivalence_text(t, config) -> str:
    bits = []
    for ds, cond, eq, p_t in equivalences(t, config):
        d = eq.diff
        significant = d.lo > 0 or d.hi < 0
        word = ("equivalent" if eq.equivalent else "NOT shown equivalent") + (
            f", although the difference is significant (CI excludes 0, paired t p = {p_t:.2g})" if significant else "")
        bits.append(f"{ds} {cond} − one layer {d.mean:+.4f} [{d.lo:+.4f}, {d.hi:+.4f}] nats, TOST p = {eq.p:.2g}: {word}")
    return "; ".join(bits)


def _nearest_margin(parts: list[Part]) -> str:
    """R5: the equivalence part whose CI comes nearest the margin (the one that decided, or nearly failed)."""
    failing = [p for p in parts if p.verdict != "supported"]
    return max(failing or parts, key=lambda p: max(abs(p.ci[0]), abs(p.ci[1]))).part


@claim("A1", reads=("paired_differences", "best_loss", "best_loss_seeds", "collapse", "scalar_collapse"),
       figure=(loss_curves, decision_boundaries), evidence="paired_differences.csv",
       revised_by="R9, R3; DECISIONS.md A1 row: equivalence by TOST with the stated margin (inconclusive where the CI "
                  "straddles it), R6 learning rates per condition")
def a1(t, config) -> Decision:
    """A deep c·x net is one linear layer: equal maps (a), equivalent best loss (b), nonlinear nets better (c)."""
    crit, collapse, scalar = config.criteria.a1, t.collapse, t.scalar_collapse.iloc[0]
    err = max(float(collapse.max_rel_err.max()), float(scalar.max_rel_err))
    collapsed = compare("trained deep linear net = product of its weights", stats.Estimate(err, err, err, int(collapse.runs.sum())),
                        config, "criteria.a1.collapse_rel_tol", "<=", unit="relative error", condition="every trained run")
    equivalent, better = equivalence_parts(t, config), better_parts(t, config)
    edge = t.best_loss[t.best_loss.lr_at_edge & t.best_loss.lr_edge_beats_neighbour]
    plateau = t.best_loss[t.best_loss.lr_at_edge & ~t.best_loss.lr_edge_beats_neighbour]
    statement = (
        f"(a) Trained deep linear nets equal the product of their weights: max relative error "
        f"{collapse.max_rel_err.max():.2e} over {int(collapse.runs.sum())} runs; {int(scalar.depth)} layers of "
        f"c·x vs one layer of c^{int(scalar.depth)}·x (c={scalar.c}): max relative error {scalar.max_rel_err:.2e}. "
        f"(b) Equivalence of best training losses (paired over {config.seeds} seeds, margin ±{crit.equiv_margin:g} nats): "
        f"{_equivalence_text(t, config)}. "
        + ("A deep linear net has the same function class as one layer, so a significant difference inside the margin "
           "is an optimisation effect of the parameterisation (adam on a product of matrices), not expressivity. "
           if any(eq.diff.lo > 0 or eq.diff.hi < 0 for _, _, eq, _ in equivalences(t, config)) else "")
        + "(c) Same-size nonlinear nets vs one layer: "
        + "; ".join(f"{p.part} {p.value:+.4f} nats [{p.ci[0]:+.4f}, {p.ci[1]:+.4f}]: {p.verdict}" for p in better)
        + ". Each condition at its own best adam learning rate (R6)"
        + (f"; at an edge of the rates tried but not better than its neighbour by more than {config.lr_min_gain:g} nats: "
           f"{', '.join(f'{r.dataset}/{r.condition}' for r in plateau.itertuples())}" if len(plateau) else "")
        + (f"; UNRESOLVED, the best still beats its neighbour at the edge: "
           f"{', '.join(f'{r.dataset}/{r.condition}' for r in edge.itertuples())}" if len(edge) else "") + ". Parts: " + "; ".join(f"{p.part}: {p.verdict}" for p in [collapsed, *equivalent, *better]) + "."
    )
    criterion = (
        f"(a) collapse rel. error <= {crit.collapse_rel_tol:g}; (b) per data set and deep linear condition, TOST of "
        f"deep − one-layer best loss at {crit.equiv_alpha:g} per side (the 95% CI inside ±{crit.equiv_margin:g} nats) "
        f"supported, CI wholly outside refuted, else inconclusive; (c) relu/tanh − one-layer CI < −{crit.better_margin:g}"
    )
    return Decision(parts=[collapsed, *equivalent, *better], statement=statement, criterion=criterion,
                    key=_nearest_margin(equivalent))


@claim("C1", reads=("paired_differences", "best_loss", "best_loss_seeds"), figure=loss_curves,
       criteria=("criteria.a1.better_margin", "criteria.a1.equiv_margin"))
def c1(t, config) -> Decision:
    """Nonlinearity is needed: same-size nonlinear nets beat one layer where deep linear nets cannot (C1)."""
    nonlin = _nonlinear(t, config)
    worst = nonlin.loc[nonlin.difference_hi.idxmax()]
    return Decision(
        parts=[*better_parts(t, config), *equivalence_parts(t, config)],
        statement=(
            f"Without a nonlinearity, depth adds nothing (deep linear ≡ one layer within ±{config.criteria.a1.equiv_margin:g} "
            f"nats, A1 (b)); with one, the same size net reaches a lower loss on every task: least improvement "
            f"{worst.condition} on {worst.dataset}: {worst['difference']:+.4f} nats [{worst.difference_lo:+.4f}, "
            f"{worst.difference_hi:+.4f}]."
        ),
        criterion=(f"relu and tanh − one-layer best-loss CI < −{config.criteria.a1.better_margin:g} on every data set, and A1(b) "
                   f"equivalence within ±{config.criteria.a1.equiv_margin:g} nats"),
        key=f"{worst.condition} beats one layer on {worst.dataset}",
        published="none published",
    )


CLAIMS = (a1, c1)

"""Claim C3: "when the activation is monotonic, a single-layer network is guaranteed to be convex".

A pure function of the table ``violation_rates`` of :mod:`.measure` and the config's criteria
(R2, R3). The claim is universal, so its parts are: per loss, "every monotonic activation gives a
convex single-layer loss", decided on the worst monotonic activation not in ``headline_excludes``
(with equal numbers of lines the Wilson lower bound grows with the rate, so the worst rate is
the surest counter-example); and Auer et al.'s case (``headline_activation`` with
``headline_loss``), the key number. Each is ``compare``d with ``nonconvex_rate_lo``: refuted
when the lower bound exceeds it; random lines can never show the upper bound at 0, so a part
without violations is inconclusive, and ``holds_below`` only names where no violation showed.
"""

from __future__ import annotations

from experiments.kit import stats
from experiments.kit.claim import Decision, Part, claim, compare

from .figures import example_line, violation_rates
from .measure import SPANS


def _part(name: str, row, config) -> Part:
    est = stats.Estimate(float(row.rate), float(row.rate_lo), float(row.rate_hi), int(row.lines))
    return compare(name, est, config, "criteria.c3.nonconvex_rate_lo", "<=",
                   unit="fraction of random lines violating midpoint convexity",
                   condition=f"{row.activation}+{row.loss}, {int(row.lines)} lines (each its own draw) over {config.seeds} "
                             f"seeds and weight scales {tuple(config.weight_scales)} (Wilson 95% CI)")


def loss_part(table, config, loss: str) -> Part:
    """"Every monotonic activation gives a convex ``loss``": on the worst monotonic one (headline_excludes aside)."""
    mono = table[table.monotonic & (table.loss == loss) & ~table.activation.isin(list(config.headline_excludes))]
    return _part(f"every monotonic activation gives a convex {loss} loss", mono.sort_values("rate").iloc[-1], config)


def auer_part(table, config) -> Part | None:
    """Auer et al.'s case: the headline activation with the headline loss (None when it was not run)."""
    crit = config.criteria.c3
    rows = table[(table.activation == crit.headline_activation) & (table.loss == crit.headline_loss)]
    if not len(rows):
        return None
    return _part(f"{crit.headline_activation} with {crit.headline_loss} loss is convex (Auer et al.'s case)", rows.iloc[0],
                 config)


@claim("C3", reads=("violation_rates",), figure=(violation_rates, example_line), evidence="violation_rates.png",
       revised_by="R2; DECISIONS.md C3 row: a part per loss, published Auer et al. 1996")
def c3(t, config) -> Decision:
    """Monotonic activations give a convex single-layer loss; refuted, per loss, by a monotonic non-convex case."""
    crit, table = config.criteria.c3, t.violation_rates
    auer = auer_part(table, config)
    parts = ([auer] if auer is not None else []) + [loss_part(table, config, loss) for loss in config.losses]
    broken = table[table.monotonic & (table.rate_lo > crit.nonconvex_rate_lo)]
    holds = table[table.rate_hi < crit.holds_below]
    counter = "; ".join(f"{r.activation}+{r.loss} {r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" for r in broken.itertuples())
    holds_txt = ", ".join(f"{r.activation}+{r.loss}" for r in holds.itertuples()) or "none"
    statement = (
        (f"Monotonic activations whose single-layer loss violates midpoint convexity along random lines (violation rate, "
         f"Wilson 95% CI): {counter}. " if len(broken) else "No monotonic activation violated midpoint convexity. ")
        + f"No violations beyond tolerance (upper CI < {crit.holds_below:g}) for: {holds_txt}. Monotonicity of f does not "
        "make L(f(Wx+b)) convex; what matters is the composition of f with the loss (identity + softmax cross-entropy, "
        "i.e. logistic regression, is convex). Auer, Herbster & Warmuth (1996) proved the sigmoid with squared loss "
        "non-convex: exponentially many local minima. Parts: "
        + "; ".join(f"{p.part}: {p.verdict} ({p.condition.split(',')[0]} {p.value:.3f} [{p.ci[0]:.3f}, {p.ci[1]:.3f}])"
                    for p in parts) + "."
    )
    criterion = (
        f"each part: Wilson 95% lower bound of the violation rate > {crit.nonconvex_rate_lo:g} refuted, upper bound <= it "
        "supported, else inconclusive (R3); parts: per loss the worst monotonic activation "
        f"({'/'.join(config.headline_excludes) or 'none'} aside: piecewise constant), and {crit.headline_activation}+{crit.headline_loss}; violation: L(mid) > chord + {crit.abs_tol:g} + "
        f"{crit.rel_tol:g}*|L|, spans {SPANS} on a {config.points_per_line}-point grid; monotonic: min f'(x) >= "
        f"-{crit.monotone_tol:g} on [-{crit.monotone_range:g}, {crit.monotone_range:g}]; 'no violations' where the upper "
        f"bound < {crit.holds_below:g}; the claim from its parts (R2)"
    )
    return Decision(parts=parts, statement=statement, criterion=criterion, key=0)


CLAIMS = (c3,)

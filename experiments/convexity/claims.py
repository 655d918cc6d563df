"""Claim C3: "when the activation is monotonic, a single-layer network is guaranteed to be convex".

A pure function of the table ``violation_rates`` of :mod:`.measure` and the config's criteria.
The claim is universal, so one monotonic activation x loss whose violation rate is surely above
``nonconvex_rate_lo`` refutes it, however many others hold. The R2 aggregate of per-combination
parts would call that ``qualified``; C3 therefore keeps the rule of revision 1 as a single part
(refuted if some monotonic combination is non-convex, else supported) whose number is the
headline combination's violation rate and Wilson 95% CI.
"""

from __future__ import annotations

from experiments.kit.claim import Decision, claim, part

from .figures import example_line, violation_rates
from .measure import SPANS


def _headline(broken, mono_rows, config):
    """The combination the key number reports: the worst non-convex one that is not in
    ``config.headline_excludes`` (a differentiable counter-example), else the worst monotonic one."""
    if not len(broken):
        return mono_rows.sort_values("rate", ascending=False).iloc[0]
    smooth = broken[~broken.activation.isin(list(config.headline_excludes))]
    return (smooth if len(smooth) else broken).sort_values("rate", ascending=False).iloc[0]


@claim("C3", reads=("violation_rates",), figure=(violation_rates, example_line), evidence="violation_rates.png")
def c3(t, config) -> Decision:
    """Monotonic activations give a convex single-layer loss; refuted by any monotonic non-convex combination."""
    crit, table = config.criteria.c3, t.violation_rates
    mono_rows = table[table.monotonic]
    broken = mono_rows[mono_rows.rate_lo > crit.nonconvex_rate_lo]
    holds = table[table.rate_hi < crit.holds_below]
    holds_txt = ", ".join(f"{r.activation}+{r.loss}" for r in holds.itertuples()) or "none"
    worst_row = _headline(broken, mono_rows, config)
    if len(broken):
        counter = "; ".join(
            f"{r.activation}+{r.loss} {r.rate:.3f} [{r.rate_lo:.3f}, {r.rate_hi:.3f}]" for r in broken.itertuples()
        )
        statement = (
            f"Refuted as stated: monotonic activations whose single-layer loss violates midpoint "
            f"convexity along random lines (violation rate, Wilson 95% CI): {counter}. "
            f"No violations beyond tolerance (upper CI < {crit.holds_below}) for: {holds_txt}. "
            f"Monotonicity of f does not make L(f(Wx+b)) convex; what matters is the composition "
            f"of f with the loss (e.g. identity + softmax cross-entropy is convex)."
        )
        statement += f" Headline value: {worst_row.activation}+{worst_row.loss}."
    else:
        statement = f"No monotonic activation showed midpoint-convexity violations; no violations for: {holds_txt}."
    verdict = "refuted" if len(broken) else "supported"
    p = part(
        "some monotonic activation x loss is non-convex", verdict, worst_row.rate, (worst_row.rate_lo, worst_row.rate_hi),
        config.seeds, "fraction of random lines violating midpoint convexity",
        f"{worst_row.activation}+{worst_row.loss}, {int(worst_row.lines)} lines over {config.seeds} seeds (Wilson 95% CI)",
        threshold="criteria.c3.nonconvex_rate_lo", side="<=",
    )
    return Decision(
        parts=[p],
        statement=statement + f" Part: {p.part}: {p.verdict}.",
        criterion=(
            f"refuted if some monotonic activation x loss has a Wilson 95% lower bound of its violation "
            f"rate > {crit.nonconvex_rate_lo} (violation: L(mid) > chord + {crit.abs_tol} + "
            f"{crit.rel_tol}*|L|, spans {SPANS} on a {config.points_per_line}-point grid; monotonic: min f'(x) >= "
            f"-{crit.monotone_tol:g} on [-{crit.monotone_range:g}, {crit.monotone_range:g}]; 'no violations' reported "
            f"where the upper bound < {crit.holds_below:g}); one part, as revision 1: a single counter-example refutes"
        ),
    )


CLAIMS = (c3,)

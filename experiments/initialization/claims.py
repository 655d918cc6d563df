"""Claims G1 and G2: naive inits vanish or explode, Xavier keeps tanh steady, ReLU needs He's scale.

Each claim is a pure function of the tables of :mod:`.measure` / :mod:`.measure_train` and the
config's criteria. G1 keeps its legacy rule as one part (see :func:`g1`); G2 is decided part by part.
"""

from __future__ import annotations

from experiments.kit import stats, verdicts
from experiments.kit.claim import Decision, claim, part

from .figures import he_deep_relu, histograms, jacobian, profile_layers
from .measure import _category

_BROKEN = {"vanishes", "explodes", "non-finite"}


def _statuses(slopes, keys, crit) -> dict:
    """(activation status, gradient status) of each (activation, init), from the slopes and the criteria."""
    return {k: (_category(slopes.loc[k].slope_act_var, crit), _category(slopes.loc[k].slope_grad_var, crit))
            for k in keys}


def _worst(slopes, keys) -> tuple[tuple[str, str], str]:
    """The case with the largest |slope| and which of its two slopes it is ("act" or "grad")."""
    worst = max(keys, key=lambda k: max(abs(slopes.loc[k].slope_act_var), abs(slopes.loc[k].slope_grad_var)))
    w = slopes.loc[worst]
    return worst, "grad" if abs(w.slope_grad_var) > abs(w.slope_act_var) else "act"


def _g1_cases(t, config) -> dict:
    """The naive and Xavier cases of G1 with their statuses, decided from the slopes and the criteria."""
    crit = config.criteria.g1
    slopes = t.profile_slopes.set_index(["activation", "init"])
    acts_ = list(dict.fromkeys(t.profile_slopes["activation"]))
    naive = [(a, i) for a in acts_ for i in crit.naive_inits if (a, i) in slopes.index]
    xav = [(a, i) for a in acts_ for i in crit.steady_inits if (a, i) in slopes.index]
    status = _statuses(slopes, naive + xav, crit)
    broken = {k: bool(_BROKEN & set(s)) for k, s in status.items()}
    derived = [k for k in xav if k[0] == crit.derived_for]
    return {"slopes": slopes, "naive": naive, "xav": xav, "status": status, "broken": broken,
            "naive_ok": bool(naive) and all(broken[k] for k in naive),
            "all_steady": bool(xav) and all(status[k] == ("steady", "steady") for k in xav),
            "partly": bool(derived) and all(not broken[k] for k in derived)}


def _g1_statement(c: dict, config) -> str:
    crit = config.criteria.g1
    slopes, status, naive, xav = c["slopes"], c["status"], c["naive"], c["xav"]

    def fmt(k):
        r = slopes.loc[k]
        return f"{k[0]}+{k[1]}: act {r.slope_act_var:+.2f} ({status[k][0]}), grad {r.slope_grad_var:+.2f} ({status[k][1]})"

    naive_fail = [k for k in naive if not c["broken"][k]]
    xav_fail = [k for k in xav if status[k] != ("steady", "steady")]
    n_seeds = int(slopes.loc[_worst(slopes, xav)[0]].n_seeds)
    return (
        f"Per-layer ln-variance slopes (nats/layer, forwards for activations, backwards for gradients; "
        f"{config.profile.width} units, {n_seeds} seeds). Naive inits: {'; '.join(fmt(k) for k in naive)}. "
        f"Xavier: {'; '.join(fmt(k) for k in xav)}. "
        + ("Every naive case vanishes or explodes. " if not naive_fail else
           "Counter-example(s) to the first half, neither vanishing nor exploding: "
           + ", ".join(f"{a}+{i}" for a, i in naive_fail) + ". ")
        + ("Xavier keeps every case steady." if not xav_fail else
           "Not steady under Xavier: " + ", ".join(f"{a}+{i}" for a, i in xav_fail) + "; for "
           + f"{crit.derived_for} (what Xavier was derived for) it "
           + ("avoids exponential vanishing/explosion (drifts only)." if c["partly"] else "still vanishes/explodes."))
    )


@claim("G1", reads=("profile_slopes",), figure=(profile_layers, histograms, jacobian), evidence="profile_slopes.csv")
def g1(t, config) -> Decision:
    """G1: naive inits vanish/explode (activations or gradients); Xavier keeps both steady.

    One part carrying the legacy rule: refuted as soon as a naive init neither vanishes nor explodes,
    whatever Xavier does, which R2's aggregation of per-half or per-case parts cannot express.
    """
    crit, c = config.criteria.g1, _g1_cases(t, config)
    verdict = verdicts.decide(c["naive_ok"] and c["all_steady"], qualified=c["naive_ok"] and c["partly"])
    (act, init), q = _worst(c["slopes"], c["xav"])
    w = c["slopes"].loc[(act, init)]
    quantity = "gradients dL/dh (backwards)" if q == "grad" else "activations (forwards)"
    key = part("naive inits vanish/explode and Xavier keeps both steady", verdict, w[f"slope_{q}_var"],
               (w[f"slope_{q}_var_lo"], w[f"slope_{q}_var_hi"]), int(w.n_seeds), unit="nats/layer (slope of ln Var)",
               condition=f"worst Xavier case {act}+{init}, {quantity}, {config.profile.width} units; "
                         "legacy rule on the means over seeds (one part)")
    return Decision(
        parts=[key],
        statement=_g1_statement(c, config),
        criterion=(f"slope s of ln Var per layer: steady |s|<={crit.steady:g}, vanish/explode |s|>={crit.vanish_explode:g}"
                   f" (mean over seeds); supported iff every naive init ({', '.join(crit.naive_inits)}) vanishes/"
                   f"explodes in activations or gradients for every activation and Xavier is steady in both for "
                   f"every activation; qualified iff naive holds and Xavier avoids vanish/explode for "
                   f"{crit.derived_for}"),
        published=config.published.glorot_jacobian_source,
    )


def _ratio_part(ratios, init: str, predicted: float, config):
    """G2 (a): the measured per-layer ratio within rel_tol of the prediction (legacy: on the mean)."""
    crit = config.criteria.g2
    r = ratios.loc[init]
    est = stats.Estimate(r.preact_sq_ratio_per_layer, r.preact_sq_ratio_per_layer_lo, r.preact_sq_ratio_per_layer_hi,
                         int(r.n_seeds))
    ok = abs(est.mean / predicted - 1) <= crit.rel_tol
    return est, part(f"{crit.activation}+{init} ratio = {predicted:g}", "supported" if ok else "refuted", est.mean,
                     (est.lo, est.hi), est.n, unit="E[h_(l+1)^2]/E[h_l^2] per hidden layer",
                     condition=f"{crit.activation} + {init} at init, hidden-to-hidden layers, {config.profile.width} "
                               f"units; |mean/{predicted:g} - 1| <= {crit.rel_tol:g}")


def _stall_parts(he, config) -> tuple[list, str]:
    """G2 (b): at the deepest depth Xavier stalls (mean loss drop < stall_drop) and He does not."""
    drop, (xl, hl), act = config.criteria.he.stall_drop, config.he.labels, config.he.activation
    tab = he.set_index(["depth", "init"])
    deepest = max(he["depth"]) if len(he) else None
    if deepest is None or (deepest, xl) not in tab.index or (deepest, hl) not in tab.index:
        return [part("He et al.'s deep-net stall", "inconclusive", unit="loss drop", condition="not measured")], ""
    x, h = tab.loc[(deepest, xl)], tab.loc[(deepest, hl)]
    xs, hs = bool(x.loss_drop < drop), bool(h.loss_drop < drop)

    def one(r, label, verdict, side):
        return part(f"{deepest}-layer {act} MLP, {label} {'stalls' if side == '<' else 'trains'}", verdict, r.loss_drop,
                    (r.loss_drop_lo, r.loss_drop_hi), int(r.n_seeds), unit="loss drop / initial training loss",
                    condition=f"{label} init ({r.weights}), plain SGD, best lr {r.best_learning_rate:g}; "
                              f"stalls iff mean drop < {drop:g}", threshold="criteria.he.stall_drop", side=side)

    note = (f" {deepest}-layer ReLU MLP, plain SGD, best lr each: loss drop Xavier {x.loss_drop:.2f} "
            f"[{x.loss_drop_lo:.2f}, {x.loss_drop_hi:.2f}] ({'stalls' if xs else 'trains'}), He "
            f"{h.loss_drop:.2f} [{h.loss_drop_lo:.2f}, {h.loss_drop_hi:.2f}] "
            f"({'stalls' if hs else 'trains'}); He et al.'s stall "
            f"{'reproduced' if xs and not hs else 'not reproduced'}.")
    return [one(x, xl, "supported" if xs else "refuted", "<"), one(h, hl, "refuted" if hs else "supported", ">=")], note


@claim("G2", reads=("g2_ratios", "he_summary"), figure=he_deep_relu, evidence="g2_ratios.csv",
       criteria=("criteria.g2", "criteria.he"))
def g2(t, config) -> Decision:
    """G2: relu+Xavier E[h^2] ratio per layer ~0.5, relu+He ~1 (a); the deep-net stall of He et al. (b)."""
    crit = config.criteria.g2
    ratios = t.g2_ratios.set_index("init")
    xavier_init, he_init = crit.inits
    ex, px = _ratio_part(ratios, xavier_init, crit.xavier_ratio, config)
    eh, ph = _ratio_part(ratios, he_init, crit.he_ratio, config)
    stall, note = _stall_parts(t.he_summary, config)
    act = crit.activation
    return Decision(
        parts=[px, ph, *stall],
        statement=(f"Per-layer ratio E[h_(l+1)^2]/E[h_l^2] (hidden-to-hidden, {config.profile.width} units): {act}+Xavier "
                   f"{ex} (predicted {crit.xavier_ratio}), {act}+He {eh} (predicted {crit.he_ratio})." + note),
        criterion=(f"|ratio/predicted - 1| <= {crit.rel_tol:g} (on the mean over seeds) for both inits, predicted "
                   f"{crit.xavier_ratio:g} for {act} + {xavier_init} and {crit.he_ratio:g} for {act} + {he_init}, and at "
                   f"the deepest depth Xavier stalls (mean loss drop < {config.criteria.he.stall_drop:g}) while He "
                   "does not; ratios alone -> qualified"),
        published=config.published.he_source,
    )


CLAIMS = (g1, g2)

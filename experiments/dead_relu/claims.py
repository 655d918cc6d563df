"""Claims F1-F4 and G3: dead ReLU units, their causes and remedies, leaky variants, born-dead nets.

Each claim is a pure function of the tables (:mod:`.measure`, :mod:`.measure_g3`, :mod:`.derive`)
and the config's criteria; the numbers they share are in :mod:`.numbers`.
"""

from __future__ import annotations

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, compare, part

from . import numbers
from .derive import XAVIER, optimizer_remedy, sel
from .figures import f1_dead_over_training, f2_dead_vs_lr, f3_optimisers, f4_leaky, g3_born_dead
from .measure_g3 import lu_bound

DEAD = "fraction of hidden units dead after training"


@claim("F1", reads=("runs", "f2_dead_vs_lr"), figure=(f2_dead_vs_lr, f1_dead_over_training), evidence="f2_dead_vs_lr.png")
def f1(t, config) -> Decision:
    """ReLU units die during training (a) and stay dead (b)."""
    crit = config.criteria.f1
    best, dead, rev, n_rev = numbers.f1_numbers(t, config)
    cell = f"{best['dataset']}, {best['init']}, SGD, lr={best['learning_rate']:.3g}"
    dies = compare("ReLU units die", dead, config, "criteria.f1.min_dead", ">=", unit=DEAD,
                   condition=f"{cell} (the ReLU + SGD cell with the largest dead fraction)")
    stays = compare("dead units stay dead", rev, config, "criteria.f1.max_revival", "<=",
                    unit="fraction of units dead at a check that are alive at a later one",
                    condition=f"{n_rev} non-diverged ReLU runs with dead units (every optimiser), pooled")
    statement = (
        f"ReLU units die: up to {dead.mean:.1%} of hidden units (CI {dead.lo:.1%}-{dead.hi:.1%}) output 0 on the whole "
        f"training set after training ({best['dataset']}, {best['init']}, SGD, lr={best['learning_rate']:.3g}); of units "
        f"dead at some check, a mean {rev.mean:.1%} (CI {rev.lo:.1%}-{rev.hi:.1%}, {n_rev} ReLU runs with dead units) "
        "are alive at a later check."
    )
    return Decision(
        parts=[dies, stays], statement=statement, key="ReLU units die",
        criterion=f"(a) max final dead fraction CI lo >= {crit.min_dead:g}; (b) revival CI hi <= {crit.max_revival:g}",
    )


@claim("F2", reads=("runs", "f2_dead_vs_lr"), figure=f2_dead_vs_lr)
def f2(t, config) -> Decision:
    """Init rarely kills ReLU units (a); a high learning rate does (b)."""
    crit = config.criteria.f2
    born, (ds, init, hi_lr, lo_lr, p) = numbers.f2_numbers(t, config)
    rare = compare("born dead at init", born, config, "criteria.f2.max_born_dead", "<=",
                   unit="fraction of hidden units dead at init", condition="ReLU + SGD runs, every init, data set and lr, pooled")
    lr = compare("high lr kills units", p.diff, config, "criteria.f2.min_lr_effect", ">=",
                 unit="dead fraction, high lr minus smallest lr (paired over seeds)",
                 condition=f"{ds}, {init}, SGD, lr {hi_lr:.3g} vs {lo_lr:.3g} (the largest increase)")
    statement = (
        f"Born-dead fraction at init (ReLU + SGD, all inits and data sets): {numbers.fmt(born)}; after SGD at a high "
        f"non-divergent lr the dead fraction rises by {numbers.fmt(p.diff)} over the smallest lr "
        f"({ds}, {init}, lr {hi_lr:.3g} vs {lo_lr:.3g}, paired over seeds): the learning rate dominates."
    )
    return Decision(
        parts=[rare, lr], statement=statement, key="high lr kills units",
        criterion=f"(a) born-dead CI hi <= {crit.max_born_dead:g}; (b) high-vs-low-lr paired increase CI lo >= "
        f"{crit.min_lr_effect:g}",
    )


def _remedy_part(t, config, label: str, name: str) -> object:
    """A remedy of F3: supported if it works, qualified if it helps somewhere, else refuted (legacy rule)."""
    works, some = numbers.remedy_works(t, label)
    rows = t.f3_remedies[t.f3_remedies["remedy"] == label]
    verdict = "supported" if works else ("qualified" if some else "refuted")
    where = "; ".join(f"{r.comparison} on {r.dataset}" for r in rows.itertuples()) or "no comparison in this run"
    return part(name, verdict, float(rows["n_learning_rates_helps"].sum()), n_seeds=config.seeds,
                unit="learning rates at which the dead fraction drops significantly (paired over seeds)",
                condition=f"{where}; raised at {int(rows['n_learning_rates_hurts'].sum())} lrs")


@claim("F3", reads=("f2_dead_vs_lr", "f3_remedies"), figure=f3_optimisers, evidence="f3_remedies.csv")
def f3(t, config) -> Decision:
    """Remedies lower the dead fraction: a smaller lr (a), Xavier init (b), the optimiser remedy (c)."""
    crit, n = config.criteria.f3, numbers.f3_numbers(t, config)
    small = part("smaller lr", "supported" if n["small_ok"] else "refuted", n["smallest"]["final_dead"].max(),
                 n_seeds=config.seeds, unit="largest mean dead fraction of a cell",
                 condition=f"ReLU + SGD cells at the smallest lr {n['smallest_lr']:.3g}")
    opt = config.roles.remedy_optimizer
    parts = [small, _remedy_part(t, config, XAVIER, "Xavier init"),
             _remedy_part(t, config, optimizer_remedy(opt), f"{opt} optimiser")]
    hurt = t.f3_remedies[t.f3_remedies["n_learning_rates_hurts"] > 0]
    xav = "reduces" if n["xav"] else ("partly reduces" if n["xav_some"] else "does not reduce")
    ada = "reduces" if n["opt"] else ("mixed" if n["opt_some"] else "does not reduce")
    statement = (
        f"Smaller lr: {'no' if n['small_ok'] else 'some'} ReLU/SGD cell has > {crit.dead_threshold:.0%} dead units at lr "
        f"{n['smallest_lr']:.3g}. Xavier vs naive init: {xav} the dead fraction at equal lr. Adagrad vs SGD at equal base "
        f"lr: {ada} it. Significant increases: "
        + ("; ".join(f"{r.comparison} on {r.dataset} at {r.hurts_at}" for r in hurt.itertuples()) or "none") + "."
    )
    return Decision(
        parts=parts, statement=statement,
        criterion=f"(a) at the smallest lr every ReLU/SGD cell's mean dead fraction <= {crit.dead_threshold:g}; "
        f"(b, c) Xavier init and {opt} each lower the final dead fraction significantly (paired over seeds) at >= 1 "
        "common non-divergent lr and raise it at none",
    )


@claim("F4", reads=("runs", "f4_leaky"), figure=f4_leaky)
def f4(t, config) -> Decision:
    """Leaky ReLU, PReLU and ELU units do not die (one part each), where ReLU's do (power)."""
    crit, n = config.criteria.f4, numbers.f4_numbers(t, config)
    parts, clean = [], []
    for act, g in n["cells"].groupby("activation"):
        w = g.loc[g["final_dead_hi"].idxmax()]
        est = stats.Estimate(w["final_dead"], w["final_dead_lo"], w["final_dead_hi"], int(w["n_seeds"]))
        parts.append(compare(f"{act} units do not die", est, config, "criteria.f4.max_dead", "<=",
                             unit="fraction of units with |phi'| <= grad_tol on the whole training set",
                             condition=f"{w['dataset']}, {w['optimizer']}, {w['init']}, lr {w['learning_rate']:.3g} "
                             "(its cell with the largest CI hi; every non-divergent cell)"))
        clean += [act] if parts[-1].verdict == "supported" else []
    power = n["relu_max"] >= crit.relu_min_dead
    parts.append(part("ReLU dies in the same cells (power)", "supported" if power else "inconclusive", n["relu_max"],
                      n_seeds=config.seeds, unit=DEAD, condition="largest mean over the variants' non-divergent cells"))
    mx, e = n["largest"], n["estimate"]
    statement = (
        f"Largest zero-gradient fraction (|phi'| <= tol on the whole training set) among Leaky ReLU/PReLU/ELU: "
        f"{numbers.fmt(e)} ({mx['activation']}, {mx['optimizer']}, {mx['init']}, lr {mx['learning_rate']:.3g}); ReLU in "
        f"the same cells reaches {n['relu_max']:.1%}. Up to {n['negative_only']:.1%} of their units sit on the negative "
        f"branch on every example (alive only through the small slope). Within the threshold: {', '.join(clean) or 'none'}."
        + ("" if power else " ReLU itself did not die here, so the test has no power.")
    )
    return Decision(
        parts=parts, statement=statement, key=f"{mx['activation']} units do not die",
        criterion=f"every leaky variant's dead-fraction CI hi <= {crit.max_dead:g} in every non-divergent cell, "
        f"while ReLU reaches >= {crit.relu_min_dead:g} (else no power: inconclusive part)",
    )


@claim("G3", reads=("g3_born_dead", "g3_abs_fit", "runs", "f2_dead_vs_lr"), figure=g3_born_dead)
def g3(t, config) -> Decision:
    """Deep narrow ReLU nets are often born dead (a), within Lu et al.'s bound (b); init is the rarer cause (c)."""
    crit, born, fit = config.criteria.g3, t.g3_born_dead, t.g3_abs_fit.iloc[0]
    row = sel(born, width=crit.narrow_width, depth=crit.narrow_depth)
    p = float(row["born_dead"].iloc[0]) if len(row) else float("nan")
    lo, hi = (float(row["born_dead_lo"].iloc[0]), float(row["born_dead_hi"].iloc[0])) if len(row) else (float("nan"),) * 2
    n_init = int(row["n_seeds"].iloc[0]) if len(row) else 0
    narrow = f"width {crit.narrow_width}, depth {crit.narrow_depth}, He init"
    within = bool((born["born_dead_lo"] <= born["lu_bound"] + 1e-12).all())
    f2_born, high = numbers.f2_numbers(t, config)[0].mean, numbers.high_lr_dead(t, config)
    parts = [
        compare("deep narrow nets born dead", stats.Estimate(p, lo, hi, n_init), config, "criteria.g3.min_narrow_p", ">=",
                unit="P(net born dead)", condition=f"{narrow}, {n_init} independent initialisations"),
        part("within Lu et al.'s bound", "supported" if within else "refuted",
             float((born["born_dead_lo"] - born["lu_bound"]).max()), n_seeds=n_init,
             unit="largest CI lo minus the bound", condition="every width and depth of g3_born_dead"),
        part("born death rarer than high-lr death", "supported" if p < high else "refuted", p, (lo, hi), n_init,
             unit="P(net born dead)", condition=f"{narrow}, against up to {high:.1%} dead after high-lr SGD (width-128 MLPs)"),
    ]
    n, k = int(fit["n_seeds"]), int(fit["n_collapsed"])
    collapse = stats.proportion_ci(k, n)
    statement = (
        f"Deep narrow ReLU nets are born dead often: P = {p:.3f} [{lo:.3f}, {hi:.3f}] at width {crit.narrow_width}, "
        f"depth {crit.narrow_depth} (Lu et al.'s bound {lu_bound([crit.narrow_width] * (crit.narrow_depth - 1)):.3f}; "
        f"{'bound respected at every width and depth' if within else 'measured P significantly above the bound somewhere'}), "
        f"whereas the width-128 MLPs of F2 have {f2_born:.2%} born-dead units against up to {high:.1%} dead after "
        f"high-lr SGD. |x| fit: {collapse.mean:.1%} [{collapse.lo:.1%}, {collapse.hi:.1%}] of {n} width-2 depth-10 nets "
        "collapse to a constant (published: > 90%). Init death is the rarer cause only in wide nets."
    )
    return Decision(
        parts=parts, statement=statement, key="deep narrow nets born dead",
        criterion=f"(a) P(born dead) CI lo >= {crit.min_narrow_p:g} at width {crit.narrow_width:g} depth "
        f"{crit.narrow_depth:g}; (b) within Lu's bound; (c) rarer than high-lr death in every net",
        published="Lu et al. 2019: bound 0.925/0.70/0.25/0.009 at depth 10, widths 2/3/5/10; "
        "> 90% collapse of width-2 depth-10 nets on |x|",
    )


CLAIMS = (f1, f2, f3, f4, g3)

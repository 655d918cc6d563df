"""Claims F1-F4 and G3: dead ReLU units, their causes and remedies, leaky variants, born-dead nets.

Each claim is a pure function of the tables (:mod:`.measure`, :mod:`.measure_g3`, :mod:`.derive`)
and the config; every number that decides comes from the *decide* seeds (new seeds at the lrs the
locate stage picked), and where the claim is about training, from the runs that learned (R8).
"""

from __future__ import annotations

import numpy as np

from experiments.kit import stats
from experiments.kit.claim import Decision, claim, compare, on_interval, part

from . import numbers
from .derive import sel
from .figures import f1_dead_over_training, f2_dead_vs_lr, f3_remedies, f4_leaky, g3_born_dead

DEAD = "fraction of hidden units dead at each of the last checks (permanently dead), seeds that learned"


@claim("F1", reads=("cells", "selected", "cs231n_40_percent"), figure=(f1_dead_over_training, f2_dead_vs_lr),
       evidence="f1_dead_over_training.png")
def f1(t, config) -> Decision:
    """ReLU units die in nets that learn (a, per arm at its edge lr); under SGD dead units stay dead (b)."""
    crit, roles = config.criteria, config.roles
    parts, dies, stays, runs3, apart = [], [], [], [], []
    for arm, cell in numbers.edge_cells(t, config, init=roles.init):
        if arm.optimizer in roles.f1_apart:
            apart.append(f"{arm.optimizer} ({arm.dataset}) " + (f"{cell['dead']:.1%} [{cell['dead_lo']:.1%}, {cell['dead_hi']:.1%}] "
                         f"at lr {cell['learning_rate']:g}, {int(cell['n_seeds'])} seeds learned, train acc "
                         f"{cell['learned_train_acc']:.2f}" if cell is not None and cell["n_seeds"] else "no edge lr"))
            continue
        dies.append(numbers.fraction_part(f"units die: {arm.dataset}, {arm.optimizer}", cell, config, "criteria.f1.min_dead",
                                          ">=", DEAD, numbers.edge_condition(arm, cell, config)))
        parts.append(dies[-1])
        if arm.optimizer == roles.optimizer and cell is not None:
            est = stats.Estimate(cell["revival"], cell["revival_lo"], cell["revival_hi"], int(cell["n_seeds_revival"]))
            stays.append(compare(f"dead units stay dead: {arm.dataset}, {arm.optimizer}", est, config,
                                 "criteria.f1.max_revival", "<=", unit="units dead at a check and alive at a later one, "
                                 "over units dead at a check before the last (unit-weighted; seeds with dead units)",
                                 condition=f"{numbers.edge_condition(arm, cell, config)}; {int(cell['n_dead_units'])} "
                                 f"dead units; {numbers.n_checks(config)} checks"))
            parts.append(stays[-1])
            runs3.append(f"{arm.dataset} {cell['revival_run']:.1%} [{cell['revival_run_lo']:.1%}, {cell['revival_run_hi']:.1%}] "
                         f"of {int(cell['n_dead_run_units'])} units" if cell["n_dead_run_units"] else f"{arm.dataset}: no such unit")
    cs = t.cs231n_40_percent
    big, net = cs.iloc[0], cs.iloc[1]
    statement = (
        "(a) " + "; ".join(numbers.say(p) for p in dies) + ". (b) " + ("; ".join(numbers.say(p) for p in stays) or "no SGD arm")
        + f". Units dead at {crit.f1.last_checks} consecutive checks that revive later (not decided, a sensitivity check): "
        + ("; ".join(runs3) or "none")
        + f". Reported apart (they move zero-gradient weights): dead at the edge lr {'; '.join(apart) or 'none'}; "
        "their revival is in f1_revival.csv. "
        f"Beside CS231n's 'as much as {config.published.cs231n_dead_fraction:.0%}': the largest dead fraction in nets that "
        f"learned is {big['dead']:.1%} [{big['dead_lo']:.1%}, {big['dead_hi']:.1%}] ({big['dataset']}, {big['optimizer']}, "
        f"{big['init']}, lr {big['learning_rate']:g}, train accuracy {big['train_acc']:.2f}, {int(big['n_seeds'])} seeds); "
        f"single net {net['dead']:.1%} (train accuracy {net['train_acc']:.2f})."
    )
    return Decision(
        parts=parts, statement=statement,
        criterion=f"(a) per He arm (not {', '.join(roles.f1_apart)}) at its edge lr (the largest lr at which >= {crit.learned_share:g} of the locate seeds "
        f"learn), permanently dead (last {crit.f1.last_checks:g} checks) fraction CI lo >= {crit.f1.min_dead:g} over the "
        f"decide seeds that learned (>= {crit.min_learned:g}); (b) SGD: unit-weighted revival CI hi <= "
        f"{crit.f1.max_revival:g}",
    )


@claim("F2", reads=("cells", "selected", "runs", "locate_runs"), figure=f2_dead_vs_lr,
       revised_by="R8, R3; DECISIONS.md F2 row: the lr effect from nets that learn (edge vs low lr, paired, new "
       "seeds): ~0.10 on mnist1d (CI straddles 0.10), none on Fashion-MNIST; revision 1 read it off a net at chance")
def f2(t, config) -> Decision:
    """Init rarely kills ReLU units (a, He/Xavier); a high learning rate is the main cause (b)."""
    crit, roles = config.criteria, config.roles
    rare, lr, parts = [], [], []
    f2_arms = numbers.arms(t, config, optimizer=roles.optimizer, inits=roles.f2_inits)
    for arm in sorted(f2_arms, key=lambda a: (a.dataset != roles.f3_dataset, a.init != roles.init)):
        est, n_units = numbers.born_dead(t, config, arm)
        rare.append(compare(f"born dead: {arm.dataset}, {arm.init}", est, config, "criteria.f2.max_born_dead", "<=",
                            unit="fraction of hidden units dead at init (bootstrap over independent draws)",
                            condition=f"{arm.dataset}, {arm.init}, ReLU; {est.n} draws x {n_units} units"))
        lr.append(numbers.lr_effect_part(t, config, arm))
        parts += [lr[-1], rare[-1]]
    naive = "; ".join(f"{a.init}: {a.edge_dead:.1%} at its edge lr {a.edge_learning_rate:g}" if np.isfinite(a.edge_learning_rate)
                      else f"{a.init}: no lr at which its nets learn" for a in numbers.arms(
                          t, config, optimizer=roles.optimizer, inits=roles.naive_inits))
    statement = ("(a) " + "; ".join(numbers.say(p) for p in rare) + ". (b) " + "; ".join(numbers.say(p) for p in lr)
                 + f". Naive inits apart (locate seeds, learned): {naive or 'not run'}.")
    return Decision(
        parts=parts, statement=statement,
        criterion=f"(a) born-dead fraction CI hi <= {crit.f2.max_born_dead:g} per He/Xavier arm (independent draws); "
        f"(b) dead fraction at the edge lr minus at the low lr, paired over decide seeds that learned at both, CI lo >= "
        f"{crit.f2.min_lr_effect:g}",
    )


@claim("F3", reads=("f3_pairs",), figure=f3_remedies, evidence="f3_pairs.csv")
def f3(t, config) -> Decision:
    """Remedies lower the dead fraction: a smaller lr (a), Xavier init (b), Adagrad (c), at matched quality."""
    crit, pairs = config.criteria.f3, t.f3_pairs
    parts = []
    for r in pairs[pairs["in_family"]].itertuples():
        est = stats.Estimate(r.drop, r.drop_lo, r.drop_hi, int(r.n_seeds))
        cond = (f"{r.dataset}: {r.baseline} (train acc {r.acc_baseline:.2f}) minus {r.treated} (train acc "
                f"{r.acc_treated:.2f}); {r.confidence:.3g} interval" + (f"; {r.note}" if isinstance(r.note, str) and r.note else "")
                if isinstance(r.baseline, str) else f"{r.dataset}: {r.note}")
        parts.append(compare(f"{r.remedy}: {r.comparison}", est, config, "criteria.f3.min_drop", ">=",
                             unit="drop in permanently dead fraction (paired over decide seeds that learned in both)",
                             condition=cond))
    level = float(pairs["confidence"].iloc[0]) if len(pairs) else float("nan")
    statement = (f"(a) the best lr against its multiples; (b, c) each arm at its own best lr, so at matched training "
                 f"quality (train accuracies in the parts' conditions); {level:.3g} intervals over the {len(parts)} "
                 "comparisons: " + "; ".join(numbers.say(p) for p in parts) + ".")
    return Decision(
        parts=parts, statement=statement,
        criterion=f"each remedy lowers the permanently dead fraction by >= {crit.min_drop:g} (paired CI lo; Bonferroni "
        f"intervals at 1 - {crit.family_alpha:g}/m over the m family comparisons): smaller lr = best lr vs "
        f"{crit.lr_factors[0]:g}x and {crit.lr_factors[1]:g}x best; Xavier vs each naive init and Adagrad vs SGD, each at "
        "its own best lr",
    )


@claim("F4", reads=("cells", "selected"), figure=f4_leaky,
       revised_by="R3; DECISIONS.md F4 row: units stuck on the negative branch for every example, in cells where "
       "ReLU's units die (power); revision 1's zero-gradient test could never fire for the variants")
def f4(t, config) -> Decision:
    """Leaky ReLU, PReLU and ELU units do not get stuck where ReLU's die (one part per variant)."""
    crit, roles = config.criteria, config.roles
    power, refs = numbers.f4_power_cells(t, config)
    parts = [numbers.f4_variant_part(t, config, act, power, refs) for act in roles.variants]
    statement = (
        "ReLU in F4's cells: " + "; ".join(f"{c['optimizer']} lr {c['learning_rate']:g}: {c['dead']:.1%} [{c['dead_lo']:.1%}, "
                                             f"{c['dead_hi']:.1%}]" for c in refs)
        + (f" (power in {len(power)} cell(s))" if power else " (no cell where ReLU's units die: no power)")
        + ". " + "; ".join(numbers.say(p) for p in parts) + ". Every variant in every power cell: "
        + numbers.f4_cell_summary(t, config, power) + "."
    )
    return Decision(
        parts=parts, statement=statement,
        criterion=f"per variant, stuck fraction (pre-activation <= 0 on every training example at each of the last "
        f"{crit.f1.last_checks:g} checks, finite seeds) CI hi <= {crit.f4.max_stuck:g} in every F4 cell (one grid step "
        f"below the edge lr of the {', '.join(roles.f4_optimizers)} He arms) where ReLU's dead fraction CI lo >= "
        f"{crit.f4.relu_min_dead:g}; no such cell: inconclusive (no power)",
    )


@claim("G3", reads=("g3_born_dead", "g3_abs_fit", "cells", "selected", "runs"), figure=g3_born_dead)
def g3(t, config) -> Decision:
    """Deep narrow nets are born dead within Lu et al.'s bound (a); in wide nets init is the rarer cause (b)."""
    crit, born, fit = config.criteria.g3, t.g3_born_dead, t.g3_abs_fit.iloc[0]
    bound_parts, untestable = [], []
    for width, g in born.groupby("width"):
        n = g["n_seeds"]
        g = g[(n * g["lu_bound"] >= crit.min_expected) & (n * (1 - g["lu_bound"]) >= crit.min_expected)]
        if len(g) == 0:
            untestable.append(str(width))
            continue
        v = np.array([on_interval(r.born_dead_lo, r.born_dead_hi, r.lu_bound, "<=") for r in g.itertuples()])
        order = {"refuted": 0, "inconclusive": 1, "supported": 2}
        g = g.assign(verdict=v, margin=g["lu_bound"] - g["born_dead_hi"]).sort_values(["margin"])
        r = g.iloc[int(np.argmin([order[x] for x in g["verdict"]]))]
        bound_parts.append(part(f"within Lu et al.'s bound: width {width}", r["verdict"], r["born_dead"],
                                (r["born_dead_lo"], r["born_dead_hi"]), int(r["n_seeds"]), unit="P(net born dead) (Wilson)",
                                condition=f"He init, zero biases; deciding depth {int(r['depth'])} (bound {r['lu_bound']:.3g}) "
                                f"of {len(g)} testable depths ({int(g['depth'].min())}-{int(g['depth'].max())}); "
                                f"{int((g['verdict'] == 'supported').sum())} with CI hi <= bound, "
                                f"{int((g['verdict'] == 'refuted').sum())} with CI lo > bound"))
    rarer = [numbers.g3_rarer_part(t, config, arm) for arm in numbers.arms(t, config, optimizer=config.roles.optimizer,
                                                                            inits=(config.roles.init,))]
    row = sel(born, width=2, depth=10)
    p = row.iloc[0] if len(row) else None
    collapse = stats.Estimate(fit["collapsed"], fit["collapsed_lo"], fit["collapsed_hi"], int(fit["n_seeds"]))
    statement = (
        "(a) " + "; ".join(numbers.say(q) for q in bound_parts)
        + (f" (width {', '.join(untestable)}: the bound is below {crit.min_expected:g}/n at every depth, untestable)"
           if untestable else "")
        + (f" (width 2, depth 10: P = {p['born_dead']:.3f} [{p['born_dead_lo']:.3f}, {p['born_dead_hi']:.3f}], bound "
           f"{p['lu_bound']:.3f})" if p is not None else "")
        + ". (b) " + "; ".join(numbers.say(q) for q in rarer)
        + f". Beside Lu et al.: |x| fit collapses in {collapse.mean:.1%} [{collapse.lo:.1%}, {collapse.hi:.1%}] of "
        f"{collapse.n} width-2 depth-10 nets (published: > {config.published.lu_collapse_fraction:.0%} of 1,000)."
    )
    return Decision(
        parts=bound_parts + rarer, statement=statement, published=config.published.lu,
        criterion=f"(a) per width, P(born dead) Wilson CI hi <= Lu et al.'s bound at every depth where n x bound >= "
        f"{crit.min_expected:g} and n x (1 - bound) >= {crit.min_expected:g} (refuted where CI lo > bound); (b) permanently dead fraction after training at "
        f"the edge lr minus born-dead fraction at init, paired over decide seeds that learned, CI lo > {crit.min_gap:g}",
    )


CLAIMS = (f1, f2, f3, f4, g3)

"""Dead ReLU: causes, remedies, leaky variants and born-dead nets (claims F1, F2, F3, F4, G3).

Run: python -m experiments.dead_relu --config configs/dead_relu.py:smoke

Definitions (in code: :func:`experiments.kit.probes.dead_units`, :func:`dead_summary`):
- a unit is *dead* when it outputs exactly 0 on every example of the evaluation set, which here
  is the whole training set (Fashion-MNIST subsampled to 4096 examples, mnist1d's 4000), checked
  every ``log_every`` steps; for Leaky ReLU / PReLU / ELU (no hard zero) a unit is counted when
  its derivative max_n |phi'(h_n)| <= ``grad_tol`` on the whole set (no gradient reaches its
  incoming weights); for ReLU both definitions coincide;
- *born dead*: dead at step 0; *revived*: dead at one check and alive at a later one;
- a net is *born dead* (G3, Lu et al. 2019) when its output is constant over the input domain:
  some hidden layer is constant on a grid of ``n_points`` inputs covering [-sqrt3, sqrt3]^d.
"""

from __future__ import annotations

import dataclasses
import itertools

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections
import numpy as np
import optax
import pandas as pd

from experiments.kit import cli, data, models, perf, probes, results, stats, train, verdicts
from experiments.kit.config import ConfigError

NAME = "dead_relu"
SCALED = {"normal": 1.0, "small_normal": 0.01}  # small_normal = 0.01 x the same N(0,1) draw (paired)


# ----------------------------------------------------------------------------------------------
# Measurement logic (pure numpy on probe outputs; unit-tested on known cases)
# ----------------------------------------------------------------------------------------------
def dead_summary(dead: np.ndarray, diverged: np.ndarray) -> dict[str, np.ndarray]:
    """Dead fractions and revival from per-check dead masks (claims F1, F2).

    ``dead`` (R, T, L, U) booleans (check 0 = init); ``diverged`` (R, T). Returns per run:
    ``per_layer`` (R, T, L) dead fraction, ``overall`` (R, T), ``born`` (R,) dead fraction at
    init, ``final`` (R,), ``revival`` (R,) = units dead at some check and alive at a later one,
    over units dead at some check before the last (NaN when none), ``ever_dead`` (R,).
    A diverged run reads NaN from its divergence on (and its final/revival are NaN).
    """
    dead = np.asarray(dead, bool)
    bad = np.asarray(diverged, bool)
    per_layer = dead.mean(-1).astype(float)
    per_layer = np.where(bad[..., None], np.nan, per_layer)
    overall = dead.reshape(*dead.shape[:2], -1).mean(-1).astype(float)
    overall = np.where(bad, np.nan, overall)
    later_alive = np.flip(np.logical_or.accumulate(np.flip(~dead, 1), 1), 1)  # alive at t' >= t
    later_alive = np.concatenate([later_alive[:, 1:], np.zeros_like(later_alive[:, :1])], 1)  # t' > t
    dead_before_last = dead[:, :-1].any(1)  # (R, L, U)
    revived = (dead & later_alive).any(1)
    n_dead = dead_before_last.reshape(len(dead), -1).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        revival = np.where(n_dead > 0, revived.reshape(len(dead), -1).sum(-1) / n_dead, np.nan)
    run_bad = bad.any(1)
    return {
        "per_layer": per_layer,
        "overall": overall,
        "born": overall[:, 0],
        "final": np.where(run_bad, np.nan, overall[:, -1]),
        "revival": np.where(run_bad, np.nan, revival),
        "ever_dead": np.where(run_bad, np.nan, dead.any(1).reshape(len(dead), -1).mean(-1)),
    }


def lu_bound(widths_per_layer) -> float:
    """Lu et al. (2019) upper bound on P(born dead): 1 - prod_l (1 - 2^-N_l) over hidden layers."""
    n = np.asarray(widths_per_layer, dtype=float)
    return float(1.0 - np.prod(1.0 - 0.5**n))


def born_dead_by_depth(layer_constant: np.ndarray) -> np.ndarray:
    """Net of depth L (L-1 hidden layers) is born dead iff some hidden layer < L-1 is constant.

    ``layer_constant`` (n_init, n_layers): every unit of the layer constant on the input grid.
    Returns (n_init, n_layers) where column k is depth k + 2 (k + 1 hidden layers).
    """
    return np.logical_or.accumulate(np.asarray(layer_constant, bool), axis=1)


# ----------------------------------------------------------------------------------------------
# F1-F4: training sweeps
# ----------------------------------------------------------------------------------------------
def _cells(config) -> list[tuple[str, str, str, str]]:
    cells = []
    for sweep in config.sweeps.values():
        for opt in sweep.optimizers:
            if opt not in train.OPTIMIZERS:
                raise ConfigError(f"unknown optimiser {opt!r}; valid: {', '.join(train.OPTIMIZERS)}")
        for cell in itertools.product(sweep.datasets, sweep.activations, sweep.optimizers, sweep.inits):
            if cell not in cells:
                cells.append(cell)
    return cells


def _groups(inits: list[str]) -> list[tuple[str, tuple[str, ...], tuple[float, ...]]]:
    """Compile groups: (model initializer, init names, weight scales)."""
    scaled = tuple(i for i in inits if i in SCALED)
    out = [("normal", scaled, tuple(SCALED[i] for i in scaled))] if scaled else []
    return out + [(i, (i,), (1.0,)) for i in inits if i not in SCALED]


def _load(name: str, config) -> data.Dataset:
    ds = data.load(name, n_train=config.n_train)
    return dataclasses.replace(ds, x_test=ds.x_test[: config.n_test], y_test=ds.y_test[: config.n_test])


def train_sweeps(config) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train every cell; return (runs table, per-layer-over-training table, data-set info)."""
    cells = _cells(config)
    seeds = list(range(config.seeds))
    lrs = [float(v) for v in config.learning_rates]
    tol = float(config.grad_tol)

    def probe(model, variables, x, y):
        d = probes.dead_units(model, variables, x, tol)
        return {"dead_out": d["zero_output"], "dead_grad": d["zero_grad"], "neg_only": d["never_positive"]}

    rows, layer_rows, info = [], [], []
    datasets = {}
    by_struct: dict[tuple, list[str]] = {}
    for ds, act, opt, init in cells:
        by_struct.setdefault((ds, act, opt), []).append(init)
    for (ds_name, act, opt), inits in by_struct.items():
        if ds_name not in datasets:
            datasets[ds_name] = _load(ds_name, config)
            d = datasets[ds_name]
            info.append({"dataset": ds_name, "n_train": len(d.x_train), "n_eval": min(config.n_eval, len(d.x_train)),
                         "eval_is_whole_training_set": config.n_eval >= len(d.x_train)})
        ds = datasets[ds_name]
        spec = train.TrainSpec(optimizer=opt, steps=config.steps, batch_size=config.batch_size,
                               log_every=config.log_every, n_eval=config.n_eval)
        for base, names, scales in _groups(inits):
            model = models.build("mlp", ds.n_classes, widths=(config.width,) * config.depth, activation=act,
                                 initializer=base)
            pop = train.train_population(model, ds, spec, seeds, lrs, list(scales), probe=probe)
            key = "dead_out" if act == "relu" else "dead_grad"
            summ = dead_summary(pop.metrics[key], pop.diverged)
            neg = dead_summary(pop.metrics["neg_only"], pop.diverged)
            for r in range(len(pop.runs["seed"])):
                scale = float(pop.runs["weight_scale"][r])
                init = names[scales.index(scale)]
                base_row = {"dataset": ds_name, "activation": act, "optimizer": opt, "init": init,
                            "seed": int(pop.runs["seed"][r]), "lr": float(pop.runs["learning_rate"][r])}
                rows.append({**base_row,
                             "born_dead": summ["born"][r], "final_dead": summ["final"][r],
                             "revival": summ["revival"][r], "ever_dead": summ["ever_dead"][r],
                             "final_negative_only": neg["final"][r],
                             "final_train_acc": float(pop.metrics["train_acc"][r, -1]),
                             "diverged": bool(pop.diverged[r, -1])})
                for t, step in enumerate(pop.steps):
                    for layer in range(config.depth):
                        layer_rows.append({**base_row, "step": int(step), "layer": layer,
                                           "dead": summ["per_layer"][r, t, layer]})
    return pd.DataFrame(rows), pd.DataFrame(layer_rows), pd.DataFrame(info)


def aggregate(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% CI over seeds per (dataset, activation, optimiser, init, lr); diverged runs counted."""
    out = []
    keys = ["dataset", "activation", "optimizer", "init", "lr"]
    for key, g in runs.groupby(keys, sort=False):
        row = dict(zip(keys, key))
        for col in ("born_dead", "final_dead", "revival", "final_negative_only", "final_train_acc"):
            e = stats.mean_ci(g[col].to_numpy())
            row[col], row[f"{col}_lo"], row[f"{col}_hi"] = e.mean, e.lo, e.hi
        row["n_seeds"] = len(g)
        row["n_diverged"] = int(g["diverged"].sum())
        row["status"] = "diverged" if row["n_diverged"] == len(g) else ("partly diverged" if row["n_diverged"] else "done")
        out.append(row)
    return pd.DataFrame(out)


def _sel(df: pd.DataFrame, **kw) -> pd.DataFrame:
    mask = np.ones(len(df), bool)
    for k, v in kw.items():
        mask &= (df[k] == v).to_numpy()
    return df[mask]


def _paired_at(runs: pd.DataFrame, a: dict, b: dict, lr: float) -> stats.Paired | None:
    """Paired difference final_dead(a) - final_dead(b) over seeds at one lr (None if not both trained)."""
    ga = _sel(runs, lr=lr, **a).sort_values("seed")
    gb = _sel(runs, lr=lr, **b).sort_values("seed")
    if len(ga) == 0 or len(gb) == 0 or ga["diverged"].any() or gb["diverged"].any():
        return None
    return stats.paired(ga["final_dead"].to_numpy(), gb["final_dead"].to_numpy())


# ----------------------------------------------------------------------------------------------
# G3: born-dead deep narrow nets and the |x| fit
# ----------------------------------------------------------------------------------------------
def _grid(g3) -> np.ndarray:
    s = np.sqrt(3.0)
    if g3.input_dim == 1:
        return np.linspace(-s, s, g3.n_points, dtype=np.float32)[:, None]
    rng = np.random.default_rng(0)
    return rng.uniform(-s, s, (g3.n_points, g3.input_dim)).astype(np.float32)


def _mlp(width: int, hidden: int, bias_std: float) -> models.MLP:
    return models.build("mlp", 1, widths=(width,) * hidden, activation="relu", initializer="he_normal",
                        bias_std=bias_std)


def born_dead_table(config) -> pd.DataFrame:
    """P(net born dead) vs depth for each width, from ``n_init`` vmapped He initialisations."""
    g3 = config.g3
    x = jnp.asarray(_grid(g3))
    hidden = g3.max_depth - 1
    rows = []
    for width in g3.widths:
        model = _mlp(width, hidden, g3.bias_std)

        def layer_constant(key, model=model):
            variables = models.init_variables(model, key, x[:1])
            return jnp.all(probes.dead_units(model, variables, x)["constant"], axis=-1)  # (hidden,)

        keys = jax.random.split(jax.random.PRNGKey(1000 + width), g3.n_init)
        fn = perf.jit(lambda k, f=layer_constant: jax.lax.map(jax.vmap(f), k.reshape(-1, 100, *k.shape[1:])))
        flops = 2.0 * g3.n_init * g3.n_points * hidden * width * width
        const = np.asarray(perf.execute(fn, keys[: (g3.n_init // 100) * 100], flops=flops)).reshape(-1, hidden)
        dead = born_dead_by_depth(const)
        for depth in range(2, g3.max_depth + 1):
            k = int(dead[:, depth - 2].sum())
            est = stats.proportion_ci(k, len(dead))
            rows.append({"width": width, "depth": depth, "n_init": len(dead), "born_dead": est.mean,
                         "lo": est.lo, "hi": est.hi, "lu_bound": lu_bound([width] * (depth - 1))})
    return pd.DataFrame(rows)


def abs_fit(config) -> dict:
    """Train ``fit_nets`` vmapped width-2 depth-10 ReLU nets on y = |x| (Adam, MSE); count collapses."""
    g3 = config.g3
    model = _mlp(g3.fit_width, g3.fit_depth - 1, g3.bias_std)
    x_grid = jnp.asarray(np.linspace(-np.sqrt(3), np.sqrt(3), 513, dtype=np.float32)[:, None])
    tx = optax.adam(g3.fit_lr)

    def one(key):
        init_key, data_key = jax.random.split(key)
        params = models.init_variables(model, init_key, x_grid[:1])["params"]
        born = jnp.ptp(model.apply({"params": params}, x_grid)) <= g3.collapse_tol

        def step(carry, i):
            p, s = carry
            xb = jax.random.uniform(jax.random.fold_in(data_key, i), (g3.fit_batch, 1), minval=-np.sqrt(3),
                                    maxval=np.sqrt(3))
            loss, grad = jax.value_and_grad(lambda q: jnp.mean((model.apply({"params": q}, xb) - jnp.abs(xb)) ** 2))(p)
            upd, s = tx.update(grad, s, p)
            return (optax.apply_updates(p, upd), s), loss

        (params, _), _ = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(g3.fit_steps))
        out = model.apply({"params": params}, x_grid)
        mse = jnp.mean((out[:, 0] - jnp.abs(x_grid[:, 0])) ** 2)
        return jnp.ptp(out) <= g3.collapse_tol, born, mse

    keys = jax.random.split(jax.random.PRNGKey(7), g3.fit_nets)
    per_step = 6.0 * g3.fit_batch * (g3.fit_depth - 1) * g3.fit_width**2 * g3.fit_nets
    collapsed, born, mse = perf.execute(perf.jit(jax.vmap(one)), keys, flops=per_step * g3.fit_steps)
    collapsed, born, mse = np.asarray(collapsed), np.asarray(born), np.asarray(mse)
    return {"collapsed": collapsed, "born": born, "mse": mse}


# ----------------------------------------------------------------------------------------------
# Verdicts
# ----------------------------------------------------------------------------------------------
def _fmt(e: stats.Estimate) -> str:
    return f"{e.mean:.3f} [{e.lo:.3f}, {e.hi:.3f}]"


def _relu_sgd(agg: pd.DataFrame) -> pd.DataFrame:
    return _sel(agg, activation="relu", optimizer="sgd")


def decide_f1(runs, agg, crit) -> verdicts.Verdict:
    sub = _relu_sgd(agg)
    sub = sub[sub["n_diverged"] == 0]
    best = sub.loc[sub["final_dead"].idxmax()]
    g = _sel(runs, dataset=best["dataset"], activation="relu", optimizer="sgd", init=best["init"], lr=best["lr"])
    dead = stats.mean_ci(g["final_dead"])
    rev_all = _sel(runs, activation="relu", diverged=False)["revival"].to_numpy()
    n_rev = int(np.isfinite(rev_all).sum())
    rev = stats.mean_ci(rev_all)
    dies = dead.lo >= crit.min_dead
    permanent = n_rev > 0 and rev.mean <= crit.max_revival
    verdict = verdicts.decide(dies and permanent, qualified=dies)
    statement = (
        f"ReLU units die: up to {dead.mean:.1%} of hidden units (CI {dead.lo:.1%}-{dead.hi:.1%}) output 0 on the whole "
        f"training set after training ({best['dataset']}, {best['init']}, SGD, lr={best['lr']:.3g}); of units dead at "
        f"some check, a mean {rev.mean:.1%} (CI {rev.lo:.1%}-{rev.hi:.1%}, {n_rev} ReLU runs with dead units) are "
        "alive at a later check."
    )
    return verdicts.Verdict("F1", verdict, statement,
                            f"max final dead fraction CI lo >= {crit.min_dead} and mean revival <= {crit.max_revival}",
                            dead.mean, dead.ci, int(dead.n), "f2_dead_vs_lr.png")


def decide_f2(runs, agg, crit) -> tuple[verdicts.Verdict, dict]:
    sub = _relu_sgd(agg)
    born = stats.mean_ci(_sel(runs, activation="relu", optimizer="sgd")["born_dead"])
    effects = []
    for (ds, init), g in sub.groupby(["dataset", "init"], sort=False):
        ok = g[g["n_diverged"] == 0].sort_values("lr")
        if len(ok) < 2:
            continue
        hi = ok.loc[ok["final_dead"].idxmax()]
        lo_lr = ok["lr"].iloc[0]
        a = _sel(runs, dataset=ds, activation="relu", optimizer="sgd", init=init, lr=hi["lr"]).sort_values("seed")
        b = _sel(runs, dataset=ds, activation="relu", optimizer="sgd", init=init, lr=lo_lr).sort_values("seed")
        p = stats.paired(a["final_dead"].to_numpy(), b["final_dead"].to_numpy())
        effects.append((ds, init, hi["lr"], lo_lr, p))
    best = max(effects, key=lambda e: e[4].diff.mean)
    lr_effect = best[4].diff
    holds = born.hi <= crit.max_born_dead and lr_effect.lo >= crit.min_lr_effect
    qualified = lr_effect.lo >= crit.min_lr_effect or born.hi <= crit.max_born_dead
    statement = (
        f"Born-dead fraction at init (ReLU + SGD, all inits and data sets): {_fmt(born)}; after SGD at a high "
        f"non-divergent lr the dead fraction rises by {_fmt(lr_effect)} over the smallest lr "
        f"({best[0]}, {best[1]}, lr {best[2]:.3g} vs {best[3]:.3g}, paired over seeds): the learning rate dominates."
    )
    v = verdicts.Verdict("F2", verdicts.decide(holds, qualified), statement,
                         f"born-dead CI hi <= {crit.max_born_dead} and high-vs-low-lr paired increase CI lo >= "
                         f"{crit.min_lr_effect}", lr_effect.mean, lr_effect.ci, int(lr_effect.n), "f2_dead_vs_lr.png")
    return v, {"born_dead": born.mean, "lr_effect": lr_effect.mean}


def _remedy(runs, treated: dict, baseline: dict, lrs) -> tuple[int, int, list[str]]:
    helps, hurts, notes = 0, 0, []
    for lr in lrs:
        p = _paired_at(runs, baseline, treated, lr)
        if p is None:
            continue
        if p.significant and p.diff.mean > 0:
            helps += 1
        elif p.significant and p.diff.mean < 0:
            hurts += 1
            notes.append(f"lr {lr:.3g}: {p.diff.mean:+.3f}")
    return helps, hurts, notes


def decide_f3(runs, agg, crit, lrs) -> tuple[verdicts.Verdict, pd.DataFrame]:
    rows = []
    for ds in runs["dataset"].unique():
        relu = {"dataset": ds, "activation": "relu"}
        for naive in ("normal", "small_normal"):
            if len(_sel(runs, init="xavier_uniform", optimizer="sgd", **relu)) and len(_sel(runs, init=naive, **relu)):
                rows.append(("Xavier init", ds, f"xavier_uniform vs {naive} (SGD)",
                             *_remedy(runs, dict(init="xavier_uniform", optimizer="sgd", **relu),
                                      dict(init=naive, optimizer="sgd", **relu), lrs)))
        for opt in ("adagrad", "adam", "momentum"):
            for init in _sel(runs, optimizer=opt, **relu)["init"].unique():
                if len(_sel(runs, optimizer="sgd", init=init, **relu)):
                    rows.append((f"{opt} optimiser", ds, f"{opt} vs sgd ({init}, equal base lr)",
                                 *_remedy(runs, dict(optimizer=opt, init=init, **relu),
                                          dict(optimizer="sgd", init=init, **relu), lrs)))
    table = pd.DataFrame(rows, columns=["remedy", "dataset", "comparison", "lrs_helps", "lrs_hurts", "hurts_at"])
    table["hurts_at"] = table["hurts_at"].map(lambda v: "; ".join(v))
    # smaller learning rate: at the smallest lr no ReLU/SGD run has dead units above threshold
    smallest = _relu_sgd(agg)[lambda d: d["lr"] == min(lrs)]
    small_ok = bool((smallest["final_dead"] <= crit.dead_threshold).all())

    def works(name: str) -> tuple[bool, bool]:
        t = table[table["remedy"] == name]
        return bool(len(t) and (t["lrs_helps"] > 0).any() and (t["lrs_hurts"] == 0).all()), bool(
            len(t) and (t["lrs_helps"] > 0).any())

    xav, xav_some = works("Xavier init")
    ada, ada_some = works("adagrad optimiser")
    n_ok = sum([xav, ada, small_ok])
    verdict = verdicts.decide(n_ok == 3, qualified=n_ok > 0 or xav_some or ada_some)
    hurt = table[table["lrs_hurts"] > 0]
    statement = (
        f"Smaller lr: {'no' if small_ok else 'some'} ReLU/SGD cell has > {crit.dead_threshold:.0%} dead units at lr "
        f"{min(lrs):.3g}. Xavier vs naive init: {'reduces' if xav else ('partly reduces' if xav_some else 'does not reduce')} "
        f"the dead fraction at equal lr. Adagrad vs SGD at equal base lr: "
        f"{'reduces' if ada else ('mixed' if ada_some else 'does not reduce')} it. Significant increases: "
        + ("; ".join(f"{r.comparison} on {r.dataset} at {r.hurts_at}" for r in hurt.itertuples()) or "none") + "."
    )
    return verdicts.Verdict("F3", verdict, statement,
                            "each remedy (smaller lr, Xavier, Adagrad) lowers the final dead fraction significantly "
                            "(paired over seeds) at >= 1 common non-divergent lr and raises it at none",
                            float(n_ok), None, int(runs["seed"].nunique()), "f3_remedies.csv"), table


def decide_f4(runs, agg, crit) -> verdicts.Verdict:
    ok = agg[agg["n_diverged"] == 0]
    leaky_cells = ok[ok["activation"] != "relu"]
    worst = leaky_cells.groupby("activation")["final_dead_hi"].max()
    mx = leaky_cells.loc[leaky_cells["final_dead"].idxmax()]
    relu_common = ok[(ok["activation"] == "relu") & ok.set_index(["dataset", "optimizer", "init"]).index.isin(
        leaky_cells.set_index(["dataset", "optimizer", "init"]).index)]
    relu_max = float(relu_common["final_dead"].max()) if len(relu_common) else float("nan")
    clean = [a for a, v in worst.items() if v <= crit.max_dead]
    power = relu_max >= crit.relu_min_dead
    holds = len(clean) == len(worst) and power
    g = _sel(runs, dataset=mx["dataset"], activation=mx["activation"], optimizer=mx["optimizer"], init=mx["init"],
             lr=mx["lr"])
    e = stats.mean_ci(g["final_dead"])
    neg = ok[ok["activation"] != "relu"]["final_negative_only"].max()
    statement = (
        f"Largest zero-gradient fraction (|phi'| <= tol on the whole training set) among Leaky ReLU/PReLU/ELU: "
        f"{_fmt(e)} ({mx['activation']}, {mx['optimizer']}, {mx['init']}, lr {mx['lr']:.3g}); ReLU in the same cells "
        f"reaches {relu_max:.1%}. Up to {neg:.1%} of their units sit on the negative branch on every example "
        f"(alive only through the small slope). Within the threshold: {', '.join(clean) or 'none'}."
        + ("" if power else " ReLU itself did not die here, so the test has no power.")
    )
    return verdicts.Verdict("F4", verdicts.decide(holds, qualified=len(clean) > 0 or not power), statement,
                            f"every leaky variant's dead-fraction CI hi <= {crit.max_dead} in every non-divergent cell, "
                            f"while ReLU reaches >= {crit.relu_min_dead}", e.mean, e.ci, int(e.n), "f4_leaky.png")


def decide_g3(born: pd.DataFrame, fit: dict, f2_born: float, high_lr_dead: float, crit) -> verdicts.Verdict:
    row = _sel(born, width=crit.narrow_width, depth=crit.narrow_depth)
    p = float(row["born_dead"].iloc[0]) if len(row) else float("nan")
    lo, hi = (float(row["lo"].iloc[0]), float(row["hi"].iloc[0])) if len(row) else (np.nan, np.nan)
    within = bool((born["lo"] <= born["lu_bound"] + 1e-12).all())
    exists = lo >= crit.min_narrow_p
    rarer_everywhere = p < high_lr_dead
    n = len(fit["collapsed"])
    collapse = stats.proportion_ci(int(fit["collapsed"].sum()), n)
    statement = (
        f"Deep narrow ReLU nets are born dead often: P = {p:.3f} [{lo:.3f}, {hi:.3f}] at width {crit.narrow_width}, "
        f"depth {crit.narrow_depth} (Lu et al.'s bound {lu_bound([crit.narrow_width] * (crit.narrow_depth - 1)):.3f}; "
        f"{'bound respected at every width and depth' if within else 'measured P significantly above the bound somewhere'}), whereas the width-128 MLPs of F2 "
        f"have {f2_born:.2%} born-dead units against up to {high_lr_dead:.1%} dead after high-lr SGD. "
        f"|x| fit: {collapse.mean:.1%} [{collapse.lo:.1%}, {collapse.hi:.1%}] of {n} width-2 depth-10 nets collapse to "
        "a constant (published: > 90%). Init death is the rarer cause only in wide nets."
    )
    holds = exists and within and rarer_everywhere
    return verdicts.Verdict("G3", verdicts.decide(holds, qualified=exists and within), statement,
                            f"P(born dead) CI lo >= {crit.min_narrow_p} at width {crit.narrow_width} depth "
                            f"{crit.narrow_depth}, within Lu's bound, and rarer than high-lr death in every net",
                            p, [lo, hi], n, "g3_born_dead.png",
                            published="Lu et al. 2019: bound 0.925/0.70/0.25/0.009 at depth 10, widths 2/3/5/10; "
                            "> 90% collapse of width-2 depth-10 nets on |x|")


# ----------------------------------------------------------------------------------------------
# Figures
# ----------------------------------------------------------------------------------------------
def _lr_panel(ax, agg: pd.DataFrame, label_col: str, title: str, published: float | None = None) -> None:
    for label, g in agg.groupby(label_col, sort=False):
        g = g.sort_values("lr")
        ok = g["n_diverged"] == 0
        line = ax.errorbar(g["lr"][ok], g["final_dead"][ok],
                           yerr=[np.clip(g["final_dead"][ok] - g["final_dead_lo"][ok], 0, None),
                                 np.clip(g["final_dead_hi"][ok] - g["final_dead"][ok], 0, None)],
                           marker="o", ms=3, capsize=2, label=str(label))
        div = g[~ok]
        if len(div):
            ax.scatter(div["lr"], np.ones(len(div)) * 1.02, marker="x", color=line[0].get_color())
    if published is not None:
        ax.axhline(published, ls=":", color="k", lw=1, label=f"CS231n '{published:.0%}'")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.06)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("dead fraction after training")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def fig_causes(agg, published) -> plt.Figure:
    sub = _relu_sgd(agg)
    sets = list(sub["dataset"].unique())
    fig, axes = plt.subplots(1, len(sets), figsize=(5 * len(sets), 3.8), squeeze=False)
    for ax, ds in zip(axes[0], sets):
        _lr_panel(ax, _sel(sub, dataset=ds), "init", f"F1/F2: ReLU + SGD on {ds} (x = all seeds diverged)", published)
    fig.tight_layout()
    return fig


def fig_over_training(layers: pd.DataFrame, agg: pd.DataFrame) -> plt.Figure:
    sub = _relu_sgd(agg)
    sub = sub[sub["n_diverged"] == 0]
    best = sub.loc[sub["final_dead"].idxmax()]
    g = _sel(layers, dataset=best["dataset"], activation="relu", optimizer="sgd", init=best["init"])
    lrs = sorted(g["lr"].unique())
    chosen = [lr for lr in lrs if lr <= best["lr"]][-3:]
    fig, axes = plt.subplots(1, len(chosen), figsize=(4 * len(chosen), 3.4), squeeze=False)
    for ax, lr in zip(axes[0], chosen):
        m = _sel(g, lr=lr).groupby(["layer", "step"])["dead"].mean().reset_index()
        for layer, gl in m.groupby("layer"):
            ax.plot(gl["step"], gl["dead"], marker="o", label=f"layer {layer}")
        ax.set_title(f"F1: {best['dataset']}, {best['init']}, SGD lr={lr:.3g}", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("dead fraction (mean over seeds)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def fig_by(agg, activation_filter, label_col, title) -> plt.Figure:
    sub = agg[activation_filter(agg)]
    groups = list(sub.groupby(["dataset", "init"] + (["optimizer"] if label_col == "activation" else []), sort=False))
    fig, axes = plt.subplots(1, len(groups), figsize=(4.6 * len(groups), 3.8), squeeze=False)
    for ax, (key, g) in zip(axes[0], groups):
        _lr_panel(ax, g, label_col, f"{title}: {', '.join(key)}")
    fig.tight_layout()
    return fig


def fig_g3(born: pd.DataFrame, published) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(6, 4))
    for width, g in born.groupby("width"):
        line = ax.errorbar(g["depth"], g["born_dead"], yerr=[np.clip(g["born_dead"] - g["lo"], 0, None), np.clip(g["hi"] - g["born_dead"], 0, None)],
                           marker="o", ms=2, capsize=1, label=f"width {width} (measured)")
        ax.plot(g["depth"], g["lu_bound"], ls="--", color=line[0].get_color(), lw=1)
    for v in published.lu_bound_depth10.values():
        ax.scatter([10], [v], marker="*", color="k", zorder=5)
    ax.set_xlabel("depth L (L-1 hidden layers)")
    ax.set_ylabel("P(net born dead)")
    ax.set_title("G3: born-dead probability, He init; dashed = Lu et al. bound, * = published", fontsize=9)
    ax.legend(fontsize=7)
    return fig


# ----------------------------------------------------------------------------------------------
def run(config: ml_collections.ConfigDict) -> results.Result:
    """Train the sweeps (one compile per dataset x activation x optimiser x init group), then G3."""
    if config.g3.max_depth < 2:
        raise ConfigError(f"config.g3.max_depth = {config.g3.max_depth}: must be >= 2")
    lrs = [float(v) for v in config.learning_rates]
    runs, layers, info = train_sweeps(config)
    agg = aggregate(runs)
    crit = config.criteria
    f1 = decide_f1(runs, agg, crit.f1)
    f2, f2_nums = decide_f2(runs, agg, crit.f2)
    f3, remedies = decide_f3(runs, agg, crit.f3, lrs)
    f4 = decide_f4(runs, agg, crit.f4)
    born = born_dead_table(config)
    fit = abs_fit(config)
    relu_ok = _relu_sgd(agg)[lambda d: d["n_diverged"] == 0]
    high_lr_dead = float(relu_ok["final_dead"].max())
    g3 = decide_g3(born, fit, f2_nums["born_dead"], high_lr_dead, crit.g3)

    # CS231n's "as much as 40%": where do we see >= 40%?
    cs = float(config.published.cs231n_dead_fraction)
    forty = agg[(agg["final_dead"] >= cs) & (agg["n_diverged"] < agg["n_seeds"])][
        ["dataset", "activation", "optimizer", "init", "lr", "final_dead", "final_dead_lo", "final_dead_hi", "n_diverged"]
    ].assign(published=cs)
    div_lr = (agg[agg["n_diverged"] * 2 >= agg["n_seeds"]].groupby(["dataset", "activation", "optimizer", "init"])["lr"]
              .min().rename("first_lr_half_diverged").reset_index())
    d10 = _sel(born, depth=10)[["width", "born_dead", "lo", "hi", "lu_bound"]].copy()
    pub = {2: "w2", 3: "w3", 5: "w5", 10: "w10"}
    d10["published_bound"] = [config.published.lu_bound_depth10.get(pub.get(int(w), ""), np.nan) for w in d10["width"]]
    fit_table = pd.DataFrame([{
        "nets": len(fit["collapsed"]), "collapsed": int(fit["collapsed"].sum()),
        "collapsed_fraction": float(fit["collapsed"].mean()),
        "born_dead_fraction": float(fit["born"].mean()),
        "collapsed_and_born_dead": int((fit["collapsed"] & fit["born"]).sum()),
        "median_mse": float(np.nanmedian(fit["mse"])), "published_collapse": config.published.lu_collapse_fraction,
    }])
    forty, remedies = forty.reset_index(drop=True), remedies.reset_index(drop=True)

    opt_init, leaky_init = config.sweeps.optimisers.inits[0], config.sweeps.leaky.inits[0]
    figures = {
        "f2_dead_vs_lr": fig_causes(agg, cs),
        "f1_dead_over_training": fig_over_training(layers, agg),
        "f3_optimisers": fig_by(agg, lambda d: (d["activation"] == "relu") & (d["init"] == opt_init), "optimizer",
                                "F3: ReLU by optimiser"),
        "f4_leaky": fig_by(agg, lambda d: d["init"] == leaky_init, "activation", "F4: zero-gradient fraction"),
        "g3_born_dead": fig_g3(born, config.published),
    }
    tables = {
        "f2_dead_vs_lr": agg, "runs": runs, "f1_dead_over_training": layers.groupby(
            ["dataset", "activation", "optimizer", "init", "lr", "layer", "step"])["dead"].mean().reset_index(),
        "f3_optimisers": agg[agg["activation"] == "relu"], "f3_remedies": remedies,
        "f4_leaky": agg, "g3_born_dead": born, "g3_depth10_vs_published": d10, "g3_abs_fit": fit_table,
        "cs231n_40_percent": forty, "divergence": div_lr, "eval_sets": info,
    }
    summary = {
        "born_dead_relu": f2_nums["born_dead"], "lr_effect": f2_nums["lr_effect"], "max_dead_relu": high_lr_dead,
        "f1_value": f1.value, "f4_value": f4.value, "f3_remedies_ok": f3.value,
        "abs_collapse": float(fit["collapsed"].mean()), "abs_born_dead": float(fit["born"].mean()),
        "n_cells_ge_40pct": float(len(forty)),
    }
    for r in d10.itertuples():
        summary[f"g3_depth10_w{r.width}"] = float(r.born_dead)
    for ds, g in _relu_sgd(agg).groupby("dataset"):
        for r in g[g["init"] == opt_init].itertuples():
            summary[f"dead_{ds}_{opt_init}_sgd_lr{r.lr:.3g}"] = None if not np.isfinite(r.final_dead) else float(r.final_dead)
    eval_note = "; ".join(f"{r.dataset}: {r.n_eval} of {r.n_train} training examples" for r in info.itertuples())
    notes = f"""
**What was run.** MLPs with {config.depth} hidden layers of width {config.width}, trained {config.steps} steps
(batch {config.batch_size}) for every learning rate of the log grid {', '.join(f'{v:.3g}' for v in lrs)} x
{config.seeds} seeds (one vmapped jit per data set x activation x optimiser x init group). Fashion-MNIST is
**subsampled to {config.n_train} training examples** so that dead units are evaluated on the **whole training set**
at every check (every {config.log_every} steps, step 0 = init): {eval_note}. Sweeps: {', '.join(
    f"{k} = {tuple(v.datasets)} x {tuple(v.activations)} x {tuple(v.optimizers)} x {tuple(v.inits)}"
    for k, v in config.sweeps.items())}. The full grid (4 activations x 4 optimisers x 4 inits x 2 data sets, 10 seeds)
is the `paper` preset. Xavier = `xavier_uniform`, He = `he_normal`, normal = N(0,1), small_normal = N(0,0.01^2).

**Definitions.** Dead ReLU unit: output exactly 0 on every example of the evaluation set. Leaky ReLU / PReLU / ELU:
max_n |phi'(h_n)| <= {config.grad_tol:g} on the set (no gradient to the incoming weights). Revival: dead at one check,
alive at a later one. Diverged runs (non-finite loss) are recorded as diverged (x markers), not averaged.

**CS231n's 40%.** Cells with mean dead fraction >= 40% are listed in `cs231n_40_percent` ({len(forty)} cells),
beside the published 40%.

**G3.** {config.g3.n_init} He-normal initialisations per width (zero biases, input dimension {config.g3.input_dim},
{config.g3.n_points} inputs {'evenly spaced' if config.g3.input_dim == 1 else 'uniform'} on [-sqrt3, sqrt3]); a net of
depth L has L-1 hidden layers and is born dead when a hidden layer is constant over those inputs. Depth 10 vs the
published bound: see `g3_depth10_vs_published`. |x| fit: {config.g3.fit_nets} vmapped width-{config.g3.fit_width}
depth-{config.g3.fit_depth} nets, Adam lr {config.g3.fit_lr:g}, {config.g3.fit_steps} steps of {config.g3.fit_batch}
fresh uniform samples, MSE; collapsed = output range over 513 grid points <= {config.g3.collapse_tol:g}.
"""
    return results.Result(name=NAME, tables=tables, figures=figures, verdicts=[f1, f2, f3, f4, g3], summary=summary,
                          notes=notes)


if __name__ == "__main__":
    cli.main(NAME, run)

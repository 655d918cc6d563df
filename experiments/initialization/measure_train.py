"""The training measurements of experiments.initialization: Glorot & Bengio's Table 1 and He et al.'s stall (G2).

Part ``glorot``: Glorot & Bengio 2010 Table 1 scaled down (test error after SGD, learning rate
chosen on a held-out validation split); the activations of one data set and init share one compiled
trainer (the kit's ``switch`` activation). Part ``he`` (G2): He et al. 2015's 22- and 30-layer
experiment scaled down to ReLU MLPs trained with plain SGD, Xavier vs He as vmapped weight scales
(one compile per depth); each arm's learning rate from a 3-per-decade grid extended beyond an edge
(R6), per seed whether it trained (R8) and its steps to a target loss (censored if never, R7).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
from scipy import stats as sps

from experiments.kit import data, models, ondevices, perf, stats, train

from .train_tables import best_rate, he_tables


def _split_validation(d: data.Dataset, n_val: int) -> data.Dataset:
    """The training set minus ``n_val`` held-out examples, which take the test slot (for lr choice)."""
    order = np.random.default_rng(123).permutation(len(d.x_train))
    val, keep = order[:n_val], order[n_val:]
    return data.Dataset(d.name, d.x_train[keep], d.y_train[keep], d.x_train[val], d.y_train[val], d.n_classes)


def choose_lr(final_loss: np.ndarray) -> int:
    """Index of the learning rate with the lowest mean final loss over seeds; (S, n_lr) in.

    A learning rate where any seed diverged (non-finite) is never chosen unless all are.
    """
    score = np.where(np.isfinite(final_loss), final_loss, np.inf).mean(axis=0)
    return int(np.argmin(score))


_EVAL_FNS: dict = {}


def _test_error(model, variables, x_test: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Test error (%) of each run in ``variables`` (run axis first); one compile per architecture."""
    fn = perf.memo(_EVAL_FNS, model, lambda: perf.jit(jax.vmap(lambda v, x: jnp.argmax(model.apply(v, x), -1),
                                                               in_axes=(0, None))))
    pred = np.asarray(perf.execute(fn, variables, jnp.asarray(x_test)))
    return 100.0 * np.mean(pred != y_test[None], axis=1)


def rank_correlation(ours: dict[str, np.ndarray], published: dict[str, float], n_boot: int = 1000,
                     seed: int = 0) -> tuple[float, float, float, int]:
    """Spearman rho between our mean test errors and the published ones over the shared conditions.

    95% CI by resampling seeds within each condition. Returns (rho, lo, hi, n_conditions).
    """
    keys = [k for k in published if k in ours]
    if len(keys) < 3:
        return float("nan"), float("nan"), float("nan"), len(keys)
    pub = np.array([published[k] for k in keys])
    rho = float(sps.spearmanr([np.nanmean(ours[k]) for k in keys], pub).statistic)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        m = [np.nanmean(rng.choice(ours[k], len(ours[k]))) for k in keys]
        r = sps.spearmanr(m, pub).statistic
        if np.isfinite(r):
            boots.append(r)
    lo, hi = (np.quantile(boots, [0.025, 0.975]) if boots else (np.nan, np.nan))
    return rho, float(lo), float(hi), len(keys)


def _switch_model(activations, width: int, depth: int, n_classes: int, init: str):
    if len(activations) == 1:
        return models.build("mlp", n_classes, widths=(width,) * depth, activation=activations[0], initializer=init)
    return models.build("mlp", n_classes, widths=(width,) * depth, activation=models.SWITCH,
                        act_params=models.switch_params(list(activations)), initializer=init)


def _glorot_condition(cfg, d, full, act_index: int, pop, lrs, chance: float) -> dict:
    """Per-seed test error of one activation of a switch population at its validation-chosen lr."""
    n_act = len(cfg.activations)
    val = pop.metrics["test_loss"].reshape(cfg.seeds, len(lrs), n_act, -1)[:, :, act_index]
    acc = pop.metrics["train_acc"].reshape(cfg.seeds, len(lrs), n_act, -1)[:, :, act_index, -1]
    best = choose_lr(val[:, :, -1])
    idx = (np.arange(cfg.seeds) * len(lrs) + best) * n_act + act_index
    chosen = jax.tree_util.tree_map(lambda a, i=idx: a[i], pop.final)
    arch = _switch_model(cfg.activations, cfg.width, cfg.depth, d.n_classes, "standard")
    err = _test_error(arch, chosen, full.x_test, full.y_test)
    diverged = pop.diverged.reshape(cfg.seeds, len(lrs), n_act, -1)[:, best, act_index, -1]
    collapsed = ~diverged & (acc[:, best] < chance + 0.1)
    return {"best": best, "err": np.where(diverged, np.nan, err), "diverged": diverged, "collapsed": collapsed,
            "val": val[:, best]}


def run_glorot(config: ml_collections.ConfigDict) -> dict:
    """Part 2: test error per (data set, activation, init) at the validation-chosen learning rate."""
    cfg = config.glorot
    spec = train.TrainSpec.from_config(cfg)
    lrs = tuple(cfg.learning_rates)
    rows, corr_rows, curves, effects = [], [], [], []
    published = dict(config.published.glorot_table1_mnist)
    for name in cfg.datasets:
        full = data.load(name)
        d = _split_validation(full, cfg.n_val)
        errors, learned, left_out, chance = {}, {}, [], 1.0 / d.n_classes
        runs, shape = train.run_grid(range(cfg.seeds), learning_rate=lrs, variant=range(len(cfg.activations)))
        models_ = [_switch_model(cfg.activations, cfg.width, cfg.depth, d.n_classes, init) for init in cfg.inits]
        pops = ondevices.on_devices([functools.partial(train.train_runs, m, d, spec, runs, shape) for m in models_])
        for init, pop in zip(cfg.inits, pops, strict=True):  # one program per init, compiled while another trains
            for a, act in enumerate(cfg.activations):
                c = _glorot_condition(cfg, d, full, a, pop, lrs, chance)
                key, condition = f"{act}_{init}", f"{act.capitalize()}{' N' if init == 'xavier_uniform' else ''}"
                errors[key], learned[key] = c["err"], bool(not (c["collapsed"] | c["diverged"]).any())
                if not learned[key]:  # R8: a condition with seeds that never learned is not ranked
                    left_out.append(f"{condition} ({int((c['collapsed'] | c['diverged']).sum())} of {cfg.seeds} seeds never learned)")
                e, ev = stats.mean_ci(c["err"]), stats.mean_ci(c["val"][:, -1])
                status = "diverged" if c["diverged"].any() else "collapsed" if c["collapsed"].any() else "ok"
                rows.append({"dataset": name, "activation": act, "init": init, "condition": condition,
                             "best_learning_rate": lrs[c["best"]], "val_loss": ev.mean, "test_error_pct": e.mean,
                             "test_error_pct_lo": e.lo, "test_error_pct_hi": e.hi, "n_seeds": e.n,
                             "n_diverged": int(c["diverged"].sum()), "n_collapsed": int(c["collapsed"].sum()),
                             "status": status, "published_mnist_error_pct": published.get(key, np.nan)})
                for t, step in enumerate(pop.steps):
                    curves.append({"dataset": name, "activation": act, "init": init, "step": int(step),
                                   "val_loss": float(np.nanmean(c["val"][:, t]))})
        rho, lo, hi, n = rank_correlation({k: v for k, v in errors.items() if learned[k]}, published)
        corr_rows.append({"dataset": name, "spearman_rho_vs_glorot_mnist": rho, "spearman_rho_vs_glorot_mnist_lo": lo,
                          "spearman_rho_vs_glorot_mnist_hi": hi, "n_conditions": n, "n_seeds": cfg.seeds,
                          "left_out": "; ".join(left_out) or "none"})
        effects += _init_effects(name, cfg, errors, learned, published)
    return {"glorot_table1": pd.DataFrame(rows), "glorot_rank_correlation": pd.DataFrame(corr_rows),
            "glorot_init_effect": pd.DataFrame(effects), "glorot_val_curves": pd.DataFrame(curves)}


def _init_effects(dataset: str, cfg, errors: dict, learned: dict, published: dict) -> list[dict]:
    """Table 1's comparison per activation: test error with the normalised init minus the standard one,
    paired over seeds (seed i of both inits), beside Glorot & Bengio's MNIST difference where both are published."""
    if not {"standard", "xavier_uniform"} <= set(cfg.inits):
        return []
    out = []
    for act in cfg.activations:
        n_key, s_key = f"{act}_xavier_uniform", f"{act}_standard"
        d = stats.paired(errors[n_key], errors[s_key]).diff
        both = n_key in published and s_key in published
        out.append({"dataset": dataset, "activation": act, "n_minus_standard_pp": d.mean, "n_minus_standard_pp_lo": d.lo,
                    "n_minus_standard_pp_hi": d.hi, "n_seeds": d.n, "both_learned": learned[n_key] and learned[s_key],
                    "published_mnist_pp": published[n_key] - published[s_key] if both else np.nan})
    return out


def rates_beyond(tried: list[float], best: float, size: int) -> list[float] | None:
    """R6: when ``best`` is the lowest or highest rate tried, ``size`` more on the grid's log lattice beyond it."""
    low, high = min(tried), max(tried)
    if len(tried) < 2 or low < best < high:
        return None
    log_step = np.log(sorted(tried)[1] / low)
    sign, edge = (1.0, high) if best >= high else (-1.0, low)
    return sorted(float(edge * np.exp(sign * log_step * k)) for k in range(1, size + 1))


def _he_block(model, d, spec, seeds, requests: list[tuple[int, list[float]]], scales) -> list[dict[float, dict]]:
    """Train every (arm, rates) request x seeds in one call; per request, lr -> arrays (seeds, T) of that arm."""
    runs = {"seed": [], "learning_rate": [], "weight_scale": []}
    for arm, rates in requests:
        for lr in rates:
            runs["seed"] += list(seeds)
            runs["learning_rate"] += [lr] * len(seeds)
            runs["weight_scale"] += [scales[arm]] * len(seeds)
    pop = train.train_runs(model, d, spec, {k: np.asarray(v) for k, v in runs.items()})
    out, i = [], 0
    for _, rates in requests:
        block = {}
        for lr in rates:
            sel = slice(i, i + len(seeds))
            i += len(seeds)
            block[float(lr)] = {"loss": pop.metrics["train_loss"][sel], "acc": pop.metrics["train_acc"][sel],
                                "diverged": pop.diverged[sel, -1], "steps": pop.steps}
        out.append(block)
    return out


def search_he(model, d, spec, seeds, cfg) -> list[dict[float, dict]]:
    """Per arm, lr -> its runs; each arm's grid extended (R6) until its best rate is inside it, or extensions run out."""
    scales = tuple(cfg.weight_scales)
    requests = [(arm, [float(lr) for lr in cfg.learning_rates]) for arm in range(len(scales))]
    tried: list[dict[float, dict]] = [{} for _ in scales]
    for _ in range(cfg.lr_extensions + 1):
        for (arm, _), block in zip(requests, _he_block(model, d, spec, seeds, requests, scales), strict=True):
            tried[arm].update(block)
        requests = [(arm, b) for arm, by_lr in enumerate(tried)
                    if (b := rates_beyond(list(by_lr), best_rate(by_lr), len(cfg.learning_rates))) is not None]
        if not requests:
            break
    return tried


def run_he(config: ml_collections.ConfigDict) -> dict:
    """Part 3: deep ReLU MLPs with plain SGD, Xavier vs He; per seed: trained, steps to target."""
    cfg = config.he
    d = data.load(cfg.dataset)
    spec = train.TrainSpec.from_config(cfg)
    nets = [models.build("mlp", d.n_classes, widths=(cfg.width,) * depth, activation=cfg.activation,
                         initializer=cfg.base_init) for depth in cfg.depths]
    searches = [functools.partial(search_he, m, d, spec, range(cfg.seeds), cfg) for m in nets]
    found = dict(zip(cfg.depths, ondevices.on_devices(searches), strict=True))  # a program per depth, over the threads
    return he_tables(config, found, d.n_classes)


def glorot(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``glorot``: Glorot & Bengio's Table 1 scaled down (no claim decides from it)."""
    return run_glorot(config)


def he(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``he`` (G2): He et al.'s deep-ReLU stall and 22-layer speed, Xavier vs He."""
    return run_he(config)

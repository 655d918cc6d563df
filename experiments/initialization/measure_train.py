"""The measurements of experiments.initialization, parts 2 and 3 (G2): training after initialisation.

Part 2: Glorot & Bengio 2010 Table 1 scaled down (test error after SGD, learning rate chosen on a
held-out validation split). Part 3 (G2): He et al. 2015's 22- and 30-layer experiment scaled down
to ReLU MLPs trained with plain SGD, Xavier vs He.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
from scipy import stats as sps

from experiments.kit import data, models, perf, stats, train


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
    if model not in _EVAL_FNS:
        _EVAL_FNS[model] = perf.jit(jax.vmap(lambda v, x: jnp.argmax(model.apply(v, x), -1), in_axes=(0, None)))
    pred = np.asarray(perf.execute(_EVAL_FNS[model], variables, jnp.asarray(x_test)))
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


def run_glorot(config: ml_collections.ConfigDict) -> dict:
    """Part 2: test error per (data set, activation, init) at the validation-chosen learning rate."""
    cfg = config.glorot
    spec = train.TrainSpec.from_config(cfg)
    lrs = tuple(cfg.learning_rates)
    rows, corr_rows, curves = [], [], []
    errors: dict[str, dict[str, np.ndarray]] = {}
    published = dict(config.published.glorot_table1_mnist)
    for name in cfg.datasets:
        full = data.load(name)
        d = _split_validation(full, cfg.n_val)
        errors[name] = {}
        for act in cfg.activations:
            for init in cfg.inits:
                model = models.build("mlp", d.n_classes, widths=(cfg.width,) * cfg.depth, activation=act,
                                     initializer=init)
                pop = train.train_population(model, d, spec, range(cfg.seeds), lrs)
                val = pop.metrics["test_loss"].reshape(cfg.seeds, len(lrs), -1)
                best = choose_lr(val[:, :, -1])
                idx = np.arange(cfg.seeds) * len(lrs) + best
                chosen = jax.tree_util.tree_map(lambda a, i=idx: a[i], pop.final)
                arch = models.build("mlp", d.n_classes, widths=(cfg.width,) * cfg.depth, activation=act)
                err = _test_error(arch, chosen, full.x_test, full.y_test)
                diverged = pop.diverged.reshape(cfg.seeds, len(lrs), -1)[:, best, -1]
                err = np.where(diverged, np.nan, err)
                key = f"{act}_{init}"
                errors[name][key] = err
                e = stats.mean_ci(err)
                ev = stats.mean_ci(val[:, best, -1])
                rows.append({"dataset": name, "activation": act, "init": init,
                             "condition": f"{act.capitalize()}{' N' if init == 'xavier_uniform' else ''}",
                             "best_learning_rate": lrs[best], "val_loss": ev.mean, "test_error_pct": e.mean,
                             "test_error_pct_lo": e.lo, "test_error_pct_hi": e.hi, "n_seeds": e.n,
                             "n_diverged": int(diverged.sum()),
                             "published_mnist_error_pct": published.get(key, np.nan)})
                for t, step in enumerate(pop.steps):
                    curves.append({"dataset": name, "activation": act, "init": init, "step": int(step),
                                   "val_loss_mean": float(np.nanmean(val[:, best, t]))})
        rho, lo, hi, n = rank_correlation(errors[name], published)
        corr_rows.append({"dataset": name, "spearman_rho_vs_glorot_mnist": rho, "spearman_rho_vs_glorot_mnist_lo": lo,
                          "spearman_rho_vs_glorot_mnist_hi": hi,
                          "n_conditions": n, "n_seeds": cfg.seeds})
    return {"table": pd.DataFrame(rows), "correlation": pd.DataFrame(corr_rows), "curves": pd.DataFrame(curves)}


def stall_fraction_drop(losses: np.ndarray) -> np.ndarray:
    """Per run, (initial - final) / initial training loss; NaN (diverged) reads as no drop (0)."""
    first, last = losses[..., 0], losses[..., -1]
    drop = (first - last) / first
    return np.where(np.isfinite(drop), drop, 0.0)


def run_he(config: ml_collections.ConfigDict) -> dict:
    """Part 3: deep ReLU MLPs with plain SGD, Xavier vs He; stall and steps-to-target per depth.

    Both inits are the base init times a vmapped weight scale (He et al.'s "Xavier" is N(0, 1/fan_in)
    = he_normal x 1/sqrt(2)), so each depth is one compile for every seed, learning rate and init.
    """
    cfg = config.he
    crit = config.criteria.he
    d = data.load(cfg.dataset)
    spec = train.TrainSpec.from_config(cfg)
    lrs, scales = tuple(cfg.learning_rates), tuple(cfg.weight_scales)
    rows, curves, per_seed = [], [], {}
    for depth in cfg.depths:
        model = models.build("mlp", d.n_classes, widths=(cfg.width,) * depth, activation=cfg.activation,
                             initializer=cfg.base_init)
        pop = train.train_population(model, d, spec, range(cfg.seeds), lrs, scales)
        all_loss = pop.metrics["train_loss"].reshape(cfg.seeds, len(lrs), len(scales), -1)
        all_div = pop.diverged.reshape(cfg.seeds, len(lrs), len(scales), -1)
        for j, label in enumerate(cfg.labels):
            loss = all_loss[:, :, j]
            best = choose_lr(loss[:, :, -1])
            drop = stall_fraction_drop(loss[:, best])
            reach = train.first_step_below(loss[:, best], pop.steps, cfg.target_loss)
            per_seed[(depth, label)] = {"drop": drop, "steps": reach}
            e = stats.mean_ci(drop)
            finite = reach[np.isfinite(reach)]
            rows.append({"depth": depth, "init": label, "weights": f"{cfg.base_init} x {scales[j]:.4g}",
                         "best_learning_rate": lrs[best],
                         "initial_loss": float(np.nanmean(loss[:, best, 0])),
                         "final_loss": float(np.nanmean(loss[:, best, -1])),
                         "loss_drop": e.mean, "loss_drop_lo": e.lo, "loss_drop_hi": e.hi,
                         "stalls": bool(e.mean < crit.stall_drop),
                         "frac_seeds_reached_target": float(np.isfinite(reach).mean()),
                         "steps_to_target_median": float(np.median(reach)),
                         "steps_to_target_mean_reached": float(finite.mean()) if len(finite) else np.nan,
                         "n_diverged": int(all_div[:, best, j, -1].sum()),
                         "n_seeds": cfg.seeds})
            for t, step in enumerate(pop.steps):
                ec = stats.mean_ci(loss[:, best, t])
                curves.append({"depth": depth, "init": label, "learning_rate": lrs[best], "step": int(step),
                               "train_loss": ec.mean, "train_loss_lo": ec.lo, "train_loss_hi": ec.hi})
    return {"table": pd.DataFrame(rows), "curves": pd.DataFrame(curves), "per_seed": per_seed}


def glorot(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``glorot``: Glorot & Bengio's Table 1 scaled down (no claim decides from it)."""
    g = run_glorot(config)
    return {"glorot_table1": g["table"], "glorot_rank_correlation": g["correlation"], "glorot_val_curves": g["curves"]}


def he(config: ml_collections.ConfigDict, t) -> dict:
    """Part ``he`` (G2): He et al.'s deep-ReLU stall, Xavier vs He."""
    h = run_he(config)
    return {"he_deep_relu": h["curves"], "he_summary": h["table"]}

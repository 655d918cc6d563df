"""Measurements of claims E2 (centring the data) and E3 (sigmoid vs tanh): steps to a target loss.

Every condition is one ``train.train_population`` call (seeds x learning rates vmapped); the
learning rate is tuned per condition; comparisons are paired over seeds (same init keys and data
order). E2 adds the Hessian condition number of a linear and a logistic model with inputs
shifted by +3 (LeCun et al. 1998). The trained populations are artefacts for E1.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, models, stats, train

from .measure import censored_log_steps, hessian_condition, tune


def mlp(config, activation: str, n_classes: int):
    return models.build("mlp", n_classes, widths=tuple(config.widths), activation=activation, initializer=config.init)


def _spec(config) -> train.TrainSpec:
    return train.TrainSpec(
        optimizer="sgd", steps=config.steps, batch_size=config.batch_size, log_every=config.log_every, n_eval=config.n_eval
    )


def load(config, name: str, scaling: str, shift: float = 0.0) -> data.Dataset:
    return data.load(name, n_train=config.n_train, n_test=config.n_test, scaling=scaling, shift=shift)


def _e2_dataset(config, name: str, condition: str) -> data.Dataset:
    if condition == "raw_centred":
        return load(config, name, "raw", shift=-float(config.e2.half_range[name]))
    return load(config, name, condition)


def _tuned_population(config, model, dataset, lrs, target: float) -> dict:
    """Train seeds x lrs in one call; tune the lr per condition; per-seed steps at the tuned lr."""
    seeds = list(range(config.seeds))
    pop = train.train_population(model, dataset, _spec(config), seeds, list(lrs))
    n_s, n_l = len(seeds), len(lrs)
    steps_to = train.first_step_below(pop.metrics["train_loss"], pop.steps, target).reshape(n_s, n_l)
    log_steps = censored_log_steps(steps_to, config.steps, config.censor_factor, config.log_every)
    final = pop.metrics["train_loss"][:, -1].reshape(n_s, n_l)
    best = tune(log_steps, final)
    half = max(1, n_s // 2)
    held_best = tune(log_steps, final, slice(0, half))
    return {
        "pop": pop,
        "best": best,
        "lr": float(lrs[best]),
        "edge": best in (0, n_l - 1),
        "steps_to": steps_to[:, best],
        "log_steps": log_steps[:, best],
        "held_out_log_steps": log_steps[half:, held_best] if n_s > 1 else log_steps[:, held_best],
        "final_loss": final[:, best],
        "diverged": pop.diverged[:, -1].reshape(n_s, n_l),
        "grid_log_steps": log_steps.mean(axis=0),
        "run_index": np.arange(n_s) * n_l + best,
    }


def _steps_row(label: dict, res: dict, lrs) -> dict:
    steps = res["steps_to"]
    est = stats.mean_ci(res["log_steps"])
    return {
        **label,
        "best_learning_rate": res["lr"], "best_learning_rate_at_grid_edge": res["edge"],
        "reached": int(np.isfinite(steps).sum()), "n_seeds": len(steps),
        "geo_mean_steps": 2**est.mean, "geo_mean_steps_lo": 2**est.lo, "geo_mean_steps_hi": 2**est.hi,
        "held_out_geo_mean_steps": float(2 ** np.mean(res["held_out_log_steps"])),
        "final_train_loss": float(np.nanmean(res["final_loss"])),
        "n_diverged": int(res["diverged"][:, res["best"]].sum()),
        "n_diverged_in_grid": int(res["diverged"].sum()),
    }


def _compare(a: dict, b: dict, label: dict, min_speedup: float) -> dict:
    """Paired comparison of log2 steps, a (e.g. uncentred) minus b (centred): > 0 means b is faster."""
    pr = stats.paired(a["log_steps"], b["log_steps"])
    speedup = 2**pr.diff.mean
    return {
        **label, "speedup": speedup, "speedup_lo": 2**pr.diff.lo, "speedup_hi": 2**pr.diff.hi, "p_t": pr.p_t,
        "p_wilcoxon": pr.p_wilcoxon, "faster": bool(pr.diff.lo > 0 and speedup >= min_speedup),
        "slower": bool(pr.diff.hi < 0), "n_seeds": pr.diff.n,
    }


def _hessian_rows(config, name: str) -> list[dict]:
    """LeCun et al. 1998: the Hessian of a linear / logistic model, centred vs shifted inputs (E2)."""
    rows = []
    for shift in (0.0, float(config.e2.shift)):
        ds = load(config, name, "standardised", shift=shift)
        y_bin = (ds.y_train >= ds.n_classes // 2).astype(float)
        rows.append({
            "dataset": name, "inputs": "standardised" if shift == 0 else f"standardised + {shift:g}",
            "kappa_linear": hessian_condition(ds.x_train),
            "kappa_logistic": hessian_condition(ds.x_train, y_bin, l2=config.e2.logistic_l2, logistic=True),
        })
    return rows


def measure_e2(config: ml_collections.ConfigDict, t) -> dict:
    """E2: steps to target per (data set, input scaling), lr tuned per condition; paired speed-ups; Hessians."""
    e2_rows, e2_cmp, e2_res, hess_rows = [], [], {}, []
    pairs = [tuple(p) for p in config.e2.centring_pairs] + [("unit", "standardised")]  # the last: tables only
    for name in config.e2.datasets:
        for cond in config.e2.scalings:
            ds = _e2_dataset(config, name, cond)
            model = mlp(config, config.e2.activation, ds.n_classes)
            res = _tuned_population(config, model, ds, config.e2.learning_rates, float(config.e2.targets[name]))
            e2_res[(name, cond)] = res
            e2_rows.append(_steps_row({"dataset": name, "scaling": cond,
                                       "x_min": float(ds.x_train.min()), "x_max": float(ds.x_train.max()),
                                       "x_mean": float(ds.x_train.mean())}, res, config.e2.learning_rates))
        for a, b in pairs:
            if (name, a) in e2_res and (name, b) in e2_res:
                e2_cmp.append(_compare(e2_res[(name, a)], e2_res[(name, b)],
                                       {"dataset": name, "from": a, "to": b}, config.criteria.e2.min_speedup))
        hess_rows += _hessian_rows(config, name)
    grid = pd.DataFrame([
        {"dataset": k[0], "scaling": k[1], "learning_rate": lr, "geo_mean_steps": 2**v}
        for k, res in e2_res.items() for lr, v in zip(config.e2.learning_rates, res["grid_log_steps"], strict=True)
    ])
    return {"e2_steps": pd.DataFrame(e2_rows), "e2_compare": pd.DataFrame(e2_cmp), "e2_hessian": pd.DataFrame(hess_rows),
            "e2_lr_grid": grid, "e2_res": e2_res}


def measure_e3(config: ml_collections.ConfigDict, t) -> dict:
    """E3: steps to target per activation (lr tuned per activation); centring vs slope comparisons."""
    e3c = config.e3
    e3_data = load(config, e3c.dataset, "standardised")
    e3_res, e3_rows = {}, []
    for act in e3c.activations:
        model = mlp(config, act, e3_data.n_classes)
        e3_res[act] = _tuned_population(config, model, e3_data, e3c.learning_rates, float(e3c.target))
        e3_rows.append(_steps_row({"activation": act}, e3_res[act], e3c.learning_rates))
    unc, cen, same = e3c.uncentred_activation, e3c.centred_activation, e3c.centred_same_slope_activation
    e3_pairs = [(unc, cen, "total"), (unc, same, "centring (same slope 1/4)"),
                (same, cen, "slope (both centred)"), ("tanh", "lecun_tanh", "tanh vs LeCun tanh")]
    compare = pd.DataFrame([
        _compare(e3_res[a], e3_res[b], {"from": a, "to": b, "effect": eff}, 1.0)
        for a, b, eff in e3_pairs if a in e3_res and b in e3_res
    ])
    return {"e3_steps": pd.DataFrame(e3_rows), "e3_compare": compare, "e3_res": e3_res, "e3_data": e3_data}

"""Measurements of claims E2 (centring the data) and E3 (sigmoid vs tanh): steps to a target loss.

One trainer per input shape: the MLP's activation is the kit's ``switch`` over every activation
E1-E3 train, so E2's input scalings (tanh) and E3's activations share one compile; each call
trains seeds x one block of learning rates (a fixed number of runs). R6: each arm (scaling or
activation) gets its own learning rate from a log grid, extended by blocks beyond an edge where
its best lies. Comparisons are paired over seeds (same init keys and data order). R7: a run that
never reaches the target is censored; it enters a comparison at the budget (a bound, flagged).
R8: n_learned counts the runs whose final train accuracy is >= chance + criteria.learned_margin.
E2 adds the spectrum of the inputs' second-moment matrix (LeCun et al. 1998). The trained
populations are artefacts for E1.
"""

from __future__ import annotations

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, models, stats, train

from .measure import beyond_edge, censored_log_steps, mean_or_nan, ratio_of_means_ci, second_moment_spectrum, tune


def branches(config) -> tuple[str, ...]:
    """The switch's activations: every activation E1-E3 train (one model, hence one compile, per input shape)."""
    e1 = config.e1
    names = (*config.e3.activations, config.e2.activation, e1.positive_activation, e1.centred_activation, e1.reported_activation)
    return tuple(dict.fromkeys(names))


def mlp(config, n_classes: int):
    return models.build("mlp", n_classes, widths=tuple(config.widths), activation=models.SWITCH,
                        act_params=models.switch_params(branches(config)), initializer=config.init)


def spec(config) -> train.TrainSpec:
    return train.TrainSpec(optimizer="sgd", steps=config.steps, batch_size=config.batch_size, log_every=config.log_every,
                           n_eval=config.n_eval)


def load(config, name: str, scaling: str) -> data.Dataset:
    """Data set ``name`` at a kit scaling (E3, E4) or an E2 arm (``config.e2.arms``: a kit scaling
    shifted by a fraction of the scaled training inputs' range)."""
    arm = config.e2.arms.get(scaling, None)
    if arm is None:
        return data.load(name, n_train=config.n_train, n_test=config.n_test, scaling=scaling)
    ds = data.load(name, n_train=config.n_train, n_test=config.n_test, scaling=arm.scaling)
    if not arm.shift_of_range:
        return ds
    shift = float(arm.shift_of_range) * float(ds.x_train.max() - ds.x_train.min())
    return data.load(name, n_train=config.n_train, n_test=config.n_test, scaling=arm.scaling, shift=shift)


def _block(config, model, ds, variant: int, lrs: list[float]) -> dict[float, dict]:
    """Train seeds x ``lrs`` of one switch branch in one call; per lr the per-seed outcomes."""
    seeds = np.arange(config.seeds)
    runs = {"seed": np.tile(seeds, len(lrs)), "learning_rate": np.repeat(np.asarray(lrs, float), len(seeds)),
            "variant": np.full(len(seeds) * len(lrs), variant)}
    pop = train.train_runs(model, ds, spec(config), runs)
    loss, acc = pop.metrics["train_loss"], pop.metrics["train_acc"]
    out = {}
    for i, lr in enumerate(lrs):
        sel = np.arange(i * len(seeds), (i + 1) * len(seeds))
        out[float(lr)] = {"loss": loss[sel], "acc": acc[sel, -1], "diverged": pop.diverged[sel, -1], "steps": pop.steps,
                          "final": {k: v for k, v in pop.final.items()}, "index": sel}
    return out


def tuned(config, model, ds, variant: int, grid, target: float) -> dict:
    """R6: the arm's best lr from ``grid``, extended beyond an edge (at most config.lr_extensions
    blocks); the per-seed outcomes at the best lr and every lr tried."""
    tried = _block(config, model, ds, variant, list(grid))
    for _ in range(int(config.lr_extensions) + 1):
        lrs = sorted(tried)
        steps_to = np.stack([train.first_step_below(tried[lr]["loss"], tried[lr]["steps"], target) for lr in lrs], axis=1)
        log_steps = censored_log_steps(steps_to, config.steps, config.censor_factor, config.log_every)
        final = np.stack([tried[lr]["loss"][:, -1] for lr in lrs], axis=1)
        best = lrs[tune(log_steps, final)]
        more = beyond_edge(lrs, best, len(grid))
        if more is None or len(tried) >= len(grid) * (1 + int(config.lr_extensions)):
            break
        tried.update(_block(config, model, ds, variant, more))
    b, chance = tried[best], 1.0 / ds.n_classes
    idx = lrs.index(best)
    return {
        "lr": best, "edge": best in (lrs[0], lrs[-1]), "steps_to": steps_to[:, idx], "final_loss": final[:, idx],
        "learned": b["acc"] >= chance + float(config.criteria.learned_margin), "diverged": b["diverged"],
        "final": {k: v for k, v in b["final"].items()}, "run_index": b["index"],
        "grid": [(lr, steps_to[:, i], tried[lr]["diverged"]) for i, lr in enumerate(lrs)],
    }


def seed_log_steps(res: dict, budget: int) -> np.ndarray:
    """Per seed log2 steps to target; a censored run enters at the budget (a lower bound on its steps, R7)."""
    return np.log2(np.where(np.isfinite(res["steps_to"]), res["steps_to"], float(budget)))


def steps_row(label: dict, res: dict, config) -> dict:
    steps = res["steps_to"]
    est = stats.bootstrap_ci(seed_log_steps(res, config.steps))
    n, cens = len(steps), int((~np.isfinite(steps)).sum())
    status = "diverged" if res["diverged"].mean() > 0.5 else ("censored" if cens > 0 else "ok")
    return {**label, "best_learning_rate": res["lr"], "best_learning_rate_at_grid_edge": bool(res["edge"]),
            "n_seeds": n, "n_censored": cens, "n_learned": int(res["learned"].sum()), "n_diverged": int(res["diverged"].sum()),
            "geo_mean_steps": 2**est.mean, "geo_mean_steps_lo": 2**est.lo, "geo_mean_steps_hi": 2**est.hi,
            "final_train_loss": mean_or_nan(res["final_loss"]), "status": status}


def compare_row(a: dict, b: dict, label: dict, config, bound_fraction: float) -> dict:
    """Paired speed-up of b over a: 2^(mean over seeds of log2 steps(a) - log2 steps(b)), bootstrap CI.

    ``bound``: 'lower' when more than ``bound_fraction`` of a's seeds are censored (its steps, hence
    the speed-up, are underestimated), 'upper' for b's, 'both' for both, else 'none' (R7)."""
    d = seed_log_steps(a, config.steps) - seed_log_steps(b, config.steps)
    est = stats.bootstrap_ci(d)
    ca, cb = (float((~np.isfinite(r["steps_to"])).mean()) for r in (a, b))
    bound = {(True, False): "lower", (False, True): "upper", (True, True): "both"}.get((ca > bound_fraction, cb > bound_fraction), "none")
    return {**label, "speedup": 2**est.mean, "speedup_lo": 2**est.lo, "speedup_hi": 2**est.hi, "n_seeds": est.n,
            "censored_fraction_from": ca, "censored_fraction_to": cb, "bound": bound,
            "learning_rate_from": a["lr"], "learning_rate_to": b["lr"]}


def grid_rows(label: dict, res: dict) -> list[dict]:
    rows = []
    for lr, steps_to, diverged in res["grid"]:
        reached = steps_to[np.isfinite(steps_to)]
        status = "diverged" if diverged.mean() > 0.5 else ("censored" if len(reached) < len(steps_to) else "ok")
        rows.append({**label, "learning_rate": lr, "n_reached": len(reached), "n_diverged": int(diverged.sum()),
                     "geo_mean_steps_reached": float(2 ** mean_or_nan(np.log2(reached))),
                     "status": status})
    return rows


def spectrum_rows(config, name: str) -> list[dict]:
    """LeCun et al. 1998: eigenvalues of E[x x^T] (uncentred) vs the covariance (centred) (E2)."""
    unit, std = load(config, name, "unit"), load(config, name, "standardised")
    rows = []
    for inputs, x, centre in (("[0,1] pixels", unit.x_train, False), ("[0,1] minus feature mean", unit.x_train, True),
                              ("standardised", std.x_train, True),
                              (f"standardised + {config.e2.shift:g}", std.x_train + float(config.e2.shift), False)):
        s = second_moment_spectrum(x, centre)
        ref = second_moment_spectrum(x, True)["lambda_max"]
        rows.append({"dataset": name, "inputs": inputs, **s, "lambda_max_centred": ref,
                     "lecun_predicted_lambda_max": ref + s["mean_sq_norm"] if not centre else ref})
    return rows


def measure_e2(config: ml_collections.ConfigDict, t) -> dict:
    """E2: steps to target per (data set, input scaling), lr tuned per arm; paired speed-ups; spectra."""
    steps_rows, cmp_rows, lr_rows, spec_rows, res_all = [], [], [], [], {}
    variant = branches(config).index(config.e2.activation)
    for name in config.e2.datasets:
        for scaling in config.e2.arm_names:
            ds = load(config, name, scaling)
            res = tuned(config, mlp(config, ds.n_classes), ds, variant, config.e2.learning_rates, float(config.e2.targets[name]))
            res_all[(name, scaling)] = res
            feature_mean = ds.x_train.reshape(len(ds.x_train), -1).mean(axis=0)
            steps_rows.append(steps_row({"dataset": name, "scaling": scaling, "x_min": float(ds.x_train.min()),
                                         "x_max": float(ds.x_train.max()), "x_mean": float(feature_mean.mean()),
                                         "max_abs_feature_mean": float(np.abs(feature_mean).max())}, res, config))
            lr_rows += grid_rows({"dataset": name, "scaling": scaling}, res)
        for a, b in config.e2.comparisons:
            if (name, a) in res_all and (name, b) in res_all:
                cmp_rows.append(compare_row(res_all[(name, a)], res_all[(name, b)], {"dataset": name, "from": a, "to": b},
                                            config, float(config.criteria.e2.censor_max_fraction)))
        spec_rows += spectrum_rows(config, name)
    return {"e2_steps": pd.DataFrame(steps_rows), "e2_compare": pd.DataFrame(cmp_rows), "e2_spectrum": pd.DataFrame(spec_rows),
            "e2_lr_grid": pd.DataFrame(lr_rows), "e2_res": res_all}


def share_row(unc: dict, cen: dict, same: dict, config) -> dict:
    """The centring share of the uncentred -> centred log-steps gap, paired over seeds (bootstrap CI)."""
    ls = {k: seed_log_steps(r, config.steps) for k, r in (("u", unc), ("c", cen), ("s", same))}
    est = ratio_of_means_ci(ls["u"] - ls["s"], ls["u"] - ls["c"])
    return {"share": est.mean, "share_lo": est.lo, "share_hi": est.hi, "n_seeds": est.n}


def measure_e3(config: ml_collections.ConfigDict, t) -> dict:
    """E3: steps to target per activation (lr tuned per activation); centring vs slope comparisons."""
    e3c = config.e3
    ds = load(config, e3c.dataset, "standardised")
    model, names = mlp(config, ds.n_classes), branches(config)
    res, rows, lr_rows = {}, [], []
    for act in e3c.activations:
        res[act] = tuned(config, model, ds, names.index(act), e3c.learning_rates, float(e3c.target))
        rows.append(steps_row({"activation": act, "init": config.init}, res[act], config))
        lr_rows += grid_rows({"activation": act}, res[act])
    unc, cen, same = e3c.uncentred_activation, e3c.centred_activation, e3c.centred_same_slope_activation
    pairs = [(unc, cen, "total"), (unc, same, "centring (same slope 1/4)"), (same, cen, "slope (both centred)"),
             ("tanh", "lecun_tanh", "tanh vs LeCun tanh")]
    bound = float(config.criteria.e3.censor_bound_fraction)
    compare = pd.DataFrame([compare_row(res[a], res[b], {"from": a, "to": b, "effect": eff}, config, bound)
                            for a, b, eff in pairs if a in res and b in res])
    share = pd.DataFrame([share_row(res[unc], res[cen], res[same], config)] if {unc, cen, same} <= set(res) else [])
    return {"e3_steps": pd.DataFrame(rows), "e3_compare": compare, "e3_share": share, "e3_lr_grid": pd.DataFrame(lr_rows),
            "e3_res": res, "e3_data": ds}

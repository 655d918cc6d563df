"""The training measurements of experiments.vanishing: saturation (D4), depth sweep (D6), edge of chaos.

2. Saturation during training (D4), Glorot & Bengio's setting at CPU scale: sigmoid (tanh
   beside), 4 hidden layers, standard init U[+-1/sqrt(n)], plain SGD on minibatches of 10; per
   seed and log point the per-layer mean activation, |h| > 2 fraction, the lowest layer's ln
   gradient norm and the training accuracy (:func:`.net.make_logged_trainer`, one compile).
3. Trainability vs depth (D6) with and without BatchNorm: each arm on its own log grid of
   learning rates (extended while its best is at an edge, R6), best per (arm, depth).
4. Edge-of-chaos map: tanh, sigma_w^2 x depth (to >= 2x the 6 xi_c it tests), against
   depth < 6 xi_c from a converged mean-field correlation map (Schoenholz et al. 2017).
"""

from __future__ import annotations

import functools

import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import data, inits, meanfield, ondevices, perf, stats, train

from . import net


def _eval_subset(ds, n_eval: int):
    x = ds.x_train.reshape(len(ds.x_train), -1)
    order = np.random.default_rng(0).permutation(len(x))[:n_eval]
    return x, x[order], ds.y_train[order]


def measure_saturation(cfg: ml_collections.ConfigDict) -> pd.DataFrame:
    """One row per (activation, seed, log step, hidden layer) of Glorot & Bengio's net during SGD."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    x, x_ev, y_ev = _eval_subset(ds, cfg.n_eval)
    dims = (ds.n_features, cfg.width, cfg.hidden_layers, ds.n_classes)
    names = tuple(cfg.activations)
    fn = net.make_logged_trainer(names, cfg.init, dims, cfg.steps, cfg.batch_size, cfg.log_every)
    macs = net.macs(*dims)
    flops = cfg.seeds * 6 * macs * (cfg.batch_size * cfg.steps + cfg.n_eval * (cfg.steps // cfg.log_every + 1))
    steps = np.arange(cfg.steps // cfg.log_every + 1) * cfg.log_every
    def history(index):  # one activation's seeds; the activations run concurrently over the devices
        return lambda: ondevices.execute(fn, np.int32(index), np.arange(cfg.seeds, dtype=np.int32), np.float32(cfg.learning_rate),
                                 x, ds.y_train, x_ev, y_ev, flops=flops)

    rows = []
    for activation, h in zip(names, ondevices.on_devices([history(i) for i in range(len(names))])):
        h = {k: np.asarray(v) for k, v in h.items()}
        for s in range(cfg.seeds):
            for t, step in enumerate(steps):
                for layer in range(cfg.hidden_layers):
                    rows.append({
                        "activation": activation, "seed": s, "step": int(step), "layer": layer + 1,
                        "mean_act": float(h["mean_act"][s, t, layer]), "std_act": float(h["std_act"][s, t, layer]),
                        "saturated": float(h["saturated"][s, t, layer]),
                        "log10_grad_w1": float(h["log_grad_w1"][s, t] / np.log(10)),
                        "train_acc": float(h["train_acc"][s, t]), "train_loss": float(h["train_loss"][s, t]),
                        "status": "diverged" if h["diverged"][s, t] else "ok",
                    })  # fmt: skip
    return pd.DataFrame(rows)


def saturation_per_seed(seeds: pd.DataFrame, activation: str, top_mean: float) -> pd.DataFrame:
    """D4 (a), (b) per seed: the top layer's smallest mean output after step 0, the step of it, and
    log10 ||dL/dW_1|| relative to step 0 at the log points where the top mean is below ``top_mean``
    (their median; NaN, i.e. censored, for a seed whose top layer never falls below it)."""
    g = seeds[seeds.activation == activation]
    top = g[g.layer == g.layer.max()].sort_values(["seed", "step"])
    rows = []
    for seed, s in top.groupby("seed"):
        later = s[s.step > 0]
        grad0 = float(s.log10_grad_w1.iloc[0])
        low = later[later.mean_act < top_mean]
        rows.append({"seed": int(seed), "top_mean_min": float(later.mean_act.min()),
                     "step_of_min": int(later.step.iloc[int(np.argmin(later.mean_act.to_numpy()))]),
                     "log10_grad_drop": float(np.median(low.log10_grad_w1 - grad0)) if len(low) else np.nan,
                     "n_saturated_points": len(low), "final_train_acc": float(s.train_acc.iloc[-1]),
                     "diverged": bool((s.status == "diverged").any())})
    return pd.DataFrame(rows)


def layer_rises(seeds: pd.DataFrame, activation: str) -> pd.DataFrame:
    """D4 (c) per seed and layer: the rise (max over training - step 0) of the |h| > 2 fraction and
    the first step at which it reaches half that maximum rise (the order in which layers saturate)."""
    g = seeds[seeds.activation == activation].sort_values(["seed", "layer", "step"])
    rows = []
    for (seed, layer), s in g.groupby(["seed", "layer"]):
        sat = s.saturated.to_numpy()
        rise = float(sat.max() - sat[0])
        half = s.step.to_numpy()[int(np.argmax(sat - sat[0] >= rise / 2))] if rise > 0 else np.nan
        rows.append({"seed": int(seed), "layer": int(layer), "rise": rise, "step_half_rise": float(half)})
    return pd.DataFrame(rows)


def saturation_summary(seeds: pd.DataFrame, crit) -> pd.DataFrame:
    """Per activation: D4's per-seed numbers as means with 95% CIs over seeds (the table the claim shows)."""
    rows = []
    for activation in dict.fromkeys(seeds.activation):
        per = saturation_per_seed(seeds, activation, crit.top_mean)
        top, drop = stats.mean_ci(per.top_mean_min), stats.mean_ci(per.log10_grad_drop)
        row = {"activation": activation, "top_mean_min": top.mean, "top_mean_min_lo": top.lo, "top_mean_min_hi": top.hi,
               "step_of_min": float(per.step_of_min.mean()), "log10_grad_drop": drop.mean,
               "log10_grad_drop_lo": drop.lo, "log10_grad_drop_hi": drop.hi, "n_censored": int(per.log10_grad_drop.isna().sum()),
               "final_train_acc": float(per.final_train_acc.mean()), "n_diverged": int(per.diverged.sum()), "n_seeds": len(per)}
        rises = layer_rises(seeds, activation)
        for layer, r in rises.groupby("layer"):
            est = stats.mean_ci(r.rise)
            row.update({f"rise_layer{layer}": est.mean, f"rise_layer{layer}_lo": est.lo, f"rise_layer{layer}_hi": est.hi,
                        f"step_half_rise_layer{layer}": float(np.nanmedian(r.step_half_rise)) if r.step_half_rise.notna().any()
                        else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


def kernel_stds(init: str, dims: tuple[int, int, int, int]) -> np.ndarray:
    """(3,): the standard deviations of ``init`` (a normal-kind initialiser) for the input, hidden and output kernels."""
    d_in, width, _, n_out = dims
    out = []
    for shape in ((d_in, width), (width, width), (width, n_out)):
        kind, scale = inits.form(init, shape)
        if kind != "normal":
            raise ValueError(f"the sweep trainer draws N(0, std^2) kernels; {init!r} is {kind}")
        out.append(scale)
    return np.asarray(out, np.float32)


def _train_runs(names, index, batch_norm, init, ds, cfg, depths, seeds, lrs, scales, bias_std=0.0, pad_to=0):
    """Final training accuracy and divergence of the runs (seeds[i], lrs[i], scales[i]), shape (D, R).

    One compile per (activation group, BatchNorm, shapes): every depth is the net of the largest
    depth with the layers past its depth skipped; the activation is an index; the runs are vmapped
    (padded to ``pad_to`` runs, so that calls of different sizes share one compile); on this
    thread's device (``ondevices.execute``)."""
    x, x_ev, y_ev = _eval_subset(ds, cfg.n_eval)
    dims = (ds.n_features, cfg.width, max(cfg.depths), ds.n_classes)
    fn = _trainer(tuple(names), batch_norm, dims, cfg.steps, cfg.batch_size)
    n = len(seeds)
    pad = np.r_[np.arange(n), np.zeros(max(0, pad_to - n), int)]
    seeds, lrs, scales = (np.asarray(v)[pad] for v in (seeds, lrs, scales))
    stds = scales[:, None].astype(np.float32) * kernel_stds(init, dims)[None]
    args = (np.int32(index), seeds.astype(np.int32), lrs.astype(np.float32), stds, np.full(len(seeds), bias_std, np.float32),
            np.asarray(depths, np.int32), x, ds.y_train, x_ev, y_ev)
    d_in, width, _, n_out = dims
    macs = sum(net.macs(d_in, width, d, n_out) for d in depths)  # executed layers only
    flops = len(seeds) * (6 * macs * cfg.batch_size * cfg.steps + 2 * macs * cfg.n_eval)
    acc, _, diverged = ondevices.execute(fn, *args, flops=flops)
    return np.asarray(acc, float)[:, :n], np.asarray(diverged)[:, :n]


def _train_grid(names, index, batch_norm, init, ds, cfg, depths, seeds, lrs, scales, bias_std=0.0):
    """:func:`_train_runs` over the grid seeds x lrs x scales, shape (S, D, n_lr, n_scale): one call
    per depth (one program for all), the depths spread over the devices, deepest first."""
    runs, shape = train.run_grid(seeds, learning_rate=lrs, weight_scale=scales)

    def at(depth):
        return lambda: _train_runs(names, index, batch_norm, init, ds, cfg, (depth,), runs["seed"], runs["learning_rate"],
                                   runs["weight_scale"], bias_std)

    done = ondevices.on_devices([at(d) for d in depths], weights=list(depths))
    acc, div = (np.concatenate([r[k] for r in done]) for k in (0, 1))
    full = (len(depths), *shape)
    return np.moveaxis(acc.reshape(full), 0, 1), np.moveaxis(div.reshape(full), 0, 1)


@perf.once
def _trainer(names, batch_norm, dims, steps, batch_size):
    return net.make_trainer(names, batch_norm, dims, steps, batch_size)


def _best(acc: np.ndarray) -> int:
    """The learning rate with the highest mean accuracy over seeds (diverged runs count as 0): (S, G) -> index."""
    return int(np.argmax(np.where(np.isfinite(acc), acc, 0.0).mean(0)))


def sweep_depth(activation, batch_norm, init, ds, cfg, depth) -> dict:
    """R6 for one arm at one depth: the best lr on ``search_seeds`` seeds over a log grid extended
    (by as many points again) while the best is at an edge, at most ``max_extensions`` times; then
    ``seeds`` fresh seeds (ids from 1000) trained at that lr, so the reported accuracy is not the
    maximum over the grid of the same seeds. Every call pads to one run count: one compile."""
    index = tuple(cfg.activations).index(activation)
    pad = max(cfg.search_seeds * len(cfg.learning_rates), cfg.seeds)
    run = functools.partial(_train_runs, cfg.activations, index, batch_norm, init, ds, cfg, (depth,), pad_to=pad)

    def search(grid):
        seeds, lrs = np.repeat(np.arange(cfg.search_seeds), len(grid)), np.tile(grid, cfg.search_seeds)
        acc, div = run(seeds, lrs, np.ones(len(seeds)))
        return acc[0].reshape(cfg.search_seeds, len(grid)), div[0].reshape(cfg.search_seeds, len(grid))

    lrs = np.asarray(cfg.learning_rates, float)
    acc, div = search(lrs)
    ratio, n = lrs[1] / lrs[0], len(cfg.learning_rates)
    for _ in range(cfg.max_extensions):
        best = _best(acc)
        if best not in (0, len(lrs) - 1):
            break
        new = lrs[-1] * ratio ** np.arange(1, n + 1) if best == len(lrs) - 1 else lrs[0] / ratio ** np.arange(n, 0, -1)
        a2, d2 = search(new)
        order = np.argsort(np.r_[lrs, new])
        lrs, acc, div = np.r_[lrs, new][order], np.c_[acc, a2][:, order], np.c_[div, d2][:, order]
    best = _best(acc)
    final = np.arange(1000, 1000 + cfg.seeds)
    f_acc, f_div = run(final, np.full(cfg.seeds, lrs[best]), np.ones(cfg.seeds))
    return {"lrs": lrs, "search_acc": acc, "search_div": div, "best": best, "seeds": final, "acc": f_acc[0], "div": f_div[0]}


def measure_depth(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per (activation, BatchNorm, depth): the accuracy at the arm's best lr (table), per seed, and the lr search.

    The arms' searches are independent: they run concurrently over the devices, deepest first."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    arms = [(a, i, bn, d) for a, i in zip(cfg.activations, cfg.inits) for bn in (False, True) for d in cfg.depths]
    tasks = [functools.partial(sweep_depth, a, bn, i, ds, cfg, d) for a, i, bn, d in arms]
    searched = ondevices.on_devices(tasks, weights=[d for *_, d in arms])
    rows, per_seed, per_lr = [], [], []
    for (activation, init, bn, depth), r in zip(arms, searched):
        lrs, best = r["lrs"], r["best"]
        est = stats.mean_ci(r["acc"])
        cond = {"activation": activation, "init": init, "batch_norm": bn, "depth": depth}
        rows.append({**cond, "best_learning_rate": float(lrs[best]), "train_acc": est.mean, "train_acc_lo": est.lo,
                     "train_acc_hi": est.hi, "n_seeds": est.n, "n_diverged": int(r["div"].sum()),
                     "lr_at_edge": bool(best in (0, len(lrs) - 1)), "lr_grid_lo": float(lrs[0]),
                     "lr_grid_hi": float(lrs[-1]), "n_learning_rates": len(lrs)})
        per_seed += [{**cond, "seed": int(s), "learning_rate": float(lrs[best]), "train_acc": float(a),
                      "status": "diverged" if d else "ok"} for s, a, d in zip(r["seeds"], r["acc"], r["div"])]
        score = np.where(np.isfinite(r["search_acc"]), r["search_acc"], 0.0).mean(0)
        per_lr += [{**cond, "learning_rate": float(lr), "train_acc": float(score[g]), "n_seeds": cfg.search_seeds,
                    "n_diverged": int(r["search_div"][:, g].sum())} for g, lr in enumerate(lrs)]
    return pd.DataFrame(rows), pd.DataFrame(per_seed), pd.DataFrame(per_lr)


def _trainable(est: stats.Estimate, threshold: float) -> str:
    """R3 on a cell: 'yes' if the CI lies above the threshold, 'no' if below, else 'undecided'."""
    return "yes" if est.lo > threshold else ("no" if est.hi < threshold else "undecided")


def measure_chaos(cfg: ml_collections.ConfigDict, criteria) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training accuracy over the (sigma_w^2, depth) grid, beside depth < 6 xi_c from mean field."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    mfs = meanfield.mean_field_many(cfg.activation, cfg.sigma_w2, cfg.sigma_b2)
    scales = [float(np.sqrt(s)) for s in cfg.sigma_w2]
    acc_all, div_all = _train_grid((cfg.activation,), 0, False, "lecun_normal", ds, cfg, cfg.depths, range(cfg.seeds),
                                   [cfg.learning_rate], scales, bias_std=float(np.sqrt(cfg.sigma_b2)))
    rows = []
    for d, depth in enumerate(cfg.depths):
        for j, (s2, mf) in enumerate(zip(cfg.sigma_w2, mfs)):
            acc, div = acc_all[:, d, 0, j], div_all[:, d, 0, j]
            est = stats.mean_ci(acc)
            trainable = _trainable(est, criteria.trainable_acc)
            predicted = bool(depth < criteria.multiple_of_xi * mf.xi_c)
            rows.append({"sigma_w2": s2, "depth": depth, "train_acc": est.mean, "train_acc_lo": est.lo, "train_acc_hi": est.hi,
                         "n_seeds": est.n, "n_diverged": int(div.sum()), "status": "diverged" if div.all() else "ok",
                         "xi_c": mf.xi_c, "six_xi_c": criteria.multiple_of_xi * mf.xi_c, "chi_1": mf.chi_1, "c_star": mf.c_star,
                         "trainable": trainable, "predicted_trainable": "yes" if predicted else "no",
                         "agree": "undecided" if trainable == "undecided" else ("yes" if (trainable == "yes") == predicted else "no")})
    lo, hi = min(cfg.sigma_w2), max(cfg.sigma_w2)
    fine = np.unique(np.concatenate([np.linspace(lo, hi, 29), cfg.sigma_w2]))
    curve = pd.DataFrame([{"sigma_w2": float(s), "xi_c": m.xi_c, "six_xi_c": criteria.multiple_of_xi * m.xi_c, "chi_1": m.chi_1,
                           "c_star": m.c_star} for s, m in zip(fine, meanfield.mean_field_many(cfg.activation, fine, cfg.sigma_b2))])
    return pd.DataFrame(rows), curve


def run_saturation(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``saturation`` (D4): tables ``saturation_seeds`` and ``saturation_summary``."""
    seeds = measure_saturation(config.saturation)
    return {"saturation_seeds": seeds, "saturation_summary": saturation_summary(seeds, config.criteria.d4)}


def run_depth(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``depth`` (D6): tables ``depth_sweep``, ``depth_sweep_seeds``, ``depth_sweep_lr``."""
    table, per_seed, per_lr = measure_depth(config.depth_sweep)
    return {"depth_sweep": table, "depth_sweep_seeds": per_seed, "depth_sweep_lr": per_lr}


def run_chaos(config: ml_collections.ConfigDict, t) -> dict:
    """The measurement ``chaos``: tables ``chaos_map`` and ``chaos_theory``."""
    table, curve = measure_chaos(config.chaos, config.criteria.chaos)
    return {"chaos_map": table, "chaos_theory": curve}

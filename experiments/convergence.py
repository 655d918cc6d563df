"""Speed, stability and accuracy of training per activation (claims H1, H3, H4, F5, C4, C5).

Run: python -m experiments.convergence --config configs/convergence.py:smoke

One population (one jit: seeds x learning rates [x weight scales]) per (model, data set,
activation); the claims share them: H1 reads steps to a training-error threshold at each
activation's fastest stable learning rate, F5/H3/H4 the final accuracies at that learning rate,
C5 the whole learning-rate sweep (largest stable rate, best loss), C4 extra populations started
from small weights. All comparisons are paired by seed (same init keys and data order).
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import cli, data, models, results, stats, train, verdicts


@dataclasses.dataclass(frozen=True)
class Cell:
    """What a population measured, reduced over the log axis: arrays are (seeds, lrs, scales)."""

    model: str
    dataset: str
    label: str
    lrs: np.ndarray
    scales: np.ndarray
    steps_to: np.ndarray  # steps to the training-error threshold, inf if never
    diverged: np.ndarray
    train_loss: np.ndarray  # final
    train_acc: np.ndarray
    test_acc: np.ndarray
    slopes: np.ndarray | None  # PReLU: (seeds, lrs, scales, layers) mean learned slope
    budget: int


def act_spec(label: str, config: ml_collections.ConfigDict) -> tuple[str, dict]:
    """Activation name and parameters of a variant label (``leaky_relu_big`` = slope 1/5.5)."""
    if label == "leaky_relu":
        return "leaky_relu", {"alpha": float(config.leaky_alpha)}
    if label == "leaky_relu_big":
        return "leaky_relu", {"alpha": float(config.leaky_big_alpha)}
    if label == "rrelu":
        return "rrelu", {"lower": float(config.h4.rrelu_lower), "upper": float(config.h4.rrelu_upper)}
    return label, {}


def dataset_for(key: str, config: ml_collections.ConfigDict) -> data.Dataset:
    """``fashion_mnist`` is subsampled to ``fashion_n_train``; ``fashion_<n>k`` to n thousand images."""
    if key == "fashion_mnist":
        return data.load("fashion_mnist", n_train=config.fashion_n_train, n_test=config.n_test)
    if key.startswith("fashion_") and key.endswith("k"):
        return data.load("fashion_mnist", n_train=int(key[8:-1]) * 1000, n_test=config.n_test)
    return data.load(key, n_test=config.n_test if key != "digits" else None)


def steps_censored(steps_to: np.ndarray, budget: int, log_every: int) -> np.ndarray:
    """Never reached -> budget + one log interval (a lower bound on the true number of steps)."""
    return np.where(np.isfinite(steps_to), steps_to, budget + log_every)


def tuned_index(cell: Cell, log_every: int, scale: int = 0) -> int | None:
    """The fastest stable learning rate: no seed diverged; fewest mean steps, then lowest final loss."""
    stable = ~cell.diverged[:, :, scale].any(axis=0)
    if not stable.any():
        return None
    steps = steps_censored(cell.steps_to[:, :, scale], cell.budget, log_every).mean(axis=0)
    loss = np.nan_to_num(cell.train_loss[:, :, scale].mean(axis=0), nan=np.inf)
    order = sorted(np.flatnonzero(stable), key=lambda i: (steps[i], loss[i]))
    return int(order[0])


class Runner:
    """Trains populations on demand and caches them, so every claim reuses the same runs."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config
        self.spec = train.TrainSpec.from_config(config)
        self.cells: dict[tuple, Cell] = {}
        self._data: dict[str, data.Dataset] = {}

    def data(self, key: str) -> data.Dataset:
        if key not in self._data:
            self._data[key] = dataset_for(key, self.config)
        return self._data[key]

    def threshold(self, key: str) -> float:
        return float(self.config.criteria.threshold[key])

    def cell(self, model_kind: str, key: str, label: str, init: str | None = None, scales=(1.0,)) -> Cell:
        init = init or self.config.init
        ident = (model_kind, key, label, init, tuple(scales))
        if ident in self.cells:
            return self.cells[ident]
        c = self.config
        name, params = act_spec(label, c)
        ds = self.data(key)
        if model_kind == "mlp":
            model = models.build("mlp", ds.n_classes, widths=tuple(c.mlp_widths), activation=name,
                                 act_params=params, initializer=init)
        else:
            model = models.build("cnn", ds.n_classes, channels=tuple(c.cnn.channels),
                                 dense_widths=tuple(c.cnn.dense_widths), activation=name, act_params=params,
                                 initializer=init)
        pop = train.train_population(model, ds, self.spec, range(c.seeds), tuple(c.lrs), tuple(scales))
        shape = pop.shape
        m = {k: v.reshape(*shape, -1) for k, v in pop.metrics.items()}
        steps_to = train.first_step_below(1.0 - m["train_acc"], pop.steps, self.threshold(key))
        slopes = None
        if name == "prelu":
            params_final = pop.final["params"]
            layers = sorted((k for k in params_final if k.startswith("phi_")), key=lambda k: int(k.split("_")[1]))
            slopes = np.stack([params_final[k]["slope"].mean(axis=-1) for k in layers], -1).reshape(*shape, -1)
        cell = Cell(model_kind, key, label, np.asarray(c.lrs, float), np.asarray(scales, float), steps_to,
                    pop.diverged[:, -1].reshape(shape), m["train_loss"][..., -1], m["train_acc"][..., -1],
                    m["test_acc"][..., -1], slopes, self.spec.steps)
        self.cells[ident] = cell
        return cell

    def tuned(self, cell: Cell, scale: int = 0) -> dict | None:
        """Per-seed measurements at the tuned learning rate (None if every rate diverged)."""
        i = tuned_index(cell, self.spec.log_every, scale)
        if i is None:
            return None
        steps = cell.steps_to[:, i, scale]
        return {
            "lr": float(cell.lrs[i]),
            "steps": steps_censored(steps, cell.budget, self.spec.log_every),
            "reached": int(np.isfinite(steps).sum()),
            "test_acc": cell.test_acc[:, i, scale],
            "train_acc": cell.train_acc[:, i, scale],
            "gap": cell.train_acc[:, i, scale] - cell.test_acc[:, i, scale],
            "slopes": None if cell.slopes is None else cell.slopes[:, i, scale],
        }


def _ci(e: stats.Estimate) -> str:
    return f"{e.mean:.3g} [{e.lo:.3g}, {e.hi:.3g}]"


# ---------------------------------------------------------------------------------------------
# The shared sweep table (C5 and the per-activation tuned numbers)


def sweep_table(runner: Runner) -> pd.DataFrame:
    rows = []
    for (model_kind, key, label, init, scales), cell in runner.cells.items():
        for j, scale in enumerate(scales):
            best = tuned_index(cell, runner.spec.log_every, j)
            for i, lr in enumerate(cell.lrs):
                reached = np.isfinite(cell.steps_to[:, i, j])
                rows.append({
                    "model": model_kind, "dataset": key, "activation": label, "init": init, "weight_scale": scale, "lr": lr,
                    "diverged_seeds": int(cell.diverged[:, i, j].sum()), "reached_seeds": int(reached.sum()),
                    "mean_steps_censored": float(steps_censored(cell.steps_to[:, i, j], cell.budget,
                                                             runner.spec.log_every).mean()),
                    "final_train_loss": float(np.nanmean(cell.train_loss[:, i, j])) if not cell.diverged[:, i, j].all()
                    else float("nan"),
                    "final_test_acc": float(np.nanmean(cell.test_acc[:, i, j])) if not cell.diverged[:, i, j].all()
                    else float("nan"),
                    "status": "diverged" if cell.diverged[:, i, j].any() else "done",
                    "tuned": bool(best == i),
                })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# H1: steps to the threshold, relu vs tanh/sigmoid/others


def claim_h1(runner: Runner, config) -> tuple[verdicts.Verdict, pd.DataFrame, plt.Figure, dict]:
    pairs = mlp_pairs(config)
    cells = [("mlp", d) for d in dict.fromkeys(d for d, _ in pairs)] + [("cnn", d) for d in config.cnn.datasets]
    rows = []
    for model_kind, key in cells:  # the table lists every activation trained; the verdict reads tanh and sigmoid
        acts_here = [a for d, a in pairs if d == key] if model_kind == "mlp" else config.cnn.activations
        base = runner.tuned(runner.cell(model_kind, key, "relu"))
        for label in acts_here:
            if label == "relu":
                continue
            t = runner.tuned(runner.cell(model_kind, key, label))
            if base is None or t is None:
                rows.append({"model": model_kind, "dataset": key, "activation": label, "ratio": np.nan, "lo": np.nan, "hi": np.nan,
                                 "n": 0, "steps": np.nan, "relu_steps": np.nan, "reached": 0, "relu_reached": 0, "lr": np.nan,
                                 "relu_lr": np.nan, "status": "diverged"})
                continue
            r = stats.ratio_ci(t["steps"], base["steps"])
            rows.append({"model": model_kind, "dataset": key, "activation": label, "ratio": r.mean, "lo": r.lo, "hi": r.hi, "n": r.n,
                             "steps": float(t["steps"].mean()), "relu_steps": float(base["steps"].mean()),
                             "reached": t["reached"], "relu_reached": base["reached"], "lr": t["lr"], "relu_lr": base["lr"],
                             "status": "done"})
    df = pd.DataFrame(rows)
    core = df[df.activation.isin(["tanh", "sigmoid"])]
    faster = (core.lo > 1.0).to_numpy()
    frac = float(faster.mean()) if len(core) else float("nan")
    geo = float(np.exp(np.nanmean(np.log(core.ratio)))) if len(core) else float("nan")
    crit = config.criteria.h1
    holds = frac >= crit.min_fraction and geo >= crit.min_ratio
    verdict = verdicts.decide(holds, qualified=frac >= 0.5 or geo >= crit.min_ratio)
    tanh = core[core.activation == "tanh"]
    head = tanh.iloc[0] if len(tanh) else None
    cells_txt = "; ".join(f"{r.model}/{r.dataset} {r.activation}/relu {r.ratio:.2f} [{r.lo:.2f}, {r.hi:.2f}]"
                          for r in core.itertuples())
    stmt = (f"Steps to the training-error threshold at each activation's fastest stable learning rate: {cells_txt}. "
            f"{frac:.0%} of tanh/sigmoid-vs-ReLU cells have a CI above 1; geometric-mean ratio {geo:.2f} "
            f"(published tanh/ReLU: {config.published.h1_ratio:g}x). Ratios with non-reaching seeds are lower "
            "bounds (never-reached counted as budget + one log interval).")
    v = verdicts.Verdict(
        "H1", verdict, stmt,
        f"supported if >= {crit.min_fraction:.0%} of tanh/relu and sigmoid/relu step ratios have 95% CI > 1 and "
        f"their geometric mean >= {crit.min_ratio}; qualified if >= 50% or the mean alone passes",
        None if head is None else head.ratio, None if head is None else [head.lo, head.hi], config.seeds,
        "h1_step_ratios.csv", config.published.h1)
    fig, ax = plt.subplots(figsize=(8, 4))
    labels = [f"{r.model}/{r.dataset}\n{r.activation}" for r in df.itertuples()]
    x = np.arange(len(df))
    ax.bar(x, df.ratio, color=["C3" if a in ("tanh", "sigmoid") else "C0" for a in df.activation])
    ax.errorbar(x, df.ratio, yerr=[df.ratio - df.lo, df.hi - df.ratio], fmt="none", ecolor="k", capsize=2)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.axhline(config.published.h1_ratio, color="C2", ls="--", label="published tanh/ReLU (Krizhevsky 2012)")
    ax.set_xticks(x, labels, rotation=90, fontsize=6)
    ax.set_yscale("log")
    ax.set_ylabel("steps(activation) / steps(ReLU)")
    ax.set_title("H1: steps to the training-error threshold relative to ReLU (95% CI)")
    ax.legend(fontsize=7)
    summary = {"h1_geo_ratio": geo, "h1_fraction_faster": frac}
    for r in core.itertuples():
        summary[f"h1_{r.model}_{r.dataset}_{r.activation}"] = float(r.ratio)
    return v, df, fig, summary


# ---------------------------------------------------------------------------------------------
# F5: final test accuracy vs ReLU, Holm-corrected


def mlp_pairs(config) -> list[tuple[str, str]]:
    """Every (data set, activation) the MLP is trained on: the main grid, then the extra activations."""
    pairs = [(d, a) for d in config.grid.datasets for a in config.grid.activations]
    pairs += [(d, a) for d in config.extra.datasets for a in config.extra.activations]
    return list(dict.fromkeys(pairs))  # an activation in both lists is one comparison, not two


def claim_f5(runner: Runner, config) -> tuple[verdicts.Verdict, pd.DataFrame, plt.Figure, dict]:
    rows = []
    for key, label in mlp_pairs(config):
        if label in ("relu", "tanh", "sigmoid", "softsign", "prelu", "rrelu"):
            continue  # F5 is about ReLU's rivals of the same family (H3 and H4 cover PReLU and RReLU)
        base = runner.tuned(runner.cell("mlp", key, "relu"))
        t = runner.tuned(runner.cell("mlp", key, label))
        if base is None or t is None:
            rows.append({"dataset": key, "activation": label, "diff_pct": np.nan, "lo": np.nan, "hi": np.nan, "p_t": np.nan,
                             "status": "diverged"})
            continue
        p = stats.paired(t["test_acc"], base["test_acc"])
        rows.append({"dataset": key, "activation": label, "acc": float(np.mean(t["test_acc"])),
                         "relu_acc": float(np.mean(base["test_acc"])), "diff_pct": 100 * p.diff.mean,
                         "lo": 100 * p.diff.lo, "hi": 100 * p.diff.hi, "p_t": p.p_t, "status": "done"})
    df = pd.DataFrame(rows)
    ok = df.p_t.notna()
    df["p_holm"] = np.nan
    df.loc[ok, "p_holm"] = stats.holm(df.loc[ok, "p_t"].to_numpy())
    alpha = config.criteria.f5.alpha
    df["better"] = (df.p_holm < alpha) & (df.diff_pct > 0)
    df["worse"] = (df.p_holm < alpha) & (df.diff_pct < 0)
    consistent = []
    for label, g in df.groupby("activation"):
        if len(g) >= 2 and bool(g.better.all()):
            consistent.append(label)
    named = [a for a in consistent if a in config.criteria.f5.named]
    verdict = "refuted" if named else ("qualified" if consistent else "supported")
    top = df.loc[df.diff_pct.idxmax()] if ok.any() else None
    wins = "; ".join(f"{r.activation} on {r.dataset} {r.diff_pct:+.2f} pp (Holm p={r.p_holm:.3g})"
                     for r in df[df.better].itertuples()) or "none"
    losses = "; ".join(f"{r.activation} on {r.dataset} {r.diff_pct:+.2f} pp"
                       for r in df[df.worse].itertuples()) or "none"
    stmt = (f"Paired final test accuracy minus ReLU's over {config.seeds} seeds, {len(df)} comparisons, Holm-corrected. "
            f"Significantly better than ReLU: {wins}. Significantly worse: {losses}. Consistent winners "
            f"(better on every data set where run, >= 2 data sets): {', '.join(consistent) or 'none'}.")
    v = verdicts.Verdict(
        "F5", verdict, stmt,
        f"a rival 'beats ReLU consistently' if it is better with Holm-adjusted paired-t p < {alpha} on every data set "
        f"where it was run (>= 2); refuted if {'/'.join(config.criteria.f5.named)} do, qualified if only others do",
        None if top is None else float(top.diff_pct), None if top is None else [float(top.lo), float(top.hi)],
        config.seeds, "f5_accuracy_vs_relu.csv")
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(df))
    ax.bar(x, df.diff_pct, color=["C2" if b else ("C3" if w else "C7") for b, w in zip(df.better, df.worse)])
    ax.errorbar(x, df.diff_pct, yerr=[df.diff_pct - df.lo, df.hi - df.diff_pct], fmt="none", ecolor="k", capsize=2)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(x, [f"{r.dataset}\n{r.activation}" for r in df.itertuples()], rotation=90, fontsize=6)
    ax.set_ylabel("test accuracy - ReLU's (percentage points)")
    ax.set_title("F5: final test accuracy vs ReLU, paired over seeds (95% CI; green/red: Holm-significant)")
    summary = {"f5_max_diff_pct": None if top is None else float(top.diff_pct),
               "f5_n_better": float(df.better.sum()), "f5_n_worse": float(df.worse.sum())}
    return v, df, fig, summary


# ---------------------------------------------------------------------------------------------
# H3: PReLU vs ReLU


def claim_h3(runner: Runner, config) -> tuple[verdicts.Verdict, pd.DataFrame, pd.DataFrame, dict]:
    rows, slope_rows, diffs, ratios = [], [], [], []
    for key in config.grid.datasets:
        base = runner.tuned(runner.cell("mlp", key, "relu"))
        t = runner.tuned(runner.cell("mlp", key, "prelu"))
        if base is None or t is None:
            continue
        p = stats.paired(t["test_acc"], base["test_acc"])
        r = stats.ratio_ci(base["steps"], t["steps"])
        diffs.append(t["test_acc"] - base["test_acc"])
        ratios.append(r.mean)
        rows.append({"dataset": key, "prelu_acc": float(t["test_acc"].mean()), "relu_acc": float(base["test_acc"].mean()),
                         "diff_pct": 100 * p.diff.mean, "lo": 100 * p.diff.lo, "hi": 100 * p.diff.hi, "p_t": p.p_t,
                         "steps_relu_over_prelu": r.mean, "steps_lo": r.lo, "steps_hi": r.hi, "prelu_lr": t["lr"],
                         "relu_lr": base["lr"], "published_gain_pct": config.published.h3_gain_pct})
        for layer in range(t["slopes"].shape[-1]):
            s = stats.mean_ci(t["slopes"][:, layer])
            slope_rows.append({"dataset": key, "layer": layer, "mean_slope": s.mean, "lo": s.lo, "hi": s.hi, "init": 0.25})
    df, slopes = pd.DataFrame(rows), pd.DataFrame(slope_rows)
    pooled = stats.mean_ci(100 * np.mean(diffs, axis=0)) if diffs else stats.mean_ci([])
    faster = bool(len(df) and (df.steps_lo > 1).any())
    acc_up = pooled.lo > 0
    verdict = verdicts.decide(acc_up and faster, qualified=acc_up or faster)
    per = "; ".join(f"{r.dataset} {r.diff_pct:+.2f} pp [{r.lo:+.2f}, {r.hi:+.2f}], steps ReLU/PReLU "
                    f"{r.steps_relu_over_prelu:.2f} [{r.steps_lo:.2f}, {r.steps_hi:.2f}]" for r in df.itertuples())
    stmt = (f"PReLU minus ReLU test accuracy averaged over data sets {_ci(pooled)} pp (published +1.03/+1.05/+1.2 pp "
            f"on ImageNet); per data set: {per}. Learned slopes (init 0.25) in prelu_slopes.csv.")
    v = verdicts.Verdict(
        "H3", verdict, stmt,
        "supported if the data-set-averaged accuracy gain has 95% CI > 0 and PReLU reaches the threshold faster "
        "(step ratio CI > 1) on some data set; qualified if only one holds",
        pooled.mean, pooled.ci if pooled.n else None, config.seeds, "h3_prelu_vs_relu.csv", config.published.h3)
    summary = {"h3_pooled_diff_pct": pooled.mean}
    for r in slopes.itertuples():
        summary[f"h3_slope_{r.dataset}_{r.layer}"] = float(r.mean_slope)
    return v, df, slopes, summary


# ---------------------------------------------------------------------------------------------
# H4: RReLU on small training sets


def claim_h4(runner: Runner, config) -> tuple[verdicts.Verdict, pd.DataFrame, plt.Figure, dict]:
    keys = list(config.h4.datasets) + [f"fashion_{n // 1000}k" for n in config.h4.fashion_sizes]
    rows, wins, fewer_gap = [], [], []
    for key in keys:
        base = runner.tuned(runner.cell("mlp", key, "relu"))
        rr = runner.tuned(runner.cell("mlp", key, "rrelu"))
        for label in config.h4.variants:
            t = runner.tuned(runner.cell("mlp", key, label))
            if t is None:
                rows.append({"dataset": key, "variant": label, "status": "diverged"})
                continue
            acc, gap = stats.mean_ci(t["test_acc"]), stats.mean_ci(t["gap"])
            vs_relu = stats.paired(t["test_acc"], base["test_acc"]) if base is not None else None
            vs_rr = stats.paired(t["gap"], rr["gap"]) if rr is not None else None
            rows.append({"dataset": key, "variant": label, "lr": t["lr"], "test_acc": acc.mean, "acc_lo": acc.lo, "acc_hi": acc.hi,
                             "gap": gap.mean, "gap_lo": gap.lo, "gap_hi": gap.hi,
                             "acc_minus_relu_pct": None if vs_relu is None else 100 * vs_relu.diff.mean,
                             "acc_minus_relu_lo": None if vs_relu is None else 100 * vs_relu.diff.lo,
                             "acc_minus_relu_hi": None if vs_relu is None else 100 * vs_relu.diff.hi,
                             "gap_minus_rrelu": None if vs_rr is None else vs_rr.diff.mean,
                             "gap_minus_rrelu_lo": None if vs_rr is None else vs_rr.diff.lo,
                             "gap_minus_rrelu_hi": None if vs_rr is None else vs_rr.diff.hi, "status": "done"})
        if base is not None and rr is not None:
            wins.append(stats.paired(rr["test_acc"], base["test_acc"]))
            fewer_gap.append(stats.paired(rr["gap"], base["gap"]))
    df = pd.DataFrame(rows)
    better = [w.diff.lo > 0 for w in wins]
    smaller = [g.diff.hi < 0 for g in fewer_gap]
    frac = float(np.mean([b and s for b, s in zip(better, smaller)])) if wins else float("nan")
    holds = frac >= config.criteria.h4.min_fraction
    verdict = verdicts.decide(holds, qualified=any(better) or any(smaller))
    per = "; ".join(f"{k}: RReLU-ReLU acc {100 * w.diff.mean:+.2f} pp [{100 * w.diff.lo:+.2f}, {100 * w.diff.hi:+.2f}], "
                    f"gap diff {100 * g.diff.mean:+.2f} pp [{100 * g.diff.lo:+.2f}, {100 * g.diff.hi:+.2f}]"
                    for k, w, g in zip(keys, wins, fewer_gap))
    stmt = (f"On small training sets ({', '.join(keys)}): {per}. The other variants' accuracies and train-test gaps "
            "(and their gap minus RReLU's) are in h4_small_data.csv.")
    head = wins[0] if wins else None
    v = verdicts.Verdict(
        "H4", verdict, stmt,
        f"supported if on >= {config.criteria.h4.min_fraction:.0%} of the small sets RReLU's test accuracy beats ReLU's "
        "(paired CI > 0) AND its train-test gap is smaller (CI < 0); qualified if either holds somewhere",
        None if head is None else 100 * head.diff.mean, None if head is None else [100 * head.diff.lo, 100 * head.diff.hi],
        config.seeds, "h4_small_data.csv", config.published.h4)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    done = df[df.status == "done"]
    for ax, col, lo, hi, label in ((axes[0], "test_acc", "acc_lo", "acc_hi", "test accuracy"),
                                   (axes[1], "gap", "gap_lo", "gap_hi", "train - test accuracy")):
        for j, key in enumerate(keys):
            g = done[done.dataset == key]
            x = np.arange(len(g)) + j * (len(config.h4.variants) + 1)
            ax.errorbar(x, g[col], yerr=[g[col] - g[lo], g[hi] - g[col]], fmt="o", capsize=2, label=key)
            for xi, name in zip(x, g.variant):
                ax.annotate(name, (xi, ax.get_ylim()[0]), rotation=90, fontsize=6, va="bottom")
        ax.set_ylabel(label)
        ax.set_xticks([])
    axes[0].legend(fontsize=7)
    fig.suptitle("H4: RReLU vs ReLU / Leaky / PReLU on small training sets (95% CI)")
    summary = {"h4_fraction": frac}
    for r in done.itertuples():
        summary[f"h4_{r.dataset}_{r.variant}_acc"] = float(r.test_acc)
    return v, df, fig, summary


# ---------------------------------------------------------------------------------------------
# C4: small initial weights


def claim_c4(runner: Runner, config) -> tuple[verdicts.Verdict, pd.DataFrame, dict]:
    c4 = config.c4
    base_std = 0.01  # small_normal's standard deviation
    rows = []
    per_scale: dict[tuple, dict] = {}
    for key in c4.datasets:
        for label in c4.activations:
            cell = runner.cell("mlp", key, label, init=c4.init, scales=tuple(c4.weight_scales))
            for j, scale in enumerate(c4.weight_scales):
                t = runner.tuned(cell, j)
                per_scale[(key, label, j)] = t
                if t is None:
                    rows.append({"dataset": key, "activation": label, "init_std": base_std * scale, "status": "diverged"})
                    continue
                s = stats.mean_ci(t["steps"])
                rows.append({"dataset": key, "activation": label, "init_std": base_std * scale, "lr": t["lr"],
                                 "mean_steps": s.mean, "lo": s.lo, "hi": s.hi, "reached": t["reached"], "status": "done"})
    df = pd.DataFrame(rows)
    comparisons = []
    for key in c4.datasets:
        for j, scale in enumerate(c4.weight_scales):
            tanh = per_scale.get((key, "tanh", j))
            for other in c4.activations:
                o = per_scale.get((key, other, j))
                if other == "tanh" or tanh is None or o is None:
                    continue
                comparisons.append((key, base_std * scale, other, stats.ratio_ci(o["steps"], tanh["steps"])))
    vs_sig = [c for c in comparisons if c[2] == "sigmoid"]
    faster = [c[3].lo > 1 for c in vs_sig]
    holds = bool(faster) and all(faster)
    verdict = verdicts.decide(holds, qualified=any(faster))
    txt = "; ".join(f"{k} std {s:g}: steps {o}/tanh {r.mean:.2f} [{r.lo:.2f}, {r.hi:.2f}]" for k, s, o, r in comparisons)
    stmt = (f"From small initial weights (small_normal x weight scale) with each activation's fastest stable rate: "
            f"{txt}. Never-reached counted as budget + one log interval (ratios are then lower bounds).")
    head = vs_sig[0][3] if vs_sig else None
    v = verdicts.Verdict(
        "C4", verdict, stmt,
        "supported if sigmoid (f(0) != 0, slope 1/4) needs more steps than tanh (f ~ x) at every small init scale "
        "(ratio CI > 1); qualified if at some scales only; ReLU reported beside",
        None if head is None else head.mean, None if head is None else head.ci, config.seeds, "c4_small_init.csv")
    summary = {f"c4_{k}_{s:g}_{o}_over_tanh": r.mean for k, s, o, r in comparisons}
    return v, df, summary


# ---------------------------------------------------------------------------------------------
# C5: largest stable learning rate and best loss, bounded vs unbounded


def claim_c5(runner: Runner, config, sweep: pd.DataFrame) -> tuple[verdicts.Verdict, pd.DataFrame, plt.Figure, dict]:
    bounded = set(config.criteria.c5.bounded)
    base = sweep[(sweep.init == config.init) & (sweep.model == "mlp")]
    rows = []
    for (key, label), g in base.groupby(["dataset", "activation"]):
        stable = g[g.diverged_seeds == 0]
        rows.append({"dataset": key, "activation": label, "bounded": label in bounded,
                         "max_stable_lr": float(stable.lr.max()) if len(stable) else float("nan"),
                         "stable_at_top": bool(len(stable) and stable.lr.max() == g.lr.max()),
                         "best_loss": float(stable.final_train_loss.min()) if len(stable) else float("nan"),
                         })
    df = pd.DataFrame(rows)
    stable_wins, loss_wins, n = 0, 0, 0
    details = []
    for key, g in df.groupby("dataset"):
        b, u = g[g.bounded], g[~g.bounded]
        if not len(b) or not len(u):
            continue
        n += 1
        lr_b, lr_u = float(np.median(b.max_stable_lr)), float(np.median(u.max_stable_lr))
        loss_b, loss_u = float(np.median(b.best_loss)), float(np.median(u.best_loss))
        stable_wins += lr_b > lr_u
        loss_wins += loss_u < loss_b
        details.append(f"{key}: median max stable lr bounded {lr_b:g} vs unbounded {lr_u:g}, median best loss "
                       f"bounded {loss_b:.3g} vs unbounded {loss_u:.3g}")
    frac_stable = stable_wins / n if n else float("nan")
    frac_loss = loss_wins / n if n else float("nan")
    m = config.criteria.c5.min_fraction
    verdict = verdicts.decide(frac_stable > m and frac_loss > m, qualified=frac_stable > m or frac_loss > m)
    stmt = ("; ".join(details) + f". Bounded allow a larger stable rate on {stable_wins}/{n} data sets; unbounded reach "
            f"a lower loss on {loss_wins}/{n}. Grid {tuple(config.lrs)} (momentum {config.momentum}); a stable rate equal "
            "to the grid's top is a lower bound.")
    v = verdicts.Verdict(
        "C5", verdict, stmt,
        f"supported if on more than {m:.0%} of data sets the bounded {sorted(bounded)} have a larger median largest "
        "stable learning rate AND the unbounded a lower median best final training loss; qualified if one of the two",
        frac_stable, None, config.seeds, "c5_stability.csv")
    shown = sorted(base.dataset.unique())  # every data set the verdict read
    fig, axes = plt.subplots(1, max(len(shown), 1), figsize=(4 * max(len(shown), 1), 3.5), squeeze=False)
    for ax, key in zip(axes[0], shown):
        g = base[base.dataset == key]
        for label, h in g.groupby("activation"):
            ax.plot(h.lr, h.final_train_loss, ("--" if label in bounded else "-") + "o", ms=3, label=label)
            bad = h[h.diverged_seeds > 0]
            ax.plot(bad.lr, np.full(len(bad), np.nanmax(g.final_train_loss)), "x", color="k")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate")
        ax.set_title(key, fontsize=9)
    axes[0][0].set_ylabel("final training loss (x: some seed diverged)")
    axes[0][-1].legend(fontsize=6)
    fig.suptitle("C5: final training loss vs learning rate; dashed = bounded activation")
    summary = {"c5_frac_stable": frac_stable, "c5_frac_loss": frac_loss}
    return v, df, fig, summary


def run(config: ml_collections.ConfigDict) -> results.Result:
    """Train every population once, then decide H1, F5, H3, H4, C4, C5 from them."""
    runner = Runner(config)
    v_h1, t_h1, f_h1, s_h1 = claim_h1(runner, config)
    v_f5, t_f5, f_f5, s_f5 = claim_f5(runner, config)
    v_h3, t_h3, t_slopes, s_h3 = claim_h3(runner, config)
    v_h4, t_h4, f_h4, s_h4 = claim_h4(runner, config)
    v_c4, t_c4, s_c4 = claim_c4(runner, config)
    for key, label in mlp_pairs(config):  # C5 reads the sweep of every MLP population (H1 has trained them all)
        runner.cell("mlp", key, label)
    sweep = sweep_table(runner)
    v_c5, t_c5, f_c5, s_c5 = claim_c5(runner, config, sweep)
    notes = f"""
Training speed, stability and accuracy per activation: {len(runner.cells)} populations (one jit each: {config.seeds}
seeds x {len(config.lrs)} learning rates), SGD with momentum {config.momentum}, batch {config.batch_size},
{config.steps} steps, no regularisation (no weight decay, also none on PReLU's slopes, initialised at 0.25).
MLP hidden widths {tuple(config.mlp_widths)}; CNN channels {tuple(config.cnn.channels)} + dense
{tuple(config.cnn.dense_widths)} on {', '.join(config.cnn.datasets) or 'no data set'}. **Fashion-MNIST is subsampled**
to {config.fashion_n_train} training images (`fashion_mnist`; also `fashion_<n>k` for n in
{tuple(config.h4.fashion_sizes)} thousand, H4); test sets capped at {config.n_test}, accuracies measured on {config.n_eval} examples.
Each activation's learning rate is tuned per (model, data set) as the fastest stable rate to reach the
training-error threshold ({dict(config.criteria.threshold)}), the same seeds measure the result
(the selection bias is the same for every activation). Comparisons are paired by seed.

Published beside ours: H1 {config.published.h1}; H3 {config.published.h3}; H4 {config.published.h4}.
Our settings are far smaller (tiny MLPs/CNNs, hundreds of steps), so magnitudes need not match.
"""
    summary = {**s_h1, **s_f5, **s_h3, **s_h4, **s_c4, **s_c5}
    summary = {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in summary.items()}
    return results.Result(
        name="convergence",
        tables={"h1_step_ratios": t_h1, "f5_accuracy_vs_relu": t_f5, "h3_prelu_vs_relu": t_h3,
                "prelu_slopes": t_slopes, "h4_small_data": t_h4, "c4_small_init": t_c4, "c5_stability": t_c5,
                "sweep": sweep},
        figures={"h1_step_ratios": f_h1, "f5_accuracy_vs_relu": f_f5, "h4_small_data": f_h4, "c5_stability": f_c5},
        verdicts=[v_h1, v_h3, v_h4, v_f5, v_c4, v_c5],
        summary=summary,
        notes=notes,
    )


if __name__ == "__main__":
    cli.main("convergence", run)

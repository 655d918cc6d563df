"""Measurements of claim E1 (the zig-zag of all-positive inputs): gradient signs, SGD paths.

Conditions (``role``): a layer whose inputs are all positive ([0,1] pixels into layer 0 of E2's
tanh net; sigmoid outputs into layer 1 of E3's sigmoid net) and its centred control ([0,1]
pixels minus their mean; sigma(x)-1/2 outputs, the same function class as sigmoid since the next
layer's bias absorbs the 1/2). Per condition and seed: the single-signed fraction of the
neurons' minibatch weight gradients at init and at the weights trained in E2/E3 (tuned lr, R8:
nets that learned), the cosine between successive SGD updates at batch 1 and path length /
displacement, each pair at the SAME learning rate (the all-positive arm's tuned lr / batch size);
and a two-input linear neuron whose optimum lies in quadrant IV. Fractions and ratios get
bootstrap CIs over seeds (R4); pairs are compared seed by seed.
"""

from __future__ import annotations

import jax
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import perf, stats

from .measure import layer_io_fn, mean_or_nan, path_fn, path_summary, sign_stats, two_input_fn
from .measure_centring import branches, load, mlp

POSITIVE_X = "positive x in [0.1,1]^2"
CENTRED_X = "centred x"
PAIRS = (("positive_units", "centred_units"), ("positive_pixels", "centred_pixels"))  # (all-positive, centred control)


def conditions(config, t) -> list[dict]:
    """The E1 conditions whose nets E2/E3 trained (role, label, activation, layer, data, population)."""
    e1, name = config.e1, config.e3.dataset
    e2_res, e3_res = t.get("e2_res", {}), t.get("e3_res", {})
    out = []
    for role, scaling in (("positive_pixels", "unit"), ("centred_pixels", "centred")):
        if (name, scaling) in e2_res:
            label = "[0,1] pixels (all >= 0)" if scaling == "unit" else "[0,1] pixels minus feature mean (centred)"
            out.append({"role": role, "condition": label, "activation": config.e2.activation, "layer": 0,
                        "data": load(config, name, scaling), "res": e2_res[(name, scaling)]})
    for role, act in (("positive_units", e1.positive_activation), ("centred_units", e1.centred_activation),
                      ("reported_units", e1.reported_activation)):
        if act in e3_res:
            sign = "all > 0" if role == "positive_units" else "centred"
            out.append({"role": role, "condition": f"{act} outputs ({sign})", "activation": act, "layer": 1,
                        "data": t.e3_data, "res": e3_res[act]})
    return out


def _select(tree, index: np.ndarray):
    """The runs ``index`` of a population's variables, as numpy: ``perf.execute`` transfers host
    arrays itself, while ``jnp.asarray`` would compile a staging program per shape (issue 16)."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a)[index], tree)


def _sign_seeds(config, c: dict) -> list[dict]:
    """Per seed, stage and batch size: the single-signed fraction and sign agreement of one condition."""
    n, ds, res, layer = config.e1.n_examples, c["data"], c["res"], c["layer"]
    seeds = np.arange(config.seeds, dtype=np.int32)
    variant = np.full(len(seeds), branches(config).index(c["activation"]), np.int32)
    fn = layer_io_fn(mlp(config, ds.n_classes), ds.n_classes)
    out = perf.execute(fn, seeds, variant, _select(res["final"], res["run_index"]), ds.x_train[:n], ds.y_train[:n])
    rows = []
    for stage, (act, grad) in zip(("init", "trained"), out, strict=True):
        act, grad = np.asarray(act), np.asarray(grad)
        inputs = np.broadcast_to(ds.x_train[:n].reshape(1, n, -1), (len(seeds), n, ds.n_features)) if layer == 0 else act[:, layer - 1]
        learned = np.ones(len(seeds), bool) if stage == "init" else res["learned"]
        for b in config.e1.batch_sizes:
            frac, agree = sign_stats(inputs, grad[:, layer], b, config.e1.max_batches)
            rows += [{"role": c["role"], "condition": c["condition"], "stage": stage, "layer": layer, "batch_size": b,
                      "seed": int(s), "single_signed": float(frac[i]), "sign_agreement": float(agree[i]),
                      "inputs_all_positive": bool(np.all(inputs[i] >= 0)), "learned": bool(learned[i])}
                     for i, s in enumerate(seeds)]
    return rows


def _summary(seeds: pd.DataFrame) -> pd.DataFrame:
    """Mean over the seeds that learned (all at init) with a bootstrap 95% CI, per condition, stage, batch size."""
    rows = []
    for (role, cond, stage, layer, b), g in seeds.groupby(["role", "condition", "stage", "layer", "batch_size"], sort=False):
        ok = g[g.learned]
        f, a = stats.bootstrap_ci(ok.single_signed), stats.bootstrap_ci(ok.sign_agreement)
        rows.append({"role": role, "condition": cond, "stage": stage, "layer": layer, "batch_size": b,
                     "inputs_all_positive": bool(g.inputs_all_positive.all()), "single_signed": f.mean,
                     "single_signed_lo": f.lo, "single_signed_hi": f.hi, "sign_agreement": a.mean,
                     "sign_agreement_lo": a.lo, "sign_agreement_hi": a.hi, "n_seeds": f.n, "n_not_learned": int((~g.learned).sum())})
    return pd.DataFrame(rows)


def _sign_compare(seeds: pd.DataFrame) -> pd.DataFrame:
    """Per stage and batch size: single-signed fraction, all-positive minus centred, paired over seeds."""
    rows = []
    for pos, cen in PAIRS:
        for (stage, b), g in seeds.groupby(["stage", "batch_size"], sort=False):
            a, c = g[g.role == pos].set_index("seed"), g[g.role == cen].set_index("seed")
            if not len(a) or not len(c):
                continue
            both = a.index[a.learned & c.learned.reindex(a.index, fill_value=False)]
            est = stats.bootstrap_ci(a.single_signed[both] - c.single_signed[both])
            rows.append({"role": pos, "condition": a.condition.iloc[0], "centred": c.condition.iloc[0], "stage": stage,
                         "layer": int(a.layer.iloc[0]), "batch_size": b, "single_signed_diff": est.mean,
                         "single_signed_diff_lo": est.lo, "single_signed_diff_hi": est.hi, "n_seeds": est.n,
                         "single_signed": mean_or_nan(a.single_signed[both]), "centred_single_signed": mean_or_nan(c.single_signed[both])})
    return pd.DataFrame(rows)


def _path_seeds(config, c: dict, lr: float) -> dict:
    """Plain SGD at batch 1 from each seed's init; per-seed path metrics of the condition's layer."""
    ds, seeds = c["data"], np.arange(config.seeds, dtype=np.int32)
    fn = path_fn(mlp(config, ds.n_classes), ds.n_classes, int(config.e1.path_steps))
    variant = np.full(len(seeds), branches(config).index(c["activation"]), np.int32)
    x_ev, y_ev = ds.x_train[: config.n_eval], ds.y_train[: config.n_eval]
    out = perf.execute(fn, seeds, variant, np.full(len(seeds), lr, np.float32), ds.x_train, ds.y_train, x_ev, y_ev)
    out = {k: np.asarray(v) for k, v in out.items()}
    per = {k: v[:, c["layer"]] for k, v in out.items() if k != "train_acc"}
    per["learned"] = out["train_acc"] >= 1.0 / ds.n_classes + float(config.criteria.learned_margin)
    per["train_acc"] = out["train_acc"]
    return per


def _paths(config, conds: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """e1_path (per condition, over its learned seeds) and e1_path_compare (per pair, paired over seeds)."""
    by_role = {c["role"]: c for c in conds}
    rows, cmp_rows = [], []
    for pos, cen in PAIRS:
        if pos not in by_role or cen not in by_role:
            continue
        lr = by_role[pos]["res"]["lr"] / config.batch_size  # the all-positive arm's tuned lr at batch 1, both arms
        per = {role: _path_seeds(config, by_role[role], lr) for role in (pos, cen)}
        for role, p in per.items():
            row = {"role": role, "condition": by_role[role]["condition"], "layer": by_role[role]["layer"], "batch_size": 1,
                   "learning_rate": lr, "n_learned": int(p["learned"].sum()), "train_acc": float(p["train_acc"].mean())}
            for k in ("path_over_disp", "mean_abs_cos", "mean_cos", "frac_neg_cos"):
                est = stats.bootstrap_ci(p[k][p["learned"]])
                row |= {k: est.mean, f"{k}_lo": est.lo, f"{k}_hi": est.hi}
            rows.append(row | {"n_seeds": int(p["learned"].sum())})
        ok = per[pos]["learned"] & per[cen]["learned"]
        ratio = stats.ratio_ci(per[pos]["path_over_disp"][ok], per[cen]["path_over_disp"][ok])
        gap = stats.bootstrap_ci(per[pos]["mean_abs_cos"][ok] - per[cen]["mean_abs_cos"][ok])
        cmp_rows.append({"role": pos, "condition": by_role[pos]["condition"], "centred": by_role[cen]["condition"],
                         "layer": by_role[pos]["layer"], "batch_size": 1, "learning_rate": lr, "steps": int(config.e1.path_steps),
                         "path_ratio": ratio.mean, "path_ratio_lo": ratio.lo, "path_ratio_hi": ratio.hi,
                         "abs_cos_gap": gap.mean, "abs_cos_gap_lo": gap.lo, "abs_cos_gap_hi": gap.hi,
                         "abs_cos": mean_or_nan(per[pos]["mean_abs_cos"][ok]), "centred_abs_cos": mean_or_nan(per[cen]["mean_abs_cos"][ok]),
                         "n_seeds": int(ok.sum())})
    return pd.DataFrame(rows), pd.DataFrame(cmp_rows)


def _two_input(config, seeds) -> tuple[pd.DataFrame, dict]:
    """E1: the two-input neuron y = w.x, positive vs centred inputs, SGD from w = 0."""
    e1c = config.e1
    w_star = np.asarray(e1c.w_star, np.float32)
    x_pos = np.random.default_rng(0).uniform(*e1c.x_range, size=(e1c.two_input_n, 2)).astype(np.float32)
    x_cen = (x_pos - x_pos.mean(axis=0)).astype(np.float32)
    rows, paths = [], {}
    for b in e1c.two_input_batch_sizes:
        for label, xx in ((POSITIVE_X, x_pos), (CENTRED_X, x_cen)):
            lr = float(e1c.two_input_lr_scale / np.mean(np.sum(xx.astype(np.float64) ** 2, axis=1)))
            fn = two_input_fn(int(e1c.two_input_steps), int(b))
            path, upd = perf.execute(fn, np.asarray(seeds, np.int32), np.float32(lr), xx, w_star)
            path, upd = np.asarray(path, np.float64), np.asarray(upd, np.float64)
            s = path_summary(path, upd, w_star, e1c.reach_tol)
            paths[(label, b)], paths[(label, b, "summary")] = path, s
            row = {"inputs": label, "batch_size": b, "learning_rate": lr}
            for k, v in s.items():
                est = stats.bootstrap_ci(v)
                row |= {k: est.mean, f"{k}_lo": est.lo, f"{k}_hi": est.hi}
            rows.append(row | {"n_seeds": len(seeds)})
    return pd.DataFrame(rows), paths


def measure_e1(config: ml_collections.ConfigDict, t) -> dict:
    """E1: the sign argument (at init and trained in E2/E3), the SGD path, the two-input picture."""
    conds = conditions(config, t)
    seeds = pd.DataFrame([r for c in conds for r in _sign_seeds(config, c)])
    path, path_cmp = _paths(config, conds)
    two, two_paths = _two_input(config, list(range(config.seeds)))
    return {"e1_sign_seeds": seeds, "e1_sign_fraction": _summary(seeds), "e1_sign_compare": _sign_compare(seeds),
            "e1_path": path, "e1_path_compare": path_cmp, "e1_two_input": two, "two_paths": two_paths}

"""Measurements of claim E1 (the zig-zag of all-positive inputs): gradient signs, SGD paths.

For each condition (a layer whose inputs are all positive, or centred) the single-signed fraction
of the neurons' minibatch weight gradients at init and at the weights trained in E2/E3; the
cosine between successive SGD updates and path length / displacement; and a two-input linear
neuron whose optimum lies in quadrant IV. ``e1_path_compare`` pairs each all-positive condition
with its centred counterpart (paired over seeds), the comparison E1 decides from.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

from experiments.kit import perf, stats

from .measure import init_fn, layer_io_fn, path_fn, path_summary, sign_agreement, single_signed_fraction, two_input_fn
from .measure_centring import load, mlp

PIXELS = "pixels in [0,1] (all >= 0)"
STANDARDISED = "standardised pixels (centred)"
SIGMOID_OUT = "sigmoid outputs (all > 0)"
TANH_OUT = "tanh outputs (centred)"
SHIFTED_OUT = "shifted sigmoid outputs (centred)"
CENTRED_PARTNER = {PIXELS: STANDARDISED, SIGMOID_OUT: TANH_OUT}  # all-positive condition -> centred one
POSITIVE_X = "positive x in [0.1,1]^2"
CENTRED_X = "centred x"


def _select(tree, index: np.ndarray):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a[index]), tree)


def _sign_rows(config, model, variables, x, y, n_classes, condition: str, stage: str, layer: int) -> list[dict]:
    """E1 rows: single-signed fraction for every batch size, one layer, one condition."""
    n = config.e1.n_examples
    fn = layer_io_fn(model, n_classes)
    act, grad = perf.execute(fn, variables, jnp.asarray(x[:n]), jnp.asarray(y[:n]))
    act, grad = np.asarray(act), np.asarray(grad)
    r = grad.shape[0]
    inputs = np.broadcast_to(x[:n].reshape(1, n, -1), (r, n, int(np.prod(x.shape[1:])))) if layer == 0 else act[:, layer - 1]
    rows = []
    for b in config.e1.batch_sizes:
        frac = single_signed_fraction(inputs, grad[:, layer], b, config.e1.max_batches)
        agree = sign_agreement(inputs, grad[:, layer], b, config.e1.max_batches)
        est, ag = stats.mean_ci(frac), stats.mean_ci(agree)
        rows.append({
            "condition": condition, "stage": stage, "layer": layer, "batch_size": b,
            "inputs_all_positive": bool(np.all(inputs >= 0)),
            "single_signed": est.mean, "single_signed_lo": est.lo, "single_signed_hi": est.hi,
            "sign_agreement": ag.mean, "n_seeds": est.n,
        })
    return rows


def _path_rows(config, model, dataset, n_classes, condition: str, layer: int, lr_tuned: float) -> tuple[list[dict], dict]:
    """E1 rows: successive-update cosine and path/displacement for SGD at each path batch size."""
    rows, per_seed = [], {}
    seeds = np.arange(config.seeds, dtype=np.int32)
    for b in config.e1.path_batch_sizes:
        lr = lr_tuned * b / config.batch_size  # linear scaling of the tuned lr to batch size b
        fn = path_fn(model, n_classes, b, config.e1.path_steps)
        out = perf.execute(fn, jnp.asarray(seeds), jnp.full(len(seeds), lr, jnp.float32),
                           jnp.asarray(dataset.x_train), jnp.asarray(dataset.y_train))
        out = {k: np.asarray(v)[:, layer] for k, v in out.items()}
        per_seed[b] = out
        row = {"condition": condition, "layer": layer, "batch_size": b, "learning_rate": lr}
        for k, v in out.items():
            est = stats.mean_ci(v)
            row[k], row[f"{k}_lo"], row[f"{k}_hi"] = est.mean, est.lo, est.hi
        rows.append(row)
    return rows, per_seed


def _path_compare(path_seed: dict) -> pd.DataFrame:
    """Per all-positive condition and path batch size: path/displacement vs the centred condition's,
    as the paired (over seeds) difference of logs (E1)."""
    rows = []
    for pos, cen in CENTRED_PARTNER.items():
        if pos not in path_seed or cen not in path_seed:
            continue
        for b, out in path_seed[pos].items():
            a_, c_ = out["path_over_disp"], path_seed[cen][b]["path_over_disp"]
            pr = stats.paired(np.log(a_), np.log(c_))
            rows.append({"condition": pos, "centred": cen, "batch_size": b,
                         "path_over_disp": float(np.mean(a_)), "centred_path_over_disp": float(np.mean(c_)),
                         "log_ratio": pr.diff.mean, "log_ratio_lo": pr.diff.lo, "log_ratio_hi": pr.diff.hi,
                         "n_seeds": pr.diff.n})
    return pd.DataFrame(rows)


def _two_input(config, seeds) -> tuple[pd.DataFrame, dict]:
    """E1: the two-input neuron y = w.x, positive vs centred inputs, SGD from w = 0."""
    e1c = config.e1
    w_star = np.asarray(e1c.w_star, np.float32)
    rng = np.random.default_rng(0)
    x_pos = rng.uniform(*e1c.x_range, size=(e1c.two_input_n, 2)).astype(np.float32)
    x_cen = (x_pos - x_pos.mean(axis=0)).astype(np.float32)
    two_rows, two_paths = [], {}
    for b in e1c.two_input_batch_sizes:
        for label, xx in ((POSITIVE_X, x_pos), (CENTRED_X, x_cen)):
            lr = float(e1c.two_input_lr_scale / np.mean(np.sum(xx.astype(np.float64) ** 2, axis=1)))
            fn = two_input_fn(int(e1c.two_input_steps), int(b))
            path, upd = perf.execute(fn, jnp.asarray(seeds, jnp.int32), jnp.float32(lr), jnp.asarray(xx), jnp.asarray(w_star))
            path, upd = np.asarray(path, np.float64), np.asarray(upd, np.float64)
            two_paths[(label, b)] = path
            s = path_summary(path, upd, w_star, e1c.reach_tol)
            row = {"inputs": label, "batch_size": b, "learning_rate": lr}
            for k, v in s.items():
                est = stats.mean_ci(v)
                row[k], row[f"{k}_lo"], row[f"{k}_hi"] = est.mean, est.lo, est.hi
                row[f"{k}_n_seeds"] = est.n
            two_rows.append(row)
            two_paths[(label, b, "summary")] = s
    return pd.DataFrame(two_rows), two_paths


def measure_e1(config: ml_collections.ConfigDict, t) -> dict:
    """E1: the sign argument (at init and trained in E2/E3), the SGD path, the two-input picture."""
    seeds = list(range(config.seeds))
    e2_res, e3_res, e3_data = t.e2_res, t.e3_res, t.e3_data
    sign_rows, path_rows = [], []
    fm_name = config.e3.dataset
    x_unit = load(config, fm_name, "unit")
    conditions = [  # (label, activation, data, layer, population whose trained weights we probe)
        (PIXELS, "tanh", x_unit, 0, e2_res.get((fm_name, "unit"))),
        (STANDARDISED, "tanh", e3_data, 0, e2_res.get((fm_name, "standardised"), e3_res.get("tanh"))),
        (SIGMOID_OUT, "sigmoid", e3_data, 1, e3_res.get("sigmoid")),
        (TANH_OUT, "tanh", e3_data, 1, e3_res.get("tanh")),
        (SHIFTED_OUT, "shifted_sigmoid", e3_data, 1, e3_res.get("shifted_sigmoid")),
    ]
    path_seed = {}
    for label, act, ds, layer, res in conditions:
        if act not in config.e3.activations:
            continue
        model = mlp(config, act, ds.n_classes)
        init = init_fn(model)(jnp.asarray(seeds, jnp.int32), jnp.asarray(ds.x_train[:1]))
        sign_rows += _sign_rows(config, model, init, ds.x_train, ds.y_train, ds.n_classes, label, "init", layer)
        if res is not None:
            trained = _select(res["pop"].final, res["run_index"])
            sign_rows += _sign_rows(config, model, trained, ds.x_train, ds.y_train, ds.n_classes, label, "trained", layer)
            lr = res["lr"]
        else:
            lr = float(config.e3.learning_rates[0])
        rows, per_seed = _path_rows(config, model, ds, ds.n_classes, label, layer, lr)
        path_rows += rows
        path_seed[label] = per_seed
    two, two_paths = _two_input(config, seeds)
    return {"e1_sign_fraction": pd.DataFrame(sign_rows), "e1_path": pd.DataFrame(path_rows),
            "e1_path_compare": _path_compare(path_seed), "e1_two_input": two, "two_paths": two_paths}

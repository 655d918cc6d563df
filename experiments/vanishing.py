"""Vanishing gradients with depth (claims D1-D6). Run: python -m experiments.vanishing --config configs/vanishing.py:smoke

1. Gradient profile at initialisation (D1, D2, D3, D5): per-layer ||dL/dh_l||, ||dL/dW_l||, the
   activation derivatives phi'(h_l) and q_l = E[h_l^2], for every activation x initialisation, on
   Gaussian inputs and real data; seeds are vmapped, one compile per (activation, data set), the
   same drawn weights serve every activation (paired). Against 0.25^n and against mean field.
2. Saturation during training (D4): Glorot & Bengio's 4-hidden-layer MLP with standard init and
   SGD on Fashion-MNIST; per-layer fraction |h| > 2 and the lowest layer's gradient norm, through
   the kit trainer's probe hook.
3. Trainability vs depth (D6) with and without BatchNorm, learning rates vmapped, best per condition.
4. Edge-of-chaos map: tanh, sigma_w^2 x depth, trainable iff depth < 6 xi_c (Schoenholz et al. 2017).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments import vanishing_net as net
from experiments.kit import cli, data, models, perf, results, stats, theory, train, verdicts
from experiments.kit import config as kit_config

LOG10_QUARTER = float(np.log10(0.25))


# ----------------------------------------------------------------------------------------------
# 1. gradient profile at initialisation
# ----------------------------------------------------------------------------------------------
def _profile_fn(activation: str):
    """jit(vmap over seeds) of one net's per-layer gradient and derivative statistics."""
    act = acts.get(activation)

    def one(params, x, y):
        depth, width = params["b"].shape
        eps = jnp.zeros((depth, x.shape[0], width))

        def loss(e):
            logits, hs, a = net.forward(params, x, act.fn, False, e)
            return net.xent(logits, y), (hs, a)

        g, (hs, a) = jax.grad(loss, has_aux=True)(eps)
        gram_g = jnp.einsum("lbi,lci->lbc", g, g)
        inputs_gram = jnp.concatenate([(x @ x.T)[None], jnp.einsum("lbi,lci->lbc", a[:-1], a[:-1])])
        dphi = act.derivative(hs)
        return {
            "grad_h": jnp.sqrt(jnp.sum(g**2, axis=(1, 2))),
            "grad_w": jnp.sqrt(jnp.abs(jnp.sum(gram_g * inputs_gram, axis=(1, 2)))),
            "mean_dphi": jnp.mean(dphi, axis=(1, 2)),
            "mean_abs_dphi": jnp.mean(jnp.abs(dphi), axis=(1, 2)),
            "max_abs_dphi": jnp.max(jnp.abs(dphi), axis=(1, 2)),
            "q": jnp.mean(hs**2, axis=(1, 2)),
            "saturated": jnp.mean(jnp.abs(hs) > 2.0, axis=(1, 2)),
        }

    return perf.jit(jax.vmap(one, in_axes=(0, None, None)))


def _fit_log_gain(grad_h: np.ndarray, skip: int) -> np.ndarray:
    """Per seed, minus the slope of ln||dL/dh_l|| against l: the backward per-layer log-gain."""
    depth = grad_h.shape[1]
    layers = np.arange(depth)
    keep = (layers >= skip) & (layers <= depth - 1 - skip)
    out = np.full(grad_h.shape[0], np.nan)
    for s, row in enumerate(grad_h):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(row)
        ok = keep & np.isfinite(y)
        if ok.sum() >= 3:
            out[s] = -np.polyfit(layers[ok], y[ok], 1)[0]
    return out


def _log10_ratio(grad_h: np.ndarray) -> np.ndarray:
    """log10 ||dL/dh_1|| / ||dL/dh_L|| per seed; -inf where the bottom gradient underflows to 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.log10(grad_h[:, 0]) - np.log10(grad_h[:, -1])
    bad = ~np.isfinite(grad_h).all(axis=1)
    return np.where(bad, np.nan, r)


def _ci_or_inf(values: np.ndarray) -> stats.Estimate:
    """Mean CI of the finite values; all -inf (underflow) gives -inf."""
    v = np.asarray(values, float)
    if len(v) and np.all(np.isneginf(v)):
        return stats.Estimate(-np.inf, -np.inf, -np.inf, len(v))
    return stats.mean_ci(v)


def measure_profile(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-layer (long) and per-condition tables of the gradient profile at initialisation."""
    layers_rows, summary_rows, measured = [], [], {}
    depth, width, n_seeds = cfg.depth, cfg.width, cfg.seeds
    fns = {a: _profile_fn(a) for a in cfg.activations}
    keys = jnp.stack([jax.random.split(jax.random.PRNGKey(s), 3)[0] for s in range(n_seeds)])
    for ds_name in cfg.datasets:
        ds = data.load(ds_name)
        x = jnp.asarray(ds.x_train[: cfg.batch_size].reshape(cfg.batch_size, -1))
        y = jnp.asarray(ds.y_train[: cfg.batch_size])
        dims = (ds.n_features, width, depth, ds.n_classes)
        flops = 4 * cfg.batch_size * net.macs(*dims) * n_seeds + 4 * depth * cfg.batch_size**2 * width * n_seeds
        for init in cfg.inits:
            draw = perf.jit(jax.vmap(lambda k, init=init, dims=dims: net.init_params(k, init, *dims)))
            params = draw(keys)
            sigma_w2 = float(jnp.mean(params["w_hid"] ** 2) * width) if depth > 1 else float("nan")
            for activation in cfg.activations:
                out = perf.execute(fns[activation], params, x, y, flops=flops)
                measured[(ds_name, init, activation)] = ({k: np.asarray(v, float) for k, v in out.items()}, sigma_w2)
    for activation in cfg.activations:  # mean field: phi compiled once per activation
        keys_ = [k for k in measured if k[2] == activation]
        mfs = theory.mean_field_many(activation, [measured[k][1] for k in keys_])
        for key, mf in zip(keys_, mfs):
            fields = {"dataset": key[0], "init": key[1], "sigma_w2": measured[key][1]}
            _profile_rows(layers_rows, summary_rows, fields, activation, measured[key][0], mf, cfg)
    return pd.DataFrame(layers_rows), pd.DataFrame(summary_rows)


def _profile_rows(layers_rows, summary_rows, fields, activation, m, mf, cfg) -> None:
    depth = cfg.depth
    n = depth - 1
    finite = np.isfinite(m["grad_h"]).all(axis=1) & np.isfinite(m["q"]).all(axis=1)
    for layer in range(depth):
        layers_rows.append(dict(
            **fields, activation=activation, layer=layer + 1,
            grad_h=float(np.mean(m["grad_h"][:, layer])), grad_w=float(np.mean(m["grad_w"][:, layer])),
            mean_dphi=float(np.mean(m["mean_dphi"][:, layer])), max_abs_dphi=float(np.max(m["max_abs_dphi"][:, layer])),
            q=float(np.mean(m["q"][:, layer])), saturated=float(np.mean(m["saturated"][:, layer])),
        ))  # fmt: skip
    ratio = _ci_or_inf(_log10_ratio(m["grad_h"]))
    gain = stats.mean_ci(_fit_log_gain(m["grad_h"], cfg.fit_skip))
    with np.errstate(divide="ignore", invalid="ignore"):  # overflowed seeds give NaN, kept out by nan-means
        prod_mean = np.sum(np.log10(m["mean_abs_dphi"][:, 1:]), axis=1)  # layers 2..L: n factors
        prod_max = np.sum(np.log10(m["max_abs_dphi"][:, 1:]), axis=1)
    if not np.isfinite(prod_max).any():
        prod_mean = prod_max = np.array([np.nan])
    status = "ok" if finite.all() else ("overflow" if not finite.any() else f"overflow in {int((~finite).sum())} seeds")
    summary_rows.append(dict(
        **fields, activation=activation, status=status, n_layers_backprop=n,
        log10_bound=n * LOG10_QUARTER,
        log10_ratio=ratio.mean, log10_ratio_lo=ratio.lo, log10_ratio_hi=ratio.hi,
        log10_prod_mean_dphi=float(np.nanmean(prod_mean)), log10_prod_max_dphi=float(np.nanmax(prod_max)),
        log_gain=gain.mean, log_gain_lo=gain.lo, log_gain_hi=gain.hi,
        log_gain_theory=mf.grad_log_decay if np.isfinite(mf.chi_1) else np.nan,
        q_star=mf.q_star, chi_1=mf.chi_1, mean_dphi_theory_qstar=mf.mean_dphi,
        mean_dphi=float(np.nanmean(m["mean_dphi"][:, 1:])), n_seeds=int(finite.sum()),
    ))  # fmt: skip


# ----------------------------------------------------------------------------------------------
# 2. saturation during training (D4)
# ----------------------------------------------------------------------------------------------
def _saturation_probe(loss_fn):
    def probe(model, variables, x, y):
        st = models.layer_stats(model, variables, x, loss_fn, y)
        kernel = st["grad_params"]["dense_0"]["kernel"]
        return {
            "saturated": jnp.mean(jnp.abs(st["preact"]) > 2.0, axis=(1, 2)),
            "top_below_0.1": jnp.mean(st["act"][-1] < 0.1),
            "mean_act": jnp.mean(st["act"], axis=(1, 2)),
            "grad_lowest": jnp.sqrt(jnp.sum(kernel**2)),
        }

    return probe


def measure_saturation(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, dict]:
    """Per activation, step and layer: the saturated fraction and the lowest layer's gradient norm."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    spec = train.TrainSpec(optimizer="sgd", steps=cfg.steps, batch_size=cfg.batch_size, log_every=cfg.log_every,
                           n_eval=cfg.n_eval)
    probe = _saturation_probe(train.loss_function("xent", ds.n_classes))
    rows, raw = [], {}
    for activation in cfg.activations:
        model = models.build("mlp", ds.n_classes, widths=(cfg.width,) * cfg.hidden_layers, activation=activation,
                             initializer=cfg.init)
        pop = train.train_population(model, ds, spec, range(cfg.seeds), cfg.learning_rate, probe=probe)
        raw[activation] = (pop.steps, pop.metrics)
        sat = pop.metrics["saturated"]  # (R, T, L)
        for t, step in enumerate(pop.steps):
            for layer in range(cfg.hidden_layers):
                rows.append({
                    "activation": activation, "step": int(step), "layer": layer + 1,
                    "saturated": float(np.nanmean(sat[:, t, layer])),
                    "mean_act": float(np.nanmean(pop.metrics["mean_act"][:, t, layer])),
                    "top_below_0_1": float(np.nanmean(pop.metrics["top_below_0.1"][:, t])),
                    "grad_lowest": float(np.nanmean(pop.metrics["grad_lowest"][:, t])),
                    "train_acc": float(np.nanmean(pop.metrics["train_acc"][:, t])),
                })  # fmt: skip
    return pd.DataFrame(rows), raw


# ----------------------------------------------------------------------------------------------
# 3. trainability vs depth (D6) and 4. the edge-of-chaos map
# ----------------------------------------------------------------------------------------------
def _train_grid(activation, batch_norm, init, ds, cfg, depths, seeds, lrs, scales, bias_std=0.0):
    """Final training accuracy and divergence, shape (seeds, depths, lrs, scales); one jit per call.

    The net is built at the largest depth and each depth keeps its first ``depth`` layers (the
    rest are skipped), so every depth shares one compiled function (one compile per activation
    and BatchNorm setting).
    """
    x = ds.x_train.reshape(len(ds.x_train), -1)
    order = np.random.default_rng(0).permutation(len(x))[: cfg.n_eval]
    dims = (ds.n_features, cfg.width, max(depths), ds.n_classes)
    fn = net.make_trainer(acts.get(activation).fn, batch_norm, init, dims, cfg.steps, cfg.batch_size, bias_std)
    runs, shape = train.run_grid(seeds, learning_rate=lrs, weight_scale=scales)
    args = (jnp.asarray(runs["seed"]), jnp.asarray(runs["learning_rate"], jnp.float32),
            jnp.asarray(runs["weight_scale"], jnp.float32), jnp.asarray(depths, jnp.int32),
            jnp.asarray(x), jnp.asarray(ds.y_train), jnp.asarray(x[order]), jnp.asarray(ds.y_train[order]))
    d_in, width, _, n_out = dims
    macs = sum(net.macs(d_in, width, d, n_out) for d in depths)  # executed layers only
    flops = len(runs["seed"]) * (6 * macs * cfg.batch_size * cfg.steps + 2 * macs * cfg.n_eval)
    acc, _, diverged = perf.execute(fn, *args, flops=flops)  # (D, R)
    full = (len(depths), *shape)
    acc = np.moveaxis(np.asarray(acc, float).reshape(full), 0, 1)
    return acc, np.moveaxis(np.asarray(diverged).reshape(full), 0, 1)


def measure_depth(cfg: ml_collections.ConfigDict) -> tuple[pd.DataFrame, dict]:
    """Best-lr training accuracy per (activation, BatchNorm, depth) over seeds (D6)."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    rows, per_seed = [], {}
    for activation, init in zip(cfg.activations, cfg.inits):
        for bn in (False, True):
            acc_all, div_all = _train_grid(activation, bn, init, ds, cfg, cfg.depths, range(cfg.seeds),
                                           cfg.learning_rates, [1.0])
            for j, depth in enumerate(cfg.depths):
                acc, div = acc_all[:, j, :, 0], div_all[:, j, :, 0]  # (S, n_lr)
                score = np.where(np.isfinite(acc), acc, 0.0).mean(0)
                best = int(np.argmax(score))
                est = stats.mean_ci(np.nan_to_num(acc[:, best], nan=0.0))
                per_seed[(activation, bn, depth)] = np.nan_to_num(acc[:, best], nan=0.0)
                rows.append({"activation": activation, "init": init, "batch_norm": bn, "depth": depth,
                             "best_lr": float(cfg.learning_rates[best]), "train_acc": est.mean, "train_acc_lo": est.lo,
                             "train_acc_hi": est.hi, "diverged_runs": int(div.sum()), "n_seeds": cfg.seeds})
    return pd.DataFrame(rows), per_seed


def measure_chaos(cfg: ml_collections.ConfigDict, criteria) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training accuracy over the (sigma_w^2, depth) grid, beside depth < 6 xi_c from mean field."""
    ds = data.load(cfg.dataset, n_train=cfg.n_train)
    mfs = theory.mean_field_many(cfg.activation, cfg.sigma_w2, cfg.sigma_b2)
    scales = [float(np.sqrt(s)) for s in cfg.sigma_w2]
    rows = []
    acc_all, div_all = _train_grid(cfg.activation, False, "lecun_normal", ds, cfg, cfg.depths, range(cfg.seeds),
                                   [cfg.learning_rate], scales, bias_std=float(np.sqrt(cfg.sigma_b2)))
    for d, depth in enumerate(cfg.depths):
        acc, div = acc_all[:, d, 0, :], div_all[:, d, 0, :]  # (S, n_sigma)
        for j, (s2, mf) in enumerate(zip(cfg.sigma_w2, mfs)):
            est = stats.mean_ci(np.nan_to_num(acc[:, j], nan=0.0))
            trainable = bool(est.mean > criteria.trainable_acc)
            predicted = bool(depth < criteria.multiple_of_xi * mf.xi_c)
            rows.append({"sigma_w2": s2, "depth": depth, "train_acc": est.mean, "train_acc_lo": est.lo, "train_acc_hi": est.hi,
                             "diverged_runs": int(div.sum()), "xi_c": mf.xi_c, "six_xi_c": criteria.multiple_of_xi * mf.xi_c,
                             "chi_1": mf.chi_1, "trainable": trainable, "predicted_trainable": predicted,
                             "agree": trainable == predicted, "n_seeds": cfg.seeds})
    lo, hi = min(cfg.sigma_w2), max(cfg.sigma_w2)
    fine = np.linspace(lo, hi, 25)
    curve = pd.DataFrame([{"sigma_w2": float(s), "xi_c": m.xi_c, "six_xi_c": criteria.multiple_of_xi * m.xi_c, "chi_1": m.chi_1}
                          for s, m in zip(fine, theory.mean_field_many(cfg.activation, fine, cfg.sigma_b2))])
    return pd.DataFrame(rows), curve


# ----------------------------------------------------------------------------------------------
# verdicts
# ----------------------------------------------------------------------------------------------
def _rows(summary: pd.DataFrame, activation: str) -> pd.DataFrame:
    return summary[summary.activation == activation]


def decide_d1(summary: pd.DataFrame, crit, published) -> verdicts.Verdict | None:
    """D1: (a) the derivative product respects 0.25^n; (b) for which inits the actual ratio does."""
    s = _rows(summary, "sigmoid")
    if s.empty:
        return None
    excess_a = float((s.log10_prod_max_dphi - s.log10_bound).max())
    part_a = excess_a <= crit.tolerance
    below = s.log10_ratio_hi <= s.log10_bound  # CI of log10 ratio entirely under n log10 0.25
    ok = [f"{r.dataset}/{r.init}" for r in s[below].itertuples()]
    bad = [f"{r.dataset}/{r.init} (log10 ratio {r.log10_ratio:.3g} vs bound {r.log10_bound:.3g})" for r in s[~below].itertuples()]
    worst = s.loc[s.log10_ratio.idxmax()]
    n = float(worst.n_layers_backprop)
    factor = [10 ** (worst.log10_ratio / n), 10 ** (worst.log10_ratio_lo / n), 10 ** (worst.log10_ratio_hi / n)]
    verdict = verdicts.decide(part_a and not bad, qualified=part_a)
    statement = (
        f"(a) The product of sigmoid derivatives along {int(n)} layers never exceeds 0.25^n (largest excess of "
        f"log10 prod max sigma' over n log10 0.25: {excess_a:.3g}). (b) The actual gradient ratio "
        f"||dL/dh_1||/||dL/dh_L||, where the weights also enter, is <= 0.25^n for {', '.join(ok) or 'no init'}; "
        f"NOT for {', '.join(bad) or 'none'}. Worst case {worst.dataset}/{worst.init}: per-layer factor "
        f"{factor[0]:.3g} [{factor[1]:.3g}, {factor[2]:.3g}] vs 0.25."
    )
    return verdicts.Verdict("D1", verdict, statement,
                            f"(a) max(log10 prod max sigma' - n log10 {crit.bound}) <= {crit.tolerance}; (b) per init: "
                            "95% CI upper of log10 ratio <= n log10 0.25; supported if (a) and (b) for all inits, "
                            "qualified if (a) only", factor[0], factor[1:], int(s.n_seeds.min()),
                            "profile_summary.csv", published.d1)


def decide_d2(summary: pd.DataFrame, layers: pd.DataFrame, crit) -> tuple[verdicts.Verdict | None, pd.DataFrame]:
    """D2: measured mean sigma'(h_l) vs 0.25 and vs E[sigma'(sqrt(q_l) z)] at the measured q_l."""
    lay = layers[(layers.activation == "sigmoid") & (layers.layer > 1)].copy()
    if lay.empty:
        return None, pd.DataFrame()
    dsig = acts.get("sigmoid").derivative
    lay["theory_mean_dphi"] = [theory.gaussian_expectation(lambda z, q=q: np.asarray(dsig(np.sqrt(q) * z)))
                               for q in lay.q]
    lay["rel_err"] = (lay.mean_dphi - lay.theory_mean_dphi).abs() / lay.theory_mean_dphi
    table = lay.groupby(["dataset", "init"], sort=False).agg(
        mean_dphi=("mean_dphi", "mean"), theory_mean_dphi=("theory_mean_dphi", "mean"),
        max_layer_mean_dphi=("mean_dphi", "max"), max_rel_err=("rel_err", "max"), mean_rel_err=("rel_err", "mean"),
    ).reset_index()
    s = _rows(summary, "sigmoid").set_index(["dataset", "init"])
    table["mean_dphi_ci_hi"] = [float(s.loc[(r.dataset, r.init)].mean_dphi) for r in table.itertuples()]
    limit = crit.max_fraction_of_bound * 0.25
    strong = table.max_layer_mean_dphi <= limit
    agree = float((table.mean_rel_err <= crit.theory_rel_tol).mean())
    verdict = verdicts.decide(bool(strong.all()), qualified=bool(strong.any()))
    weak = [f"{r.dataset}/{r.init} ({r.max_layer_mean_dphi:.4f})" for r in table[~strong].itertuples()]
    est = stats.mean_ci(table.mean_dphi)
    statement = (
        f"Measured mean sigma'(h) per layer is <= {limit:.4g} (= {crit.max_fraction_of_bound} x 0.25) for "
        f"{int(strong.sum())}/{len(table)} (data, init) conditions; close to 0.25 for {', '.join(weak) or 'none'} "
        f"(pre-activations concentrated at 0). Theory E[sigma'(sqrt(q_l) z)] at the measured q_l matches within "
        f"{crit.theory_rel_tol:.0%} (mean over layers) in {agree:.0%} of conditions; largest layer error "
        f"{table.max_rel_err.max():.3g}."
    )
    return verdicts.Verdict("D2", verdict, statement,
                            f"per (data, init): max over layers of mean sigma' <= {crit.max_fraction_of_bound} x 0.25; "
                            "supported if in all, qualified if in some", est.mean, est.ci, len(table),
                            "sigmoid_mean_derivative.csv"), table


def decide_d3(summary: pd.DataFrame, crit) -> verdicts.Verdict | None:
    """D3: tanh's gradient ratio over the depth vanishes (< 10^threshold) for which inits."""
    s = _rows(summary, "tanh")
    if s.empty:
        return None
    vanish = s.log10_ratio_hi < crit.vanish_log10_ratio
    yes = [f"{r.dataset}/{r.init} ({r.log10_ratio:.3g})" for r in s[vanish].itertuples()]
    no = [f"{r.dataset}/{r.init} ({r.log10_ratio:.3g}, {r.status})" for r in s[~vanish].itertuples()]
    verdict = verdicts.decide(bool(vanish.all()), qualified=bool(vanish.any()))
    med = stats.mean_ci(s.log10_ratio.replace(-np.inf, np.nan))
    statement = (f"tanh, {int(s.n_layers_backprop.iloc[0])} layers: log10 ||dL/dh_1||/||dL/dh_L|| vanishes "
                 f"(< {crit.vanish_log10_ratio}) for {', '.join(yes) or 'none'}; not for {', '.join(no) or 'none'}.")
    return verdicts.Verdict("D3", verdict, statement,
                            f"per init: 95% CI upper of log10 ratio < {crit.vanish_log10_ratio}; supported if for all "
                            "inits, qualified if some", med.mean, med.ci, int(s.n_seeds.min()), "profile_summary.csv")


def decide_d5(summary: pd.DataFrame, crit) -> verdicts.Verdict | None:
    """D5: ReLU with He and with Xavier keeps its gradient (ratio >= 10^threshold)."""
    s = _rows(summary, "relu")
    s = s[s.init.str.startswith(("he_", "xavier_"))]
    if s.empty:
        return None
    keep = s.log10_ratio_lo >= crit.keep_log10_ratio
    he = s[s.init.str.startswith("he_")]
    he_keeps = bool(keep[he.index].all()) if len(he) else False
    verdict = verdicts.decide(bool(keep.all()), qualified=he_keeps)
    desc = "; ".join(f"{r.dataset}/{r.init}: log10 ratio {r.log10_ratio:.3g} [{r.log10_ratio_lo:.3g}, "
                     f"{r.log10_ratio_hi:.3g}], per-layer log-gain {r.log_gain:.3g} (mean field {r.log_gain_theory:.3g})"
                     for r in s.itertuples())
    value = he.log10_ratio.mean() if len(he) else np.nan
    ci = [float(he.log10_ratio_lo.min()), float(he.log10_ratio_hi.max())] if len(he) else None
    return verdicts.Verdict("D5", verdict, f"ReLU gradient ratio over the depth: {desc}.",
                            f"95% CI lower of log10 ratio >= {crit.keep_log10_ratio} for He and Xavier: supported; "
                            "He only: qualified", value, ci, int(s.n_seeds.min()), "profile_summary.csv")


def decide_d6(depth_table: pd.DataFrame, per_seed: dict, chaos: pd.DataFrame, crit) -> verdicts.Verdict | None:
    """D6: at the deepest depth, sigmoid/tanh train worse than ReLU without BN; BN and ReLU fix it."""
    depth = crit.depth if crit.depth in set(depth_table.depth) else int(depth_table.depth.max())
    get = lambda a, bn: per_seed.get((a, bn, depth))
    if get("relu", False) is None:
        return None
    saturating = [a for a in ("sigmoid", "tanh") if get(a, False) is not None]
    parts, diffs = [], []
    for a in saturating:
        p = stats.paired(get("relu", False), get(a, False))
        diffs.append(p.diff)
        parts.append(p.diff.lo > crit.margin)
    checked = {"relu": stats.mean_ci(get("relu", False)), **{f"{a}+BN": stats.mean_ci(get(a, True)) for a in saturating}}
    relu_ok = checked["relu"].mean >= crit.trainable_acc
    bn_ok = all(checked[f"{a}+BN"].mean >= crit.trainable_acc for a in saturating)
    close = [f"{k} {e.mean:.3f} [{e.lo:.3f}, {e.hi:.3f}]" for k, e in checked.items() if e.lo < crit.trainable_acc <= e.hi]
    holds = all(parts) and relu_ok and bn_ok
    verdict = verdicts.decide(holds, qualified=any(parts) or relu_ok or bn_ok)
    at = depth_table[depth_table.depth == depth]
    desc = "; ".join(f"{r.activation}{'+BN' if r.batch_norm else ''} {r.train_acc:.3f} [{r.train_acc_lo:.3f}, "
                     f"{r.train_acc_hi:.3f}]" for r in at.itertuples())
    extra = ""
    if not chaos.empty:
        deep = chaos[chaos.depth == chaos.depth.max()]
        best = deep.loc[deep.train_acc.idxmax()]
        extra = (f" Edge-of-chaos map: tanh at depth {int(best.depth)} reaches {best.train_acc:.3f} at sigma_w^2="
                 f"{best.sigma_w2:g} (6 xi_c = {best.six_xi_c:.3g}); depth < 6 xi_c predicts trainability in "
                 f"{chaos.agree.mean():.0%} of grid cells.")
    statement = (f"Training accuracy after the budget at depth {depth} (best lr): {desc}. ReLU - saturating "
                 f"(paired): " + ", ".join(f"{a} {d}" for a, d in zip(saturating, diffs)) + "." + extra)
    if close:  # the criterion compares means; say where the seeds cannot tell which side of it a mean is on
        statement += (f" Not resolved by these seeds (95% CI contains {crit.trainable_acc}): {'; '.join(close)}; that part "
                       "of the verdict can flip between runs that differ only in float rounding.")
    value = diffs[0].mean if diffs else None
    return verdicts.Verdict("D6", verdict, statement,
                            f"depth {depth}: ReLU - sigmoid/tanh accuracy 95% CI lower > {crit.margin} (no BN), ReLU >= "
                            f"{crit.trainable_acc}, sigmoid/tanh + BN >= {crit.trainable_acc}; all: supported, some: qualified",
                            value, diffs[0].ci if diffs else None, int(at.n_seeds.min()), "depth_sweep.csv")


def decide_d4(raw: dict, cfg_sat, crit, published) -> tuple[verdicts.Verdict | None, pd.DataFrame]:
    """D4: the |h|>2 fraction rises during training (top layer) for sigmoid and tanh; relu as control."""
    rows = []
    for activation, (steps, m) in raw.items():
        sat = m["saturated"][:, :, -1 if crit.layer == "top" else 0]  # (R, T)
        rise = np.nanmax(sat, axis=1) - sat[:, 0]
        g = m["grad_lowest"]
        est = stats.mean_ci(rise)
        gratio = stats.mean_ci(np.log10(g[:, -1] / g[:, 0]))
        below = m["top_below_0.1"]
        rows.append({"activation": activation, "sat_top_init": float(np.nanmean(sat[:, 0])),
                         "sat_top_max": float(np.nanmean(np.nanmax(sat, 1))), "sat_top_final": float(np.nanmean(sat[:, -1])),
                         "rise": est.mean, "rise_lo": est.lo, "rise_hi": est.hi,
                         "step_of_max": float(np.mean(steps[np.nanargmax(sat, 1)])),
                         "top_below_0_1_init": float(np.nanmean(below[:, 0])),
                         "top_below_0_1_max": float(np.nanmean(np.nanmax(below, 1))),
                         "top_below_0_1_final": float(np.nanmean(below[:, -1])),
                         "log10_grad_lowest_final_over_init": gratio.mean, "log10_grad_lowest_lo": gratio.lo,
                         "log10_grad_lowest_hi": gratio.hi, "final_train_acc": float(np.nanmean(m["train_acc"][:, -1])),
                         "n_seeds": len(rise)})
    table = pd.DataFrame(rows)
    sat_acts = table[table.activation.isin(["sigmoid", "tanh"])]
    if sat_acts.empty:
        return None, table
    rises = sat_acts.rise_lo >= crit.saturation_rise
    verdict = verdicts.decide(bool(rises.all()), qualified=bool(rises.any()))
    desc = "; ".join(f"{r.activation}: top-layer |h|>2 fraction {r.sat_top_init:.3f} at init, max {r.sat_top_max:.3f} "
                     f"(step ~{r.step_of_max:.0f}), final {r.sat_top_final:.3f}; top outputs < 0.1: "
                     f"{r.top_below_0_1_init:.3f} -> max {r.top_below_0_1_max:.3f}; log10 lowest-layer grad final/init "
                     f"{r.log10_grad_lowest_final_over_init:.3g}" for r in table.itertuples())
    first = sat_acts.iloc[0]
    return verdicts.Verdict("D4", verdict, f"{cfg_sat.hidden_layers} hidden layers of {cfg_sat.width}, {cfg_sat.init} "
                            f"init, SGD lr {cfg_sat.learning_rate}, {cfg_sat.steps} steps: {desc}.",
                            f"95% CI lower of the rise (max over training - init) of the {crit.layer}-layer |h|>2 "
                            f"fraction >= {crit.saturation_rise} for sigmoid and tanh: supported; one: qualified",
                            first.rise, [first.rise_lo, first.rise_hi], int(first.n_seeds), "saturation_summary.csv",
                            published.d4), table


# ----------------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------------
def _profile_figure(layers: pd.DataFrame, summary: pd.DataFrame, dataset: str):
    acts_ = list(dict.fromkeys(layers.activation))
    cols = min(3, len(acts_))
    rows = -(-len(acts_) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, a in zip(axes.ravel(), acts_):
        for i, (init, g) in enumerate(layers[(layers.activation == a) & (layers.dataset == dataset)].groupby("init", sort=False)):
            color = f"C{i}"
            ax.semilogy(g.layer, g.grad_h, color=color, label=init)
            srow = summary[(summary.activation == a) & (summary.dataset == dataset) & (summary.init == init)].iloc[0]
            if np.isfinite(srow.log_gain_theory) and np.isfinite(g.grad_h.iloc[-1]) and g.grad_h.iloc[-1] > 0:
                top = g.layer.max()
                pred = g.grad_h.iloc[-1] * np.exp(srow.log_gain_theory * (top - g.layer))
                ax.semilogy(g.layer, pred, color=color, ls=":", lw=1)
        if a == "sigmoid":
            top = layers.layer.max()
            ax.semilogy(np.arange(1, top + 1), 0.25 ** (top - np.arange(1, top + 1)) *
                        layers[(layers.activation == a) & (layers.dataset == dataset)].grad_h.max(), "k--", lw=1,
                        label="0.25^(L-l) bound")
        ax.set_title(f"{a}")
        ax.set_xlabel("layer l")
        ax.set_ylabel("||dL/dh_l||")
        ax.set_ylim(1e-30, 1e30)
    for ax in axes.ravel()[len(acts_):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"D1/D3/D5: gradient norm per layer at init ({dataset}); dotted = mean-field slope 0.5 ln chi_1")
    fig.tight_layout()
    return fig


def _saturation_figure(sat: pd.DataFrame):
    acts_ = list(dict.fromkeys(sat.activation))
    fig, axes = plt.subplots(2, len(acts_), figsize=(4.5 * len(acts_), 6.5), squeeze=False)
    for j, a in enumerate(acts_):
        g = sat[sat.activation == a]
        for layer, gl in g.groupby("layer"):
            axes[0, j].plot(gl.step, gl.saturated, label=f"layer {layer}")
        axes[0, j].set_title(f"{a}: fraction |h| > 2")
        axes[0, j].set_xlabel("step")
        gl = g[g.layer == 1]
        axes[1, j].semilogy(gl.step, gl.grad_lowest)
        axes[1, j].set_title(f"{a}: ||dL/dW_1|| (lowest layer)")
        axes[1, j].set_xlabel("step")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("D4: saturation and lowest-layer gradient during training (Fashion-MNIST, standard init, SGD)")
    fig.tight_layout()
    return fig


def _depth_figure(table: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, ((a, bn), g) in enumerate(table.groupby(["activation", "batch_norm"], sort=False)):
        ax.errorbar(g.depth, g.train_acc, yerr=[g.train_acc - g.train_acc_lo, g.train_acc_hi - g.train_acc],
                    color=f"C{i // 2}", ls="-" if not bn else "--", marker="o", capsize=2,
                    label=f"{a}{' + BN' if bn else ''}")
    ax.set_xscale("log")
    ax.set_xlabel("depth (hidden layers)")
    ax.set_ylabel("training accuracy after budget")
    ax.set_title("D6: trainability vs depth (best lr, 95% CI over seeds)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _chaos_figure(chaos: pd.DataFrame, curve: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(6, 4))
    grid = chaos.pivot(index="depth", columns="sigma_w2", values="train_acc")
    xs, ys = list(grid.columns), list(grid.index)
    mesh = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5, grid.values, vmin=0, vmax=1,
                         cmap="viridis")
    fig.colorbar(mesh, ax=ax, label="training accuracy")
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    cx = np.interp(curve.sigma_w2, xs, np.arange(len(xs)))
    cy = np.interp(np.minimum(curve.six_xi_c, ys[-1] * 2), ys, np.arange(len(ys)))
    ax.plot(cx, cy, "w-", lw=2, label="depth = 6 xi_c (mean field)")
    ax.set_ylim(-0.5, len(ys) - 0.5)
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("depth")
    ax.set_title("D6 / edge of chaos: tanh, sigma_b^2 = {:.2g}".format(chaos.attrs.get("sigma_b2", np.nan)))
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------------
def _check(config: ml_collections.ConfigDict) -> None:
    ds = config.depth_sweep
    if len(ds.inits) != len(ds.activations):
        raise kit_config.ConfigError("config.depth_sweep.inits needs one initialiser per activation")
    if config.profile.depth < 2:
        raise kit_config.ConfigError("config.profile.depth must be >= 2 (a ratio needs two layers)")
    if config.chaos.sigma_b2 < 0 or min(config.chaos.sigma_w2) <= 0:
        raise kit_config.ConfigError("config.chaos.sigma_w2 must be > 0 and sigma_b2 >= 0")


def run(config: ml_collections.ConfigDict) -> results.Result:
    """Profile at init, saturation during training, depth sweep, edge-of-chaos map; verdicts D1-D6."""
    _check(config)
    crit = config.criteria
    parts = set(config.parts)
    layers, summary = measure_profile(config.profile)
    sat_table, sat_raw = measure_saturation(config.saturation) if "saturation" in parts else (pd.DataFrame(), {})
    depth_table, per_seed = measure_depth(config.depth_sweep) if "depth" in parts else (pd.DataFrame(), {})
    chaos, curve = measure_chaos(config.chaos, crit.chaos) if "chaos" in parts else (pd.DataFrame(), pd.DataFrame())
    chaos.attrs["sigma_b2"] = config.chaos.sigma_b2

    v1 = decide_d1(summary, crit.d1, config.published)
    v2, d2_table = decide_d2(summary, layers, crit.d2)
    v3 = decide_d3(summary, crit.d3)
    v4, d4_table = decide_d4(sat_raw, config.saturation, crit.d4, config.published) if sat_raw else (None, pd.DataFrame())
    v5 = decide_d5(summary, crit.d5)
    v6 = decide_d6(depth_table, per_seed, chaos, crit.d6) if per_seed else None
    found = [v for v in (v1, v2, v3, v4, v5, v6) if v is not None]

    gauss = summary[np.isfinite(summary.log_gain) & np.isfinite(summary.log_gain_theory) & (summary.init != "orthogonal")]
    err = (gauss.log_gain - gauss.log_gain_theory).abs()
    within = float((err <= crit.d5.agreement_tol).mean()) if len(gauss) else float("nan")
    chaos_agree = float(chaos.agree.mean()) if len(chaos) else float("nan")

    tables = {"profile_summary": summary, "sigmoid_mean_derivative": d2_table}
    figures = {f"profile_{d}": _profile_figure(layers, summary, d) for d in config.profile.datasets}
    if sat_raw:
        tables.update(saturation=sat_table, saturation_summary=d4_table)
        figures["saturation"] = _saturation_figure(sat_table)
    if per_seed:
        tables["depth_sweep"] = depth_table
        figures["depth_sweep"] = _depth_figure(depth_table)
    if len(chaos):
        tables.update(chaos_map=chaos, chaos_theory=curve)
        figures["chaos_map"] = _chaos_figure(chaos, curve)
    tables.update({f"profile_{d}": layers[layers.dataset == d] for d in config.profile.datasets})

    summ = {"mean_field_log_gain_within_tol": within, "mean_field_log_gain_median_abs_err": float(err.median()),
            "chaos_agreement": chaos_agree}
    for r in summary[summary.dataset == config.profile.datasets[0]].itertuples():
        if r.activation in ("sigmoid", "tanh", "relu"):
            summ[f"log10_ratio/{r.activation}/{r.init}"] = r.log10_ratio
    for r in d4_table.itertuples():
        summ[f"d4_rise/{r.activation}"] = r.rise
    if per_seed:
        deepest = max(config.depth_sweep.depths)
        for r in depth_table[depth_table.depth == deepest].itertuples():
            summ[f"d6_acc/{r.activation}/bn={r.batch_norm}"] = r.train_acc
    for v in found:
        summ[f"verdict_value/{v.claim}"] = v.value
    summ = {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in summ.items()}

    p = config.profile
    notes = f"""
Parts run: {', '.join(config.parts)}.

Claims D1-D6 (vanishing gradients). **Profile at init**: {len(p.activations)} activations x {len(p.inits)}
initialisations, depth {p.depth}, width {p.width}, {p.seeds} seeds (vmapped; the same drawn weights for every
activation), a fixed batch of {p.batch_size} examples of {', '.join(p.datasets)}, cross-entropy loss through a
linear read-out, biases zero. `log10_ratio` = log10 ||dL/dh_1|| / ||dL/dh_L|| over n = {p.depth - 1} backprop
layers, against `log10_bound` = n log10 0.25; `log10_prod_max_dphi` = log10 of the product over layers of the
largest phi' in the layer (an upper bound on every path's derivative product). `log_gain` = fitted
ln||dL/dh_l|| - ln||dL/dh_(l+1)|| per layer (layers {p.fit_skip}..L-{p.fit_skip}, CI over seeds) against the
mean-field `log_gain_theory` = 0.5 ln chi_1 at the measured sigma_w^2 = fan_in Var(W) (N(0,1) weights:
sigma_w^2 = fan_in). Mean field agrees within {crit.d5.agreement_tol} nats/layer in **{within:.0%}** of the finite
non-orthogonal cells (median abs error {float(err.median()):.3g}). "overflow" = activations exceeded float32.

**Saturation (D4)**: {config.saturation.hidden_layers} hidden layers of {config.saturation.width} (Glorot & Bengio used
1000 and far longer training), `{config.saturation.init}` init, SGD. Published: {config.published.d4}. This
default is far smaller than their run ({config.saturation.steps} steps of batch {config.saturation.batch_size}, a
fraction of one epoch, against about 100 epochs): a D4 verdict here says whether saturation appears in this
budget, read it with each activation's `final_train_acc`; the `paper` preset (width 1000, 20000 steps) is the
like-for-like run.

**Depth sweep (D6)**: best of learning rates {tuple(config.depth_sweep.learning_rates)} per condition (chosen on the
seed mean, so mildly optimistic), {config.depth_sweep.steps} SGD steps, width {config.depth_sweep.width}. BatchNorm
uses batch statistics at evaluation too. The deep nets here are a scan over stacked layers (experiments/vanishing_net.py);
every depth of a sweep is the same compiled net of the largest depth with the layers past its depth skipped
(`lax.cond`, depths looped with `lax.map`): one compile per activation and BatchNorm setting.

**Edge of chaos**: tanh, sigma_b^2 = {config.chaos.sigma_b2}, lecun_normal weights scaled to variance
sigma_w^2/fan_in (vmapped), {config.chaos.steps} SGD steps at lr {config.chaos.learning_rate}; a cell is trainable when
accuracy > {crit.chaos.trainable_acc}. depth < {crit.chaos.multiple_of_xi} xi_c agrees with trainability in
**{chaos_agree:.0%}** of cells (criterion >= {crit.chaos.min_agreement}). Published: {config.published.chaos}.
"""
    return results.Result(name="vanishing", tables=tables, figures=figures, verdicts=found, summary=summ, notes=notes)


if __name__ == "__main__":
    cli.main("vanishing", run)

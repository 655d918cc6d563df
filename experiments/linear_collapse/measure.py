"""The measurements of experiments.linear_collapse (claims A1, C1): trained nets, paired losses.

(a) A trained deep net with the identity (or c·x) activation equals the affine map obtained by
multiplying its weights (three layers of c·x = one layer of c³·x). (b) On tasks that are not
linearly separable (xor, two_moons, mnist1d) its best training loss equals a single linear
layer's, while relu/tanh nets of the same size do strictly better. Every condition is one
``train.train_population`` call (seeds x learning rates vmapped); comparisons are paired by seed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, stats, train

ONE_LAYER = "one_linear_layer"
DEEP_LINEAR = "deep_linear"
DEEP_C = "deep_c_linear"


def conditions(config: ml_collections.ConfigDict) -> dict[str, dict]:
    """Model fields of each condition (same widths for every deep net) (claim A1)."""
    deep = (config.width,) * config.depth
    out = {
        ONE_LAYER: {"widths": (), "activation": "identity"},
        DEEP_LINEAR: {"widths": deep, "activation": "identity"},
        DEEP_C: {"widths": deep, "activation": "linear", "act_params": {"c": float(config.linear_c)}},
    }
    for name in config.nonlinear:
        out[name] = {"widths": deep, "activation": name}
    return out


def composed_map(params: dict, n_hidden: int, c: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """The affine map (A, b) of an MLP whose hidden activation is h -> c·h: out = x A + b (A1)."""
    first = params["dense_0"]["kernel"] if n_hidden else params["readout"]["kernel"]
    a = jnp.eye(first.shape[0], dtype=first.dtype)
    b = jnp.zeros((first.shape[0],), first.dtype)
    for layer in range(n_hidden):
        w, bias = params[f"dense_{layer}"]["kernel"], params[f"dense_{layer}"]["bias"]
        a, b = c * (a @ w), c * (b @ w + bias)
    return a @ params["readout"]["kernel"], b @ params["readout"]["kernel"] + params["readout"]["bias"]


def collapse_error(model, params_batch: dict, x: np.ndarray, c: float) -> np.ndarray:
    """Per run: max |net(x) − (x A + b)| / max |net(x)| for a population of trained params (A1)."""
    xf = jnp.asarray(x.reshape(len(x), -1))
    n_hidden = models.n_hidden(model)

    def one(params):
        out = model.apply({"params": params}, jnp.asarray(x))
        a, b = composed_map(params, n_hidden, c)
        return jnp.max(jnp.abs(out - (xf @ a + b))) / jnp.max(jnp.abs(out))

    return np.asarray(perf.jit(jax.vmap(one))(params_batch))


def best_losses(pop: train.Population) -> tuple[np.ndarray, int]:
    """Per seed, the lowest logged training loss at the best learning rate; and that lr's index.

    A diverged run counts as +inf; the best learning rate minimises the mean over seeds.
    """
    loss = np.where(np.isfinite(pop.metrics["train_loss"]), pop.metrics["train_loss"], np.inf)
    best = loss.min(axis=-1).reshape(pop.shape[0], pop.shape[1])  # (seeds, lrs)
    j = int(np.argmin(np.mean(best, axis=0)))
    return best[:, j], j


def scalar_collapse(c: float, depth: int) -> dict:
    """``linear(c)`` applied ``depth`` times vs ``linear(c**depth)`` once, on a dense grid (A1)."""
    x = jnp.linspace(-30.0, 30.0, 10001)
    once, f = acts.get("linear", c=c**depth).fn, acts.get("linear", c=c).fn
    many = x
    for _ in range(depth):
        many = f(many)
    err = jnp.abs(many - once(x)) / jnp.maximum(jnp.abs(once(x)), 1e-30)
    return {"c": c, "depth": depth, "max_rel_err": float(jnp.max(jnp.where(x == 0, 0.0, err)))}


def train_all(config: ml_collections.ConfigDict, t) -> dict:
    """Train every condition on every data set (A1, C1): tables of best losses, paired differences, collapse."""
    spec = train.TrainSpec.from_config(config)
    seeds = list(range(config.seeds))
    conds = conditions(config)
    rows, diff_rows, collapse_rows, curves = [], [], [], {}
    boundary = None
    for ds_name in config.datasets:
        ds = data.load(ds_name, n_train=config.n_train, seed=0)
        best, models_ = {}, {}
        for cond, fields in conds.items():
            model = models.build("mlp", ds.n_classes, initializer=config.initializer, **fields)
            pop = train.train_population(model, ds, spec, seeds, config.learning_rates)
            best[cond], j = best_losses(pop)
            est = stats.mean_ci(best[cond])
            n_lr = pop.shape[1]
            sel = np.arange(len(seeds)) * n_lr + j
            curves[(ds_name, cond)] = (pop.steps, pop.metrics["train_loss"][sel])
            rows.append(
                {
                    "dataset": ds_name,
                    "condition": cond,
                    "best_learning_rate": float(config.learning_rates[j]),
                    "best_loss": est.mean,
                    "best_loss_lo": est.lo,
                    "best_loss_hi": est.hi,
                    "n_seeds": est.n,
                    "n_diverged": int(pop.diverged[:, -1].sum()),
                    "final_test_acc": float(np.nanmean(pop.metrics["test_acc"][sel, -1])),
                }
            )
            if fields["activation"] in ("identity", "linear"):
                c = float(fields.get("act_params", {}).get("c", 1.0))
                err = collapse_error(model, pop.final["params"], ds.x_test[: config.n_eval], c)
                collapse_rows.append(
                    {
                        "dataset": ds_name,
                        "condition": cond,
                        "c": c,
                        "runs": len(err),
                        "max_rel_err": float(np.max(err)),
                        "median_rel_err": float(np.median(err)),
                    }
                )
            models_[cond] = (model, jax.tree_util.tree_map(lambda a, s=sel: a[s[0]], pop.final))
        for cond in conds:
            if cond == ONE_LAYER:
                continue
            p = stats.paired(best[cond], best[ONE_LAYER])
            diff_rows.append(
                {
                    "dataset": ds_name,
                    "condition": cond,
                    "minus": ONE_LAYER,
                    "difference": p.diff.mean,
                    "difference_lo": p.diff.lo,
                    "difference_hi": p.diff.hi,
                    "p_t": p.p_t,
                    "n_seeds": p.diff.n,
                }
            )
        if ds_name == "two_moons" or boundary is None:
            boundary = (ds, models_)
    return {
        "best_loss": pd.DataFrame(rows),
        "paired_differences": pd.DataFrame(diff_rows),
        "collapse": pd.DataFrame(collapse_rows),
        "scalar_collapse": pd.DataFrame([scalar_collapse(config.linear_c, config.depth)]),
        "curves": curves,
        "boundary": boundary,
    }

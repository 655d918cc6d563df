"""The training measurements of experiments.derivatives (claims A2, C2): step vs sigmoid (vs relu).

A2/C2: a step-activated perceptron and MLP get exactly zero gradient (their loss, or their hidden
weights, never move), while the same nets with sigmoid (and relu) learn. The activations come
from the config: ``step_activation`` and ``smooth_activation`` (perceptron and MLP) and every
name of ``mlp_activations`` (MLP).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, stats, train
from experiments.kit.config import ConfigError


def train_all(config: ml_collections.ConfigDict, t) -> dict:
    """Measurement: the ``step_training`` and ``step_runs`` tables; the populations for the figure and summary."""
    roles = {"step_activation": config.step_activation, "smooth_activation": config.smooth_activation}
    for key, name in roles.items():
        if name not in config.mlp_activations:
            raise ConfigError(f"config.{key} = {name!r} must be one of config.mlp_activations {tuple(config.mlp_activations)}")
    pds = data.load(config.perceptron_dataset, seed=0)
    mds = data.load(config.mlp_dataset, seed=0)
    percep = perceptrons(config, (config.step_activation, config.smooth_activation), pds)
    mlps = mlp_populations(config, tuple(config.mlp_activations), mds)
    return {
        "step_training": _training_table(config, percep, mlps),
        "step_runs": _runs_table(percep, mlps),
        "perceptrons": percep,
        "mlps": mlps,
    }


def perceptrons(config, activations: tuple[str, ...], ds) -> dict[str, dict]:
    """out = f(xW + b) with squared error on one-hot targets, full-batch gradient descent, vmapped over seeds;
    the activations one after another in ONE program (``lax.map`` over a ``lax.switch`` index).

    Returns per activation and seed: the loss history (steps+1,), and the max |gradient| over all parameters at init (A2).
    """
    fns = [acts.get(a).fn for a in activations]
    x = ds.x_train.reshape(len(ds.x_train), -1)
    d = x.shape[1]

    def one(index, seed, x, labels):
        y = jax.nn.one_hot(labels, ds.n_classes)

        def loss(params):
            out = jax.lax.switch(index, fns, x @ params["w"] + params["b"])
            return 0.5 * jnp.mean(jnp.sum((out - y) ** 2, -1))

        kw, kb = jax.random.split(jax.random.PRNGKey(seed))
        params = {"w": jax.random.normal(kw, (d, ds.n_classes)) / np.sqrt(d), "b": 0.1 * jax.random.normal(kb, (ds.n_classes,))}
        gmax = jnp.max(jnp.stack([jnp.max(jnp.abs(v)) for v in jax.tree_util.tree_leaves(jax.grad(loss)(params))]))

        def step(p, _):
            value, g = jax.value_and_grad(loss)(p)
            return jax.tree_util.tree_map(lambda a, b: a - config.perceptron_learning_rate * b, p, g), value

        final, hist = jax.lax.scan(step, params, None, length=config.perceptron_steps)
        return jnp.concatenate([hist, loss(final)[None]]), gmax

    def population(indices, seeds, x, labels):
        return jax.lax.map(lambda i: jax.vmap(lambda s: one(i, s, x, labels))(seeds), indices)

    flops = 6.0 * x.shape[0] * d * ds.n_classes * config.perceptron_steps * config.seeds * len(fns)
    # numpy arguments: lifting them first would compile a staging program per shape (issue 16)
    hist, gmax = (np.asarray(a) for a in perf.execute(
        perf.jit(population), np.arange(len(fns)), np.arange(config.seeds), x, ds.y_train, flops=flops))
    return {a: {"history": hist[i], "grad_max": gmax[i]} for i, a in enumerate(activations)}


def mlp_populations(config, activations: tuple[str, ...], ds) -> dict[str, dict]:
    """The kit MLP with each activation in every hidden layer, all in ONE trainer (the kit's ``switch``
    activation, ``train.train_runs`` with a per-run variant) (A2, C2).

    Also: max |gradient| of the hidden layers and of the read-out on a batch at init, and the max
    change of the hidden kernels over training (exactly 0 means no learning signal reached them).
    """
    model = models.build("mlp", ds.n_classes, widths=tuple(config.mlp_widths), activation=models.SWITCH,
                         act_params=models.switch_params(activations), initializer="xavier_uniform")
    spec, n = train.TrainSpec.from_config(config), config.seeds
    runs = {"seed": np.tile(np.arange(n), len(activations)), "learning_rate": np.full(n * len(activations), config.learning_rate),
            "variant": np.repeat(np.arange(len(activations)), n)}
    pop = train.train_runs(model, ds, spec, runs)
    loss_fn = train.loss_function(spec.loss, ds.n_classes)
    xb, yb = ds.x_train[:256], ds.y_train[:256]

    def grads_and_change(seed, variant, final_params, xb, yb):
        key = jax.random.split(jax.random.PRNGKey(seed), 3)[0]  # the trainer's init key
        variables = models.set_switch(models.init_variables(model, key, xb[:1]), variant)
        g = models.layer_stats(model, variables, xb, loss_fn, yb)["grad_params"]
        hidden = [jnp.max(jnp.abs(leaf)) for k, v in g.items() if k != "readout" for leaf in jax.tree_util.tree_leaves(v)]
        readout = [jnp.max(jnp.abs(leaf)) for leaf in jax.tree_util.tree_leaves(g["readout"])]
        change = [jnp.max(jnp.abs(a - b)) for a, b in zip(models.hidden_kernels(model, final_params),
                                                           models.hidden_kernels(model, variables["params"]), strict=True)]
        return jnp.max(jnp.stack(hidden)), jnp.max(jnp.stack(readout)), jnp.max(jnp.stack(change))

    gh, gr, dw = (np.asarray(a) for a in perf.jit(jax.vmap(grads_and_change, in_axes=(0, 0, 0, None, None)))(
        runs["seed"], runs["variant"], pop.final["params"], xb, yb))
    out = {}
    for i, a in enumerate(activations):
        sel = slice(i * n, (i + 1) * n)
        loss = pop.metrics["train_loss"][sel]
        out[a] = {"steps": pop.steps, "loss": loss, "rel_drop": (loss[:, 0] - loss[:, -1]) / loss[:, 0],
                  "grad_hidden": gh[sel], "grad_readout": gr[sel], "hidden_change": dw[sel], "diverged": pop.diverged[sel, -1]}
    return out


def rel_drop(history: np.ndarray) -> np.ndarray:
    """Per seed: (L_0 − L_T) / L_0 of a loss history (seeds, steps + 1)."""
    return (history[:, 0] - history[:, -1]) / history[:, 0]


def _training_table(config, percep, mlps) -> pd.DataFrame:
    rows = []
    for a, r in percep.items():
        drop = stats.mean_ci(rel_drop(r["history"]))
        rows.append(
            {
                "model": "perceptron",
                "activation": a,
                "n_seeds": config.seeds,
                "max_grad_all_params": float(r["grad_max"].max()),
                "max_grad_hidden": float("nan"),
                "max_hidden_weight_change": float("nan"),
                "max_abs_loss_change": float(np.max(np.abs(r["history"][:, -1] - r["history"][:, 0]))),
                "rel_loss_drop": drop.mean,
                "rel_loss_drop_lo": drop.lo,
                "rel_loss_drop_hi": drop.hi,
                "n_diverged": 0,
            }
        )
    for a, r in mlps.items():
        drop = stats.mean_ci(r["rel_drop"])
        rows.append(
            {
                "model": "mlp",
                "activation": a,
                "n_seeds": config.seeds,
                "max_grad_all_params": float(max(r["grad_hidden"].max(), r["grad_readout"].max())),
                "max_grad_hidden": float(r["grad_hidden"].max()),
                "max_hidden_weight_change": float(r["hidden_change"].max()),
                "max_abs_loss_change": float(np.nanmax(np.abs(r["loss"][:, -1] - r["loss"][:, 0]))),
                "rel_loss_drop": drop.mean,
                "rel_loss_drop_lo": drop.lo,
                "rel_loss_drop_hi": drop.hi,
                "n_diverged": int(r["diverged"].sum()),
            }
        )
    return pd.DataFrame(rows)


def _per_seed(model: str, r: dict) -> dict[str, np.ndarray]:
    """The per-seed arrays of one population (perceptron or MLP) under the ``step_runs`` column names."""
    if model == "perceptron":
        none = np.full(len(r["grad_max"]), np.nan)
        return {"diverged": np.zeros(len(none), bool), "max_grad_all_params": r["grad_max"], "max_grad_hidden": none,
                "hidden_weight_change": none, "loss": r["history"], "rel_loss_drop": rel_drop(r["history"])}
    return {"diverged": r["diverged"], "max_grad_all_params": np.maximum(r["grad_hidden"], r["grad_readout"]),
            "max_grad_hidden": r["grad_hidden"], "hidden_weight_change": r["hidden_change"], "loss": r["loss"],
            "rel_loss_drop": r["rel_drop"]}


def _runs_table(percep, mlps) -> pd.DataFrame:
    """One row per (model, activation, seed): what A2/C2 read beyond the aggregates of ``step_training``.

    ``max_abs_loss_deviation`` is the max over logged steps of |L_t − L_0| (exactly 0: the loss never moved).
    """
    rows = []
    for model, pops in (("perceptron", percep), ("mlp", mlps)):
        for a, r in pops.items():
            v = _per_seed(model, r)
            for seed in range(len(v["loss"])):
                rows.append(
                    {
                        "model": model,
                        "activation": a,
                        "seed": seed,
                        "status": "diverged" if v["diverged"][seed] else "ok",
                        **{k: float(v[k][seed]) for k in ("max_grad_all_params", "max_grad_hidden", "hidden_weight_change")},
                        "max_abs_loss_deviation": float(np.max(np.abs(v["loss"][seed] - v["loss"][seed, 0]))),
                        "rel_loss_drop": float(v["rel_loss_drop"][seed]),
                    }
                )
    return pd.DataFrame(rows)

"""The measurements of experiments.linear_collapse (claims A1, C1): trained nets, paired losses.

(a) A trained deep net with the identity (or c·x) activation equals the affine map obtained by
multiplying its weights (three layers of c·x = one layer of c³·x). (b) On tasks that are not
linearly separable (xor, two_moons, mnist1d) its best training loss is equivalent to a single
linear layer's, while relu/tanh nets of the same size do strictly better.

Conditions with the same widths and initialiser share one compiled trainer: the kit's ``switch``
activation picks each run's activation (``train.train_runs`` with a per-run ``variant``), and each
condition has its own learning rates (R6): a grid, extended by blocks of the same size beyond an
edge where the best lies (no recompile: the blocks fill the same run slots). Seeds are shared, so
every comparison is paired (same data order).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import acts
from experiments.kit import data, models, perf, stats, train
from experiments.kit.config import ConfigError

ONE_LAYER = "one_linear_layer"
DEEP_LINEAR = "deep_linear"
DEEP_C = "deep_c_linear"
RELU_FAMILY = ("relu", "leaky_relu", "elu")  # R6: He initialisation


def conditions(config: ml_collections.ConfigDict) -> dict[str, dict]:
    """Fields of each condition: activation (and params), widths, initialiser, learning-rate grid (A1, R6)."""
    deep, c = (config.width,) * config.depth, float(config.linear_c)
    lin = tuple(config.learning_rates)
    out = {
        ONE_LAYER: {"widths": (), "activation": "identity", "params": {}, "init": config.initializer, "grid": lin},
        DEEP_LINEAR: {"widths": deep, "activation": "identity", "params": {}, "init": config.initializer, "grid": lin},
        DEEP_C: {"widths": deep, "activation": "linear", "params": {"c": c}, "init": config.initializer, "grid": lin},
    }
    for name in config.nonlinear:
        init = config.relu_family_initializer if name in RELU_FAMILY else config.initializer
        out[name] = {"widths": deep, "activation": name, "params": {}, "init": init,
                     "grid": tuple(config.nonlinear_learning_rates)}
    return out


def groups(conds: dict[str, dict]) -> dict[tuple, list[str]]:
    """Conditions that share a compiled trainer: same widths and initialiser."""
    out: dict[tuple, list[str]] = {}
    for name, f in conds.items():
        out.setdefault((f["widths"], f["init"]), []).append(name)
    return out


def group_model(conds: dict[str, dict], names: list[str], n_out: int):
    """A plain MLP for one condition, else a ``switch`` MLP whose branch ``i`` is ``names[i]``."""
    f = conds[names[0]]
    if len(names) == 1:
        return models.build("mlp", n_out, widths=f["widths"], activation=f["activation"], act_params=dict(f["params"]),
                            initializer=f["init"])
    branches = models.switch_params([(conds[n]["activation"], conds[n]["params"]) for n in names])
    return models.build("mlp", n_out, widths=f["widths"], activation=models.SWITCH, act_params=branches, initializer=f["init"])


def composed_map(params: dict, n_hidden: int, c=1.0) -> tuple[jax.Array, jax.Array]:
    """The affine map (A, b) of an MLP whose hidden activation is h -> c·h: out = x A + b (A1)."""
    first = params["dense_0"]["kernel"] if n_hidden else params["readout"]["kernel"]
    a = jnp.eye(first.shape[0], dtype=first.dtype)
    b = jnp.zeros((first.shape[0],), first.dtype)
    for layer in range(n_hidden):
        w, bias = params[f"dense_{layer}"]["kernel"], params[f"dense_{layer}"]["bias"]
        a, b = c * (a @ w), c * (b @ w + bias)
    return a @ params["readout"]["kernel"], b @ params["readout"]["kernel"] + params["readout"]["bias"]


_COLLAPSE_FNS: dict = {}


def collapse_error(model, variables_batch: dict, x: np.ndarray, c) -> np.ndarray:
    """Per run: max |net(x) − (x A + b)| / max |net(x)| for trained variables (run axis first), c per run (A1)."""
    fn = _COLLAPSE_FNS.get(model)
    if fn is None:
        n_hidden = models.n_hidden(model)

        def one(variables, xx, cc):
            out = model.apply(variables, xx)
            a, b = composed_map(variables["params"], n_hidden, cc)
            return jnp.max(jnp.abs(out - (xx.reshape(len(xx), -1) @ a + b))) / jnp.max(jnp.abs(out))

        fn = _COLLAPSE_FNS[model] = perf.jit(jax.vmap(one, in_axes=(0, None, 0)))
    c = np.broadcast_to(np.asarray(c, np.float32), (len(jax.tree_util.tree_leaves(variables_batch)[0]),))
    return np.asarray(fn(variables_batch, np.asarray(x), c))  # numpy in: jit transfers it, no staging compile


def scalar_collapse(c: float, depth: int) -> dict:
    """``linear(c)`` applied ``depth`` times vs ``linear(c**depth)`` once, on a dense grid (A1)."""
    x = np.linspace(-30.0, 30.0, 10001, dtype=np.float32)
    once, f = acts.get("linear", c=c**depth).fn, acts.get("linear", c=c).fn

    def errors(v):
        many = v
        for _ in range(depth):
            many = f(many)
        err = jnp.abs(many - once(v)) / jnp.maximum(jnp.abs(once(v)), 1e-30)
        return jnp.max(jnp.where(v == 0, 0.0, err))

    return {"c": c, "depth": depth, "max_rel_err": float(perf.jit(errors)(x))}


def next_block(tried: list[float], best: float, size: int) -> list[float] | None:
    """``size`` more rates beyond the edge of ``tried`` where ``best`` lies (same geometric step), or None."""
    tried = sorted(tried)
    if len(tried) < 2 or tried[0] < best < tried[-1]:
        return None
    step = tried[1] / tried[0]
    third = 10 ** (1 / 3)
    step = third if abs(step / third - 1) < 0.01 else step  # the config's rounded rates sit on the 3-per-decade lattice
    if best >= tried[-1]:
        return [tried[-1] * step ** (i + 1) for i in range(size)]
    return [tried[0] / step ** (size - i) for i in range(size)]


def _run_blocks(model, ds, spec, seeds, requests, n_slots: int) -> list[dict]:
    """Train every (variant, rates) request in one call of fixed shape (``n_slots`` requests, padded by repeats)."""
    padded = [requests[i % len(requests)] for i in range(n_slots)]
    runs = {"seed": [], "learning_rate": [], "variant": []}
    for variant, rates in padded:
        for lr in rates:
            runs["seed"] += list(seeds)
            runs["learning_rate"] += [lr] * len(seeds)
            runs["variant"] += [variant] * len(seeds)
    pop = train.train_runs(model, ds, spec, {k: np.asarray(v) for k, v in runs.items()})
    loss = np.where(np.isfinite(pop.metrics["train_loss"]), pop.metrics["train_loss"], np.inf)
    out, i = [], 0
    for variant, rates in requests:
        for lr in rates:
            sel = np.arange(i, i + len(seeds))
            i += len(seeds)
            out.append({"variant": variant, "lr": float(lr), "best": loss[sel].min(axis=-1), "curve": pop.metrics["train_loss"][sel],
                        "steps": pop.steps, "train_acc": pop.metrics["train_acc"][sel, -1],
                        "test_acc": pop.metrics["test_acc"][sel, -1], "diverged": pop.diverged[sel, -1],
                        "final": jax.tree_util.tree_map(lambda a, s=sel: a[s], pop.final)})
    return out


def edge_beats_neighbour(by_lr: dict[float, dict], min_gain: float = 0.0) -> bool:
    """Whether the best rate lies at an edge of the rates tried AND beats the rate next to it: the paired
    95% CI over seeds of best-loss(edge) − best-loss(neighbour) lies below −``min_gain`` (R6: only then can a
    rate beyond the edge do better than noise and a negligible gain; on a plateau the edge is as good as its
    neighbour)."""
    rates, best = sorted(by_lr), best_rate(by_lr)
    if len(rates) < 2 or rates[0] < best < rates[-1]:
        return False
    neighbour = rates[1] if best == rates[0] else rates[-2]
    a, b = by_lr[best]["best"], by_lr[neighbour]["best"]
    if not np.isfinite(b).all():
        return True
    return stats.mean_ci(a - b).hi < -min_gain


def search(model, ds, spec, seeds, grids: list[tuple], n_extensions: int, min_gain: float = 0.0) -> list[dict[float, dict]]:
    """Per variant: learning rate -> its block result; a grid is extended by a block beyond the edge where its
    best lies when that edge beats its neighbour (:func:`edge_beats_neighbour`), at most ``n_extensions`` times (R6)."""
    tried: list[dict[float, dict]] = [{} for _ in grids]
    requests = [(v, list(g)) for v, g in enumerate(grids)]
    for _ in range(n_extensions + 1):
        for r in _run_blocks(model, ds, spec, seeds, requests, len(grids)):
            tried[r["variant"]][r["lr"]] = r
        requests = [(v, next_block(list(by_lr), best_rate(by_lr), len(grids[v])))
                    for v, by_lr in enumerate(tried) if edge_beats_neighbour(by_lr, min_gain)]
        if not requests:
            break
        requests = _fill(requests, tried, len(grids))
    return tried


def _fill(requests: list, tried: list[dict], n_slots: int) -> list:
    """The run slots a round has (fixed: no recompile) filled with further blocks in the directions asked for,
    instead of repeats: no slot idles, and a long way to a best takes fewer rounds."""
    asked, i = list(requests), 0
    while len(requests) < n_slots:
        v, block = asked[i % len(asked)]
        seen = list(tried[v]) + [lr for w, b in requests if w == v for lr in b]
        edge = max(seen) if block[0] > max(tried[v]) else min(seen)
        requests.append((v, next_block(seen, edge, len(block))))
        i += 1
    return requests


def best_rate(by_lr: dict[float, dict]) -> float:
    """The learning rate with the lowest mean over seeds of the best loss (diverged runs count as inf)."""
    return min(by_lr, key=lambda lr: (np.mean(by_lr[lr]["best"]), lr))


def check(config: ml_collections.ConfigDict) -> None:
    """The two learning-rate grids are geometric, positive and of one length (they share run slots)."""
    for key in ("learning_rates", "nonlinear_learning_rates"):
        grid = np.asarray(config[key], float)
        if len(grid) < 2 or np.any(grid <= 0) or not np.allclose(grid[1:] / grid[:-1], grid[1] / grid[0], rtol=1e-2):
            raise ConfigError(f"config.{key} = {tuple(config[key])!r}: need >= 2 positive rates on a geometric grid")
    if len(config.learning_rates) != len(config.nonlinear_learning_rates):
        raise ConfigError("config.learning_rates and config.nonlinear_learning_rates must have the same length")


def train_all(config: ml_collections.ConfigDict, t) -> dict:
    """Train every condition on every data set (A1, C1)."""
    from .tables import tables

    check(config)
    spec, seeds, conds = train.TrainSpec.from_config(config), list(range(config.seeds)), conditions(config)
    found = {}
    for ds_name in config.datasets:
        ds = data.load(ds_name, n_train=config.n_train, seed=0)
        for names in groups(conds).values():
            model = group_model(conds, names, ds.n_classes)
            tried = search(model, ds, spec, seeds, [conds[n]["grid"] for n in names], config.lr_extensions,
                           config.lr_min_gain)
            for v, name in enumerate(names):
                by_lr = tried[v]
                if conds[name]["activation"] in ("identity", "linear"):
                    c = float(conds[name]["params"].get("c", 1.0))
                    for r in by_lr.values():
                        r["collapse"] = collapse_error(model, r["final"], ds.x_test[: config.n_eval], c)
                found[(ds_name, name)] = {"model": model, "by_lr": by_lr, "ds": ds}
    return tables(config, conds, found)

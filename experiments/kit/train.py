"""Training loops: ``lax.scan`` over steps inside one jit, ``vmap`` over a flat run axis.

A *population* is R independent runs of one structural variant (model, data set, optimiser,
step budget). Each run has its own seed and its own swept scalars (learning rate, weight
scale); these are array axes, so one compile serves every seed and every learning rate.

Randomness: ``jax.random.PRNGKey(seed)`` is split once by purpose into (init, data, noise);
minibatch ``i`` is drawn with ``fold_in(data_key, i)``. Two populations with the same seeds
therefore see the same data order: comparisons across activations are paired.

A run whose loss or parameters turn non-finite is *diverged*: its parameters freeze at the
last finite values, the flag stays set, and its later metrics read ``inf``/``nan`` as
recorded, so tables can mark it ``diverged`` instead of crashing.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from . import perf, sharding
from .data import Dataset
from .models import init_variables, scale_kernels, set_switch

OPTIMIZERS = ("sgd", "momentum", "adagrad", "adam")
LOSSES = ("xent", "mse")


def optimizer(name: str, learning_rate, momentum: float = 0.9) -> optax.GradientTransformation:
    """``sgd`` | ``momentum`` (heavy ball) | ``adagrad`` | ``adam``; ``learning_rate`` may be traced."""
    if name == "sgd":
        return optax.sgd(learning_rate)
    if name == "momentum":
        return optax.sgd(learning_rate, momentum=momentum)
    if name == "adagrad":
        return optax.adagrad(learning_rate)
    if name == "adam":
        return optax.adam(learning_rate)
    raise ValueError(f"unknown optimiser {name!r}; valid: {', '.join(OPTIMIZERS)}")


def loss_function(name: str, n_classes: int) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """Mean softmax cross-entropy (``xent``) or squared error against one-hot (``mse``)."""
    if name == "xent":
        return lambda logits, y: optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    if name == "mse":
        return lambda out, y: 0.5 * jnp.mean(jnp.sum((out - jax.nn.one_hot(y, n_classes)) ** 2, -1))
    raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")


def accuracy(logits: jax.Array, y: jax.Array) -> jax.Array:
    return jnp.mean(jnp.argmax(logits, -1) == y)


@dataclasses.dataclass(frozen=True)
class TrainSpec:
    """The structural part of a training run (one compile per distinct spec and model)."""

    optimizer: str = "sgd"
    steps: int = 1000
    batch_size: int = 128
    log_every: int = 100
    loss: str = "xent"
    momentum: float = 0.9
    n_eval: int = 2048

    @classmethod
    def from_config(cls, config) -> TrainSpec:
        """Read the fields this spec has from a ConfigDict (missing ones keep their defaults)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: config[k] for k in fields if k in config})


def run_grid(seeds: Sequence[int], **scalars: Sequence[float]) -> tuple[dict[str, np.ndarray], tuple[int, ...]]:
    """The flat run axis of a sweep: the Cartesian product seeds x scalar_1 x ... (row-major).

    Returns ``({"seed": (R,), name: (R,), ...}, shape)``; reshape results with ``shape``.
    """
    axes = {"seed": list(seeds), **{k: list(v) for k, v in scalars.items()}}
    rows = list(itertools.product(*axes.values()))
    flat = {k: np.array([r[i] for r in rows]) for i, k in enumerate(axes)}
    flat["seed"] = flat["seed"].astype(np.int32)
    return flat, tuple(len(v) for v in axes.values())


def tree_all_finite(tree) -> jax.Array:
    """True when every leaf of ``tree`` is finite (the divergence test of every trainer)."""
    leaves = jax.tree_util.tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))


def select_tree(flag: jax.Array, new, old):
    """``new`` where ``flag`` else ``old``, leaf by leaf (a diverged run keeps its last finite state)."""
    return jax.tree_util.tree_map(lambda a, b: jnp.where(flag, a, b), new, old)


ProbeFn = Callable[[nn.Module, dict, jax.Array, jax.Array], dict]


@dataclasses.dataclass(frozen=True)
class Population:
    """What :func:`train_population` returns; arrays have the run axis first.

    ``metrics[name]`` has shape (R, T) for scalars (T = steps/log_every + 1 log points,
    step 0 included) or (R, T, ...) for probe outputs; ``steps`` has shape (T,);
    ``diverged`` (R, T) is True from the first non-finite step on; ``final`` holds the
    final variables with the run axis first.
    """

    runs: dict[str, np.ndarray]
    shape: tuple[int, ...]
    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    diverged: np.ndarray
    final: dict


def _make_step(model: nn.Module, spec: TrainSpec, loss_fn, tx):
    def step(carry, i, x, y, data_key, noise_key):
        variables, opt_state, diverged = carry
        idx = jax.random.randint(jax.random.fold_in(data_key, i), (spec.batch_size,), 0, x.shape[0])
        xb, yb = x[idx], y[idx]
        rngs = {"rrelu": jax.random.fold_in(noise_key, i)}
        state = {k: v for k, v in variables.items() if k != "params"}

        def objective(params):
            out, new_state = model.apply(
                {"params": params, **state}, xb, train=True, rngs=rngs, mutable=list(state)
            )
            return loss_fn(out, yb), new_state

        (loss, new_state), grads = jax.value_and_grad(objective, has_aux=True)(variables["params"])
        updates, new_opt = tx.update(grads, opt_state, variables["params"])
        new_vars = {"params": optax.apply_updates(variables["params"], updates), **new_state}
        ok = jnp.isfinite(loss) & tree_all_finite(new_vars) & ~diverged
        variables = select_tree(ok, new_vars, variables)
        opt_state = select_tree(ok, new_opt, opt_state)
        return (variables, opt_state, diverged | ~ok), loss

    return step


def train_population(
    model: nn.Module,
    data: Dataset,
    spec: TrainSpec,
    seeds: Sequence[int],
    learning_rates: Sequence[float] | float,
    weight_scales: Sequence[float] | float = 1.0,
    probe: ProbeFn | None = None,
) -> Population:
    """Train R = len(seeds) x len(learning_rates) x len(weight_scales) runs with one compiled program.

    ``probe(model, variables, x_eval, y_eval) -> dict of arrays`` is evaluated at every log
    point on the fixed training evaluation subset (e.g. dead-unit fractions, saturation).
    Metrics always include ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc``.
    """
    lrs = [learning_rates] if np.isscalar(learning_rates) else list(learning_rates)
    scales = [weight_scales] if np.isscalar(weight_scales) else list(weight_scales)
    runs, shape = run_grid(seeds, learning_rate=lrs, weight_scale=scales)
    return train_runs(model, data, spec, runs, shape, probe)


def train_runs(model: nn.Module, data: Dataset, spec: TrainSpec, runs: dict[str, np.ndarray],
               shape: tuple[int, ...] | None = None, probe: ProbeFn | None = None) -> Population:
    """Train the runs given as per-run arrays (what :func:`train_population` calls): one jitted, vmapped
    program, called on chunks of runs spread over the devices (``sharding.run_chunks``).

    ``runs``: ``seed`` and ``learning_rate`` (R,), optionally ``weight_scale`` (default 1) and
    ``variant`` (default 0: the branch of a ``switch`` activation, :func:`models.switch_params`),
    so runs of several same-shape activations, each with its own learning rates, share one
    compile. ``shape`` (default ``(R,)``) is stored on the Population for reshaping.
    """
    n = len(runs["seed"])
    shape = (n,) if shape is None else tuple(shape)
    scale = np.asarray(runs.get("weight_scale", np.ones(n)), np.float32)
    variant = np.asarray(runs.get("variant", np.zeros(n)), np.int32)
    if spec.steps % spec.log_every:
        raise ValueError(f"steps ({spec.steps}) must be a multiple of log_every ({spec.log_every})")
    order = np.random.default_rng(0).permutation(len(data.x_train))[: spec.n_eval]
    x_eval, y_eval = data.x_train[order], data.y_train[order]
    x_test, y_test = data.x_test[: spec.n_eval], data.y_test[: spec.n_eval]
    n_logs = spec.steps // spec.log_every
    fn = _population_fn(model, spec, probe, data.n_classes)
    # runs in chunks of a size set by n alone, each device one program: 1, 4 or 8 devices give the same numbers
    per_run = (np.asarray(runs["seed"], np.int32), np.asarray(runs["learning_rate"], np.float32), scale, variant)
    shared = (data.x_train, data.y_train, x_eval, y_eval, x_test, y_test)
    step_flops = _step_flops(model, spec, data.n_classes, data.input_shape)
    (metrics, diverged), final = sharding.run_chunks(fn, per_run, shared, flops_per_run=step_flops * spec.steps)
    return Population(
        runs=runs,
        shape=shape,
        steps=np.arange(n_logs + 1) * spec.log_every,
        metrics=metrics,
        diverged=diverged,
        final=final,
    )


# (model, spec, probe, n_classes) -> the jitted, vmapped population function. Flax modules are
# frozen dataclasses that compare by their fields, so a model rebuilt with the same fields finds
# its entry; jax.jit's own cache then serves every call with data of the same shapes. A probe is
# keyed by identity: define probes at module level, not as fresh closures per call.
_POPULATION_FNS: dict = {}


def _population_fn(model: nn.Module, spec: TrainSpec, probe: ProbeFn | None, n_classes: int):
    """The jitted population trainer of one structural variant (cached, once across threads; see tests/test_recompile.py)."""
    key = (model, spec, probe, n_classes)
    try:
        hash(key)
    except TypeError:  # an unhashable model field: no caching
        return _build_population_fn(model, spec, probe, n_classes)
    return perf.memo(_POPULATION_FNS, key, lambda: _build_population_fn(model, spec, probe, n_classes))


def _build_population_fn(model: nn.Module, spec: TrainSpec, probe: ProbeFn | None, n_classes: int):
    loss_fn = loss_function(spec.loss, n_classes)
    n_logs = spec.steps // spec.log_every

    def evaluate(variables, diverged, x_ev, y_ev, x_te, y_te):
        out = model.apply(variables, x_ev, train=False)
        out_test = model.apply(variables, x_te, train=False)
        bad = jnp.where(diverged, jnp.nan, 0.0)
        metrics = {
            "train_loss": loss_fn(out, y_ev) + bad,
            "train_acc": accuracy(out, y_ev) + bad,
            "test_loss": loss_fn(out_test, y_te) + bad,
            "test_acc": accuracy(out_test, y_te) + bad,
        }
        if probe is not None:
            metrics.update(probe(model, variables, x_ev, y_ev))
        return metrics

    def run_one(seed, lr, scale, variant, x, y, x_ev, y_ev, x_te, y_te):
        init_key, data_key, noise_key = jax.random.split(jax.random.PRNGKey(seed), 3)
        variables = set_switch(init_variables(model, init_key, x[:1]), variant)
        variables = {**variables, "params": scale_kernels(variables["params"], scale)}
        tx = optimizer(spec.optimizer, lr, spec.momentum)
        step = _make_step(model, spec, loss_fn, tx)
        carry = (variables, tx.init(variables["params"]), jnp.array(False))

        def chunk(carry, t):
            steps = t * spec.log_every + jnp.arange(spec.log_every)
            carry, _ = jax.lax.scan(lambda c, i: step(c, i, x, y, data_key, noise_key), carry, steps)
            return carry, (evaluate(carry[0], carry[2], x_ev, y_ev, x_te, y_te), carry[2])

        first = (evaluate(variables, carry[2], x_ev, y_ev, x_te, y_te), carry[2])
        carry, logged = jax.lax.scan(chunk, carry, jnp.arange(n_logs))
        history = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, logged)
        return history, carry[0]

    return perf.jit(jax.vmap(run_one, in_axes=(0, 0, 0, 0) + (None,) * 6))


@functools.cache
def _step_flops(model: nn.Module, spec: TrainSpec, n_classes: int, input_shape: tuple[int, ...]) -> float:
    """FLOPs of one training step of one run, from XLA's cost analysis (cached; lowers, never compiles).

    XLA counts a scan body once, so a population's total is this x runs x steps.
    """
    loss_fn = loss_function(spec.loss, n_classes)
    x = jax.ShapeDtypeStruct((spec.batch_size, *input_shape), jnp.float32)
    y = jax.ShapeDtypeStruct((spec.batch_size,), jnp.int32)
    key = jax.ShapeDtypeStruct((2,), jnp.uint32)
    variables = jax.eval_shape(lambda k, xx: init_variables(model, k, xx[:1]), key, x)
    tx = optimizer(spec.optimizer, 0.1, spec.momentum)
    opt_state = jax.eval_shape(tx.init, variables["params"])
    step = _make_step(model, spec, loss_fn, tx)
    carry = (variables, opt_state, jax.ShapeDtypeStruct((), jnp.bool_))
    lowered = perf.jit(lambda c, xx, yy, k1, k2: step(c, 0, xx, yy, k1, k2)).lower(carry, x, y, key, key)
    return perf.flops_of(lowered)


def first_step_below(values: np.ndarray, steps: np.ndarray, target: float) -> np.ndarray:
    """Per run, the first logged step whose value is <= target; ``inf`` if never (claims H1, E2).

    ``values`` has shape (..., T); NaN (diverged) never counts as reaching the target.
    """
    reached = np.nan_to_num(values, nan=np.inf) <= target
    first = np.argmax(reached, axis=-1)
    out = steps[first].astype(float)
    return np.where(reached.any(axis=-1), out, np.inf)

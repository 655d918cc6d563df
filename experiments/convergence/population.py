"""One compiled training program per model structure (issue 16), called once per chunk of runs.

A *program* is a model structure (MLP or CNN widths, data shapes), a step budget and a list of
activation *branches* of the same shape. It is compiled once. Each call trains one *chunk*: one
activation, chosen by a traced branch index that is the same for every run of the call (not
vmapped, so ``lax.switch`` stays a conditional and runs only that branch), and ``n_runs`` runs of
(seed, learning rate, per-layer initial weight std), vmapped. Every call has the same number of
runs, so every chunk of every activation, learning rate and initialisation reuses the program.

Initialisation: kernels are drawn N(0, 1) from the seed's init key and multiplied per layer by a
traced std (He, Glorot/Xavier, LeCun normal or a fixed small std; :func:`layer_stds`), so the
same seed gives the same draw rescaled under every init. Randomness as in :mod:`experiments.kit.train`:
``PRNGKey(seed)`` split into (init, data, noise), minibatch ``i`` from ``fold_in(data, i)``, so
all activations see the same data order (paired by seed). A run whose loss or parameters turn
non-finite is *diverged*: it freezes at its last finite state and its metrics read NaN.
"""

from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

import acts
from experiments.kit import models, ondevices, perf, train

# the std of each named Gaussian init as a function of (fan_in, fan_out), the kit's fans (experiments.kit.inits)
INIT_STDS = {
    "he_normal": lambda fan_in, fan_out: math.sqrt(2.0 / fan_in),
    "xavier_normal": lambda fan_in, fan_out: math.sqrt(2.0 / (fan_in + fan_out)),
    "lecun_normal": lambda fan_in, fan_out: math.sqrt(1.0 / fan_in),
    "small_normal": lambda fan_in, fan_out: 0.01,
}


class Switch(nn.Module):
    """The activation of branch ``which`` (traced); owns PReLU's slopes and RReLU's noise if a branch needs them."""

    branches: tuple  # ((registry name, ((param, value), ...)), ...)

    @nn.compact
    def __call__(self, h: jax.Array, which: jax.Array, train: bool) -> jax.Array:
        fns = [acts.get(name, **dict(params)) for name, params in self.branches]
        kinds = {a.kind for a in fns}
        slope = self.param("slope", nn.initializers.constant(models.PRELU_INIT), (h.shape[-1],)) \
            if "parametric" in kinds else None
        noise = self.make_rng("noise") if train and "stochastic" in kinds else None

        def branch(a):
            if a.kind == "parametric":
                return lambda z: acts.functions.prelu(z, slope)
            if a.kind == "stochastic" and train:
                return lambda z: a.train_fn(z, noise)
            return a.fn

        calls = [branch(a) for a in fns]
        return calls[0](h) if len(calls) == 1 else jax.lax.switch(which, calls, h)


def patches(x: jax.Array, size: int) -> jax.Array:
    """Non-overlapping ``size`` x ``size`` patches as channels (the input of a stride-``size`` conv stem)."""
    b, h, w, c = x.shape
    x = x[:, : h // size * size, : w // size * size]
    x = x.reshape(b, h // size, size, w // size, size, c).transpose(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h // size, w // size, size * size * c)


class Net(nn.Module):
    """[a ``stem`` x ``stem`` stride-``stem`` conv] -> 3x3 convs (each followed by 2x max pooling) -> dense
    hidden layers -> a linear read-out. An MLP has neither stem nor ``channels``. Kernels are drawn N(0, 1);
    :func:`_init_params` scales them per layer.
    """

    channels: tuple
    widths: tuple
    n_out: int
    branches: tuple
    stem: int = 0  # patch size of the stem (0: none)
    stem_width: int = 0

    @nn.compact
    def __call__(self, x: jax.Array, which: jax.Array, train: bool = False) -> jax.Array:
        unit = nn.initializers.normal(1.0)
        layers = []
        if self.stem:
            x = patches(x, self.stem)
            layers.append(nn.Dense(self.stem_width, kernel_init=unit, name="layer_0"))
        layers += [models.Conv3(c, unit, name=f"layer_{i + len(layers)}") for i, c in enumerate(self.channels)]
        for i, layer in enumerate(layers):
            x = Switch(self.branches, name=f"phi_{i}")(layer(x), which, train)
            x = models.max_pool2(x) if i >= bool(self.stem) and min(x.shape[1:-1]) >= 2 else x
        x = x.reshape((x.shape[0], -1))
        for i, w in enumerate(self.widths, start=len(layers)):
            x = Switch(self.branches, name=f"phi_{i}")(nn.Dense(w, kernel_init=unit, name=f"layer_{i}")(x), which, train)
        return nn.Dense(self.n_out, kernel_init=unit, name=f"layer_{len(layers) + len(self.widths)}")(x)


@dataclasses.dataclass(frozen=True)
class Program:
    """What one compile is specialised on (besides the data's shapes)."""

    net: Net
    steps: int
    log_every: int
    batch_size: int
    momentum: float
    n_runs: int  # runs per call: seeds x learning rates of one chunk

    @property
    def n_logs(self) -> int:
        return self.steps // self.log_every


def layer_fans(net: Net, input_shape: tuple) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of every layer's kernel, in order (the kit's convention: all but the last axis in)."""
    shapes = jax.eval_shape(lambda k: net.init(k, jnp.zeros((1, *input_shape)), 0), jax.random.PRNGKey(0))["params"]
    kernels = [shapes[f"layer_{i}"]["kernel"].shape for i in range(len([k for k in shapes if k.startswith("layer_")]))]
    return [(int(np.prod(s[:-1])), int(s[-1])) for s in kernels]


def layer_stds(init: str, scale: float, fans: list[tuple[int, int]]) -> np.ndarray:
    """Per-layer std of the named Gaussian init times ``scale``."""
    if init not in INIT_STDS:
        raise ValueError(f"init {init!r} is not one of the Gaussian inits {sorted(INIT_STDS)}")
    return np.array([scale * INIT_STDS[init](fi, fo) for fi, fo in fans], np.float32)


def _init_params(net: Net, key, x1, which, stds):
    params = net.init(key, x1, which)["params"]
    return {k: ({**v, "kernel": v["kernel"] * stds[int(k.split("_")[1])]} if k.startswith("layer_") else v)
            for k, v in params.items()}


def _slopes(params) -> jax.Array:
    """PReLU's learned slope averaged over units, per hidden layer (empty without a parametric branch)."""
    layers = sorted((k for k, v in params.items() if "slope" in v), key=_order)
    return jnp.stack([params[k]["slope"].mean() for k in layers]) if layers else jnp.zeros((0,))


def _program_fn(program: Program, n_classes: int):
    net, loss_fn = program.net, train.loss_function("xent", n_classes)

    def run_one(seed, lr, stds, which, n_train, x, y, x_ev, y_ev, x_val, y_val, x_te, y_te):
        def measure(params, xs, ys):
            out = net.apply({"params": params}, xs, which)
            return loss_fn(out, ys), train.accuracy(out, ys)

        k_init, k_data, k_noise = jax.random.split(jax.random.PRNGKey(seed), 3)
        params = _init_params(net, k_init, x[:1], which, stds)
        tx = optax.sgd(lr, momentum=program.momentum)

        def step(carry, i):
            p, opt, bad = carry
            idx = jax.random.randint(jax.random.fold_in(k_data, i), (program.batch_size,), 0, n_train)
            rngs = {"noise": jax.random.fold_in(k_noise, i)}
            loss, g = jax.value_and_grad(lambda q: loss_fn(net.apply({"params": q}, x[idx], which, True, rngs=rngs),
                                                           y[idx]))(p)
            upd, opt_new = tx.update(g, opt, p)
            p_new = optax.apply_updates(p, upd)
            ok = jnp.isfinite(loss) & train.tree_all_finite(p_new) & ~bad
            return (train.select_tree(ok, p_new, p), train.select_tree(ok, opt_new, opt), bad | ~ok), None

        def chunk(carry, t):
            carry, _ = jax.lax.scan(step, carry, t * program.log_every + jnp.arange(program.log_every))
            return carry, (*measure(carry[0], x_ev, y_ev), carry[2])

        carry = (params, tx.init(params), jnp.array(False))
        first = (*measure(params, x_ev, y_ev), carry[2])
        carry, logged = jax.lax.scan(chunk, carry, jnp.arange(program.n_logs))
        loss, acc, bad = (jnp.concatenate([a[None], b]) for a, b in zip(first, logged, strict=True))
        final, nan = carry[0], jnp.where(carry[2], jnp.nan, 0.0)
        return {"train_loss": loss + jnp.where(bad, jnp.nan, 0.0), "train_acc": acc + jnp.where(bad, jnp.nan, 0.0),
                "diverged": carry[2], "val_acc": measure(final, x_val, y_val)[1] + nan,
                "test_acc": measure(final, x_te, y_te)[1] + nan, "slopes": _slopes(final) + nan}

    return perf.jit(jax.vmap(run_one, in_axes=(0, 0, 0) + (None,) * 10))


def _order(name: str) -> int:
    return int(name.split("_")[1])


_PROGRAMS: dict = {}


def program_fn(program: Program, n_classes: int):
    """The jitted chunk trainer of ``program`` (one per program: the compile the run pays once)."""
    return perf.memo(_PROGRAMS, (program, n_classes), lambda: _program_fn(program, n_classes))


def run_chunk(program: Program, which: int, seeds, lrs, stds, n_train: int, arrays: tuple, n_classes: int) -> dict:
    """Train one chunk: ``seeds``, ``lrs`` (n_runs,), ``stds`` (n_runs, layers); ``arrays`` = (x, y, x_ev, y_ev,
    x_val, y_val, x_test, y_test), on the device (:func:`device_arrays`); minibatches are drawn from the first
    ``n_train`` rows of x (a smaller training set padded to the program's shape shares its compile). Returns numpy arrays with the run axis first (curves: (n_runs, n_logs + 1))."""
    if len(seeds) != program.n_runs:
        raise ValueError(f"a chunk has {program.n_runs} runs, got {len(seeds)}")
    fn = program_fn(program, n_classes)
    host = (np.asarray(seeds, np.int32), np.asarray(lrs, np.float32), np.asarray(stds, np.float32), np.int32(which),
            np.int32(n_train))
    out = ondevices.execute(fn, *host, *arrays, flops=_flops(program, arrays) * program.n_runs)  # this thread's device
    return {k: np.asarray(v) for k, v in out.items()}


def device_arrays(*arrays: np.ndarray) -> tuple[jax.Array, ...]:
    """Put a data set's arrays on the device once (float32 inputs, int32 labels): no conversion per chunk."""
    return tuple(jax.device_put(np.asarray(a, np.float32 if a.dtype.kind == "f" else np.int32)) for a in arrays)


def _flops(program: Program, arrays: tuple) -> float:
    """FLOPs of one run of a chunk: XLA's count of one forward+backward step x steps, plus the evaluations."""
    x, n_ev = arrays[0], len(arrays[2])
    fans = layer_fans(program.net, tuple(x.shape[1:]))
    positions = _positions(program.net, tuple(x.shape[1:]))
    forward = 2.0 * sum(p * fi * fo for p, (fi, fo) in zip(positions, fans, strict=True))  # per example
    evals = (program.n_logs + 1) * n_ev + len(arrays[4]) + len(arrays[6])
    return forward * (3 * program.batch_size * program.steps + evals)


def _positions(net: Net, input_shape: tuple) -> list[int]:
    """Spatial positions each layer's kernel is applied at (1 for dense layers)."""
    size = [s // net.stem for s in input_shape[:-1]] if net.stem else list(input_shape[:-1])
    out = [int(np.prod(size))] if net.stem else []
    for _ in net.channels:
        out.append(int(np.prod(size)))
        size = [s // 2 for s in size] if min(size) >= 2 else size
    return out + [1] * (len(net.widths) + 1)

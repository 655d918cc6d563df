"""Flax linen MLP and CNN, activation and initialiser by name (field ``initializer``), with per-layer probes.

Every hidden layer ``l`` records, when asked:

- ``intermediates/preact_l``: the pre-activation h_l (after BatchNorm when it is on), by ``sow``;
- ``intermediates/act_l``: the activation phi(h_l), by ``sow``;
- ``perturbations/preact_l``: a zero added to h_l, so that the gradient of the loss with respect
  to it is dL/dh_l (Flax ``perturb``).

Parameters are a plain pytree: ``jax.vmap(model.init)(keys, x)`` makes a population of seeds.
Special activations: ``prelu`` learns one slope per unit/channel (initialised at 0.25, claim B5),
``rrelu`` draws its slopes from the ``"rrelu"`` rng stream when ``train=True`` (claim B6) and
``maxout`` computes ``k`` pieces per unit (claim B8).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

import acts

from . import inits

PRELU_INIT = 0.25
# The activation name of "one of several elementwise activations, chosen per run": its act_params
# are the branches (switch_params); the branch index is the ``switch`` collection's ``index``
# (0 at init; set_switch sets it; train.train_runs takes it per run as ``variant``). Under vmap
# over runs every branch is evaluated and one selected (elementwise cost only, no extra matmul).
SWITCH = "switch"


def _act_params(params: Sequence[tuple[str, float]] | dict) -> dict:
    return dict(params.items() if isinstance(params, dict) else params)


def switch_params(branches: Sequence[str | tuple[str, dict]]) -> tuple:
    """``act_params`` of the ``switch`` activation: each branch a name or (name, {param: value}).

    Only elementwise activations (no learned slope, no noise, no groups) can be branches.
    """
    out = []
    for branch in branches:
        name, params = (branch, {}) if isinstance(branch, str) else (branch[0], dict(branch[1]))
        if acts.get(name, **params).kind != "elementwise":
            raise ValueError(f"switch branch {name!r} is not elementwise")
        out.append((name, tuple(sorted(params.items()))))
    return tuple(out)


def set_switch(variables: dict, index) -> dict:
    """``variables`` with every switch layer's branch index set to ``index`` (may be traced)."""
    if "switch" not in variables:
        return variables
    chosen = jax.tree_util.tree_map(lambda v: jnp.full_like(v, index), variables["switch"])
    return {**variables, "switch": chosen}


class Activate(nn.Module):
    """Apply a registered activation; owns PReLU's slope and RReLU's noise."""

    name_: str
    params: tuple = ()

    @nn.compact
    def __call__(self, h: jax.Array, train: bool = False) -> jax.Array:
        if self.name_ == SWITCH:
            index = self.variable("switch", "index", lambda: jnp.zeros((), jnp.int32)).value
            return jax.lax.switch(index, [acts.get(n, **dict(p)).fn for n, p in self.params], h)
        act = acts.get(self.name_, **_act_params(self.params))
        if act.kind == "parametric":
            slope = self.param("slope", nn.initializers.constant(PRELU_INIT), (h.shape[-1],))
            return acts.functions.prelu(h, slope)
        if act.kind == "stochastic" and train:
            return act.train_fn(h, self.make_rng("rrelu"))
        return act.fn(h)


def _units(activation: str, params: tuple, width: int) -> int:
    """Maxout needs ``k`` linear pieces per output unit."""
    if activation == "maxout":
        return width * int(_act_params(params).get("k", 2))
    return width


class Conv3(nn.Module):
    """A 3-wide (3x3 in 2-D) 'SAME' convolution as one matmul over shifted copies of the input.

    The parameters are those of ``nn.Conv(features, (3,) * spatial, padding="SAME")`` (``kernel``
    (3, ..., 3, C_in, C_out) and ``bias``), so initialisation is the same. Why not ``nn.Conv``:
    under ``vmap`` over runs each run has its own kernel, which XLA lowers to a grouped
    convolution; on a CPU that ran 3x slower per training step than this batched matmul
    (measured, 50 runs of the convergence CNN).
    """

    features: int
    kernel_init: Callable = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        spatial = x.ndim - 2
        kernel = self.param("kernel", self.kernel_init, (3,) * spatial + (x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        padded = jnp.pad(x, [(0, 0)] + [(1, 1)] * spatial + [(0, 0)])
        sizes = x.shape[1:-1]
        shifted = [
            padded[(slice(None), *(slice(o, o + n) for o, n in zip(offset, sizes, strict=True)))]
            for offset in itertools.product(range(3), repeat=spatial)
        ]  # row-major offsets, the order of the kernel's leading axes
        return jnp.concatenate(shifted, -1) @ kernel.reshape(-1, self.features) + bias


def max_pool2(x: jax.Array) -> jax.Array:
    """2x max pooling with stride 2 ('VALID': an odd last row/column is dropped), by reshaping.

    Same values as ``nn.max_pool(x, (2,)*d, strides=(2,)*d)``; ``select_and_scatter``, the
    gradient of that, is slow on a CPU under ``vmap``. At exact ties the gradient is shared
    equally (``nn.max_pool`` gives it to one element); both are subgradients of the max.
    """
    spatial = x.ndim - 2
    halves = [n // 2 for n in x.shape[1:-1]]
    x = x[(slice(None), *(slice(0, 2 * h) for h in halves))]
    pairs = [d for h in halves for d in (h, 2)]
    x = x.reshape(x.shape[0], *pairs, x.shape[-1])
    return x.max(axis=tuple(2 + 2 * i for i in range(spatial)))


class _Layered(nn.Module):
    """The hidden-layer recipe shared by MLP and CNN: linear -> [BatchNorm] -> probe -> phi."""

    def hidden(self, linear: nn.Module, x: jax.Array, index: int, train: bool) -> jax.Array:
        h = linear(x)
        if self.batch_norm:
            h = nn.BatchNorm(use_running_average=not train, momentum=0.9, name=f"bn_{index}")(h)
        self.sow("intermediates", f"preact_{index}", h)
        h = self.perturb(f"preact_{index}", h)
        a = Activate(self.activation, self.act_params, name=f"phi_{index}")(h, train)
        self.sow("intermediates", f"act_{index}", a)
        return a


class MLP(_Layered):
    """Fully connected net: ``widths`` hidden layers, then a linear read-out of ``n_out``."""

    widths: Sequence[int]
    n_out: int
    activation: str = "relu"
    act_params: tuple = ()
    initializer: str = "he_normal"
    bias_std: float = 0.0
    batch_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        x = x.reshape((x.shape[0], -1))
        kernel_init = inits.get(self.initializer)
        bias_init = nn.initializers.normal(self.bias_std) if self.bias_std else nn.initializers.zeros
        for index, width in enumerate(self.widths):
            units = _units(self.activation, self.act_params, width)
            dense = nn.Dense(units, kernel_init=kernel_init, bias_init=bias_init, name=f"dense_{index}")
            x = self.hidden(dense, x, index, train)
        return nn.Dense(self.n_out, kernel_init=kernel_init, bias_init=bias_init, name="readout")(x)


class CNN(_Layered):
    """Convolutional net for 1-D (mnist1d) or 2-D (digits, Fashion-MNIST) inputs.

    Each conv layer is 3-wide (3x3 in 2-D), 'SAME' padded and followed by 2x max pooling while
    the spatial size allows; then ``dense_widths`` hidden layers and a linear read-out.
    """

    channels: Sequence[int]
    n_out: int
    dense_widths: Sequence[int] = ()
    activation: str = "relu"
    act_params: tuple = ()
    initializer: str = "he_normal"
    bias_std: float = 0.0
    batch_norm: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
        kernel_init = inits.get(self.initializer)
        index = 0
        for channels in self.channels:
            units = _units(self.activation, self.act_params, channels)
            conv = Conv3(units, kernel_init=kernel_init, name=f"conv_{index}")
            x = self.hidden(conv, x, index, train)
            if min(x.shape[1:-1]) >= 2:
                x = max_pool2(x)
            index += 1
        x = x.reshape((x.shape[0], -1))
        for width in self.dense_widths:
            units = _units(self.activation, self.act_params, width)
            x = self.hidden(nn.Dense(units, kernel_init=kernel_init, name=f"dense_{index}"), x, index, train)
            index += 1
        return nn.Dense(self.n_out, kernel_init=kernel_init, name="readout")(x)


def build(kind: str, n_out: int, **fields) -> nn.Module:
    """``build("mlp", 10, widths=[256]*5, activation="tanh", initializer="xavier_uniform")``."""
    if "act_params" in fields and isinstance(fields["act_params"], dict):
        fields["act_params"] = tuple(sorted(fields["act_params"].items()))
    if kind == "mlp":
        return MLP(n_out=n_out, **fields)
    if kind == "cnn":
        return CNN(n_out=n_out, **fields)
    raise ValueError(f"unknown model kind {kind!r}; valid: cnn, mlp")


def n_hidden(model: nn.Module) -> int:
    """Number of probed hidden layers."""
    if isinstance(model, MLP):
        return len(model.widths)
    return len(model.channels) + len(model.dense_widths)


def scale_kernels(params, gain: jax.Array | float):
    """Multiply every kernel by ``gain`` (a traced scalar, so weight scales can be vmapped)."""

    def scale(path, leaf):
        return leaf * gain if path[-1].key == "kernel" else leaf

    return jax.tree_util.tree_map_with_path(scale, params)


def init_variables(model: nn.Module, key: jax.Array, x: jax.Array) -> dict:
    """Initialise and keep only the state collections (``params``, ``batch_stats``, ``switch``)."""
    variables = model.init({"params": key, "rrelu": key}, x, train=False)
    return {k: v for k, v in variables.items() if k in ("params", "batch_stats", "switch")}


def layer_stats(model: nn.Module, variables: dict, x: jax.Array, loss_fn, y: jax.Array) -> dict:
    """Per-layer probes on a batch (claims D1-D5, E4, F1, G1).

    Returns stacked arrays over hidden layers:
    ``preact`` (L, n, units), ``act`` (L, n, units), ``grad_preact`` dL/dh_l (L, n, units)
    when all hidden layers have the same shape; otherwise lists. Also ``grad_params``, the
    gradient pytree of the parameters, and ``loss``.
    """
    _, state = model.apply(variables, x, train=False, mutable=["intermediates"])
    inter = state["intermediates"]
    n_layers = n_hidden(model)
    preacts = [inter[f"preact_{i}"][0] for i in range(n_layers)]
    activations = [inter[f"act_{i}"][0] for i in range(n_layers)]
    perturb = {f"preact_{i}": jnp.zeros_like(preacts[i]) for i in range(n_layers)}

    def loss_of(params, perturbations):
        out = model.apply({**variables, "params": params, "perturbations": perturbations}, x, train=False)
        return loss_fn(out, y)

    loss, (g_params, g_pert) = jax.value_and_grad(loss_of, argnums=(0, 1))(variables["params"], perturb)
    grads = [g_pert[f"preact_{i}"] for i in range(n_layers)]
    same = len({p.shape for p in preacts}) == 1
    stack = jnp.stack if same else list
    return {
        "preact": stack(preacts),
        "act": stack(activations),
        "grad_preact": stack(grads),
        "grad_params": g_params,
        "loss": loss,
    }


def hidden_kernels(model: nn.Module, params) -> list:
    """The hidden layers' kernels in order (read-out excluded)."""
    names = [k for k in params if k.startswith(("dense_", "conv_"))]
    names.sort(key=lambda k: int(k.split("_")[1]))
    return [params[k]["kernel"] for k in names]

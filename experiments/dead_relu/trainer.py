"""One jitted, vmapped trainer per data set for the dead-unit sweeps (claims F1-F4).

Every activation of the ReLU family, initialiser, optimiser and learning rate is an *array
argument* of the run axis, so the whole sweep of one data set is one compile (issue 16):

- activations: phi(h) = h for h > 0, else s*h + c*(e^h - 1), with per-run (s, c): ReLU (0, 0),
  Leaky ReLU (its alpha, 0), ELU (0, its alpha), PReLU (a learned per-unit slope starting at
  its alpha, 0.25), the registry's own functions and defaults (:data:`FAMILY`, tested against
  ``acts``);
- inits: each kernel is drawn by every initialiser the sweep names (``experiments.kit.inits``)
  and the run's ``init_index`` picks one; biases start at zero;
- optimisers: one update rule whose hyper-parameters (:data:`HYPER`) are per-run arrays; it is
  SGD, heavy-ball momentum, Adagrad or Adam exactly as ``optax`` defines them (tested);
- randomness: the init key is ``fold_in(fold_in(PRNGKey(seed), 0), draw)``, ``draw`` a stable
  hash of (init, learning rate), so every (seed, init, lr) is an independent draw (R4) that the
  activations and optimisers share (F4 compares activations on the same weights); the minibatch
  indices come from ``fold_in(PRNGKey(seed), 1)``: one data order per seed, shared by all runs.

At every check (step 0 and every ``log_every`` steps) the net is evaluated on the whole
evaluation set (the training set): per hidden unit whether its pre-activation is <= 0 on every
example (ReLU: output exactly 0, a *dead* unit; Leaky ReLU / PReLU / ELU: on the negative branch
for every example, a *stuck* unit), the loss and the accuracy. A run whose loss or parameters
turn non-finite is frozen and flagged diverged from then on.
"""

from __future__ import annotations

import dataclasses
import itertools
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

import acts
from experiments.kit import inits, perf, sharding

# b1: momentum / first-moment decay; d1: weight of g in the first moment; b2, c2: decay and weight
# of g^2 in the second moment; v0: its start; pre: divide by sqrt(v); bc: Adam's bias correction;
# eps_root inside, eps outside the square root (optax's adagrad: rsqrt(v + 1e-7); adam: 1e-8 outside).
HYPER_FIELDS = ("b1", "d1", "b2", "c2", "v0", "pre", "bc", "eps_root", "eps")
HYPER = {
    "sgd": (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "momentum": (0.9, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    "adagrad": (0.0, 1.0, 1.0, 1.0, 0.1, 1.0, 0.0, 1e-7, 0.0),
    "adam": (0.9, 0.1, 0.999, 0.001, 0.0, 1.0, 1.0, 0.0, 1e-8),
}
FAMILY = ("relu", "leaky_relu", "prelu", "elu")


def activation_row(name: str) -> tuple[float, float, float]:
    """(s, c, learned) of ``name`` in the family phi(h) = h (h > 0), s*h + c*(e^h - 1) (h <= 0)."""
    if name not in FAMILY:
        raise ValueError(f"dead_relu trains the ReLU family only: {name!r}; valid: {', '.join(FAMILY)}")
    alpha = float(acts.get(name).params.get("alpha", 0.0))
    return {"relu": (0.0, 0.0, 0.0), "leaky_relu": (alpha, 0.0, 0.0), "prelu": (alpha, 0.0, 1.0),
            "elu": (0.0, alpha, 0.0)}[name]


def phi(h: jax.Array, slope: jax.Array, c: jax.Array) -> jax.Array:
    """The family's activation (slope broadcast per unit)."""
    neg = jnp.where(h > 0, jnp.zeros_like(h), h)
    return jnp.where(h > 0, h, slope * h + c * jnp.expm1(neg))


def optimizer_init(params, hp: jax.Array):
    """State (m, v, t) of the update rule; ``hp`` is one run's row of :data:`HYPER`."""
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return zeros, jax.tree_util.tree_map(lambda p: jnp.full_like(p, hp[4]), params), jnp.zeros((), jnp.float32)


def optimizer_update(grads, state, hp: jax.Array, lr: jax.Array):
    """One step of the rule: (parameter updates, new state); the same numbers as ``optax``."""
    b1, d1, b2, c2, _, pre, bc, eps_root, eps = (hp[i] for i in range(len(HYPER_FIELDS)))
    m, v, t = state
    t = t + 1.0
    m = jax.tree_util.tree_map(lambda a, g: b1 * a + d1 * g, m, grads)
    v = jax.tree_util.tree_map(lambda a, g: b2 * a + c2 * g * g, v, grads)
    m_corr = jnp.where(bc > 0, 1.0 - b1**t, 1.0)
    v_corr = jnp.where(bc > 0, 1.0 - b2**t, 1.0)

    def step(a, s):
        denom = jnp.where(pre > 0, jnp.sqrt(s / v_corr + eps_root) + eps, 1.0)
        return -lr * (a / m_corr) / denom

    return jax.tree_util.tree_map(step, m, v), (m, v, t)


def draw_id(init: str, learning_rate: float) -> int:
    """A stable 31-bit id of an (init, lr) pair: the init draw of a seed at that pair."""
    return zlib.crc32(f"{init}|{float(learning_rate):.6g}".encode()) & 0x7FFFFFFF


@dataclasses.dataclass(frozen=True)
class Spec:
    """The structural part of a sweep: one compile per distinct spec (and data shape)."""

    widths: tuple[int, ...]
    n_out: int
    steps: int
    batch_size: int
    log_every: int
    init_names: tuple[str, ...]
    chunk: int  # runs per vmapped chunk (fixed: the numbers do not depend on the run or device count)


def init_params(spec: Spec, key: jax.Array, n_in: int, init_index: jax.Array, slope0: jax.Array) -> dict:
    """Kernels drawn by ``spec.init_names[init_index]`` (a traced index), zero biases, slopes ``slope0``."""
    dims = [n_in, *spec.widths, spec.n_out]
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(dims)):
        k = jax.random.fold_in(key, i)
        w = jnp.stack([inits.get(name)(k, (a, b), jnp.float32) for name in spec.init_names])[init_index]
        layers.append({"w": w, "b": jnp.zeros((b,), jnp.float32)})
    slopes = [jnp.full((w,), slope0, jnp.float32) for w in spec.widths]
    return {"layers": layers, "slopes": slopes}


def forward(params: dict, x: jax.Array, act: jax.Array) -> tuple[jax.Array, list[jax.Array]]:
    """Logits and the hidden pre-activations; ``act`` = (s, c, learned) of the run."""
    a, pre = x.reshape(x.shape[0], -1), []
    for layer, slope in zip(params["layers"][:-1], params["slopes"]):
        h = a @ layer["w"] + layer["b"]
        pre.append(h)
        a = phi(h, jnp.where(act[2] > 0, slope, act[0]), act[1])
    out = params["layers"][-1]
    return a @ out["w"] + out["b"], pre


def _evaluate(params, x, y, act):
    logits, pre = forward(params, x, act)
    negative = jnp.stack([jnp.max(h, axis=0) <= 0 for h in pre])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return negative, loss, jnp.mean(jnp.argmax(logits, -1) == y)


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(a)) for a in jax.tree_util.tree_leaves(tree)]))


def _run_fn(spec: Spec):
    def run_one(seed, draw, init_index, hp, lr, act, x, y):
        key = jax.random.PRNGKey(seed)
        params = init_params(spec, jax.random.fold_in(jax.random.fold_in(key, 0), draw), x[0].size, init_index, act[0])
        batches = jax.random.randint(jax.random.fold_in(key, 1), (spec.steps, spec.batch_size), 0, x.shape[0])

        def loss_of(p, xb, yb):
            return optax.softmax_cross_entropy_with_integer_labels(forward(p, xb, act)[0], yb).mean()

        def step(carry, idx):
            p, s, bad = carry
            loss, g = jax.value_and_grad(loss_of)(p, x[idx], y[idx])
            upd, s_new = optimizer_update(g, s, hp, lr)
            p_new = optax.apply_updates(p, upd)
            ok = jnp.isfinite(loss) & _all_finite(p_new) & ~bad
            keep = jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), (p_new, s_new), (p, s))
            return (*keep, bad | ~ok), None

        def check(carry, chunk_batches):
            carry, _ = jax.lax.scan(step, carry, chunk_batches)
            return carry, (*_evaluate(carry[0], x, y, act), carry[2])

        carry = (params, optimizer_init(params, hp), jnp.array(False))
        first = (*_evaluate(params, x, y, act), carry[2])
        chunks = batches.reshape(spec.steps // spec.log_every, spec.log_every, spec.batch_size)
        _, logged = jax.lax.scan(check, carry, chunks)
        return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, logged)

    return perf.jit(jax.vmap(run_one, in_axes=(0, 0, 0, 0, 0, 0, None, None)))


_FNS: dict = {}


def trainer(spec: Spec):
    """The jitted population function of ``spec``, cached (a second sweep compiles nothing)."""
    return perf.memo(_FNS, spec, lambda: _run_fn(spec))


def run_flops(n_in: int, spec: Spec, n_eval: int) -> float:
    """Matmul FLOPs of one run: 3 forward passes per training example, 1 per evaluated example."""
    dims = [n_in, *spec.widths, spec.n_out]
    fwd = 2.0 * sum(a * b for a, b in itertools.pairwise(dims))
    return fwd * (3 * spec.batch_size * spec.steps + n_eval * (spec.steps // spec.log_every + 1))


def train(x: np.ndarray, y: np.ndarray, spec: Spec, runs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Train every run of ``runs`` (arrays ``seed``, ``draw``, ``init_index``, ``optimizer``,
    ``learning_rate``, ``activation``) in chunks of ``spec.chunk`` runs (``sharding.run_chunks``); per run and check return
    ``negative`` (R, T, L, U), ``loss``, ``acc`` (NaN once diverged) and ``diverged`` (R, T)."""
    cols = [np.asarray(runs["seed"], np.int32), np.asarray(runs["draw"], np.int32),
            np.asarray(runs["init_index"], np.int32), np.array([HYPER[o] for o in runs["optimizer"]], np.float32),
            np.asarray(runs["learning_rate"], np.float32),
            np.array([activation_row(a) for a in runs["activation"]], np.float32)]
    flops = run_flops(int(np.prod(x.shape[1:])), spec, len(x))
    # calls of spec.chunk runs spread over the devices, each the same one-device program: 1, 4 or 8 devices
    # give the same numbers (issue 17), and one executable serves every n
    negative, loss, acc, diverged = sharding.run_chunks(trainer(spec), tuple(cols), (x, y), flops_per_run=flops, size=spec.chunk)
    return {"negative": negative, "loss": np.where(diverged, np.nan, loss), "acc": np.where(diverged, np.nan, acc),
            "diverged": diverged}

"""A deep MLP as a ``lax.scan`` over its stacked square hidden layers (claims D1-D6).

The kit's Flax MLP unrolls every layer, so a 50-layer net with BatchNorm takes minutes to
compile on 2 CPU cores. Here the hidden layers 1..L-1 (all ``width`` x ``width``) are one
stacked array scanned over, so compile time does not grow with depth. Used for the gradient
profile at initialisation and for the depth and edge-of-chaos sweeps of experiments.vanishing.

Parameters: ``w_in`` (d_in, width), ``w_hid`` (L-1, width, width), ``w_out`` (width, n_out),
biases ``b`` (L, width) drawn N(0, bias_std^2) (the kit's convention, zero by default),
``b_out`` zero, BatchNorm scale/shift ``gamma``/``beta`` (L, width). BatchNorm always uses the
statistics of the batch it sees (training batch, or the evaluation subset at evaluation).
Randomness follows the kit's trainer: ``PRNGKey(seed)`` split into (init, data, noise) and
minibatch ``i`` drawn with ``fold_in(data_key, i)``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

import acts
from experiments.kit import inits, perf, train


def init_params(key: jax.Array, init: str, d_in: int, width: int, depth: int, n_out: int, bias_std: float = 0.0) -> dict:
    """Draw one net's parameters with the kit initialiser ``init`` (fan_in = rows of each kernel)."""
    kinit = inits.get(init)
    k_in, k_hid, k_out, k_b = jax.random.split(key, 4)
    w_hid = jax.vmap(lambda k: kinit(k, (width, width), jnp.float32))(jax.random.split(k_hid, max(depth - 1, 1)))
    return {
        "w_in": kinit(k_in, (d_in, width), jnp.float32),
        "w_hid": w_hid[: depth - 1],
        "w_out": kinit(k_out, (width, n_out), jnp.float32),
        "b": bias_std * jax.random.normal(k_b, (depth, width)),
        "b_out": jnp.zeros((n_out,)),
        "gamma": jnp.ones((depth, width)),
        "beta": jnp.zeros((depth, width)),
    }


def scale_weights(params: dict, gain: jax.Array | float) -> dict:
    """Multiply every kernel by ``gain`` (traced: a vmappable weight scale)."""
    return {**params, **{k: params[k] * gain for k in ("w_in", "w_hid", "w_out")}}


def forward(params: dict, x: jax.Array, phi: Callable, batch_norm: bool, eps: jax.Array | None = None,
            n_layers: jax.Array | int | None = None):
    """Logits, pre-activations h (L, B, width) and activations (L, B, width); ``eps`` is added to h.

    ``n_layers`` (may be traced) keeps only the first ``n_layers`` hidden layers: the others pass
    their input through unchanged (``lax.cond``; their parameters get zero gradient), so one
    compiled net of the largest depth serves every depth of a sweep. Keep ``n_layers`` out of any
    ``vmap`` (loop over it with ``lax.map``) so the switched-off layers are skipped, not computed.
    """
    x = x.reshape((x.shape[0], -1))
    depth = params["b"].shape[0]
    if eps is None:
        eps = jnp.zeros((depth, x.shape[0], params["b"].shape[1]), x.dtype)

    def layer(a, w, b, g, be, e):
        h = a @ w + b
        if batch_norm:
            h = (h - h.mean(0)) * jax.lax.rsqrt(h.var(0) + 1e-5) * g + be
        h = h + e
        return phi(h), h

    a0, h0 = layer(x, params["w_in"], params["b"][0], params["gamma"][0], params["beta"][0], eps[0])

    switch_off = n_layers is not None

    def body(a, xs):
        index, *layer_params = xs
        if switch_off:  # a real branch when n_layers is not vmapped: switched-off layers cost nothing
            new, h = jax.lax.cond(index < n_layers, lambda: layer(a, *layer_params),
                                  lambda: (a, jnp.zeros_like(a)))
        else:
            new, h = layer(a, *layer_params)
        return new, (h, new)

    xs = (jnp.arange(1, depth), params["w_hid"], params["b"][1:], params["gamma"][1:], params["beta"][1:], eps[1:])
    a_last, (hs, acts) = jax.lax.scan(body, a0, xs)
    logits = a_last @ params["w_out"] + params["b_out"]
    return logits, jnp.concatenate([h0[None], hs]), jnp.concatenate([a0[None], acts])


def xent(logits: jax.Array, y: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()


def macs(d_in: int, width: int, depth: int, n_out: int) -> int:
    """Multiply-accumulates of one example's forward pass."""
    return d_in * width + (depth - 1) * width * width + width * n_out


def make_trainer(names: tuple[str, ...], batch_norm: bool, dims: tuple[int, int, int, int], steps: int,
                 batch_size: int) -> Callable:
    """``fn(index, seeds, lrs, stds, bias_stds, depths, x, y, x_eval, y_eval) -> (train_acc, train_loss, diverged)``.

    Plain SGD for ``steps`` steps, one jit for everything: the activation ``names[index]`` is a
    ``lax.switch`` on a traced index (one compile serves every activation), the flat run axis is
    vmapped (``seeds``, ``lrs``, ``stds`` (R, 3): the standard deviations of the input, hidden and
    output kernels, drawn N(0, std^2), and ``bias_stds`` (R,)), the depths are looped over with
    ``lax.map`` (outputs have shape (n_depths, R)). ``dims`` holds the largest depth; a run of
    depth d uses the first d layers (the same drawn weights for every depth of a seed) and skips
    the others. A run whose loss or parameters turn non-finite freezes and is flagged diverged.
    """
    d_in, width, depth, n_out = dims
    fns = [acts.get(n).fn for n in names]

    def run_one(index, seed, lr, std, bias_std, n_layers, x, y, x_ev, y_ev):
        phi = lambda h: jax.lax.switch(index, fns, h)
        k_init, k_data, _ = jax.random.split(jax.random.PRNGKey(seed), 3)
        p = init_params(k_init, "normal", d_in, width, depth, n_out, 1.0)
        params = {**p, "w_in": p["w_in"] * std[0], "w_hid": p["w_hid"] * std[1], "w_out": p["w_out"] * std[2],
                  "b": p["b"] * bias_std}

        def loss_of(p, xb, yb):
            return xent(forward(p, xb, phi, batch_norm, n_layers=n_layers)[0], yb)

        def step(carry, i):
            p, bad = carry
            idx = jax.random.randint(jax.random.fold_in(k_data, i), (batch_size,), 0, x.shape[0])
            loss, grads = jax.value_and_grad(loss_of)(p, x[idx], y[idx])
            new = jax.tree_util.tree_map(lambda a, g: a - lr * g, p, grads)
            ok = jnp.isfinite(loss) & train.tree_all_finite(new) & ~bad
            p = train.select_tree(ok, new, p)
            return (p, bad | ~ok), None

        (params, bad), _ = jax.lax.scan(step, (params, jnp.array(False)), jnp.arange(steps))
        logits = forward(params, x_ev, phi, batch_norm, n_layers=n_layers)[0]
        acc = jnp.mean(jnp.argmax(logits, -1) == y_ev)
        nan = jnp.where(bad, jnp.nan, 0.0)
        return acc + nan, xent(logits, y_ev) + nan, bad

    runs = jax.vmap(run_one, in_axes=(None, 0, 0, 0, 0, None, None, None, None, None))

    def sweep(index, seeds, lrs, stds, bias_stds, depths, x, y, x_ev, y_ev):
        return jax.lax.map(lambda d: runs(index, seeds, lrs, stds, bias_stds, d, x, y, x_ev, y_ev), depths)

    return perf.jit(sweep)


def log_norm(x: jax.Array) -> jax.Array:
    """ln ||x|| computed on x / max|x| (R10: no float32 underflow of the sum of squares)."""
    m = jnp.max(jnp.abs(x))
    safe = jnp.where(m > 0, m, 1.0)
    return jnp.log(m) + 0.5 * jnp.log(jnp.sum((x / safe) ** 2))


def make_logged_trainer(names: tuple[str, ...], init: str, dims: tuple[int, int, int, int], steps: int,
                        batch_size: int, log_every: int) -> Callable:
    """``fn(index, seeds, lr, x, y, x_eval, y_eval) -> history`` for Glorot & Bengio's setting (claim D4).

    Plain SGD; the activation ``names[index]`` is a ``lax.switch`` on a traced index (one compile
    for all of them), seeds are vmapped. Every ``log_every`` steps (and at step 0), on the fixed
    evaluation subset: per hidden layer the mean and std of the activations and the fraction with
    |h| > 2, ln||dL/dW_1|| of the lowest layer (full gradient on the subset), training accuracy and
    loss. History arrays have shape (S, steps // log_every + 1, ...).
    """
    d_in, width, depth, n_out = dims
    fns = [acts.get(n).fn for n in names]
    n_logs = steps // log_every

    def run_one(index, seed, lr, x, y, x_ev, y_ev):
        phi = lambda h: jax.lax.switch(index, fns, h)
        k_init, k_data, _ = jax.random.split(jax.random.PRNGKey(seed), 3)
        params = init_params(k_init, init, d_in, width, depth, n_out)

        def probe(p, bad):
            def loss_of(q):
                logits, hs, a = forward(q, x_ev, phi, False)
                return xent(logits, y_ev), (logits, hs, a)

            (loss, (logits, hs, a)), g = jax.value_and_grad(loss_of, has_aux=True)(p)
            nan = jnp.where(bad, jnp.nan, 0.0)
            return {"mean_act": jnp.mean(a, axis=(1, 2)) + nan, "std_act": jnp.std(a, axis=(1, 2)) + nan,
                    "saturated": jnp.mean(jnp.abs(hs) > 2.0, axis=(1, 2)) + nan, "log_grad_w1": log_norm(g["w_in"]) + nan,
                    "train_acc": jnp.mean(jnp.argmax(logits, -1) == y_ev) + nan, "train_loss": loss + nan, "diverged": bad}

        def step(carry, i):
            p, bad = carry
            idx = jax.random.randint(jax.random.fold_in(k_data, i), (batch_size,), 0, x.shape[0])
            loss, grads = jax.value_and_grad(lambda q: xent(forward(q, x[idx], phi, False)[0], y[idx]))(p)
            new = jax.tree_util.tree_map(lambda a, g: a - lr * g, p, grads)
            ok = jnp.isfinite(loss) & train.tree_all_finite(new) & ~bad
            return (train.select_tree(ok, new, p), bad | ~ok), None

        def chunk(carry, t):
            carry, _ = jax.lax.scan(step, carry, t * log_every + jnp.arange(log_every))
            return carry, probe(*carry)

        carry = (params, jnp.array(False))
        _, logged = jax.lax.scan(chunk, carry, jnp.arange(n_logs))
        return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), probe(*carry), logged)

    return perf.jit(jax.vmap(run_one, in_axes=(None, 0, None, None, None, None, None)))

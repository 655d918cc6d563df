"""The measurements of experiments.zigzag (claims E1-E4): pure functions and jitted pieces.

Tested on cases with known answers (tests/test_zigzag.py): the single-signed fraction of a
neuron's minibatch weight gradient, sign agreement, successive-update cosines, the two-input
neuron's SGD path, Hessian condition numbers, censoring and learning-rate tuning (E1, E2, E3),
and the jitted probes and SGD loops the measurement modules call.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from experiments.kit import models, perf, train

# ----------------------------------------------------------------------------------------------
# Measurements (pure; tested on cases with known answers)
# ----------------------------------------------------------------------------------------------


def single_signed_fraction(inputs: np.ndarray, deltas: np.ndarray, batch_size: int, max_batches: int) -> np.ndarray:
    """Per run, the fraction of neurons whose minibatch weight gradient is single-signed (claim E1).

    ``inputs`` (R, N, fan_in) are a layer's inputs and ``deltas`` (R, N, units) dL/dh of its
    pre-activations per example; the gradient of a minibatch's loss for neuron j's incoming weights
    is sum_b delta_bj * x_b (up to a positive factor). A vector is single-signed when all its
    non-zero entries share a sign; neurons whose gradient is exactly zero are left out.
    Returns (R,) fractions over (minibatches x neurons).
    """
    r, n, fan_in = inputs.shape
    nb = min(n // batch_size, max_batches)
    a = inputs[:, : nb * batch_size].reshape(r, nb, batch_size, fan_in).astype(np.float64)
    d = deltas[:, : nb * batch_size].reshape(r, nb, batch_size, -1).astype(np.float64)
    g = np.einsum("rkbi,rkbj->rkij", a, d)
    single = np.all(g >= 0, axis=2) | np.all(g <= 0, axis=2)
    active = np.any(g != 0, axis=2)
    return (single & active).sum(axis=(1, 2)) / np.maximum(active.sum(axis=(1, 2)), 1)


def sign_agreement(inputs: np.ndarray, deltas: np.ndarray, batch_size: int, max_batches: int) -> np.ndarray:
    """Per run, mean over neurons of |sum_i sign(g_ij)| / #(g_ij != 0): 1 = single-signed, ~0 = random (E1)."""
    r, n, fan_in = inputs.shape
    nb = min(n // batch_size, max_batches)
    a = inputs[:, : nb * batch_size].reshape(r, nb, batch_size, fan_in).astype(np.float64)
    d = deltas[:, : nb * batch_size].reshape(r, nb, batch_size, -1).astype(np.float64)
    s = np.sign(np.einsum("rkbi,rkbj->rkij", a, d))
    nz = np.abs(s).sum(axis=2)
    agree = np.where(nz > 0, np.abs(s.sum(axis=2)) / np.maximum(nz, 1), np.nan)
    return np.nanmean(agree, axis=(1, 2))


def path_geometry(updates: jax.Array, prev: jax.Array) -> jax.Array:
    """Cosine between two successive updates of each neuron's incoming weights (columns) (E1)."""
    dot = jnp.sum(updates * prev, axis=0)
    norms = jnp.linalg.norm(updates, axis=0) * jnp.linalg.norm(prev, axis=0)
    return jnp.where(norms > 0, dot / jnp.where(norms > 0, norms, 1.0), jnp.nan)


def two_input_path(x: jax.Array, w_star: jax.Array, lr: float, steps: int, batch_size: int, key: jax.Array):
    """SGD on the two-input linear neuron y = w.x with squared error, from w = 0 (claim E1).

    Returns the weight path (steps+1, 2) and the updates (steps, 2). Targets are w*.x exactly,
    so the optimum is w* whatever the input distribution.
    """
    y = x @ w_star

    def step(w, i):
        idx = jax.random.randint(jax.random.fold_in(key, i), (batch_size,), 0, x.shape[0])
        xb, yb = x[idx], y[idx]
        grad = xb.T @ (xb @ w - yb) / batch_size
        u = -lr * grad
        return w + u, (w + u, u)

    w0 = jnp.zeros(2)
    _, (path, upd) = jax.lax.scan(step, w0, jnp.arange(steps))
    return jnp.concatenate([w0[None], path]), upd


def path_summary(path: np.ndarray, upd: np.ndarray, w_star: np.ndarray, tol: float) -> dict:
    """Quadrant I/III fraction of updates, steps to |w-w*| <= tol|w*|, path/displacement, cosines (E1)."""
    nonzero = np.all(upd != 0, axis=-1)
    same_sign = (upd[..., 0] * upd[..., 1]) > 0
    frac13 = (same_sign & nonzero).sum(-1) / np.maximum(nonzero.sum(-1), 1)
    dist = np.linalg.norm(path - w_star, axis=-1)
    reached = dist <= tol * np.linalg.norm(w_star)
    steps_to = np.where(reached.any(-1), np.argmax(reached, axis=-1), np.inf)
    length = np.linalg.norm(upd, axis=-1).sum(-1)
    disp = np.linalg.norm(path[..., -1, :] - path[..., 0, :], axis=-1)
    a, b = upd[..., 1:, :], upd[..., :-1, :]
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-30)
    return {
        "frac_quadrant_13": frac13,
        "steps_to_wstar": steps_to.astype(float),
        "path_over_disp": length / np.maximum(disp, 1e-30),
        "mean_cos": cos.mean(-1),
        "frac_neg_cos": (cos < 0).mean(-1),
    }


def hessian_condition(x: np.ndarray, y: np.ndarray | None = None, l2: float = 0.0, logistic: bool = False) -> float:
    """Condition number of the Hessian of a linear least-squares (or binary logistic) model with bias.

    Features constant on the training set are dropped first (they make the Hessian singular
    whatever the shift). The logistic Hessian is taken at the ridge-regularised optimum (Newton).
    (LeCun et al. 1998's shifted-input argument, claim E2.)
    """
    x = x.reshape(len(x), -1).astype(np.float64)
    x = x[:, x.std(axis=0) > 1e-8]
    xt = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    if not logistic:
        h = xt.T @ xt / len(xt) + l2 * np.eye(xt.shape[1])
    else:
        w = np.zeros(xt.shape[1])
        for _ in range(50):
            p = 1 / (1 + np.exp(-(xt @ w)))
            grad = xt.T @ (p - y) / len(xt) + l2 * w
            h = (xt * (p * (1 - p))[:, None]).T @ xt / len(xt) + l2 * np.eye(xt.shape[1])
            step = np.linalg.solve(h, grad)
            w -= step
            if np.max(np.abs(step)) < 1e-10:
                break
        p = 1 / (1 + np.exp(-(xt @ w)))
        h = (xt * (p * (1 - p))[:, None]).T @ xt / len(xt) + l2 * np.eye(xt.shape[1])
    eig = np.linalg.eigvalsh(h)
    return float(eig[-1] / eig[0]) if eig[0] > 0 else float("inf")


def censored_log_steps(steps_to: np.ndarray, budget: int, censor_factor: float, floor: int) -> np.ndarray:
    """log2 steps to target; a run that never gets there counts as censor_factor * budget (E2, E3)."""
    s = np.where(np.isfinite(steps_to), steps_to, censor_factor * budget)
    return np.log2(np.maximum(s, floor))


def tune(log_steps: np.ndarray, final_loss: np.ndarray, seeds: slice | None = None) -> int:
    """Index of the learning rate minimising mean log2 steps over seeds (ties: lower final loss)."""
    ls = log_steps if seeds is None else log_steps[seeds]
    fl = np.nan_to_num(final_loss if seeds is None else final_loss[seeds], nan=np.inf)
    order = np.lexsort((np.nanmean(np.where(np.isfinite(fl), fl, 1e30), axis=0), ls.mean(axis=0)))
    return int(order[0])


# ----------------------------------------------------------------------------------------------
# Jitted pieces
# ----------------------------------------------------------------------------------------------


def mean_activation_probe(model, variables, x, y) -> dict:
    """Per hidden layer: median over units of the unit's mean activation, and the layer's mean (E4)."""
    _, state = model.apply(variables, x, train=False, mutable=["intermediates"])
    inter = state["intermediates"]
    unit_means = jnp.stack([inter[f"act_{i}"][0].mean(axis=0) for i in range(models.n_hidden(model))])
    return {"median_unit_mean": jnp.median(unit_means, axis=1), "layer_mean": unit_means.mean(axis=1)}


@functools.cache
def layer_io_fn(model, n_classes: int):
    """jit(vmap over runs): per-layer activations and dL/dh on a fixed batch (E1)."""
    loss_fn = train.loss_function("xent", n_classes)

    def one(variables, x, y):
        out = models.layer_stats(model, variables, x, loss_fn, y)
        return out["act"], out["grad_preact"]

    return perf.jit(jax.vmap(one, in_axes=(0, None, None)))


@functools.cache
def init_fn(model):
    """jit(vmap over seeds): the initial variables train_population starts from (same init key)."""

    def one(seed, x):
        return models.init_variables(model, jax.random.split(jax.random.PRNGKey(seed), 3)[0], x)

    return perf.jit(jax.vmap(one, in_axes=(0, None)))


@functools.cache
def path_fn(model, n_classes: int, batch_size: int, steps: int):
    """jit(vmap over runs): plain SGD recording, per hidden layer and neuron, the cosine between
    successive weight updates, and path length / displacement of its incoming weights (E1)."""
    loss_fn = train.loss_function("xent", n_classes)
    n_layers = models.n_hidden(model)

    def kernels(params):
        return [params[f"dense_{i}"]["kernel"] for i in range(n_layers)]

    def one(seed, lr, x, y):
        init_key, data_key, _ = jax.random.split(jax.random.PRNGKey(seed), 3)
        params = models.init_variables(model, init_key, x[:1])["params"]
        zeros = [jnp.zeros_like(k) for k in kernels(params)]
        acc0 = {
            "cos": [jnp.zeros(k.shape[1]) for k in zeros],
            "abs_cos": [jnp.zeros(k.shape[1]) for k in zeros],
            "neg": [jnp.zeros(k.shape[1]) for k in zeros],
            "n": [jnp.zeros(k.shape[1]) for k in zeros],
            "length": [jnp.zeros(k.shape[1]) for k in zeros],
        }

        def step(carry, i):
            params, prev, acc = carry
            idx = jax.random.randint(jax.random.fold_in(data_key, i), (batch_size,), 0, x.shape[0])
            grads = jax.grad(lambda p: loss_fn(model.apply({"params": p}, x[idx]), y[idx]))(params)
            new = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
            upd = [-lr * g for g in kernels(grads)]
            out = {k: list(v) for k, v in acc.items()}
            for layer, (u, v) in enumerate(zip(upd, prev)):
                cos = path_geometry(u, v)
                ok = jnp.isfinite(cos) & (i > 0)
                c = jnp.where(ok, cos, 0.0)
                out["cos"][layer] = acc["cos"][layer] + c
                out["abs_cos"][layer] = acc["abs_cos"][layer] + jnp.abs(c)
                out["neg"][layer] = acc["neg"][layer] + (ok & (c < 0))
                out["n"][layer] = acc["n"][layer] + ok
                out["length"][layer] = acc["length"][layer] + jnp.linalg.norm(u, axis=0)
            return (new, upd, out), None

        (final, _, acc), _ = jax.lax.scan(step, (params, zeros, acc0), jnp.arange(steps))
        disp = [jnp.linalg.norm(a - b, axis=0) for a, b in zip(kernels(final), kernels(params))]
        n = [jnp.maximum(c, 1) for c in acc["n"]]
        return {
            "mean_cos": jnp.stack([jnp.median(c / m) for c, m in zip(acc["cos"], n)]),
            "mean_abs_cos": jnp.stack([jnp.median(c / m) for c, m in zip(acc["abs_cos"], n)]),
            "frac_neg_cos": jnp.stack([jnp.median(c / m) for c, m in zip(acc["neg"], n)]),
            "path_over_disp": jnp.stack([jnp.median(l / jnp.maximum(d, 1e-30)) for l, d in zip(acc["length"], disp)]),
        }

    return perf.jit(jax.vmap(one, in_axes=(0, 0, None, None)))


@functools.cache
def two_input_fn(steps: int, batch_size: int):
    """jit(vmap over seeds) of :func:`two_input_path`; the lr is a traced argument (E1)."""

    def one(seed, lr, x, w_star):
        return two_input_path(x, w_star, lr, steps, batch_size, jax.random.PRNGKey(seed))

    return perf.jit(jax.vmap(one, in_axes=(0, None, None, None)))

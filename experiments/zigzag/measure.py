"""The measurements of experiments.zigzag (claims E1-E4): pure functions and jitted pieces.

Tested on cases with known answers (tests/test_zigzag.py): the single-signed fraction of a
neuron's minibatch weight gradient and sign agreement, successive-update cosines, the two-input
neuron's SGD path, the spectrum of the inputs' second-moment matrix, censoring, learning-rate
tuning and its extension beyond a grid edge (E1, E2, E3), and the jitted probes and SGD loops
the measurement modules call.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from experiments.kit import models, perf, stats, train

# ----------------------------------------------------------------------------------------------
# Measurements (pure; tested on cases with known answers)
# ----------------------------------------------------------------------------------------------


def sign_stats(inputs: np.ndarray, deltas: np.ndarray, batch_size: int, max_batches: int) -> tuple[np.ndarray, np.ndarray]:
    """Per run: the fraction of neurons whose minibatch weight gradient is single-signed, and the
    mean sign agreement |sum_i sign(g_ij)| / #(g_ij != 0) (1 = single-signed, ~0 = random) (E1).

    ``inputs`` (R, N, fan_in) are a layer's inputs and ``deltas`` (R, N, units) dL/dh of its
    pre-activations per example; the gradient of a minibatch's loss for neuron j's incoming weights
    is sum_b delta_bj * x_b (up to a positive factor). A vector is single-signed when all its
    non-zero entries share a sign; neurons whose gradient is exactly zero are left out.
    Returns two (R,) arrays, each over (minibatches x neurons).
    """
    r, n, fan_in = inputs.shape
    nb = min(n // batch_size, max_batches)
    a = inputs[:, : nb * batch_size].reshape(r, nb, batch_size, fan_in).astype(np.float64)
    d = deltas[:, : nb * batch_size].reshape(r, nb, batch_size, -1).astype(np.float64)
    g = np.matmul(np.swapaxes(a, 2, 3), d)  # (r, nb, fan_in, units), BLAS
    pos, neg = (g > 0).sum(axis=2), (g < 0).sum(axis=2)
    nz = pos + neg
    active = nz > 0
    single = active & ((pos == 0) | (neg == 0))
    frac = single.sum(axis=(1, 2)) / np.maximum(active.sum(axis=(1, 2)), 1)
    agree = np.where(active, np.abs(pos - neg) / np.maximum(nz, 1), 0.0).sum(axis=(1, 2)) / np.maximum(active.sum(axis=(1, 2)), 1)
    return frac, agree


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


def second_moment_spectrum(x: np.ndarray, centre: bool) -> dict:
    """Eigenvalues of the inputs' E[x x^T] (``centre`` False: the Hessian of a linear least-squares
    model without bias, LeCun et al. 1998) or of their covariance (``centre`` True) (E2).

    Features constant on the training set are dropped first (they add exact zeros whatever the
    mean). ``mean_sq_norm`` = |m|^2 = sum_i m_i^2, LeCun et al.'s d*m^2 for a common mean m: the
    eigenvalue a mean adds (exactly when m is orthogonal to the covariance's other directions).
    """
    x = x.reshape(len(x), -1).astype(np.float64)
    x = x[:, x.std(axis=0) > 1e-8]
    m = x.mean(axis=0)
    xc = x - m if centre else x
    eig = np.linalg.eigvalsh(xc.T @ xc / len(xc))
    lo, hi = float(eig[0]), float(eig[-1])
    return {"n_features": x.shape[1], "mean_sq_norm": float(m @ m), "lambda_max": hi, "lambda_min": lo,
            "kappa": hi / lo if lo > 0 else float("inf")}


def mean_or_nan(values) -> float:
    """The mean of the finite values, NaN when there are none (no "Mean of empty slice" warning)."""
    v = np.asarray(values, float).ravel()
    v = v[np.isfinite(v)]
    return float(v.mean()) if len(v) else float("nan")


def censored_log_steps(steps_to: np.ndarray, budget: int, censor_factor: float, floor: int) -> np.ndarray:
    """log2 steps to target; a run that never gets there counts as censor_factor * budget (tuning, E2, E3)."""
    s = np.where(np.isfinite(steps_to), steps_to, censor_factor * budget)
    return np.log2(np.maximum(s, floor))


def tune(log_steps: np.ndarray, final_loss: np.ndarray) -> int:
    """Index of the learning rate minimising mean log2 steps over seeds (ties: lower final loss).

    ``log_steps`` and ``final_loss`` are (seeds, lrs); diverged runs (non-finite loss) sort last.
    """
    fl = np.where(np.isfinite(final_loss), final_loss, 1e30)
    order = np.lexsort((fl.mean(axis=0), log_steps.mean(axis=0)))
    return int(order[0])


def ratio_of_means_ci(num, den, n_boot: int = 2000, seed: int = 0) -> stats.Estimate:
    """mean(num) / mean(den) over paired seeds with a percentile bootstrap CI; unlike
    ``stats.ratio_ci`` it keeps seeds whose ``den`` is 0 (differences of logged steps often are) (E3)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    if len(num) == 0 or den.mean() == 0:
        return stats.Estimate(float("nan"), float("nan"), float("nan"), len(num))
    idx = np.random.default_rng(seed).integers(0, len(num), size=(n_boot, len(num)))
    with np.errstate(divide="ignore", invalid="ignore"):
        boots = num[idx].mean(1) / den[idx].mean(1)
    boots = np.where(np.isnan(boots), np.inf, boots)
    lo, hi = np.quantile(boots, [0.025, 0.975])
    return stats.Estimate(float(num.mean() / den.mean()), float(lo), float(hi), len(num))


def beyond_edge(tried: list[float], best: float, size: int) -> list[float] | None:
    """R6: if ``best`` is the smallest or largest rate ``tried`` (a geometric grid), the ``size``
    rates that continue the grid beyond that edge; else None."""
    logs = np.log10(sorted(tried))
    if len(logs) < 2 or logs[0] < np.log10(best) < logs[-1]:
        return None
    step = logs[1] - logs[0]
    edge, sign = (logs[-1], 1.0) if np.isclose(np.log10(best), logs[-1]) else (logs[0], -1.0)
    return sorted(float(f"{10.0 ** (edge + sign * step * k):.4g}") for k in range(1, size + 1))


# ----------------------------------------------------------------------------------------------
# Jitted pieces
# ----------------------------------------------------------------------------------------------


def mean_activation_probe(model, variables, x, y) -> dict:
    """Per hidden layer: median over units of the unit's mean activation, and the std of the
    layer's outputs over examples and units (E4)."""
    _, state = model.apply(variables, x, train=False, mutable=["intermediates"])
    acts = [state["intermediates"][f"act_{i}"][0] for i in range(models.n_hidden(model))]
    return {"median_unit_mean": jnp.stack([jnp.median(a.mean(axis=0)) for a in acts]),
            "layer_std": jnp.stack([a.std() for a in acts])}


def _init(model, seed, variant, x):
    """The initial variables train.train_runs starts run (seed, variant) from."""
    init_key = jax.random.split(jax.random.PRNGKey(seed), 3)[0]
    return models.set_switch(models.init_variables(model, init_key, x[:1]), variant)


@functools.cache
def layer_io_fn(model, n_classes: int):
    """jit(vmap over runs): per-layer activations and dL/dh on a fixed batch, at init (from the
    run's seed and variant) and at the given trained variables (E1)."""
    loss_fn = train.loss_function("xent", n_classes)

    def stats(variables, x, y):
        out = models.layer_stats(model, variables, x, loss_fn, y)
        return out["act"], out["grad_preact"]

    def one(seed, variant, trained, x, y):
        return stats(_init(model, seed, variant, x), x, y), stats(trained, x, y)

    return perf.jit(jax.vmap(one, in_axes=(0, 0, 0, None, None)))


def _kernels(params, n_layers: int) -> list:
    return [params[f"dense_{i}"]["kernel"] for i in range(n_layers)]


@functools.cache
def path_fn(model, n_classes: int, steps: int):
    """jit(vmap over runs): plain SGD at batch 1 recording, per hidden layer and neuron, the mean
    cosine and |cosine| between successive updates of its incoming weights and their path length
    / net displacement (medians over neurons), and the final train accuracy on ``x_ev`` (R8) (E1)."""
    loss_fn = train.loss_function("xent", n_classes)
    n_layers = models.n_hidden(model)

    def one(seed, variant, lr, x, y, x_ev, y_ev):
        variables = _init(model, seed, variant, x)
        data_key = jax.random.split(jax.random.PRNGKey(seed), 3)[1]
        state = {k: v for k, v in variables.items() if k != "params"}
        apply = lambda p, xb: model.apply({"params": p, **state}, xb)
        params = variables["params"]
        zeros = [jnp.zeros_like(k) for k in _kernels(params, n_layers)]
        units = [jnp.zeros(k.shape[1]) for k in zeros]
        acc0 = {key: list(units) for key in ("cos", "abs_cos", "neg", "n", "length")}

        def step(carry, i):
            params, prev, acc = carry
            idx = jax.random.randint(jax.random.fold_in(data_key, i), (1,), 0, x.shape[0])
            grads = jax.grad(lambda p: loss_fn(apply(p, x[idx]), y[idx]))(params)
            upd = [-lr * g for g in _kernels(grads, n_layers)]
            out = {k: list(v) for k, v in acc.items()}
            for layer, (u, v) in enumerate(zip(upd, prev, strict=True)):
                cos = path_geometry(u, v)
                ok = jnp.isfinite(cos) & (i > 0)
                c = jnp.where(ok, cos, 0.0)
                out["cos"][layer] += c
                out["abs_cos"][layer] += jnp.abs(c)
                out["neg"][layer] += ok & (c < 0)
                out["n"][layer] += ok
                out["length"][layer] += jnp.linalg.norm(u, axis=0)
            return (jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), upd, out), None

        (final, _, acc), _ = jax.lax.scan(step, (params, zeros, acc0), jnp.arange(steps))
        disp = [jnp.linalg.norm(a - b, axis=0) for a, b in zip(_kernels(final, n_layers), _kernels(params, n_layers), strict=True)]
        n = [jnp.maximum(c, 1) for c in acc["n"]]
        med = lambda key: jnp.stack([jnp.median(c / m) for c, m in zip(acc[key], n, strict=True)])
        return {"mean_cos": med("cos"), "mean_abs_cos": med("abs_cos"), "frac_neg_cos": med("neg"),
                "path_over_disp": jnp.stack([jnp.median(ln / jnp.maximum(d, 1e-30)) for ln, d in zip(acc["length"], disp, strict=True)]),
                "train_acc": train.accuracy(apply(final, x_ev), y_ev)}

    return perf.jit(jax.vmap(one, in_axes=(0, 0, 0, None, None, None, None)))


@functools.cache
def two_input_fn(steps: int, batch_size: int):
    """jit(vmap over seeds) of :func:`two_input_path`; the lr is a traced argument (E1)."""

    def one(seed, lr, x, w_star):
        return two_input_path(x, w_star, lr, steps, batch_size, jax.random.PRNGKey(seed))

    return perf.jit(jax.vmap(one, in_axes=(0, None, None, None)))

"""An MLP at initialisation whose activation and initialiser are array arguments (claims G1, G2).

Every initialiser of :mod:`experiments.kit.inits` used here is a zero-mean normal or uniform draw
whose standard deviation depends on the layer's fans (:func:`layer_stds`); so a net is described
by a per-layer std vector and a uniform flag, and one compiled function serves every (activation,
init) of a width (the activation of each condition is static, each computed on its own conditions). One standard-normal draw z per seed and layer is shared
by all inits (common random numbers; each condition's CI is still over its own seeds, R4): a
normal init uses std * z, a uniform one std * sqrt(3) * (2 Phi(z) - 1), which is uniform with the
same std. The weights are drawn layer by layer inside the scans (forwards, and again backwards),
so nothing of size depth x width^2 is stored.

The backward pass is written out (dL/dh_l = phi'(h_l) * (dL/dh_(l+1) W_l^T), softmax
cross-entropy at the read-out); :func:`experiments.kit.models.layer_stats` computes the same
values for the suite's MLP (tests/test_initialization.py checks they agree).
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

import acts

# init -> (uniform?, std of (fan_in, fan_out)); the distributions of experiments.kit.inits
INIT_STD = {
    "normal": (False, lambda i, o: 1.0),
    "small_normal": (False, lambda i, o: 0.01),
    "standard": (True, lambda i, o: 1.0 / np.sqrt(3.0 * i)),  # U[+-1/sqrt(fan_in)]
    "xavier_uniform": (True, lambda i, o: np.sqrt(2.0 / (i + o))),  # U[+-sqrt(6/(fan_in+fan_out))]
    "xavier_normal": (False, lambda i, o: np.sqrt(2.0 / (i + o))),
    "he_normal": (False, lambda i, o: np.sqrt(2.0 / i)),
    "he_uniform": (True, lambda i, o: np.sqrt(2.0 / i)),
    "lecun_normal": (False, lambda i, o: np.sqrt(1.0 / i)),
}


def layer_stds(init: str, dims: list[int]) -> tuple[np.ndarray, bool]:
    """(std of every kernel, uniform?) of ``init`` for layer sizes ``dims`` = [d_in, w_1, ..., n_out]."""
    if init not in INIT_STD:
        raise ValueError(f"initialiser {init!r} is not a scaled normal/uniform draw; valid: {', '.join(INIT_STD)}")
    uniform, std = INIT_STD[init]
    return np.array([std(i, o) for i, o in itertools.pairwise(dims)]), uniform


def conditions(pairs, dims: list[int]) -> dict[str, np.ndarray]:
    """Array arguments of the (activation, init) ``pairs``: per-layer stds (C, L+1) and uniform flags (C,)."""
    stds, flags = zip(*(layer_stds(init, dims) for _, init in pairs), strict=True)
    return {"std": np.stack(stds), "uniform": np.array(flags, dtype=float)}


def _draw(key, layer, shape, dtype):
    """The shared draw of one layer: z ~ N(0, 1) and u = sqrt(3) (2 Phi(z) - 1) ~ U[-sqrt(3), sqrt(3)]."""
    z = jax.random.normal(jax.random.fold_in(key, layer), shape, dtype)
    return z, jnp.sqrt(3.0).astype(dtype) * (2.0 * ndtr(z) - 1.0)


def _weights(key, layer, shape, std, uniform, dtype):
    """One condition's kernel of ``layer`` (std and uniform flag scalars)."""
    z, u = _draw(key, layer, shape, dtype)
    return std * jnp.where(uniform > 0, u, z)


def _scaled(z, u, std, uniform):
    """Every condition's kernel from the shared draw: (C, *z.shape) for stds and flags (C,)."""
    return std[:, None, None] * jnp.where(uniform[:, None, None] > 0, u[None], z[None])


def _grouped(per_condition: tuple[str, ...]):
    """phi and phi' of the stacked conditions (leading axis C): each run of equal names gets its own function,
    so no condition pays for another's activation."""
    runs = [(name, len(list(g))) for name, g in itertools.groupby(per_condition)]
    fns = [(acts.get(name), count) for name, count in runs]

    def apply(h, which):
        out, start = [], 0
        for f, count in fns:
            out.append(getattr(f, which)(h[start:start + count]))
            start += count
        return jnp.concatenate(out) if len(out) > 1 else out[0]

    return (lambda h: apply(h, "fn")), (lambda h: apply(h, "derivative"))


def forward_backward(activations: tuple[str, ...], depth: int, width: int, n_classes: int, dtype=jnp.float32,
                     keep: int = 0):
    """``fn(key, cond, x, y) -> dict`` for one seed and every condition of ``cond`` (leading axis C),
    condition c with activation ``activations[c]`` (static) and its init's stds in ``cond``.

    Per condition and hidden layer (arrays (C, depth)): ``ln_act_var``, ``ln_grad_var`` (ln of the
    variance over units and examples of phi(h_l) and of dL/dh_l), ``ln_preact_sq`` (ln E[h_l^2]),
    ``act_mean``, ``dphi_mean`` (E phi'(h_l)). With ``keep`` > 0 also ``act``, ``grad`` and
    ``dphi`` of the first ``keep`` examples (C, depth, keep, width) and the kernels W_2..W_depth
    (``kernel``, (C, depth-1, width, width), for the Jacobians; small nets only). Each layer's
    draw is made once per seed for all conditions and kept for the backward pass; phi'(h) of every
    layer is stored, so memory is depth x (2 width^2 + C x examples x width) floats.
    """
    phi, dphi = _grouped(tuple(activations))
    axes = (1, 2)

    def moments(h, a, d):
        return {"ln_act_var": jnp.log(jnp.var(a, axis=axes)), "ln_preact_sq": jnp.log(jnp.mean(h**2, axis=axes)),
                "act_mean": jnp.mean(a, axis=axes), "dphi_mean": jnp.mean(d, axis=axes)}

    def fn(key, cond, x, y):
        std, uni = cond["std"].astype(dtype), cond["uniform"]
        x = x.reshape(x.shape[0], -1).astype(dtype)

        def layer(a, l):  # a = phi(h_l) (C, n, width) -> phi(h_(l+1)), with the moments of layer l+1
            z, u = _draw(key, l, (width, width), dtype)
            h = a @ _scaled(z, u, std[:, l], uni)
            a_new, d = phi(h), dphi(h)
            return a_new, (moments(h, a_new, d), d, a_new[:, :keep], (z, u))

        z0, u0 = _draw(key, 0, (x.shape[1], width), dtype)
        h1 = jnp.einsum("nd,cdw->cnw", x, _scaled(z0, u0, std[:, 0], uni))
        a1, d1 = phi(h1), dphi(h1)
        a_last, (mom, ds, kept, draws) = jax.lax.scan(layer, a1, jnp.arange(1, depth))
        stack = lambda first, rest: jnp.concatenate([first[None], rest])  # layer axis first
        mom = jax.tree_util.tree_map(lambda f, r: stack(f, r).T, moments(h1, a1, d1), mom)  # (C, depth)
        ds = stack(d1, ds)  # phi'(h_l), (depth, C, n, width)
        w_out = _scaled(*_draw(key, depth, (width, n_classes), dtype), std[:, depth], uni)
        g_top = (jax.nn.softmax(a_last @ w_out) - jax.nn.one_hot(y, n_classes, dtype=dtype)) / x.shape[0]
        g_last = (g_top @ jnp.swapaxes(w_out, -1, -2)) * ds[-1]  # dL/dh_depth

        def back(g, i):  # g = dL/dh_(l+1) -> dL/dh_l, l = depth-1 .. 1; draws[l-1] made W_l
            l = depth - 1 - i
            z, u = draws[0][l - 1], draws[1][l - 1]
            g_new = (g @ jnp.swapaxes(_scaled(z, u, std[:, l], uni), -1, -2)) * ds[l - 1]
            return g_new, (jnp.log(jnp.var(g_new, axis=axes)), g_new[:, :keep])

        _, (ln_g, g_kept) = jax.lax.scan(back, g_last, jnp.arange(depth - 1))
        out = {**mom, "ln_grad_var": jnp.concatenate([ln_g[::-1], jnp.log(jnp.var(g_last, axis=axes))[None]]).T}
        if keep:
            first = lambda v: jnp.swapaxes(v, 0, 1)  # (layer, C, ...) -> (C, layer, ...)
            out.update(act=first(stack(a1[:, :keep], kept)), dphi=first(ds[:, :, :keep]),
                       grad=first(jnp.concatenate([g_kept[::-1], g_last[None, :, :keep]])),
                       kernel=first(jax.vmap(lambda z, u, l: _scaled(z, u, std[:, l], uni))(*draws, jnp.arange(1, depth))))
        return out

    return fn

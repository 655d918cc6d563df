"""The gradient profile at initialisation in log space (claims D1, D2, D3, D5; DECISIONS.md R10).

One compiled program per data set shape serves every activation, initialiser and seed:

- the activation is ``lax.switch`` on a traced index (not vmapped, so only its branch runs);
- an initialiser is a row of coefficients on a few standard draws per seed (N(0,1), U(-1,1),
  orthogonal; ``kit.inits.form``), vmapped over initialisers and seeds.

Backprop is written out layer by layer, d_l = (d_(l+1) W_(l+1)^T) * phi'(h_l), with d_l divided
by its norm at every layer and the log of that norm carried: ln||dL/dh_l|| never underflows
(a float32 ``sqrt(sum(g**2))`` flushed norms below ~1e-19 to 0, and the gradient itself
underflows below ~1e-38). For positively homogeneous activations (phi(cx) = c phi(x): relu,
leaky relu, identity; detected numerically) the forward activations are rescaled the same way,
so their N(0,1)-weight nets no longer overflow; logits are capped at |logit| <= LOGIT_CAP (the
softmax is one-hot to e^-80 there; XLA's exp of larger logits overflows to inf). Other activations'
forward passes are the float32 net's own; a net whose pre-activations overflow is flagged.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import acts
from experiments.kit import inits, perf

KINDS = ("normal", "uniform", "orthogonal")
TINY_MEAN_SQUARE = 1e-30  # below it ln q is taken rescaled: squares under float32's 1.2e-38 are flushed to 0
LOGIT_CAP = 80.0  # |logits| above it are scaled down to it: the softmax is one-hot to e^-80 there, and exp stays finite
_PROBE = np.array([-5.0, -1.7, -0.3, 0.3, 1.7, 5.0], np.float32)


def kinds_of(init_names) -> tuple[str, ...]:
    """The standard draws the initialisers need, in :data:`KINDS` order."""
    used = {inits.form(name, (2, 2))[0] for name in init_names}
    return tuple(k for k in KINDS if k in used)


def coefficients(init_names, shapes, kinds) -> np.ndarray:
    """(n_inits, n_shapes, len(kinds)): the coefficient of each standard draw in each weight matrix."""
    out = np.zeros((len(init_names), len(shapes), len(kinds)), np.float32)
    for i, name in enumerate(init_names):
        for j, shape in enumerate(shapes):
            kind, scale = inits.form(name, shape)
            out[i, j, kinds.index(kind)] = scale
    return out


def make_draws(shapes: tuple[tuple[int, ...], ...], kinds: tuple[str, ...]):
    """``draw(seeds) -> tuple of (S, len(kinds), *shape)`` standard draws per weight shape (one compile).

    The uniform draw is 2 Phi(z) - 1 and the orthogonal draw the Gram-Schmidt Q (Haar distributed)
    of the seed's N(0,1) draw z, so the inits of one seed share one Gaussian draw; CIs are per
    init, over seeds (R4).
    """
    gram_schmidt = jax.vmap(inits._gram_schmidt)

    def one(seed):
        out = []
        for key, shape in zip(jax.random.split(jax.random.PRNGKey(seed), len(shapes)), shapes):
            normal = jax.random.normal(key, shape)
            draws = {"normal": normal, "uniform": jax.scipy.special.erf(normal / np.sqrt(2.0))}  # 2 Phi(z) - 1 ~ U(-1, 1)
            if "orthogonal" in kinds:
                mats = normal.reshape(-1, *shape[-2:])
                tall = mats if shape[-2] >= shape[-1] else jnp.swapaxes(mats, 1, 2)
                q = gram_schmidt(tall)
                draws["orthogonal"] = (q if shape[-2] >= shape[-1] else jnp.swapaxes(q, 1, 2)).reshape(shape)
            out.append(jnp.stack([draws[k] for k in kinds]))
        return tuple(out)

    return perf.jit(jax.vmap(one))


def _branches(names):
    def branch(act):
        deriv = act.derivative or jax.vmap(jax.grad(act.fn))

        def fn(h):  # traced: phi(h), phi'(h) and whether phi(c x) = c phi(x) on a probe (c = 1e-3, 1e3)
            probe = jnp.asarray(_PROBE)
            homog = jnp.all(jnp.stack([jnp.abs(act.fn(c * probe) - c * act.fn(probe)) <= 1e-5 * c * jnp.abs(probe) + 1e-30
                                       for c in (1e-3, 1e3)]))
            return act.fn(h), deriv(h), homog

        return fn

    return [branch(acts.get(n)) for n in names]


def _log_norm(x):
    """Per leading index: ln ||x_i|| and x_i / ||x_i|| (ln 0 = -inf only for an exactly zero x_i)."""
    n = jnp.sqrt(jnp.sum(x * x, axis=(1, 2)))
    return jnp.log(n), x / jnp.where(n > 0, n, 1.0)[:, None, None]


def _log_mean_square(x):
    """Per leading index: ln mean(x_i^2), rescaled by max |x_i| where the plain mean of squares is
    below ``TINY_MEAN_SQUARE`` (R10: squares of pre-activations near 1e-19 flush to zero in float32,
    which made ln q = -inf; the plain value is kept wherever it is representable, so those cells
    keep their bytes). -inf only for an x_i that is exactly zero."""
    plain = jnp.mean(x * x, axis=(1, 2))
    peak = jnp.max(jnp.abs(x), axis=(1, 2))
    scale = jnp.where(peak > 0, peak, 1.0)
    rescaled = 2 * jnp.log(scale) + jnp.log(jnp.mean(jnp.square(x / scale[:, None, None]), axis=(1, 2)))
    return jnp.where(plain > TINY_MEAN_SQUARE, jnp.log(plain), rescaled)


def groups_of(coef: np.ndarray) -> tuple[tuple[int, int, int], ...]:
    """((draw index k, first init, end), ...): the inits drawn from k, which must be contiguous (order
    the inits by kind, :func:`by_kind`); inits of one kind share one matrix per seed."""
    kind = np.argmax(np.abs(coef).max(axis=1), axis=1)
    if np.any(np.diff(kind) < 0):
        raise ValueError("inits must be ordered by kind (profile_net.by_kind)")
    return tuple((int(k), int(np.argmax(kind == k)), int(len(kind) - np.argmax(kind[::-1] == k))) for k in np.unique(kind))


def by_kind(init_names) -> list[str]:
    """The inits ordered by the standard draw they use (stable within a kind)."""
    kinds = [inits.form(n, (2, 2))[0] for n in init_names]
    return [n for _, n in sorted(zip((KINDS.index(k) for k in kinds), init_names), key=lambda p: p[0])]


def make_profile(names: tuple[str, ...], groups: tuple[tuple[int, int, int], ...]):
    """``fn(index, coefs, w_in, w_hid, w_out, x, y) -> dict of (S, n_inits, L) arrays`` (see module doc).

    Per seed, the inits of one kind (``groups``, from :func:`groups_of`) use one standard matrix
    times their coefficient, so each layer is one large matmul per kind (rows: inits x batch)."""
    branches = _branches(names)

    def phi(index, h):
        return jax.lax.switch(index, branches, h)

    def matmul(a, w, c, transpose=False):
        """a (I, B, n) times each init's matrix c[i] . w (w: (K, n, m), c: (I, K))."""
        out = []
        for k, lo, hi in groups:
            sub, mat = a[lo:hi], (w[k].T if transpose else w[k])
            prod = (sub.reshape(-1, sub.shape[-1]) @ mat).reshape(hi - lo, sub.shape[1], -1)
            out.append(prod * c[lo:hi, k][:, None, None])
        return jnp.concatenate(out) if len(out) > 1 else out[0]

    def seed(index, coef, w_in, w_hid, w_out, x, y):
        n_init = coef.shape[0]
        homog = phi(index, jnp.zeros((1,)))[2]
        mean = lambda v: jnp.mean(v, axis=(1, 2))

        def layer(carry, w, c):
            a_hat, ls = carry
            pre = matmul(a_hat, w, c)
            a, d, _ = phi(index, pre)
            r = jnp.where(homog, jnp.sqrt(mean(a * a)), 1.0)
            r = jnp.where(r > 0, r, 1.0)
            stats = {"log_q": 2 * ls + _log_mean_square(pre), "saturated": mean(jnp.abs(pre) > 2 * jnp.exp(-ls)[:, None, None]),
                     "mean_dphi": mean(d), "mean_abs_dphi": mean(jnp.abs(d)), "max_abs_dphi": jnp.max(jnp.abs(d), axis=(1, 2)),
                     "finite": jnp.all(jnp.isfinite(pre), axis=(1, 2))}
            return (a / r[:, None, None], ls + jnp.log(r)), (d, stats)

        x_all = jnp.broadcast_to(x, (n_init, *x.shape))
        (a_top, ls_top), (d0, s0) = layer((x_all, jnp.zeros(n_init)), w_in, coef[:, 0])
        (a_top, ls_top), (ds, ss) = jax.lax.scan(lambda c, w: layer(c, w, coef[:, 1]), (a_top, ls_top), jnp.moveaxis(w_hid, 1, 0))
        d_all = jnp.concatenate([d0[None], ds])
        stats = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), s0, ss)
        w_o = jnp.einsum("ik,kwo->iwo", coef[:, 2], w_out)
        z = jnp.einsum("ibw,iwo->ibo", a_top, w_o)  # logits / exp(ls_top); capped where the softmax is one-hot anyway
        cap = jnp.log(LOGIT_CAP / jnp.maximum(jnp.max(jnp.abs(z), axis=(1, 2)), 1e-30))
        logits = jnp.exp(jnp.minimum(ls_top, cap))[:, None, None] * z
        g = (jax.nn.softmax(logits) - jax.nn.one_hot(y, w_o.shape[-1])) / x.shape[0]
        log_top, d_hat = _log_norm(jnp.einsum("ibo,iwo->ibw", g, w_o) * d_all[-1])

        def back(carry, xs):
            d_hat, log_d = carry
            w, d = xs
            lg, new_hat = _log_norm(matmul(d_hat, w, coef[:, 1], transpose=True) * d)
            return (new_hat, log_d + lg), log_d + lg

        _, logs = jax.lax.scan(back, (d_hat, log_top), (jnp.moveaxis(w_hid, 1, 0), d_all[:-1]), reverse=True)
        finite = jnp.all(stats.pop("finite"), axis=0) & jnp.isfinite(ls_top)
        out = {"log_grad_h": jnp.concatenate([logs, log_top[None]]), **stats}
        return {**{k: v.T for k, v in out.items()}, "finite": finite}  # (I, L) and (I,)

    return perf.jit(jax.vmap(seed, in_axes=(None, None, 0, 0, 0, None, None)))

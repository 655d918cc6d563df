"""Mean-field signal propagation for any registered activation (claims D1-D5, G1, G2).

For a wide net with weights N(0, sigma_w^2/fan_in) and biases N(0, sigma_b^2)
(Poole et al. 2016; Schoenholz et al. 2017, "Deep Information Propagation"):

- length map  q_{l+1} = sigma_w^2 E_z[phi(sqrt(q_l) z)^2] + sigma_b^2, fixed point q*;
- chi_1 = sigma_w^2 E_z[phi'(sqrt(q) z)^2]: the per-layer factor of E||dL/dh_l||^2, so a
  gradient norm changes by sqrt(chi_1) per layer backwards (vanishes if chi_1 < 1). Where the
  length map has no fixed point within the depth, :func:`layerwise` gives chi_1 at each layer's q_l;
- correlation map c_{l+1} = (sigma_w^2 E[phi(u1)phi(u2)] + sigma_b^2)/q*, fixed point c* (solved
  for with a bracketing root finder, not iterated: near criticality the iteration converges too
  slowly to trust), chi_c = sigma_w^2 E[phi'(u1)phi'(u2)] at c*, depth scale xi_c = -1/ln(chi_c).
  Nets are trainable iff depth <~ 6 xi_c (Schoenholz et al.). The fixed points are in
  :mod:`experiments.kit.meanfield`.

Expectations (DECISIONS.md R10). A fixed Gauss-Hermite grid cannot resolve phi'(h)^2 under
h ~ N(0, q) at large q: its nodes nearest 0 sit at z = +-0.157 while sech^4(sqrt(q) z) lives
within |z| < 1/sqrt(q). :func:`rule` is a composite Gauss-Legendre rule in z that always puts
fine panels where the integrand's features are (|h| < FEATURE, split at the kink h = 0) and
coarse panels over the rest of [-Z_MAX, Z_MAX]; its node count is fixed, so activations are
evaluated (in float64) by one compiled program per group of activations.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

import acts

from . import perf

Z_MAX = 9.0  # |z| > 9 carries 2e-19 of the Gaussian mass
FEATURE = 16.0  # the activations' features lie within |h| < 16 (sigmoid'(16)^2 ~ 1e-14)
N_FINE, N_COARSE, N_GL = 40, 12, 8  # fine panels (two halves), coarse panels per side, nodes per panel
CHUNK = 1 << 13  # activations are evaluated in chunks of this many points (one compile per group)
_GL_X, _GL_W = np.polynomial.legendre.leggauss(N_GL)


@lru_cache(maxsize=4)
def _nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = np.polynomial.hermite_e.hermegauss(n)
    return z, w / w.sum()


def gaussian_expectation(fn, n: int = 100) -> float:
    """E[fn(z)] for z ~ N(0, 1) by Gauss-Hermite quadrature: for integrands smooth on the scale of z
    only (for E[f(sqrt(q) z)] at any q use :func:`expectation`)."""
    z, w = _nodes(n)
    return float(np.sum(w * np.asarray(fn(z), dtype=float)))


def rule(centre, scale, xp=np) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w, shape (..., N), with E[g(centre + scale z)] = sum w g(centre + scale z).

    ``centre`` and ``scale`` broadcast; g may have features (kinks, sharp peaks) anywhere in
    |h| < FEATURE and must be smooth outside. Panels: [-Z, a], [a, k], [k, b], [b, Z] with
    [a, b] the z-window of |h| < FEATURE and k the kink h = 0, all clipped to [-Z, Z]. ``xp`` is the
    array module (numpy, or jax.numpy inside a compiled program).
    """
    centre, scale = xp.broadcast_arrays(xp.asarray(centre, float), xp.asarray(scale, float))
    s = xp.maximum(scale, 1e-300)
    a = xp.clip((-FEATURE - centre) / s, -Z_MAX, Z_MAX)
    b = xp.clip((FEATURE - centre) / s, -Z_MAX, Z_MAX)
    k = xp.clip(-centre / s, a, b)
    half = N_FINE // 2
    edges = xp.concatenate([xp.linspace(-Z_MAX, a, N_COARSE + 1, axis=-1), xp.linspace(a, k, half + 1, axis=-1)[..., 1:],
                            xp.linspace(k, b, half + 1, axis=-1)[..., 1:], xp.linspace(b, Z_MAX, N_COARSE + 1, axis=-1)[..., 1:]],
                           axis=-1)
    mid, width = (edges[..., 1:] + edges[..., :-1]) / 2, (edges[..., 1:] - edges[..., :-1]) / 2
    z = (mid[..., None] + width[..., None] * _GL_X).reshape(*mid.shape[:-1], -1)
    w = (width[..., None] * _GL_W).reshape(z.shape) * xp.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return z, w


def _branches(specs: tuple) -> list:
    """``h -> (phi(h), phi'(h))`` per activation of ``specs`` ((name, ((param, value), ...)), ...),
    for h of any shape."""
    def branch(act):
        deriv = act.derivative or jax.vmap(jax.grad(act.fn))
        return lambda x: (act.fn(x), deriv(x.reshape(-1)).reshape(x.shape))

    return [branch(acts.get(name, **dict(params))) for name, params in specs]


@perf.once
def _evaluator_program(specs: tuple):
    return perf.jit(lambda i, x: jax.lax.switch(i, _branches(specs), x))


@perf.once
def _evaluator(specs: tuple):
    """``evaluate(index, h) -> (phi(h), phi'(h))`` in float64 for the activation ``specs[index]``.

    ``specs``: ((name, ((param, value), ...)), ...). One compiled program serves the whole group
    (``lax.switch`` on the index) for every input size (inputs are padded to CHUNK points).
    """
    fn = _evaluator_program(specs)

    def evaluate(index: int, h) -> tuple[np.ndarray, np.ndarray]:
        h = np.asarray(h, float)
        flat = np.concatenate([h.ravel(), np.zeros((-h.size) % CHUNK)])
        with jax.enable_x64(True):
            outs = [perf.execute(fn, np.int32(index), chunk) for chunk in flat.reshape(-1, CHUNK)]
            phi = np.concatenate([np.asarray(o[0], float) for o in outs])[: h.size]
            dphi = np.concatenate([np.asarray(o[1], float) for o in outs])[: h.size]
        return phi.reshape(h.shape), dphi.reshape(h.shape)

    return evaluate


@perf.once
def _layerwise_program(specs: tuple, depth: int):
    """``fn(index, sigma_w2s, q1s, sigma_b2) -> (q, chi_1, mean_dphi, kappa)``, each (depth, P), float64.

    The length map layer by layer (:class:`Layerwise`) as one ``lax.scan`` over the depth, every
    (sigma_w^2, q_1) pair at once: one compiled program per group of activations and depth
    (a Python loop over layers made a device call per layer and chunk: 3.8 s of the gradient profile's theory).
    """
    branches = _branches(specs)

    def run(index, sw, q1, sigma_b2):
        def layer(q, _):
            ok = jnp.isfinite(q) & (q < 1e200)
            scale = jnp.sqrt(jnp.maximum(jnp.where(ok, q, 1.0), 0.0))
            z, w = rule(0.0, scale, xp=jnp)
            p, d = jax.lax.switch(index, branches, scale[..., None] * z)
            dphi2 = jnp.sum(w * d * d, -1)
            rows = (jnp.where(ok, q, jnp.nan), jnp.where(ok, sw * dphi2, jnp.nan), jnp.where(ok, jnp.sum(w * d, -1), jnp.nan),
                    jnp.where(ok, jnp.sum(w * d**4, -1) / dphi2**2, jnp.nan))
            return jnp.where(ok, sw * jnp.sum(w * p * p, -1) + sigma_b2, jnp.nan), rows

        return jax.lax.scan(layer, q1, None, length=depth)[1]

    return perf.jit(run)


def _both(activation: str, group=None, **params):
    """``h -> (phi(h), phi'(h))`` (float64) of ``activation``; with ``group`` (activation names that
    include it) the compiled program is shared by the whole group."""
    specs = _specs(activation, group, params)
    evaluate, index = _evaluator(specs), [name for name, _ in specs].index(activation)
    return lambda h: evaluate(index, h)


def _phi_and_dphi(name: str, **params):
    both = _both(name, **params)
    return (lambda x: both(x)[0]), (lambda x: both(x)[1])


def moments(activation: str, q, centre=0.0, *, group=None, **params) -> dict[str, np.ndarray]:
    """E[phi], E[phi^2], E[phi'], E[phi'^2], E[phi'^4] under h ~ N(centre, q), elementwise over ``q``."""
    q = np.asarray(q, float)
    scale = np.sqrt(np.maximum(q, 0.0))
    z, w = rule(centre, scale)
    p, d = _both(activation, group, **params)(np.asarray(centre, float)[..., None] + scale[..., None] * z)
    return {"phi": np.sum(w * p, -1), "phi2": np.sum(w * p * p, -1), "dphi": np.sum(w * d, -1),
            "dphi2": np.sum(w * d * d, -1), "dphi4": np.sum(w * d**4, -1)}


def expectation(f, q, centre=0.0) -> np.ndarray:
    """E[f(centre + sqrt(q) z)], z ~ N(0, 1), for a numpy-vectorised ``f`` of h (elementwise over q)."""
    q = np.asarray(q, float)
    scale = np.sqrt(np.maximum(q, 0.0))
    z, w = rule(centre, scale)
    return np.sum(w * np.asarray(f(np.asarray(centre, float)[..., None] + scale[..., None] * z), float), -1)


@dataclasses.dataclass(frozen=True)
class Layerwise:
    """Mean field layer by layer from a given q_1 (R10: no fixed point assumed).

    Arrays over layers l = 1..L: ``q`` (variance of h_l), ``chi_1`` = sigma_w^2 E[phi'(h_l)^2] (the
    factor of E||dL/dh_l||^2 / E||dL/dh_(l+1)||^2), ``mean_dphi`` = E[phi'(h_l)], ``kappa`` =
    E[phi'^4]/E[phi'^2]^2 (how unevenly phi'^2 spreads over units: the finite-width sensitivity);
    ``q_star`` is q_L when the length map has converged within the depth, else NaN.
    """

    q: np.ndarray
    chi_1: np.ndarray
    mean_dphi: np.ndarray
    kappa: np.ndarray
    q_star: float


def layerwise_many(activation: str, sigma_w2s, q1s, depth: int, sigma_b2: float = 0.0, *, group=None,
                   **params) -> list[Layerwise]:
    """:class:`Layerwise` for each (sigma_w^2, q_1) pair, vectorised over the pairs."""
    sw = np.asarray(sigma_w2s, float)
    specs = _specs(activation, group, params)
    index = [name for name, _ in specs].index(activation)
    with jax.enable_x64(True):
        rows = perf.execute(_layerwise_program(specs, depth), np.int32(index), sw, np.asarray(q1s, float), np.float64(sigma_b2))
        arr = {k: np.asarray(v, float).T for k, v in zip(("q", "chi_1", "mean_dphi", "kappa"), rows)}
    out = []
    for i in range(len(sw)):
        qs = arr["q"][i]
        converged = depth > 1 and np.isfinite(qs[-1]) and abs(qs[-1] - qs[-2]) <= 1e-6 * max(abs(qs[-1]), 1e-300)
        out.append(Layerwise(qs, arr["chi_1"][i], arr["mean_dphi"][i], arr["kappa"][i],
                             float(qs[-1]) if converged else float("nan")))
    return out


def _specs(activation: str, group, params: dict) -> tuple:
    """The compiled programs' key: the group's activations, or ``activation`` with its parameters."""
    return tuple((n, ()) for n in group) if group else ((activation, tuple(sorted(params.items()))),)


def compile_tasks(group: tuple[str, ...], depth: int, n_pairs: int) -> list:
    """Zero-argument tasks that compile the programs :func:`layerwise_many` (``n_pairs`` pairs,
    ``depth`` layers) and :func:`moments` use for ``group``: run them on threads
    (``ondevices.on_devices``) while a measurement runs or other programs compile."""
    specs = _specs(group[0], group, {})
    f64 = lambda *shape: jax.ShapeDtypeStruct(shape, np.float64)
    index = jax.ShapeDtypeStruct((), np.int32)

    def compile_x64(fn, *args):
        with jax.enable_x64(True):
            perf.compiled(fn, *args)

    return [lambda: compile_x64(_layerwise_program(specs, depth), index, f64(n_pairs), f64(n_pairs), f64()),
            lambda: compile_x64(_evaluator_program(specs), index, f64(CHUNK))]


def layerwise(activation: str, sigma_w2: float, q1: float, depth: int, sigma_b2: float = 0.0, **params) -> Layerwise:
    """:class:`Layerwise` of one (activation, sigma_w^2, sigma_b^2) from the first layer's q_1."""
    return layerwise_many(activation, [sigma_w2], [q1], depth, sigma_b2, **params)[0]

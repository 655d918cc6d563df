"""Per-layer signal-propagation probes shared by experiments (claims D1-D5, G1, G2).

Everything here is pure ``jnp`` (jit- and vmap-safe) except :func:`log_slope`, which is numpy
and runs on the gathered results.

- :func:`layer_profile`: per hidden layer, the moments of the pre-activation h_l, the activation
  phi(h_l), the back-propagated gradient dL/dh_l and the mean derivative phi'(h_l), as (L,) arrays;
- :func:`histograms`: per-layer histogram counts of a stacked (L, ...) array on fixed edges;
- :func:`jacobian_singular_values`: singular values of the layer-to-layer Jacobians
  J_l = d a_{l+1} / d a_l = diag(phi'(h_{l+1})) W_{l+1}^T of an MLP (Glorot & Bengio 2010, sec. 4.2.2);
- :func:`log_slope`: least-squares slope of ln(value) against layer index (growth rate per layer).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

import acts

from . import models


def derivative_fn(model: nn.Module):
    """phi' of the model's activation, elementwise (``None`` for non-elementwise kinds)."""
    act = acts.get(model.activation, **dict(model.act_params))
    if act.kind != "elementwise":
        return None
    grad = jax.grad(lambda v: act.fn(v))
    return lambda h: jnp.vectorize(grad)(h)


def layer_profile(model: nn.Module, variables: dict, x: jax.Array, loss_fn, y: jax.Array) -> dict:
    """Per-hidden-layer statistics on one batch; every value has shape (L,).

    Keys: ``preact_var``, ``preact_sq`` (second moment E[h^2]), ``act_mean``, ``act_var``,
    ``act_sq``, ``grad_var`` (variance of dL/dh_l over examples and units), ``grad_sq``,
    ``grad_norm`` (mean over examples of ||dL/dh_l||), and ``dphi_mean`` (E[phi'(h_l)], elementwise
    activations only). Needs equal hidden widths (stacked probes) -- true of the usual deep MLP.
    Also ``loss`` (scalar).
    """
    s = models.layer_stats(model, variables, x, loss_fn, y)
    h, a, g = s["preact"], s["act"], s["grad_preact"]
    axes = tuple(range(1, h.ndim))
    out = {
        "preact_var": jnp.var(h, axis=axes),
        "preact_sq": jnp.mean(h**2, axis=axes),
        "act_mean": jnp.mean(a, axis=axes),
        "act_var": jnp.var(a, axis=axes),
        "act_sq": jnp.mean(a**2, axis=axes),
        "grad_var": jnp.var(g, axis=axes),
        "grad_sq": jnp.mean(g**2, axis=axes),
        "grad_norm": jnp.mean(jnp.sqrt(jnp.sum(g.reshape(g.shape[0], g.shape[1], -1) ** 2, -1)), -1),
        "loss": s["loss"],
    }
    dphi = derivative_fn(model)
    if dphi is not None:
        out["dphi_mean"] = jnp.mean(dphi(h), axis=axes)
    return out


def histograms(values: jax.Array, edges: jax.Array) -> jax.Array:
    """Counts of each layer's values in the bins ``edges`` (out-of-range values dropped): (L, bins)."""
    flat = values.reshape(values.shape[0], -1)
    return jax.vmap(lambda v: jnp.histogram(v, bins=edges)[0])(flat)


def jacobian_singular_values(model: nn.Module, params: dict, preacts: jax.Array) -> jax.Array:
    """Singular values of J_l = d a_{l+1}/d a_l for every example of ``preacts`` (L, n, width).

    For an MLP (no BatchNorm, equal hidden widths): J_l[i, j] = phi'(h_{l+1, i}) W_{l+1}[j, i].
    Returns (L-1, n, width), for l = 0 .. L-2.
    """
    dphi = derivative_fn(model)
    if dphi is None:
        raise ValueError(f"Jacobian singular values need an elementwise activation, not {model.activation!r}")
    kernels = jnp.stack(models.hidden_kernels(model, params)[1:])  # (L-1, width, width): W_{l+1}
    d = dphi(preacts[1:])  # (L-1, n, width)
    jac = d[..., :, None] * jnp.swapaxes(kernels, -1, -2)[:, None]  # (L-1, n, out, in)
    return jnp.linalg.svd(jac, compute_uv=False)


def log_slope(values, axis: int = -1) -> np.ndarray:
    """Least-squares slope of ln(values) against the index along ``axis`` (nats per layer).

    A slope s means the quantity is multiplied by e^s per layer; NaN where any value is
    non-positive or non-finite.
    """
    v = np.moveaxis(np.asarray(values, dtype=float), axis, -1)
    idx = np.arange(v.shape[-1], dtype=float)
    idx = idx - idx.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(v)
        slope = np.sum(logs * idx, axis=-1) / np.sum(idx**2)
    return np.where(np.all(np.isfinite(logs), axis=-1), slope, np.nan)


def unit_derivative(model: nn.Module, variables: dict, index: int, h: jax.Array) -> jax.Array:
    """phi'(h) of hidden layer ``index`` in closed form (the registry's ``derivative``); PReLU reads
    its learned slope ``phi_<index>/slope`` from ``variables`` (claims F1, F4)."""
    act = acts.get(model.activation, **dict(model.act_params))
    if act.kind == "parametric":
        slope = variables["params"][f"phi_{index}"]["slope"]
        return jnp.where(h > 0, jnp.ones_like(h), slope * jnp.ones_like(h))
    if act.derivative is None:
        raise ValueError(f"no closed-form derivative for activation {model.activation!r}")
    return act.derivative(h, **dict(act.params))


def dead_units(model: nn.Module, variables: dict, x: jax.Array, tol: float = 0.0) -> dict:
    """Which hidden units are dead on the whole set ``x`` (claims F1-F4, G3); pure jnp.

    A unit is ``zero_output`` when its activation is exactly 0 on every example of ``x`` (the
    ReLU definition of a dead unit), and ``zero_grad`` when its local derivative satisfies
    max_n |phi'(h_n)| <= ``tol`` on every example, so no gradient reaches its incoming weights
    from any example (the definition that also applies to activations without a hard zero).
    For ReLU the two coincide (phi'(h) = 0 exactly where phi(h) = 0). Also ``constant``: the
    activation takes one value on all of ``x`` (max - min <= 1e-6 max|a|, relative so that the
    tiny but varying activations of deep narrow nets do not count as constant), and
    ``never_positive``: h <= 0 on every example (on the negative branch only; for Leaky ReLU /
    PReLU / ELU such a unit still passes a gradient scaled by phi' < 1).
    Values are (L, units) booleans, stacked over layers (equal hidden widths needed).
    """
    _, state = model.apply(variables, x, train=False, mutable=["intermediates"])
    inter = state["intermediates"]
    zero_output, zero_grad, constant, never_positive = [], [], [], []
    for index in range(models.n_hidden(model)):
        h = inter[f"preact_{index}"][0].reshape(-1, inter[f"preact_{index}"][0].shape[-1])
        a = inter[f"act_{index}"][0].reshape(h.shape)
        dphi = unit_derivative(model, variables, index, h)
        zero_output.append(jnp.all(a == 0, axis=0))
        never_positive.append(jnp.all(h <= 0, axis=0))
        zero_grad.append(jnp.max(jnp.abs(dphi), axis=0) <= tol)
        spread = jnp.max(a, axis=0) - jnp.min(a, axis=0)
        constant.append(spread <= 1e-6 * jnp.max(jnp.abs(a), axis=0))  # relative: scale-free in deep nets
    return {
        "zero_output": jnp.stack(zero_output),
        "zero_grad": jnp.stack(zero_grad),
        "constant": jnp.stack(constant),
        "never_positive": jnp.stack(never_positive),
    }

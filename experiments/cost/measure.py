"""The measurements of experiments.cost (claim H2): activations timed alone and in whole steps.

:func:`measure_alone` (table ``alone``) times each activation alone, forward and forward+backward,
and reads XLA's cost analysis (FLOPs, transcendentals per element); :func:`measure_steps` (tables
``steps``, ``step_rounds``) times a whole SGD step of an MLP and a CNN per activation. Timings are
round-robin rounds, paired within a round; every ratio and overhead is relative to
``config.reference`` (relu). Timed functions use plain ``jax.jit`` (XLA's default level).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, train
from experiments.kit.config import ConfigError


def _activation_fn(name: str):
    """The jittable elementwise form: ``fn`` (for rrelu, its deterministic test-time form)."""
    return acts.get(name).fn


def alone_functions(name: str) -> tuple:
    """Jitted forward ``f(x)`` and forward+backward ``(f(x), vjp(g))`` of one activation."""
    f = _activation_fn(name)

    def fwd_bwd(x, g):
        y, pullback = jax.vjp(f, x)
        return y, pullback(g)[0]

    return jax.jit(f), jax.jit(fwd_bwd)


def cost_per_element(fn, *args) -> dict[str, float]:
    """FLOPs and transcendentals per element from XLA's cost analysis of the lowered computation."""
    cost = fn.lower(*args).cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    n = args[0].size
    return {k: float((cost or {}).get(k, 0.0)) / n for k in ("flops", "transcendentals")}


def time_round_robin(tasks: dict, reps: int, calls, seed: int) -> dict[str, np.ndarray]:
    """Seconds per call of each ``name -> (jitted fn, args)``: (reps,) arrays, shuffled rounds.

    Every task is compiled and run once untimed first; then each round times ``calls`` blocking
    calls of every task (an int, or a function of the task's name), in a fresh random order, and
    keeps the fastest: other processes only ever add time, so the minimum of a few calls is the
    least disturbed reading of a round. Timed functions are jitted with plain ``jax.jit``: XLA's
    default optimisation level, what a user of JAX gets (not the suite's ``perf.jit`` level).
    """
    n_calls = calls if callable(calls) else (lambda _name: calls)
    for fn, args in tasks.values():
        perf.execute(fn, *args)
    names = list(tasks)
    out = {name: np.zeros(reps) for name in names}
    rng = np.random.default_rng(seed)
    for rep in range(reps):
        for i in rng.permutation(len(names)):
            fn, args = tasks[names[i]]
            best = np.inf
            for _ in range(n_calls(names[i])):
                start = time.perf_counter()
                perf.execute(fn, *args)
                best = min(best, time.perf_counter() - start)
            out[names[i]][rep] = best
    return out


def _quartiles(values: np.ndarray) -> tuple[float, float, float]:
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return float(q50), float(q25), float(q75)


def step_function(model, tx, loss_fn):
    """A jitted ``lax.scan`` of training steps over the batches ``xs, ys`` (S, B, ...)."""

    def step(carry, batch):
        params, opt_state = carry
        xb, yb, key = batch

        def objective(p):
            return loss_fn(model.apply({"params": p}, xb, train=True, rngs={"rrelu": key}), yb)

        loss, grads = jax.value_and_grad(objective)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = jax.tree_util.tree_map(lambda a, u: a + u, params, updates)
        return (params, opt_state), loss

    def run(params, opt_state, xs, ys, keys):
        (params, opt_state), losses = jax.lax.scan(step, (params, opt_state), (xs, ys, keys))
        return params, losses

    return jax.jit(run)


def _model(kind: str, activation: str, n_out: int, config) -> models.nn.Module:
    if kind == "mlp":
        return models.build("mlp", n_out, widths=tuple(config.mlp_widths), activation=activation, initializer="he_normal")
    return models.build(
        "cnn", n_out, channels=tuple(config.cnn_channels), dense_widths=tuple(config.cnn_dense_widths),
        activation=activation, initializer="he_normal",
    )


def measure_alone(config, tables=None) -> dict:
    """Part 1: throughput and cost analysis of each activation alone (claim H2).

    Outputs: table ``alone``; artefact ``costs`` (activation -> mode -> FLOPs, transcendentals).
    """
    check(config)
    rng = np.random.default_rng(config.seed)
    x = jnp.asarray(rng.standard_normal(config.n_elements).astype(np.float32))
    g = jnp.asarray(rng.standard_normal(config.n_elements).astype(np.float32))
    tasks, costs = {}, {}
    for name in config.activations:
        fwd, fwd_bwd = alone_functions(name)
        tasks[(name, "fwd")] = (fwd, (x,))
        tasks[(name, "fwd_bwd")] = (fwd_bwd, (x, g))
        costs[name] = {"fwd": cost_per_element(fwd, x), "fwd_bwd": cost_per_element(fwd_bwd, x, g)}
    times = time_round_robin(tasks, config.reps, config.calls_per_rep, config.seed)
    published = dict(config.published.derczynski_cpu)
    rows = []
    for name in config.activations:
        row = {"activation": name}
        for mode in ("fwd", "fwd_bwd"):
            t = times[(name, mode)]
            ratio = t / times[(config.reference, mode)]  # paired within a round
            med, q25, q75 = _quartiles(t)
            row[f"{mode}_ms"] = 1e3 * med
            row[f"{mode}_ms_iqr"] = 1e3 * (q75 - q25)
            row[f"{mode}_gelem_per_s"] = config.n_elements / med / 1e9
            r50, r25, r75 = _quartiles(ratio)
            row[f"{mode}_ratio_relu"], row[f"{mode}_ratio_q25"], row[f"{mode}_ratio_q75"] = r50, r25, r75
            row[f"{mode}_flops_per_elem"] = costs[name][mode]["flops"]
            row[f"{mode}_transcendentals_per_elem"] = costs[name][mode]["transcendentals"]
        row["published_cpu_ratio"] = published.get(name, np.nan)
        rows.append(row)
    return {"alone": pd.DataFrame(rows), "costs": costs}


def measure_steps(config, tables=None) -> dict:
    """Part 2: whole training-step time of an MLP and a CNN per activation (claim H2).

    Tables: ``steps`` (medians and quartiles over rounds) and ``step_rounds`` (seconds per step
    in every round, the per-round readings that H2's bootstrap CI resamples).
    """
    ds = data.load(config.dataset, n_train=config.n_train, n_test=64)
    s = config.steps_per_call
    keys = jax.random.split(jax.random.PRNGKey(config.seed), s)
    loss_fn = train.loss_function("xent", ds.n_classes)
    tx = train.optimizer("sgd", 0.01)
    tasks, meta = {}, {}
    for kind in ("mlp", "cnn"):
        b = config.batch_size if kind == "mlp" else config.cnn_batch_size
        order = np.random.default_rng(config.seed).integers(0, len(ds.x_train), size=(s, b))
        xs = jnp.asarray(ds.x_train[order].reshape(s, b, -1) if kind == "mlp" else ds.x_train[order])
        ys = jnp.asarray(ds.y_train[order])
        for name in config.step_activations:
            model = _model(kind, name, ds.n_classes, config)
            params = models.init_variables(model, jax.random.PRNGKey(config.seed), xs[0][:1])["params"]
            fn = step_function(model, tx, loss_fn)
            args = (params, tx.init(params), xs, ys, keys)
            tasks[(kind, name)] = (fn, args)
            per_step = fn.lower(*args).cost_analysis()
            per_step = per_step[0] if isinstance(per_step, (list, tuple)) else per_step
            # XLA counts the scan body once: these are one step's numbers
            meta[(kind, name)] = {k: float((per_step or {}).get(k, 0.0)) for k in ("flops", "transcendentals")}
    times = time_round_robin(tasks, config.reps, lambda task: config.step_calls_per_rep[task[0]], config.seed + 1)
    rows = []
    for (kind, name), t in times.items():
        t = t / s
        t_id, t_relu = times[(kind, "identity")] / s, times[(kind, config.reference)] / s
        med, q25, q75 = _quartiles(t)
        over_id = _quartiles(t / t_id - 1.0)
        over_relu = _quartiles(t / t_relu - 1.0)
        rows.append({
            "model": kind, "activation": name, "step_ms": 1e3 * med, "step_ms_q25": 1e3 * q25, "step_ms_q75": 1e3 * q75,
            "overhead_vs_identity": over_id[0], "activation_share": 1.0 - float(np.median(t_id / t)),
            "overhead_vs_relu": over_relu[0], "overhead_vs_relu_q25": over_relu[1], "overhead_vs_relu_q75": over_relu[2],
            "step_mflops": meta[(kind, name)]["flops"] / 1e6,
            "step_transcendentals": meta[(kind, name)]["transcendentals"],
            "achieved_gflops_per_s": meta[(kind, name)]["flops"] / med / 1e9,
        })
    per_round = [
        {"model": kind, "activation": name, "round": r, "step_seconds": float(v)}
        for (kind, name), t in times.items()
        for r, v in enumerate(t / s)
    ]
    return {"steps": pd.DataFrame(rows), "step_rounds": pd.DataFrame(per_round)}


def check(config: ml_collections.ConfigDict) -> None:
    """Inputs only this experiment needs: the references (config.reference, identity), known names, >= 2 rounds."""
    if config.reference not in config.activations:
        raise ConfigError(f"config.activations must include {config.reference!r} (config.reference)")
    missing = [a for a in ("identity", config.reference, *config.criteria.h2.exponential) if a not in config.step_activations]
    if missing:
        raise ConfigError(f"config.step_activations must include {', '.join(map(repr, missing))}")
    unknown = [a for a in config.step_activations if a not in acts.names()]
    if unknown:
        raise ConfigError(f"unknown activation(s) {', '.join(unknown)}; valid: {', '.join(acts.names())}")
    for key in ("reps", "calls_per_rep", "step_calls_per_rep.mlp", "step_calls_per_rep.cnn", "steps_per_call",
                "n_elements", "cnn_batch_size"):
        node, _, leaf = key.rpartition(".")
        value = (config[node] if node else config)[leaf]
        if int(value) < (2 if key == "reps" else 1):
            raise ConfigError(f"config.{key} = {value!r}: must be >= {2 if key == 'reps' else 1}")

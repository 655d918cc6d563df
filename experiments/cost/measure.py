"""The measurements of experiments.cost (claim H2): activations timed alone and in whole steps.

:func:`measure_alone` (tables ``alone``, ``alone_rounds``) times ``chain_length`` chained
applications of each activation inside one jitted loop, forward and forward+backward, and reads
XLA's cost analysis (FLOPs, transcendentals per element); :func:`measure_steps` (tables
``steps``, ``step_rounds``) times a few chained SGD steps of an MLP and a CNN per activation.
One compiled program per mode and per model: a ``lax.switch`` over the activations with a scalar
index, so only the chosen branch runs and every branch is the program it would be alone. Timings
are interleaved rounds (a fresh random order each), paired within a round; CIs are bootstraps
over rounds. Timed programs use plain ``jax.jit`` (XLA's default level, what a JAX user gets).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import data, models, perf, stats, train
from experiments.kit.config import ConfigError

MODES = ("fwd", "fwd_bwd")
EPS = 1e-3  # x <- x + EPS * f(x): a dependent chain that keeps x near its starting distribution


def _activation_fn(name: str):
    """The jittable elementwise form: ``fn`` (for rrelu, its deterministic test-time form)."""
    return acts.get(name).fn


def alone_functions(name: str) -> tuple:
    """Jitted forward ``f(x)`` and forward+backward ``(f(x), vjp(g))`` of one activation (one application)."""
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


def chain_branch(fn, mode: str):
    """``(x, g, k) -> x_k``: ``k`` chained applications of ``fn`` (``fwd``) or of its value and
    vector-Jacobian product (``fwd_bwd``), each feeding the next, in one loop."""
    if mode == "fwd":
        return lambda x, g, k: jax.lax.fori_loop(0, k, lambda i, v: v + EPS * fn(v), x)

    def body(i, v, g):
        y, pullback = jax.vjp(fn, v)
        return v + EPS * (y + pullback(g)[0])

    return lambda x, g, k: jax.lax.fori_loop(0, k, lambda i, v: body(i, v, g), x)


def switch_program(branches):
    """ONE jitted program ``(index, *args)``: ``lax.switch`` over ``branches`` (a scalar index: only
    the chosen branch runs, each compiled as it would be alone)."""
    branches = tuple(branches)
    return jax.jit(lambda index, *args: jax.lax.switch(index, branches, *args))


def chain_program(names, mode: str):
    """``(index, x, g, k)``: one chained loop per activation, switched."""
    return switch_program([chain_branch(_activation_fn(n), mode) for n in names])


def time_round_robin(tasks: dict, reps: int, calls, seed: int, flops: dict | None = None) -> dict[str, np.ndarray]:
    """Seconds per call of each ``name -> (jitted fn, args)``: (reps,) arrays, interleaved rounds.

    Every task runs once untimed first (compile, warm caches); then each round times ``calls``
    blocking calls of every task (an int, or a function of the task's name) in a fresh random
    order and keeps the fastest: other processes only ever add time.
    """
    n_calls = calls if callable(calls) else (lambda _name: calls)
    credit = flops or {}
    for name, (fn, args) in tasks.items():
        perf.execute(fn, *args, flops=credit.get(name))
    names = list(tasks)
    out = {name: np.zeros(reps) for name in names}
    rng = np.random.default_rng(seed)
    for rep in range(reps):
        for i in rng.permutation(len(names)):
            fn, args = tasks[names[i]]
            best = np.inf
            for _ in range(n_calls(names[i])):
                start = time.perf_counter()
                perf.execute(fn, *args, flops=credit.get(names[i]))
                best = min(best, time.perf_counter() - start)
            out[names[i]][rep] = best
    return out


def _extended_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num/den where den > 0; +inf where den <= 0 < num (the reference costs nothing measurable); NaN else."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return np.where(den > 0, r, np.where(num > 0, np.inf, np.nan))


def excess_ratio_ci(num, den, confidence: float = 0.95, n_boot: int = 2000, seed: int = 0) -> stats.Estimate:
    """Ratio of mean excess times (activation − floor) / (reference − floor), bootstrap CI over rounds.

    Rounds are resampled in pairs. A resample whose reference excess is <= 0 while the activation's
    is > 0 is an unbounded ratio (+inf), so an upper bound may be inf; NaN resamples (both <= 0)
    are dropped, and with more than half of them the CI is NaN (inconclusive).
    """
    num, den = np.asarray(num, float), np.asarray(den, float)
    idx = np.random.default_rng(seed).integers(0, len(num), size=(n_boot, len(num)))
    boots = _extended_ratio(num[idx].mean(1), den[idx].mean(1))
    value = float(_extended_ratio(np.array([num.mean()]), np.array([den.mean()]))[0])
    keep = boots[~np.isnan(boots)]
    if len(keep) < n_boot / 2:
        return stats.Estimate(value, float("nan"), float("nan"), len(num))
    alpha = (1 - confidence) / 2
    return stats.Estimate(value, float(np.quantile(keep, alpha, method="inverted_cdf")),
                          float(np.quantile(keep, 1 - alpha, method="inverted_cdf")), len(num))


def measure_alone(config, tables=None) -> dict:
    """Part (a) of H2: each activation alone, chained in one jitted loop, identity subtracted.

    Tables ``alone`` (per activation and mode: ns per element, excess over the floor, excess
    ratio to the reference and gross ratio with bootstrap CIs over rounds, XLA cost analysis)
    and ``alone_rounds`` (seconds per application in every round); artefact ``costs``.
    """
    check(config)
    rng = np.random.default_rng(config.seed)
    x = jnp.asarray(rng.standard_normal(config.n_elements).astype(np.float32))
    g = jnp.asarray(rng.standard_normal(config.n_elements).astype(np.float32))
    names, k = list(config.activations), int(config.chain_length)
    costs = {}
    for name in names:
        fwd, fwd_bwd = alone_functions(name)
        costs[name] = {"fwd": cost_per_element(fwd, x), "fwd_bwd": cost_per_element(fwd_bwd, x, g)}
    programs = {mode: chain_program(names, mode) for mode in MODES}
    tasks = {(n, m): (programs[m], (jnp.int32(i), x, g, jnp.int32(k))) for m in MODES for i, n in enumerate(names)}
    flops = {(n, m): costs[n][m]["flops"] * x.size * k for n, m in tasks}
    seconds = {key: t / k for key, t in time_round_robin(tasks, config.reps, config.calls_per_rep, config.seed, flops).items()}
    published = dict(config.published.derczynski_cpu)
    rows, per_round = [], []
    for name in names:
        row = {"activation": name, "n_seeds": int(config.reps)}
        for mode in MODES:
            t, floor, ref = seconds[(name, mode)], seconds[(config.floor, mode)], seconds[(config.reference, mode)]
            excess = excess_ratio_ci(t - floor, ref - floor, seed=config.seed)
            gross = stats.ratio_ci(t, ref, seed=config.seed)
            row[f"{mode}_ns_per_elem"] = 1e9 * float(np.median(t)) / x.size
            ns = stats.mean_ci(1e9 * (t - floor) / x.size)
            row[f"{mode}_excess_ns_per_elem"], row[f"{mode}_excess_ns_per_elem_lo"], row[f"{mode}_excess_ns_per_elem_hi"] = (
                ns.mean, ns.lo, ns.hi)
            row[f"{mode}_excess_ratio"], row[f"{mode}_excess_ratio_lo"], row[f"{mode}_excess_ratio_hi"] = (
                excess.mean, excess.lo, excess.hi)
            row[f"{mode}_gross_ratio"], row[f"{mode}_gross_ratio_lo"], row[f"{mode}_gross_ratio_hi"] = (
                gross.mean, gross.lo, gross.hi)
            row[f"{mode}_flops_per_elem"] = costs[name][mode]["flops"]
            row[f"{mode}_transcendentals_per_elem"] = costs[name][mode]["transcendentals"]
            per_round += [{"activation": name, "mode": mode, "round": r, "seconds_per_application": float(v)}
                          for r, v in enumerate(t)]
        row["published_cpu_ratio"] = published.get(name, np.nan)
        rows.append(row)
    return {"alone": pd.DataFrame(rows), "alone_rounds": pd.DataFrame(per_round), "costs": costs}


def step_branch(model, tx, loss_fn):
    """``(params, opt_state, xs, ys) -> (params, losses)``: a ``lax.scan`` of SGD steps over the batches."""

    def step(carry, batch):
        params, opt_state = carry
        xb, yb = batch
        loss, grads = jax.value_and_grad(lambda p: loss_fn(model.apply({"params": p}, xb, train=True), yb))(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (jax.tree_util.tree_map(lambda a, u: a + u, params, updates), opt_state), loss

    def run(params, opt_state, xs, ys):
        (params, _), losses = jax.lax.scan(step, (params, opt_state), (xs, ys))
        return params, losses

    return run


def _model(kind: str, activation: str, n_out: int, config) -> models.nn.Module:
    if kind == "mlp":
        return models.build("mlp", n_out, widths=tuple(config.mlp_widths), activation=activation, initializer="he_normal")
    return models.build("cnn", n_out, channels=tuple(config.cnn_channels), dense_widths=tuple(config.cnn_dense_widths),
                        activation=activation, initializer="he_normal")


def _activation_elements(model, params, x) -> int:
    """Elements of every hidden activation in one forward pass of the batch ``x`` (shapes only)."""
    _, state = jax.eval_shape(lambda p, xx: model.apply({"params": p}, xx, mutable=["intermediates"]), params, x)
    inter = state["intermediates"]
    return int(sum(np.prod(v[0].shape) for k, v in inter.items() if k.startswith("act_")))


def _step_tasks(config, ds) -> tuple[dict, dict]:
    """Per model ONE program (lax.switch over the step activations); tasks and per-branch cost analysis."""
    s, names = config.steps_per_call, list(config.step_activations)
    loss_fn, tx = train.loss_function("xent", ds.n_classes), train.optimizer("sgd", 0.01)
    tasks, meta = {}, {}
    for kind in ("mlp", "cnn"):
        b = config.batch_size if kind == "mlp" else config.cnn_batch_size
        order = np.random.default_rng(config.seed).integers(0, len(ds.x_train), size=(s, b))
        xs = jnp.asarray(ds.x_train[order].reshape(s, b, -1) if kind == "mlp" else ds.x_train[order])
        ys = jnp.asarray(ds.y_train[order])
        branch_models = [_model(kind, name, ds.n_classes, config) for name in names]
        init = perf.jit(lambda key, xb, m=branch_models[0]: models.init_variables(m, key, xb)["params"])
        params = init(jax.random.PRNGKey(config.seed), xs[0][:1])  # one compile, not one per initialiser call
        args = (params, tx.init(params), xs, ys)
        branches = [step_branch(m, tx, loss_fn) for m in branch_models]
        program = switch_program(branches)
        for i, (name, model) in enumerate(zip(names, branch_models, strict=True)):
            cost = jax.jit(branches[i]).lower(*args).cost_analysis()  # lowered only: XLA counts the scan body once
            cost = (cost[0] if isinstance(cost, (list, tuple)) else cost) or {}
            tasks[(kind, name)] = (program, (jnp.int32(i), *args))
            meta[(kind, name)] = {"flops": float(cost.get("flops", 0.0)), "transcendentals": float(cost.get("transcendentals", 0.0)),
                                  "elements": _activation_elements(model, params, xs[0])}
    return tasks, meta


def measure_steps(config, tables=None) -> dict:
    """Part (b) of H2: whole training-step time of an MLP and a CNN per activation.

    Tables ``steps`` (per model and activation: step time, overhead over the reference with its
    bootstrap CI over rounds, FLOPs, activation elements, FLOPs per activation element) and
    ``step_rounds`` (seconds per step in every round).
    """
    check(config)
    ds = data.load(config.dataset, n_train=config.n_train, n_test=64)
    s = config.steps_per_call
    tasks, meta = _step_tasks(config, ds)
    flops = {key: m["flops"] * s for key, m in meta.items()}
    times = time_round_robin(tasks, config.reps, lambda task: config.step_calls_per_rep[task[0]], config.seed + 1, flops)
    rows, per_round = [], []
    for (kind, name), t in times.items():
        t = t / s
        t_floor, t_ref = times[(kind, config.floor)] / s, times[(kind, config.reference)] / s
        over = stats.ratio_ci(t, t_ref, seed=config.seed)
        m = meta[(kind, name)]
        rows.append({
            "model": kind, "activation": name, "step_ms": 1e3 * float(np.median(t)),
            "overhead_vs_relu": over.mean - 1.0, "overhead_vs_relu_lo": over.lo - 1.0, "overhead_vs_relu_hi": over.hi - 1.0,
            "n_seeds": int(config.reps), "overhead_vs_identity": float(np.median(t / t_floor)) - 1.0,
            "min_hidden_width": int(min(config.mlp_widths)) if kind == "mlp" else int(min(config.cnn_channels)),
            "step_mflops": m["flops"] / 1e6, "activation_elements": m["elements"],
            "flops_per_activation_element": m["flops"] / max(m["elements"], 1),
            "step_transcendentals": m["transcendentals"], "achieved_gflops_per_s": m["flops"] / float(np.median(t)) / 1e9,
        })
        per_round += [{"model": kind, "activation": name, "round": r, "step_seconds": float(v)} for r, v in enumerate(t)]
    return {"steps": pd.DataFrame(rows), "step_rounds": pd.DataFrame(per_round)}


def check(config: ml_collections.ConfigDict) -> None:
    """Inputs only this experiment needs: reference and floor present, known names, >= 2 rounds."""
    for key, names in (("activations", config.activations), ("step_activations", config.step_activations)):
        missing = [a for a in (config.floor, config.reference) if a not in names]
        if key == "step_activations":
            missing += [a for a in config.criteria.h2.expensive if a not in names]
        if missing:
            raise ConfigError(f"config.{key} must include {', '.join(map(repr, missing))}")
    unknown = [a for a in config.step_activations if not acts.registry.is_registered(a)]
    if unknown:
        raise ConfigError(f"unknown activation(s) {', '.join(unknown)}; valid: {', '.join(acts.names())}")
    for key in ("reps", "calls_per_rep", "step_calls_per_rep.mlp", "step_calls_per_rep.cnn", "steps_per_call",
                "n_elements", "cnn_batch_size", "chain_length"):
        node, _, leaf = key.rpartition(".")
        value = (config[node] if node else config)[leaf]
        if int(value) < (2 if key == "reps" else 1):
            raise ConfigError(f"config.{key} = {value!r}: must be >= {2 if key == 'reps' else 1}")

"""Cost of activations alone and within a whole training step (claim H2).

Run: python -m experiments.cost --config configs/cost.py:smoke

Part 1 times every registered elementwise activation (plus prelu and rrelu's test-time form)
alone on a large float32 array, forward and forward+backward (``jax.vjp``), jitted, with
``block_until_ready``; XLA's cost analysis counts its FLOPs and transcendental operations per
element (a deterministic reading of "involves exponentials"). Part 2 times a whole training step
(forward, backward, SGD update; ``lax.scan`` over a few steps) of a real MLP and CNN on
Fashion-MNIST-shaped batches with each activation and with the identity. All timings are taken
round-robin (one shuffled round per repetition), paired within a round, reported as medians and
inter-quartile ranges. The verdict uses margins from the config so noise does not flip it.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import ml_collections
import numpy as np
import pandas as pd

import acts
from experiments.kit import cli, data, models, perf, results, stats, train, verdicts
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


def measure_alone(config) -> tuple[pd.DataFrame, dict]:
    """Part 1: throughput and cost analysis of each activation alone (claim H2)."""
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
            ratio = t / times[("relu", mode)]  # paired within a round
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
    return pd.DataFrame(rows), costs


def measure_steps(config) -> pd.DataFrame:
    """Part 2: whole training-step time of an MLP and a CNN per activation (claim H2)."""
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
        t_id, t_relu = times[(kind, "identity")] / s, times[(kind, "relu")] / s
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
    df = pd.DataFrame(rows)
    df.attrs["per_rep"] = {k: v / s for k, v in times.items()}
    return df


def decide_h2(alone: pd.DataFrame, steps: pd.DataFrame, crit, reps: int) -> verdicts.Verdict:
    """H2: expensive alone (ratio to relu) and a lot of training time (whole-step overhead vs relu)."""
    by_act = alone.set_index("activation")
    ratios = {a: float(by_act.loc[a, "fwd_bwd_ratio_relu"]) for a in crit.expensive}
    # margins against noise: a class needs its whole inter-quartile range past the threshold
    expensive = all(by_act.loc[a, "fwd_bwd_ratio_q25"] >= crit.ratio_expensive for a in crit.expensive)
    cheap = all(by_act.loc[a, "fwd_bwd_ratio_q75"] <= crit.ratio_cheap for a in crit.expensive)
    exp_steps = steps[steps.activation.isin(crit.exponential)]
    worst = exp_steps.loc[exp_steps.overhead_vs_relu.idxmax()]
    per_rep = steps.attrs["per_rep"]
    worst_rep = per_rep[(worst.model, worst.activation)] / per_rep[(worst.model, "relu")] - 1.0
    ci = stats.bootstrap_ci(worst_rep, statistic=np.median)
    value = float(worst.overhead_vs_relu)
    large = bool((exp_steps.overhead_vs_relu_q25 >= crit.step_large).any())
    negligible = bool((exp_steps.overhead_vs_relu_q75 <= crit.step_negligible).all())
    verdict = "supported" if expensive and large else "refuted" if cheap and negligible else "qualified"
    ratio_text = ", ".join(f"{a} {r:.2f}x" for a, r in ratios.items())
    trans = ", ".join(f"{a} {by_act.loc[a, 'fwd_transcendentals_per_elem']:.0f}" for a in ("relu", *crit.expensive))
    step_text = "; ".join(
        f"{row.model}/{row.activation} {100 * row.overhead_vs_relu:+.1f}%" for row in exp_steps.itertuples()
    )
    dearest = str(alone.loc[alone.fwd_bwd_ratio_relu.idxmax(), "activation"])
    alone_word = "expensive" if expensive else "cheap" if cheap else "neither clearly expensive nor clearly cheap"
    step_word = "a lot of" if large else "negligible" if negligible else "neither clearly negligible nor clearly a lot of"
    statement = (
        f"Alone, forward+backward, relative to ReLU: {ratio_text} ({alone_word}; transcendentals per element "
        f"forward: {trans}). In a whole SGD training step the exponential activations cost vs ReLU: {step_text}; "
        f"worst {worst.model}/{worst.activation} {100 * value:+.1f}% ({step_word} training time). "
        f"Dearest alone: {dearest} {by_act.loc[dearest, 'fwd_bwd_ratio_relu']:.1f}x ReLU (forward+backward)."
    )
    criterion = (
        f"expensive alone if the fwd+bwd time ratio to relu of {'/'.join(crit.expensive)} has its lower quartile "
        f">= {crit.ratio_expensive} (cheap if the upper quartile <= {crit.ratio_cheap}); whole-step time vs relu of "
        f"{'/'.join(crit.exponential)} in MLP and CNN: a lot if some lower quartile >= {100 * crit.step_large:.0f}%, "
        f"negligible if every upper quartile <= {100 * crit.step_negligible:.0f}%; supported = expensive and a lot, "
        "refuted = cheap and negligible, else qualified; value = worst median overhead, CI = bootstrap of its median"
    )
    return verdicts.Verdict(
        claim="H2", verdict=verdict, statement=statement, criterion=criterion, value=value,
        ci=[float(ci.lo), float(ci.hi)], n_seeds=reps, evidence="step_overhead.png",
        published="ELU ImageNet nets 5% slower than ReLU (Clevert 2016); Mish (PyTorch ops, GPU) 3.2x fwd / 4.0x bwd "
        "vs ReLU; CPU activation-only vs ReLU: sigmoid 1.03, tanh 1.05, ELU 1.04, GELU 1.18 (Derczynski 2020)",
    )


def _figure_alone(alone: pd.DataFrame, config) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(10, 4.2))
    order = alone.sort_values("fwd_bwd_ratio_relu")
    pos = np.arange(len(order))
    for off, mode, label in ((-0.2, "fwd", "forward"), (0.2, "fwd_bwd", "forward+backward")):
        med = order[f"{mode}_ratio_relu"].to_numpy()
        err = np.stack([med - order[f"{mode}_ratio_q25"], order[f"{mode}_ratio_q75"] - med])
        ax.bar(pos + off, med, 0.4, yerr=err, capsize=2, label=f"ours, {label} (median, IQR)")
    pub = order.published_cpu_ratio.to_numpy()
    ax.scatter(pos[np.isfinite(pub)], pub[np.isfinite(pub)], marker="*", s=120, color="k", zorder=3,
               label="Derczynski 2020, CPU")
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.axhline(config.criteria.h2.ratio_expensive, color="r", ls="--", lw=0.8, label="'expensive' threshold")
    ax.set_xticks(pos, order.activation, rotation=45, ha="right")
    ax.set_ylabel("time per element / ReLU's")
    ax.set_title(f"H2: activation alone, {config.n_elements:,} float32 elements, jitted ({jax.devices()[0].platform})")
    ax.legend(fontsize=8)
    return fig


def _figure_steps(steps: pd.DataFrame, config) -> plt.Figure:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    crit = config.criteria.h2
    for ax, kind in zip(axes, ("mlp", "cnn"), strict=True):
        sub = steps[steps.model == kind].sort_values("overhead_vs_relu")
        med = 100 * sub.overhead_vs_relu.to_numpy()
        err = 100 * np.stack([sub.overhead_vs_relu - sub.overhead_vs_relu_q25, sub.overhead_vs_relu_q75 - sub.overhead_vs_relu])
        ax.bar(sub.activation, med, yerr=err, capsize=2, color=["C3" if a in crit.exponential else "C0" for a in sub.activation])
        ax.axhline(100 * crit.step_large, color="r", ls="--", lw=0.8, label="'a lot' threshold")
        ax.axhline(100 * crit.step_negligible, color="g", ls=":", lw=0.8, label="'negligible' threshold")
        ax.axhline(100 * config.published.elu_imagenet_slowdown, color="k", lw=0.6, label="ELU paper: +5%")
        ax.axhline(0, color="grey", lw=0.8)
        ax.tick_params(axis="x", rotation=45)
        step_ms = float(sub.step_ms[sub.activation == "relu"].iloc[0])
        ax.set_title(f"{kind.upper()} (ReLU step {step_ms:.1f} ms)")
    axes[0].set_ylabel("whole training step time vs ReLU (%)")
    axes[0].legend(fontsize=8)
    fig.suptitle("H2: what an activation adds to a whole SGD step (median, IQR; red = exponential)")
    return fig


def check(config: ml_collections.ConfigDict) -> None:
    """Inputs only this experiment needs: the references relu/identity, known names, >= 2 rounds."""
    if "relu" not in config.activations:
        raise ConfigError("config.activations must include 'relu' (the reference)")
    missing = [a for a in ("identity", "relu", *config.criteria.h2.exponential) if a not in config.step_activations]
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


def run(config: ml_collections.ConfigDict) -> results.Result:
    """Time activations alone and inside whole training steps; decide H2."""
    check(config)
    alone, costs = measure_alone(config)
    steps = measure_steps(config)
    verdict = decide_h2(alone, steps, config.criteria.h2, config.reps)
    summary = {}
    for name in config.activations:
        summary[f"fwd_transcendentals_per_elem/{name}"] = costs[name]["fwd"]["transcendentals"]
        summary[f"fwd_bwd_flops_per_elem/{name}"] = costs[name]["fwd_bwd"]["flops"]
    for kind in ("mlp", "cnn"):
        sub = steps[(steps.model == kind) & (steps.activation == "relu")]
        summary[f"step_mflops/{kind}"] = float(sub.step_mflops.iloc[0])
    pub = config.published
    notes = (
        "Claim H2: sigmoid/tanh 'involve exponentials and are expensive'; ReLU 'needs one comparison'; "
        "ELU 'a little more'; Mish 'slow'; 'for large nets this adds a lot of training time'.\n\n"
        f"Part 1 (figure `alone_ratio`, table `alone`): each activation alone on {config.n_elements:,} float32 "
        f"elements, jitted, forward and forward+backward (`jax.vjp`), {config.reps} round-robin rounds x "
        f"{config.calls_per_rep} calls (the fastest call of a round counts: other processes only add time); "
        "ratios to ReLU are paired within a round (median, quartiles over rounds). "
        "XLA's cost analysis gives FLOPs and transcendental ops per element (deterministic; what the "
        "regression check compares). Part 2 (figure `step_overhead`, table `steps`): a whole SGD step "
        f"(forward, backward, update) of an MLP {tuple(config.mlp_widths)} (batch {config.batch_size}) and a CNN "
        f"channels {tuple(config.cnn_channels)} + dense {tuple(config.cnn_dense_widths)} (batch "
        f"{config.cnn_batch_size}) on {config.dataset} shapes, per activation and with the identity, "
        f"{config.reps} rounds x fastest of {dict(config.step_calls_per_rep)} calls.\n\n"
        f"Published beside ours: ELU nets on ImageNet ran {100 * pub.elu_imagenet_slowdown:.0f}% slower than "
        f"ReLU's (Clevert et al.); Mish built from PyTorch ops ran {pub.mish_pytorch_forward}x (forward) and "
        f"{pub.mish_pytorch_backward}x (backward) slower than ReLU on a GPU; a CPU study (Derczynski 2020) "
        "found activation-only ratios to ReLU of "
        + ", ".join(f"{k} {v}" for k, v in dict(pub.derczynski_cpu).items())
        + ". Timings are from whatever machine ran this (see manifest.json: device); medians resist but do "
        "not remove the noise of a shared machine."
    )
    return results.Result(
        name="cost",
        tables={"alone": alone, "steps": steps},
        figures={"alone_ratio": _figure_alone(alone, config), "step_overhead": _figure_steps(steps, config)},
        verdicts=[verdict],
        summary=summary,
        notes=notes,
    )


if __name__ == "__main__":
    cli.main("cost", run)

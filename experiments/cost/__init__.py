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
Measurements in :mod:`.measure`, the claim in :mod:`.claims`, figures in :mod:`.figures`.
"""

from __future__ import annotations

from experiments.kit.experiment import Experiment

from . import claims, measure


def summary(t, config) -> dict:
    """Deterministic numbers (XLA cost analysis) that the regression check compares."""
    out = {}
    for name in config.activations:
        out[f"fwd_transcendentals_per_elem/{name}"] = t.costs[name]["fwd"]["transcendentals"]
        out[f"fwd_bwd_flops_per_elem/{name}"] = t.costs[name]["fwd_bwd"]["flops"]
    steps = t.steps
    for kind in ("mlp", "cnn"):
        sub = steps[(steps.model == kind) & (steps.activation == config.reference)]
        out[f"step_mflops/{kind}"] = float(sub.step_mflops.iloc[0])
    return out


def notes(t, config) -> str:
    """The experiment page's description of the timings and tables."""
    pub = config.published
    return (
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


EXPERIMENT = Experiment(
    "cost",
    measurements={"alone": measure.measure_alone, "steps": measure.measure_steps},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

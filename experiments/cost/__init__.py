"""Cost of activations alone and within a whole training step (claim H2).

Run: python -m experiments.cost --config configs/cost.py:smoke

Part (a) times every configured activation alone: ``chain_length`` chained applications
(x <- x + eps·f(x), or with its vector-Jacobian product) inside one jitted loop, so dispatch is
outside the per-application time, with identity's time (the loop's floor) subtracted; XLA's cost
analysis counts FLOPs and transcendental operations per element. Part (b) times a whole training
step (forward, backward, SGD update; a few chained in a ``lax.scan``) of an MLP >= 1024 wide and a
CNN per activation. One compiled program per mode and per model (a ``lax.switch`` over the
activations with a scalar index, so only the chosen branch runs), kept warm; rounds interleave
every activation in a fresh order; CIs are bootstraps over rounds. Measurements in
:mod:`.measure`, the claim in :mod:`.claims`, figures in :mod:`.figures`.
"""

from __future__ import annotations

from experiments.kit.experiment import Experiment

from . import claims, measure


def summary(t, config) -> dict:
    """Deterministic numbers (XLA cost analysis, shapes) that the regression check compares."""
    out = {}
    for name in config.activations:
        out[f"fwd_transcendentals_per_elem/{name}"] = t.costs[name]["fwd"]["transcendentals"]
        out[f"fwd_bwd_flops_per_elem/{name}"] = t.costs[name]["fwd_bwd"]["flops"]
    steps = t.steps
    for kind in ("mlp", "cnn"):
        sub = steps[(steps.model == kind) & (steps.activation == config.reference)]
        out[f"step_mflops/{kind}"] = float(sub.step_mflops.iloc[0])
        out[f"activation_elements/{kind}"] = float(sub.activation_elements.iloc[0])
    return out


def notes(t, config) -> str:
    """The experiment page's description of the timings and tables."""
    pub = config.published
    return (
        "Claim H2: sigmoid/tanh 'involve exponentials and are expensive'; ReLU 'needs one comparison'; "
        "ELU 'a little more'; Mish 'slow'; 'for large nets this adds a lot of training time'.\n\n"
        f"(a) (figure `alone_ratio`, tables `alone`, `alone_rounds`): each activation on {config.n_elements:,} float32 "
        f"elements, {config.chain_length} chained applications per call inside one jitted loop (dispatch outside the "
        f"per-application time), forward and forward+backward (`jax.vjp`); `*_excess_ratio` = (time − {config.floor}'s) "
        f"/ ({config.reference}'s − {config.floor}'s), `*_gross_ratio` = time / {config.reference}'s (the loop floor included, "
        "the unit of Derczynski's whole-op ratios); bootstrap 95% CIs over "
        f"{config.reps} interleaved rounds, each the fastest of {config.calls_per_rep} calls. An excess ratio whose CI "
        f"is unbounded above means {config.reference} costs nothing measurable over the floor. XLA's cost analysis gives "
        "FLOPs and transcendentals per element (deterministic; what the regression check compares).\n\n"
        f"(b) (figure `step_overhead`, tables `steps`, `step_rounds`): {config.steps_per_call} chained SGD steps per "
        f"call of an MLP {tuple(config.mlp_widths)} (batch {config.batch_size}) and a CNN channels "
        f"{tuple(config.cnn_channels)} + dense {tuple(config.cnn_dense_widths)} (batch {config.cnn_batch_size}) on "
        f"{config.dataset} shapes; `overhead_vs_relu` = step time / {config.reference}'s − 1 with its CI; "
        "`flops_per_activation_element` says how much matmul work each activation value shares (larger nets: more).\n\n"
        f"Published beside ours: ELU nets on ImageNet ran {100 * pub.elu_imagenet_slowdown:.0f}% slower than "
        f"ReLU's (Clevert et al., GPU); Mish built from PyTorch ops ran {pub.mish_gpu_forward}x (forward) and "
        f"{pub.mish_gpu_backward}x (backward) ReLU's time (GPU); Derczynski 2020 (CPU, PyTorch) found activation-only "
        "ratios to ReLU of " + ", ".join(f"{k} {v}" for k, v in dict(pub.derczynski_cpu).items())
        + ". Timings are from whatever machine ran this (manifest.json: device); on a shared machine the CIs "
        "widen and parts become inconclusive rather than wrong."
    )


EXPERIMENT = Experiment(
    "cost",
    measurements={"alone": measure.measure_alone, "steps": measure.measure_steps},
    claims=claims.CLAIMS,
    summary=summary,
    notes=notes,
)
run = EXPERIMENT.run

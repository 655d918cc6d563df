"""experiments.cost (claim H2): cost analysis, chained switched timing, the H2 decision, the CLI."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
import pytest

import acts
from experiments.cost import claims
from experiments.cost import measure as cost
from experiments.kit import perf
from experiments.kit.experiment import Tables

ROOT = Path(__file__).resolve().parents[1]
SMOKE_COMPILES = 20  # pinned from a fresh smoke run: 2 alone programs, 2 step programs, 2 inits, staging


def test_cost_analysis_counts_transcendentals():
    x = jnp.zeros(1000, jnp.float32)
    assert cost.cost_per_element(jax.jit(jnp.exp), x)["transcendentals"] == pytest.approx(1.0)
    assert cost.cost_per_element(jax.jit(lambda v: jnp.exp(v) + jnp.tanh(v)), x)["transcendentals"] == pytest.approx(2.0)
    poly = cost.cost_per_element(jax.jit(lambda v: v * 2.0 + 1.0), x)
    assert poly["transcendentals"] == 0.0 and poly["flops"] == pytest.approx(2.0)


def test_alone_functions_compute_value_and_gradient():
    fwd, fwd_bwd = cost.alone_functions("tanh")
    x = jnp.linspace(-2, 2, 9)
    g = jnp.full(9, 2.0)
    np.testing.assert_allclose(fwd(x), np.tanh(np.asarray(x)), rtol=1e-6)
    _, grad = fwd_bwd(x, g)
    np.testing.assert_allclose(grad, 2.0 * (1 - np.tanh(np.asarray(x)) ** 2), rtol=1e-5)


def test_chain_program_is_one_compile_and_chains_each_branch():
    names = ["identity", "tanh", "sigmoid"]
    x, g = jnp.linspace(-2, 2, 64), jnp.ones(64)
    for mode in cost.MODES:
        program = cost.chain_program(names, mode)
        index, k = [jnp.asarray(i, jnp.int32) for i in range(len(names))], jnp.asarray(5, jnp.int32)
        before = perf.compile_count()
        outs = [program(i, x, g, k) for i in index]
        assert perf.compile_count() - before == 1  # every activation, one program
        for name, out in zip(names, outs, strict=True):
            f, want = acts.get(name).fn, np.asarray(x)
            for _ in range(5):
                y, pull = jax.vjp(f, jnp.asarray(want))
                step = y if mode == "fwd" else y + pull(g)[0]
                want = want + cost.EPS * np.asarray(step)
            np.testing.assert_allclose(out, want, rtol=1e-5)


def test_round_robin_timing_orders_heavy_and_light():
    light = (jax.jit(lambda v: v + 1.0), (jnp.zeros(8),))
    m = jnp.ones((384, 384))
    heavy = (jax.jit(lambda a: ((a @ a) @ a) @ a), (m,))
    times = cost.time_round_robin({"light": light, "heavy": heavy}, reps=3, calls=2, seed=0)
    assert times["light"].shape == times["heavy"].shape == (3,)
    assert np.median(times["heavy"]) > 3 * np.median(times["light"])


def test_excess_ratio_ci_bounds():
    rng = np.random.default_rng(0)
    ref = 1.0 + 0.01 * rng.standard_normal(12)
    est = cost.excess_ratio_ci(3.0 * ref, ref)
    assert est.lo == pytest.approx(3.0, rel=0.05) and est.hi == pytest.approx(3.0, rel=0.05) and est.n == 12
    free = 1e-4 * rng.standard_normal(12)  # the reference costs nothing measurable over the floor
    est = cost.excess_ratio_ci(1.0 + 0.01 * rng.standard_normal(12), free)
    assert est.hi == np.inf and (est.lo > 1.5 or est.lo < 0)
    both = cost.excess_ratio_ci(1e-4 * rng.standard_normal(12), 1e-4 * rng.standard_normal(12))
    assert np.isnan(both.lo) or both.lo < 1.5


def _tables(ratio: tuple[float, float, float], share: tuple[float, float, float], mlp_width: int = 1024) -> Tables:
    """Synthetic tables: sigmoid/tanh with the given excess-ratio CI, both models with the given step-share CI."""
    row = {f"{m}_excess_ratio{s}": v for m in cost.MODES for s, v in zip(("", "_lo", "_hi"), ratio, strict=True)}
    alone = pd.DataFrame([{"activation": a, "n_seeds": 10, "fwd_bwd_gross_ratio": 1.0, "fwd_gross_ratio": 1.0,
                           "fwd_bwd_excess_ns_per_elem": 1.0, **row}
                          for a in ("identity", "relu", "sigmoid", "tanh")])
    steps = [{"model": k, "activation": a, "overhead_vs_relu": share[0], "overhead_vs_relu_lo": share[1],
              "overhead_vs_relu_hi": share[2], "n_seeds": 10, "min_hidden_width": mlp_width if k == "mlp" else 32,
              "flops_per_activation_element": 100.0} for k in ("mlp", "cnn") for a in ("relu", "sigmoid", "tanh")]
    return Tables(alone=alone, steps=pd.DataFrame(steps))


CONFIG = ml_collections.ConfigDict({
    "reference": "relu", "floor": "identity", "reps": 10, "n_elements": 1000, "chain_length": 10, "dataset": "x",
    "steps_per_call": 2, "mlp_widths": (1024,), "batch_size": 8, "cnn_channels": (32,), "cnn_dense_widths": (),
    "cnn_batch_size": 4,
    "criteria": {"h2": {"expensive": ("sigmoid", "tanh"), "ratio_expensive": 1.5, "step_share": 0.10,
                        "mlp_min_width": 1024, "reported": ()}},
    "published": {"derczynski_cpu": {"sigmoid": 1.03}, "elu_imagenet_slowdown": 0.05, "mish_gpu_forward": 3.2,
                  "mish_gpu_backward": 4.0},
})


@pytest.mark.parametrize(
    ("ratio", "share", "want"),
    [
        ((3.0, 2.0, 4.0), (0.20, 0.15, 0.30), "supported"),
        ((1.1, 1.0, 1.2), (0.01, 0.00, 0.02), "refuted"),
        ((3.0, 2.0, np.inf), (0.01, 0.00, 0.02), "qualified"),  # expensive alone (unbounded CI), negligible in a step
        ((1.5, 1.4, 1.6), (0.10, 0.05, 0.15), "inconclusive"),  # both CIs straddle their thresholds
    ],
)
def test_h2_decision(ratio, share, want):
    v = claims.h2.decide(_tables(ratio, share), CONFIG, produced={"alone", "steps", "step_overhead"})
    assert v.verdict == want, v.statement
    assert len(v.parts) == 8 and v.parts[0]["part"].startswith("sigmoid alone, forward")


def test_h2_narrow_mlp_is_not_the_large_net():
    v = claims.h2.decide(_tables((3.0, 2.0, 4.0), (0.2, 0.15, 0.3), mlp_width=128), CONFIG,
                         produced={"alone", "steps", "step_overhead"})
    mlp = [p for p in v.parts if "MLP" in p["part"]]
    assert [p["verdict"] for p in mlp] == ["inconclusive", "inconclusive"] and v.verdict == "qualified"


def test_smoke_run(smoke):
    result = smoke("cost")
    alone = result.tables["alone"].set_index("activation")
    assert alone.loc["relu", "fwd_transcendentals_per_elem"] == 0
    assert alone.loc["tanh", "fwd_transcendentals_per_elem"] >= 1
    assert alone.loc["mish", "fwd_transcendentals_per_elem"] >= 2
    assert (alone.fwd_ns_per_elem > 0).all() and alone.loc["relu", "fwd_gross_ratio"] == pytest.approx(1.0)
    steps = result.tables["steps"]
    assert set(steps.model) == {"mlp", "cnn"} and (steps.step_mflops > 1.0).all()
    assert (steps.activation_elements > 0).all()
    assert [v.claim for v in result.verdicts] == ["H2"]


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("cost")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES})"


def test_cli_rejects_missing_reference(run_cli):
    proc = run_cli("cost", "--config", "configs/cost.py:smoke", "--config.step_activations=('tanh', 'relu')", "--workdir", "/nonexistent/never-written")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "identity" in lines[0], proc.stderr

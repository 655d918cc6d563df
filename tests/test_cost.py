"""experiments.cost (claim H2): cost analysis, round-robin timing, the H2 decision, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pandas as pd
import pytest

from experiments.cost import claims
from experiments.cost import measure as cost
from experiments.kit.experiment import Tables

ROOT = Path(__file__).resolve().parents[1]


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
    y, grad = fwd_bwd(x, g)
    np.testing.assert_allclose(y, np.tanh(np.asarray(x)), rtol=1e-6)
    np.testing.assert_allclose(grad, 2.0 * (1 - np.tanh(np.asarray(x)) ** 2), rtol=1e-5)


def test_round_robin_timing_orders_heavy_and_light():
    light = (jax.jit(lambda v: v + 1.0), (jnp.zeros(8),))
    m = jnp.ones((384, 384))
    heavy = (jax.jit(lambda a: ((a @ a) @ a) @ a), (m,))
    times = cost.time_round_robin({"light": light, "heavy": heavy}, reps=3, calls=2, seed=0)
    assert times["light"].shape == times["heavy"].shape == (3,)
    assert np.all(times["light"] > 0)
    assert np.median(times["heavy"]) > 3 * np.median(times["light"])


def _tables(ratio_q: tuple[float, float, float], overhead_q: tuple[float, float, float]):
    """Synthetic tables: sigmoid/tanh with the given ratio quartiles, every exp activation
    with the given whole-step overhead quartiles; per-round readings consistent with them."""
    lo, mid, hi = ratio_q
    alone = pd.DataFrame([
        {"activation": a, "fwd_bwd_ratio_relu": r, "fwd_bwd_ratio_q25": r25, "fwd_bwd_ratio_q75": r75,
         "fwd_transcendentals_per_elem": t}
        for a, r, r25, r75, t in (("relu", 1.0, 1.0, 1.0, 0.0), ("sigmoid", mid, lo, hi, 1.0), ("tanh", mid, lo, hi, 1.0))
    ])
    rows, rounds = [], []
    for kind in ("mlp", "cnn"):
        for a in ("relu", "sigmoid", "tanh", "elu", "mish"):
            q = (0.0, 0.0, 0.0) if a == "relu" else overhead_q
            rows.append({"model": kind, "activation": a, "overhead_vs_relu": q[1], "overhead_vs_relu_q25": q[0],
                         "overhead_vs_relu_q75": q[2]})
            per_round = np.full(5, 0.01) if a == "relu" else 0.01 * (1 + np.array([q[0], q[0], q[1], q[2], q[2]]))
            rounds += [{"model": kind, "activation": a, "round": r, "step_seconds": v} for r, v in enumerate(per_round)]
    return Tables(alone=alone, steps=pd.DataFrame(rows), step_rounds=pd.DataFrame(rounds))


CONFIG = ml_collections.ConfigDict({
    "reference": "relu", "reps": 5, "n_elements": 1000,
    "criteria": {"h2": {
        "expensive": ("sigmoid", "tanh"), "ratio_expensive": 1.5, "ratio_cheap": 1.2,
        "exponential": ("sigmoid", "tanh", "elu", "mish"), "step_negligible": 0.05, "step_large": 0.10,
    }},
})


@pytest.mark.parametrize(
    ("ratio_q", "overhead_q", "want"),
    [
        ((3.0, 3.5, 4.0), (0.20, 0.25, 0.30), "supported"),  # expensive alone and a lot in a step
        ((1.0, 1.05, 1.1), (0.00, 0.01, 0.02), "refuted"),  # cheap alone and negligible
        ((3.0, 3.5, 4.0), (0.00, 0.01, 0.02), "qualified"),  # expensive alone, negligible in a step
        ((1.1, 1.3, 1.6), (0.00, 0.01, 0.02), "qualified"),  # ratio's IQR straddles the cheap margin
        ((3.0, 3.5, 4.0), (0.05, 0.12, 0.20), "qualified"),  # step overhead's IQR straddles 'a lot'
    ],
)
def test_h2_decision(ratio_q, overhead_q, want):
    t = _tables(ratio_q, overhead_q)
    v = claims.h2.decide(t, CONFIG, produced={"alone", "steps", "step_rounds", "step_overhead"})
    assert v.verdict == want, v.statement
    assert v.value == pytest.approx(overhead_q[1])
    assert v.ci[0] <= v.value <= v.ci[1]
    assert [p["part"] for p in v.parts] == ["sigmoid alone, forward+backward", "tanh alone, forward+backward",
                                             claims.STEP_PART]


def test_smoke_run(smoke):
    result = smoke("cost")
    alone = result.tables["alone"].set_index("activation")
    # "ReLU needs one comparison", sigmoid/tanh one exponential-like op each, mish several
    assert alone.loc["relu", "fwd_transcendentals_per_elem"] == 0
    assert alone.loc["tanh", "fwd_transcendentals_per_elem"] >= 1
    assert alone.loc["sigmoid", "fwd_transcendentals_per_elem"] >= 1
    assert alone.loc["mish", "fwd_transcendentals_per_elem"] >= 2
    assert (alone.fwd_ms > 0).all() and np.isfinite(alone.fwd_bwd_ratio_relu).all()
    assert alone.loc["relu", "fwd_ratio_relu"] == pytest.approx(1.0)
    steps = result.tables["steps"]
    assert set(steps.model) == {"mlp", "cnn"}
    ident = steps[steps.activation == "identity"]
    assert np.allclose(ident.overhead_vs_identity, 0.0)
    # a whole step has far more FLOPs than its activations: matmuls/convolutions dominate
    assert (steps.step_mflops > 1.0).all()
    assert [v.claim for v in result.verdicts] == ["H2"]


def test_cli_rejects_missing_reference():
    proc = subprocess.run(
        [sys.executable, "-m", "experiments.cost", "--config", "configs/cost.py:smoke",
         "--config.step_activations=('tanh', 'relu')", "--workdir", "/nonexistent/never-written"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "identity" in lines[0], proc.stderr

"""Tests of experiments.convexity (claim C3)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pandas as pd

from experiments.convexity import claims
from experiments.convexity import measure as convexity
from experiments.kit import registry
from experiments.kit.experiment import Tables

SMOKE_COMPILES = 3  # pinned from a fresh smoke run (issue 16): one program for every activation x loss, monotonicity, example


def test_midpoint_check_on_known_profiles():
    t = jnp.linspace(-1, 1, 17)
    convex = jnp.stack([t**2, jnp.abs(t), 3 * t + 1])
    viol, _ = convexity.midpoint_violations(convex, 1e-6, 1e-5)
    assert not np.any(np.asarray(viol))
    nonconvex = jnp.stack([-(t**2), jnp.sin(3 * t), jnp.minimum(t, 0.2)])
    viol, worst = convexity.midpoint_violations(nonconvex, 1e-6, 1e-5)
    assert np.all(np.asarray(viol)) and np.all(np.asarray(worst) > 0)


def test_monotonicity_is_measured():
    assert convexity.is_monotonic("sigmoid", 10.0, 1e-7)[0]
    assert convexity.is_monotonic("relu", 10.0, 1e-7)[0]
    assert not convexity.is_monotonic("swish", 10.0, 1e-7)[0]
    assert not convexity.is_monotonic("gelu", 10.0, 1e-7)[0]


def test_one_layer_loss_values():
    x = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    y = jnp.array([0, 1])
    theta = jnp.zeros(2 * 2 + 2)
    mse = convexity.one_layer_loss(lambda z: z, "mse", 2)(theta, x, y)
    xent = convexity.one_layer_loss(lambda z: z, "xent", 2)(theta, x, y)
    assert np.isclose(float(mse), 0.5) and np.isclose(float(xent), np.log(2.0))


def _rates(rows):
    cols = ("activation", "loss", "monotonic", "lines", "rate", "rate_lo", "rate_hi")
    return Tables(violation_rates=pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows]))


def test_c3_decision_on_tables():
    config = registry.config("convexity", "smoke")
    clean = [("identity", "mse", True, 100, 0.0, 0.0, 0.03), ("identity", "xent", True, 100, 0.0, 0.0, 0.03),
             ("sigmoid", "mse", True, 100, 0.0, 0.0, 0.03), ("sigmoid", "xent", True, 100, 0.0, 0.0, 0.03),
             ("swish", "mse", False, 100, 0.5, 0.4, 0.6)]
    v = claims.c3.decide(_rates(clean), config, produced={"violation_rates"})
    assert v.verdict == "inconclusive" and len(v.parts) == 3  # no violation seen: lines cannot prove convexity
    assert v.parts[0]["part"].startswith("sigmoid with mse")
    broken = clean[:2] + [("sigmoid", "mse", True, 100, 0.3, 0.2, 0.4), ("sigmoid", "xent", True, 100, 0.0, 0.0, 0.03),
                          ("step", "xent", True, 100, 1.0, 0.97, 1.0), ("relu", "xent", True, 100, 0.2, 0.1, 0.3)]
    v = claims.c3.decide(_rates(broken), config, produced={"violation_rates"})
    assert v.verdict == "refuted" and v.value == 0.3  # the key: Auer et al.'s sigmoid + squared error
    xent = v.parts[2]
    assert xent["verdict"] == "refuted" and xent["value"] == 0.2  # the worst monotonic one, step aside (headline_excludes)
    only_mse = broken[:2] + [broken[2], ("sigmoid", "xent", True, 100, 0.0, 0.0, 0.03)]
    v = claims.c3.decide(_rates(only_mse), config, produced={"violation_rates"})
    assert v.verdict == "qualified" and [p["verdict"] for p in v.parts] == ["refuted", "refuted", "inconclusive"]


def test_smoke_compile_count_is_pinned(smoke):
    n = smoke.compiles("convexity")
    assert n <= SMOKE_COMPILES + 3, f"{n} compiles (pinned {SMOKE_COMPILES}; revision 1 built 60)"


def test_smoke_verdict(smoke):
    result = smoke("convexity")
    table = result.tables["violation_rates"].set_index(["activation", "loss"])
    assert table.loc[("identity", "mse"), "violations"] == 0
    assert table.loc[("identity", "xent"), "violations"] == 0
    assert table.loc[("sigmoid", "mse"), "rate_lo"] > 0
    assert result.verdicts[0].claim == "C3" and result.verdicts[0].verdict == "refuted"


def test_cli_rejects_bad_value(run_cli):
    proc = run_cli("convexity", "--config.seeds=0")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "config.seeds = 0" in proc.stderr and ">= 1" in proc.stderr, proc.stderr  # names the key and the bad value

"""Compile time, compile count and achieved FLOP/s of a run (the manifest's numbers).

JAX reports every compilation through ``jax.monitoring``; the listener below adds them up, so
no experiment needs to time its own compiles. :func:`execute` runs a jitted function, blocks
until its result is ready, and credits its FLOPs (from XLA's cost analysis, or given).
"""

from __future__ import annotations

import threading
import time

import jax

_LOCK = threading.Lock()
_COUNTERS = {"compile_s": 0.0, "compiles": 0, "flops": 0.0, "execute_s": 0.0}
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_TRACE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration")


def _listener(event: str, duration: float, **_) -> None:
    with _LOCK:
        if event == _COMPILE_EVENT:
            _COUNTERS["compile_s"] += duration
            _COUNTERS["compiles"] += 1
        elif event in _TRACE_EVENTS:
            _COUNTERS["compile_s"] += duration


jax.monitoring.register_event_duration_secs_listener(_listener)


def snapshot() -> dict:
    """A copy of the counters: compile seconds, number of XLA compiles, FLOPs, execute seconds."""
    with _LOCK:
        return dict(_COUNTERS)


def reset() -> None:
    with _LOCK:
        for key in _COUNTERS:
            _COUNTERS[key] = 0 if key == "compiles" else 0.0


def compile_count() -> int:
    """XLA compilations so far in this process (the no-recompilation tests read it)."""
    return snapshot()["compiles"]


def flops_of(lowered) -> float:
    """FLOPs XLA's cost analysis assigns to a lowered computation (scan bodies counted once)."""
    cost = lowered.cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", 0.0))


def execute(fn, *args, flops: float | None = None):
    """Run jitted ``fn(*args)``, wait for the result, and credit its FLOPs and run time.

    ``flops`` overrides the cost analysis (needed where scans repeat a body many times).
    Compile time is excluded from the run time: the function is compiled first.
    """
    compiled = fn.lower(*args).compile()
    if flops is None:
        flops = flops_of(compiled)
    start = time.perf_counter()
    out = compiled(*args)
    jax.block_until_ready(out)
    elapsed = time.perf_counter() - start
    with _LOCK:
        _COUNTERS["flops"] += flops
        _COUNTERS["execute_s"] += elapsed
    return out

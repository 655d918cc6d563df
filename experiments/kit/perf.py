"""Compile time, compile count and achieved FLOP/s of a run (the manifest's numbers).

JAX reports every compilation through ``jax.monitoring``; the listener below adds them up, so
no experiment needs to time its own compiles. :func:`execute` runs a jitted function, blocks
until its result is ready, and credits its FLOPs (from XLA's cost analysis, or given).
"""

from __future__ import annotations

import functools
import os
import threading
import time
import weakref

import jax

_LOCK = threading.Lock()
_COUNTERS = {"compile_s": 0.0, "compiles": 0, "cache_hits": 0, "flops": 0.0, "execute_s": 0.0}
_COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
_TRACE_EVENTS = ("/jax/core/compile/jaxpr_trace_duration", "/jax/core/compile/jaxpr_to_mlir_module_duration")


_INTERVALS: list[tuple[float, float]] = []  # (start, end) of every compile and trace, for compile_wall_s


def _listener(event: str, duration: float, **_) -> None:
    if event != _COMPILE_EVENT and event not in _TRACE_EVENTS:
        return
    end = time.perf_counter()
    with _LOCK:
        _COUNTERS["compile_s"] += duration
        _COUNTERS["compiles"] += event == _COMPILE_EVENT
        _INTERVALS.append((end - duration, end))


def _union_length(intervals: list[tuple[float, float]]) -> float:
    """Seconds covered by at least one of the intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _event(event: str, **_) -> None:
    if event == _CACHE_HIT_EVENT:
        with _LOCK:
            _COUNTERS["cache_hits"] += 1


_CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"
jax.monitoring.register_event_duration_secs_listener(_listener)
jax.monitoring.register_event_listener(_event)

# The persistent compilation cache (issue 16): compiled programs are kept on disk between
# processes, in the project folder below (ignored by git, safe to delete). ``SUITE_COMPILE_CACHE``
# set to a folder moves it; set to ``off`` it is not used.
CACHE_ENV = "SUITE_COMPILE_CACHE"
CACHE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), ".jax_cache")


def enable_compile_cache(setting: str | None = None) -> str | None:
    """Use JAX's persistent compilation cache (every program, however quick to compile); its folder or None."""
    setting = os.environ.get(CACHE_ENV, "") if setting is None else setting
    if setting.strip().lower() in ("off", "0", "false", "no"):
        jax.config.update("jax_enable_compilation_cache", False)
        return None
    folder = setting.strip() or CACHE_DIR
    jax.config.update("jax_enable_compilation_cache", True)
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def snapshot() -> dict:
    """A copy of the counters: compile seconds (``compile_s``, summed over threads), programs built
    (``compiles``, cache loads included), of which loaded from the persistent cache (``cache_hits``),
    FLOPs, execute seconds; and ``compile_wall_s``, the wall-clock seconds during which at least one
    compile ran (threads compiling at once count once: the time a user waits for the compiler at most)."""
    with _LOCK:
        return {**_COUNTERS, "compile_wall_s": _union_length(_INTERVALS)}


def reset() -> None:
    with _LOCK:
        for key in _COUNTERS:
            _COUNTERS[key] = 0 if key in ("compiles", "cache_hits") else 0.0
        _INTERVALS.clear()


def compile_count() -> int:
    """Programs built so far in this process, compiled by XLA or loaded from the persistent cache
    (JAX times both as one compile event), so a warm cache does not hide a recompile."""
    return snapshot()["compiles"]


def flops_of(lowered) -> float:
    """FLOPs XLA's cost analysis assigns to a lowered computation (scan bodies counted once)."""
    cost = lowered.cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", 0.0))


# fn -> {abstract signature of the arguments: (compiled executable, its FLOPs)}; weak in fn, so
# a jitted function that is dropped takes its executables with it.
_EXECUTABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_COMPILE_LOCK = threading.RLock()
_PROGRAM_LOCKS: dict = {}  # (id of an fn's table, signature) -> the lock its compile holds
_BUILD_LOCK = threading.RLock()


def memo(table: dict, key, build):
    """``table[key]``, made by ``build()`` once even when threads ask at once (``ondevices.on_devices``,
    concurrent parts): two jitted functions of one program would compile it twice."""
    with _BUILD_LOCK:
        if key not in table:
            table[key] = build()
        return table[key]


def once(fn):
    """``functools.cache`` for the builders of jitted functions, safe across threads (see :func:`memo`)."""
    table: dict = {}

    @functools.wraps(fn)
    def cached(*args):
        return memo(table, args, lambda: fn(*args))

    return cached


def _signature(args) -> tuple:
    """What an executable is specialised on: tree structure, shapes, dtypes, weak types, shardings."""
    leaves, tree = jax.tree_util.tree_flatten(args)
    sig = []
    for leaf in leaves:
        if isinstance(leaf, jax.Array):
            aval = leaf.aval
            sig.append((aval.shape, aval.dtype, aval.weak_type, leaf.sharding))
        elif isinstance(leaf, jax.ShapeDtypeStruct):  # compiling ahead of the arrays (ondevices.compile_ahead)
            sig.append((tuple(leaf.shape), leaf.dtype, bool(leaf.weak_type), leaf.sharding))
        elif hasattr(leaf, "shape") and hasattr(leaf, "dtype"):
            sig.append((tuple(leaf.shape), leaf.dtype, False, None))
        else:  # Python scalars (or static arguments): keyed by value, to be safe
            sig.append((type(leaf), leaf))
    return tree, tuple(sig)


# XLA's backend (LLVM) optimisation level for the suite's compiles. XLA's CPU default is 3.
# Measured on 2 CPU cores (jaxlib 0.10.2), training populations of the convergence MLP and CNN:
# levels 1 and 2 compile in 45-60 % of level 3's time and run as fast (level 2 a little faster
# than 1). Results agree to float rounding: bit for bit in the MLP/CNN/PReLU populations
# compared, while BatchNorm and Adagrad runs differ in the last bits, which chaotic training
# (deep nets, high learning rates) can amplify into visibly different numbers.
SUITE_LEVEL = 2
_LEVEL_FLAG = "--xla_backend_optimization_level"


def compiler_options(level: int | None) -> dict:
    """Per-compile XLA options for ``level`` (None: XLA's default). A level the user put in
    ``XLA_FLAGS`` (or the tests' fast-compile level) always wins: no options are added then."""
    if level is None or _LEVEL_FLAG in os.environ.get("XLA_FLAGS", ""):
        return {}
    return {"xla_backend_optimization_level": level}


def jit(fun, **kwargs):
    """``jax.jit`` at the suite's optimisation level (:data:`SUITE_LEVEL`); every experiment jits with this.

    Plain ``jax.jit`` keeps XLA's default level: experiments.cost times activations with it (claim
    H2), so that its timings are those a JAX user gets.
    """
    return jax.jit(fun, compiler_options=compiler_options(SUITE_LEVEL) or None, **kwargs)


def compiled(fn, *args):
    """``(executable, flops)`` of jitted ``fn`` for arguments like ``args``; compiled once, then cached."""
    try:
        table = _EXECUTABLES.setdefault(fn, {})
    except TypeError:  # not weak-referenceable: no caching
        table = {}
    key = _signature(args)
    try:
        lock = _compile_lock(table, key)
    except TypeError:  # an unhashable sharding; compile without caching
        executable = fn.lower(*args).compile()
        return executable, flops_of(executable)
    with lock:  # threads (ondevices.on_devices) asking for one program compile it once; other programs meanwhile
        hit = table.get(key)
        if hit is None:
            executable = fn.lower(*args).compile()
            hit = table[key] = (executable, flops_of(executable))
    return hit


def _compile_lock(table: dict, key) -> threading.Lock:
    """The lock of one program (``table``'s entry ``key``): different programs compile concurrently."""
    with _COMPILE_LOCK:
        return _PROGRAM_LOCKS.setdefault((id(table), key), threading.Lock())


def execute(fn, *args, flops: float | None = None):
    """Run jitted ``fn(*args)``, wait for the result, and credit its FLOPs and run time.

    ``flops`` overrides the cost analysis (needed where scans repeat a body many times).
    Compile time is excluded from the run time: the function is compiled first. The executable
    is cached per (fn, shapes/dtypes/shardings of args), so a second call with new values of the
    same shapes compiles nothing (tests/test_recompile.py).
    """
    executable, analysed = compiled(fn, *args)
    if flops is None:
        flops = analysed
    start = time.perf_counter()
    out = executable(*args)
    jax.block_until_ready(out)
    elapsed = time.perf_counter() - start
    with _LOCK:
        _COUNTERS["flops"] += flops
        _COUNTERS["execute_s"] += elapsed
    return out

"""The manifest of a run: config hash, package versions, git commit, devices, times, FLOP/s."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

import jax

PACKAGES = ("jax", "jaxlib", "flax", "optax", "numpy", "pandas", "matplotlib", "ml-collections", "scikit-learn", "mnist1d")


def config_hash(config_json: dict) -> str:
    return hashlib.sha256(json.dumps(config_json, sort_keys=True).encode()).hexdigest()[:16]


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "acts", "experiments", "configs"], cwd=root, capture_output=True, text=True, timeout=5, check=False)
        if out.returncode != 0:
            return None
        return out.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    found["python"] = platform.python_version()
    return found


def build(name: str, preset: str, config_json: dict, wall_s: float, counters: dict) -> dict:
    """The manifest dict; ``counters`` is :func:`experiments.kit.perf.snapshot` of this run."""
    execute_s = counters.get("execute_s", 0.0)
    flops = counters.get("flops", 0.0)
    return {
        "experiment": name,
        "preset": preset,
        "config_hash": config_hash(config_json),
        "git_commit": git_commit(),
        "versions": versions(),
        "devices": [str(d) for d in jax.devices()],
        "device_kind": jax.devices()[0].device_kind,
        "platform": platform.platform(),
        "wall_s": round(wall_s, 3),
        "compile_s": round(counters.get("compile_s", 0.0), 3),  # summed over threads
        "compile_wall_s": round(counters.get("compile_wall_s", counters.get("compile_s", 0.0)), 3),  # while any compile ran
        "n_compiles": counters.get("compiles", 0),  # programs built: XLA compiles + persistent-cache loads
        "n_cache_hits": counters.get("cache_hits", 0),  # of which loaded from the persistent cache
        "compile_cache": counters.get("compile_cache"),
        "execute_s": round(execute_s, 3),
        "flops": flops,
        "achieved_flops_per_s": (flops / execute_s) if execute_s > 0 else None,
    }

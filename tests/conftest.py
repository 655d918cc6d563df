"""Shared fixtures: each experiment's smoke preset is run once per test session."""

from __future__ import annotations

from experiments.kit import fastcompile

fastcompile.enable()  # before JAX is imported: smoke runs are compile-bound

import pytest

from experiments.kit import config as kit_config
from experiments.kit import perf, registry

perf.enable_compile_cache()  # the project's persistent cache; SUITE_COMPILE_CACHE=off disables it


@pytest.fixture(scope="session")
def smoke():
    """``smoke(name) -> Result`` of ``experiments.<name>.run`` on its smoke preset (cached)."""
    cache = {}

    def get(name: str):
        if name not in cache:
            config = kit_config.validate(registry.config(name, "smoke"))
            cache[name] = registry.module(name).run(config)
        return cache[name]

    return get

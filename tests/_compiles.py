"""How many programs an experiment's smoke run builds in a fresh process (issue 16's compile pins)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def smoke_compiles(name: str) -> int:
    """``perf.compile_count()`` after ``run`` on the smoke preset, fresh process, no persistent cache,
    at the tests' fast-compile level (the count does not depend on the level)."""
    code = (
        "from experiments.kit import fastcompile\nfastcompile.enable()\n"
        "from experiments.kit import config as kc, perf, registry\n"
        f"c = kc.validate(registry.config({name!r}, 'smoke'))\nregistry.module({name!r}).run(c)\n"
        "print(perf.compile_count())"
    )
    env = {**os.environ, "SUITE_COMPILE_CACHE": "off"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.strip().splitlines()[-1])

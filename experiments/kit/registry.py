"""The experiments of the suite, discovered: every module ``experiments/<name>.py`` that has a
config ``configs/<name>.py``. Helper modules without a config of their own are not experiments.

Adding an experiment is one module plus ``configs/<name>.py``; scripts and tests find it here.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def names() -> list[str]:
    """Experiment module names, sorted."""
    import experiments

    modules = (m.name for m in pkgutil.iter_modules(experiments.__path__) if not m.ispkg and not m.name.startswith("_"))
    return sorted(name for name in modules if (ROOT / "configs" / f"{name}.py").exists())


def module(name: str):
    """The experiment module ``experiments.<name>``."""
    if name not in names():
        raise ValueError(f"unknown experiment {name!r}; valid: {', '.join(names())}")
    return importlib.import_module(f"experiments.{name}")


def config(name: str, preset: str = "default"):
    """``configs/<name>.py:get_config(preset)``, loaded the way the CLI loads it."""
    spec = importlib.util.spec_from_file_location(f"configs_{name}", ROOT / "configs" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.get_config(preset)

"""The experiments of the suite, discovered: every package ``experiments/<name>/`` that has a
config ``configs/<name>.py``. The package's ``EXPERIMENT`` is its :class:`kit.Experiment`.

Adding an experiment is one package plus ``configs/<name>.py``; scripts and tests find it here.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Packages that decide no claim (measurement cards): run by their own command, not by scripts/reproduce,
# scripts/regression, the ledger or the claim tests. experiments.scorecard scores one activation.
TOOLS = ("scorecard",)


def names() -> list[str]:
    """Experiment module names (claim experiments; :data:`TOOLS` left out), sorted."""
    import experiments

    modules = (m.name for m in pkgutil.iter_modules(experiments.__path__)
               if m.ispkg and m.name != "kit" and m.name not in TOOLS and not m.name.startswith("_"))
    return sorted(name for name in modules if (ROOT / "configs" / f"{name}.py").exists())


def module(name: str):
    """The experiment module ``experiments.<name>``."""
    if name not in names():
        raise ValueError(f"unknown experiment {name!r}; valid: {', '.join(names())}")
    return importlib.import_module(f"experiments.{name}")


def experiment(name: str):
    """The :class:`~experiments.kit.experiment.Experiment` of ``experiments.<name>``."""
    return module(name).EXPERIMENT


def config(name: str, preset: str = "default"):
    """``configs/<name>.py:get_config(preset)``, loaded the way the CLI loads it."""
    spec = importlib.util.spec_from_file_location(f"configs_{name}", ROOT / "configs" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.get_config(preset)

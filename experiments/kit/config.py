"""Locked experiment configs and the validation every experiment shares (issue 17).

A config is an ``ml_collections.ConfigDict`` returned by ``configs/<name>.py:get_config(preset)``.
It is locked, so an unknown key is an error. Every value is then checked by its *meaning*, before
any work: :data:`DOMAINS` maps key names to a :class:`Domain` (a whole number >= 1, a finite
learning rate > 0, a fraction, an activation / initialiser / optimiser / loss / data set / part
name, a non-empty sequence of them ...), and a few rules relate keys to each other (a batch is
no larger than the data set it is drawn from, ``steps`` is a multiple of ``log_every``, ``*_lo <
*_hi``, a table per data set has an entry for every data set used). One table, no code per
experiment: a config that needs something else declares it beside its keys,

    # configs/<name>.py
    from experiments.kit import config as kc
    DOMAINS = {"h4.variants": kc.names("activation", seq=True, extra=("leaky_relu_big",))}

and its entries take precedence over the kit's. A pattern is a dotted suffix of the key's path;
each segment may hold ``fnmatch`` wildcards (``*_activation``, ``threshold.*``); the most specific
match wins (more segments, then more literal characters). A key no pattern matches still gets
the default checks: numbers finite, sequences non-empty. Errors are :class:`ConfigError`, one line.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Mapping
from pathlib import Path

import ml_collections

from . import checks
from .domains import (  # noqa: F401 (re-exported: configs write kc.names(...), kc.count(...))
    DOMAINS,
    NAME_KINDS,
    PENDING,
    PRESETS,
    ConfigError,
    Domain,
    anything,
    count,
    finite,
    fraction,
    lookup,
    names,
    non_negative,
    per_dataset,
    positive,
    real,
    text,
)


def preset_name(arg: str | None) -> str:
    """Normalise the ``:preset`` suffix of ``--config``; the empty suffix is ``default``."""
    name = (arg or "default").strip() or "default"
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; valid presets: {', '.join(PRESETS)}")
    return name


def build(fields: dict, overrides: dict | None = None) -> ml_collections.ConfigDict:
    """A locked ConfigDict from ``fields`` with a preset's ``overrides`` applied (keys must exist)."""
    config = ml_collections.ConfigDict(fields)
    for key, value in (overrides or {}).items():
        node = config
        *parents, leaf = key.split(".")
        for part in parents:
            node = node[part]
        if leaf not in node:
            raise ConfigError(f"preset overrides unknown key {key!r}")
        node[leaf] = value
    config.lock()
    return config


def _config_module(config_file: str | Path | None):
    """The module of a config file (``path[:preset]``); None when it cannot be read (cached per file version)."""
    path = Path(str(config_file or "").split(":", 1)[0])
    if not config_file or not path.is_file():
        return None
    stat = path.stat()
    return _load_module(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_module(path: str, mtime_ns: int, size: int):
    spec = importlib.util.spec_from_file_location(f"_config_{Path(path).stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001 (the config was already loaded once; a failure there is reported there)
        return None
    return module


def config_domains(config_file: str | Path | None) -> dict[str, Domain]:
    """The ``DOMAINS`` a config file declares (``{}`` when it declares none or cannot be read)."""
    module = _config_module(config_file)
    return dict(getattr(module, "DOMAINS", {}) or {}) if module is not None else {}


def preset_config(config_file: str | Path | None):
    """The config as its file gives it for the preset named after ``:`` (no overrides); None on failure."""
    module = _config_module(config_file)
    preset = str(config_file).split(":", 1)[1] if ":" in str(config_file or "") else None
    try:
        return module.get_config(preset) if module is not None else None
    except Exception:  # noqa: BLE001 (as above)
        return None


def validate(config: ml_collections.ConfigDict, experiment=None, domains: Mapping[str, Domain] | None = None,
             parts: Iterable[str] | None = None, resolve_user_activations: bool = True,
             like: ml_collections.ConfigDict | None = None) -> ml_collections.ConfigDict:
    """Check every value of ``config`` by its meaning; raise :class:`ConfigError` with one line.

    ``experiment``: an :class:`~experiments.kit.experiment.Experiment` or its name (its parts,
    its config's ``DOMAINS`` and any :data:`PENDING` entry); ``domains``: the config file's own
    ``DOMAINS`` (default: those of ``configs/<name>.py``). Nothing is trained or compiled; a
    user activation ``module:function`` is imported and checked (``acts.resolve``), and each data
    set named is checked to be installed and readable (``data.check``). With
    ``resolve_user_activations=False`` a ``module:function`` name is taken as it is (no JAX work:
    ``scripts/distributed`` checks configs before joining the cluster, then again after).
    ``like``: the preset as its file gives it; a sequence must then hold items of the kind the
    preset's holds (what catches a mistyped value of a key no domain covers).
    """
    name = experiment if isinstance(experiment, str) or experiment is None else experiment.name
    if parts is None and experiment is not None and not isinstance(experiment, str):
        parts = tuple(experiment.measurements)
    if domains is None and name is not None:
        from .registry import ROOT

        domains = config_domains(ROOT / "configs" / f"{name}.py")
    tables = [dict(domains or {}), PENDING.get(name, {}), DOMAINS]
    checker = checks.Checker(config, tables, tuple(parts) if parts is not None else None, resolve_user_activations)
    preset_values = dict(checks.walk(like)) if like is not None else {}
    for path, value in checks.walk(config):
        dom = None if path.split(".")[0] in checks.SKIP else lookup(path, tables, kinds=("int", "real", "name", "text", "any"))
        checker.value_ok(path, value, dom or Domain("any"))
        checker.like_ok(path, value, preset_values.get(path))
        if dom is not None and dom.within:
            checker.within_ok(path, value, dom)
    checks.check_relations(config, checker)
    return config

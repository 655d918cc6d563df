"""Locked experiment configs and the validation every experiment shares.

A config is an ``ml_collections.ConfigDict`` returned by ``configs/<name>.py:get_config(preset)``.
It is locked, so an unknown key is an error. Values are validated by key name (``validate``),
so each experiment gets the same one-line errors for impossible values without writing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import ml_collections

import acts

from . import inits


class ConfigError(ValueError):
    """An impossible or unknown config value; the CLI prints it as one line."""


PRESETS = ("smoke", "default", "paper")


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


def _positive(v) -> bool:
    return v > 0


def _at_least_one(v) -> bool:
    return v >= 1


def _non_negative(v) -> bool:
    return v >= 0


def _fraction(v) -> bool:
    return 0 <= v <= 1


# Key-name rules: a key whose last segment matches is checked elementwise (lists included).
_RULES: dict[str, tuple[Callable, str]] = {
    "depth": (_at_least_one, "must be >= 1"),
    "depths": (_at_least_one, "must be >= 1"),
    "width": (_at_least_one, "must be >= 1"),
    "widths": (_at_least_one, "must be >= 1"),
    "seeds": (_at_least_one, "must be >= 1"),
    "n_seeds": (_at_least_one, "must be >= 1"),
    "steps": (_at_least_one, "must be >= 1"),
    "batch_size": (_at_least_one, "must be >= 1"),
    "batch_sizes": (_at_least_one, "must be >= 1"),
    "log_every": (_at_least_one, "must be >= 1"),
    "lr": (_positive, "must be > 0"),
    "learning_rate": (_positive, "must be > 0"),
    "learning_rates": (_positive, "must be > 0"),
    "lrs": (_positive, "must be > 0"),
    "weight_scale": (_non_negative, "must be >= 0"),
    "weight_scales": (_non_negative, "must be >= 0"),
    "n_train": (_at_least_one, "must be >= 1"),
    "n_eval": (_at_least_one, "must be >= 1"),
    "alpha": (_fraction, "must be in [0, 1]"),
    "confidence": (_fraction, "must be in [0, 1]"),
}


def _as_list(value) -> list:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _walk(config: ml_collections.ConfigDict, prefix: str = "") -> Iterable[tuple[str, str, object]]:
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, ml_collections.ConfigDict):
            yield from _walk(value, path + ".")
        else:
            yield path, key, value


def validate(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """Check every value by its key name; raise ``ConfigError`` with one clear line.

    Rules: depths, widths, seeds, steps, batch sizes >= 1; learning rates > 0; weight scales
    >= 0; ``activation(s)`` must be registered in :mod:`acts`; ``init(s)`` in :mod:`inits`;
    ``dataset`` must be a known data set name.
    """
    from . import data  # local import: data imports nothing from here, but keep config light

    for path, key, value in _walk(config):
        if key in _RULES:
            check, message = _RULES[key]
            for item in _as_list(value):
                if isinstance(item, bool) or not isinstance(item, (int, float)):
                    raise ConfigError(f"config.{path} = {value!r}: expected a number")
                if not check(item):
                    raise ConfigError(f"config.{path} = {value!r}: {message}")
        elif key in ("activation", "activations"):
            for item in _as_list(value):
                try:
                    acts.resolve(item)
                except ValueError as err:
                    raise ConfigError(f"config.{path}: {err}") from None
        elif key in ("init", "inits"):
            for item in _as_list(value):
                if item not in inits.names():
                    raise ConfigError(
                        f"config.{path}: unknown initialiser {item!r}; valid names: {', '.join(inits.names())}"
                    )
        elif key in ("dataset", "datasets"):
            for item in _as_list(value):
                if item not in data.names():
                    raise ConfigError(
                        f"config.{path}: unknown data set {item!r}; valid names: {', '.join(data.names())}"
                    )
    return config

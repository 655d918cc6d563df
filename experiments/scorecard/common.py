"""Names shared by the scorecard's sections: which activations, which init each gets, the folder name."""

from __future__ import annotations

import re

import ml_collections

import acts

BOUNDED_INIT, UNBOUNDED_INIT = "xavier_normal", "he_normal"  # DECISIONS.md R6's customary inits
NAMED_INITS = {"selu": "lecun_normal"}


def activations(config: ml_collections.ConfigDict) -> list[str]:
    """The scored activation first, then the references (each once)."""
    return list(dict.fromkeys((config.activation, *config.references)))


def customary_init(name: str, rule: str = "auto") -> str:
    """R6: lecun_normal for SELU, Xavier where the activation is bounded on both sides, He otherwise.

    ``rule`` other than ``"auto"`` is one initialiser name used for every activation.
    """
    if rule != "auto":
        return rule
    if name in NAMED_INITS:
        return NAMED_INITS[name]
    p = acts.properties.properties(name)
    return BOUNDED_INIT if p.bounded_below and p.bounded_above else UNBOUNDED_INIT


def inits(config: ml_collections.ConfigDict) -> dict[str, str]:
    """activation -> its initialiser, for every scored activation."""
    return {a: customary_init(a, config.init_rule) for a in activations(config)}


def file_safe(spec: str) -> str:
    """A folder name for an activation: ``mypkg.acts:softclip[:d]`` -> ``mypkg.acts.softclip``."""
    module, _, rest = spec.partition(":")
    stem = f"{module}.{rest.partition(':')[0]}" if rest else module
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "activation"


def short(name: str) -> str:
    """A label for figures: ``mypkg.acts:softclip[:d]`` -> ``softclip``; registered names unchanged."""
    return name.split(":")[1] if ":" in name else name

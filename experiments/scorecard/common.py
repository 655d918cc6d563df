"""Names shared by the scorecard's sections: which activations, which init each gets, the folder name."""

from __future__ import annotations

import functools
import re

import ml_collections
import numpy as np

import acts
from experiments.kit import meanfield

BOUNDED_INIT, UNBOUNDED_INIT = "xavier_normal", "he_normal"  # DECISIONS.md R6's customary inits
NAMED_INITS = {"selu": "lecun_normal"}


def activations(config: ml_collections.ConfigDict) -> list[str]:
    """The scored activation first, then the references (each once)."""
    return list(dict.fromkeys((config.activation, *config.references)))


def customary_init(name: str, rule: str = "auto") -> str:
    """R6's customary init: lecun_normal for SELU, Xavier where a registered activation is bounded on both
    sides (tanh, sigmoid, softsign), He otherwise (the ReLU family); for an activation of the user's own,
    which has no custom, the one of Xavier and He whose mean-field chi_1 is nearer 1 (|ln chi_1| smaller).

    ``rule`` other than ``"auto"`` is one initialiser name used for every activation.
    """
    if rule != "auto":
        return rule
    if name in NAMED_INITS:
        return NAMED_INITS[name]
    if acts.user.is_user_spec(name):
        chi = {init: meanfield.mean_field(name, s2, 0.0).chi_1 for init, s2 in ((BOUNDED_INIT, 1.0), (UNBOUNDED_INIT, 2.0))}
        return min(chi, key=lambda init: abs(np.log(chi[init])) if chi[init] > 0 else np.inf)
    p = acts.properties.properties(name)
    return BOUNDED_INIT if p.bounded_below and p.bounded_above else UNBOUNDED_INIT


@functools.cache
def _inits(names: tuple[str, ...], rule: str) -> tuple[tuple[str, str], ...]:
    return tuple((a, customary_init(a, rule)) for a in names)


def inits(config: ml_collections.ConfigDict) -> dict[str, str]:
    """activation -> its initialiser, for every scored activation."""
    return dict(_inits(tuple(activations(config)), config.init_rule))


def file_safe(spec: str) -> str:
    """A folder name for an activation: ``mypkg.acts:softclip[:d]`` -> ``mypkg.acts.softclip``."""
    module, _, rest = spec.partition(":")
    stem = f"{module}.{rest.partition(':')[0]}" if rest else module
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "activation"


def short(name: str) -> str:
    """A label for figures: ``mypkg.acts:softclip[:d]`` -> ``softclip``; registered names unchanged."""
    return name.split(":")[1] if ":" in name else name

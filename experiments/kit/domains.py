"""The domains of config values: what each key may hold, by its name (issue 17).

:data:`DOMAINS` maps key names to a :class:`Domain`; :mod:`experiments.kit.checks` applies them
(``kit.config.validate`` is the entry point). A pattern is a dotted suffix of a key's path whose
segments may hold ``fnmatch`` wildcards (``*_activation``, ``threshold.*``); the most specific
match wins (more segments, then more literal characters). A config declares its own in
``configs/<name>.py`` as ``DOMAINS = {pattern: domain}``, built with the helpers below
(``kc.names("activation", seq=True, extra=("leaky_relu_big",))``, ``kc.count()``, ``kc.fraction()``
...); its entries take precedence over the kit's.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping


class ConfigError(ValueError):
    """An impossible or unknown config value; the CLI prints it as one line."""


PRESETS = ("smoke", "default", "paper")


@dataclasses.dataclass(frozen=True)
class Domain:
    """What a config value may be.

    ``kind``: ``int`` (whole numbers), ``real`` (finite numbers), ``name`` (one of ``names``: a
    name kind of :data:`NAME_KINDS` or a tuple of choices, plus ``extra``), ``text`` (any string),
    ``any`` (only the default checks), ``per_dataset`` (a ConfigDict with an entry per data set
    used; its leaves are checked by their own patterns). ``shape``: ``scalar``, ``seq`` or ``any``.
    Numbers lie in [lo, hi] (``lo_open``/``hi_open`` exclude the bound); a sequence is non-empty
    unless ``empty_ok``, has distinct items when ``unique``, ``length`` items when given, and is
    strictly increasing when ``increasing``; ``item`` is the domain of each item when the items
    are themselves sequences. ``within``: keys (looked up in the value's own section, then its
    parents', like Python names) whose values must include each of this value's items.
    """

    kind: str = "any"
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    names: str | tuple[str, ...] | None = None
    extra: tuple[str, ...] = ()
    shape: str = "any"
    empty_ok: bool = False
    unique: bool = False
    length: int | None = None
    increasing: bool = False
    nonzero: bool = False
    item: Domain | None = None
    within: tuple[str, ...] = ()

    def describe(self) -> str:
        """The domain in words (error messages): "a whole number >= 1", "a sequence of activation names"."""
        many = self.shape == "seq"
        if self.kind in ("int", "real"):
            what = ("whole number" if self.kind == "int" else "finite number") + ("s" if many else "")
        elif self.kind == "name" and isinstance(self.names, str):
            what = f"{self.names} name" + ("s" if many else "")
        elif self.kind == "name":
            what = ("values" if many else "one") + " of " + ", ".join(self.choices())
        else:
            what = "values" if many else "value"
        bounds = []
        if self.lo is not None:
            bounds.append(f"{'>' if self.lo_open else '>='} {self.lo:g}")
        if self.hi is not None:
            bounds.append(f"{'<' if self.hi_open else '<='} {self.hi:g}")
        if self.nonzero:
            bounds.append("!= 0")
        text = what + (" " + " and ".join(bounds) if bounds else "")
        if many:
            return "a sequence of " + text
        return text if text.startswith("one of") else ("an " if text[0] in "aeiou" else "a ") + text

    def choices(self) -> tuple[str, ...]:
        names = () if isinstance(self.names, str) or self.names is None else tuple(self.names)
        return names + tuple(self.extra)


def _shape(seq: bool | None) -> str:
    return "any" if seq is None else ("seq" if seq else "scalar")


def count(minimum: int = 1, seq: bool | None = False, **kw) -> Domain:
    """A whole number >= ``minimum`` (sizes, steps, seeds, depths)."""
    return Domain("int", lo=minimum, shape=_shape(seq), **kw)


def real(lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False,
         seq: bool | None = False, **kw) -> Domain:
    """A finite number in [lo, hi] (an open bound with ``lo_open``/``hi_open``)."""
    return Domain("real", lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open, shape=_shape(seq), **kw)


def positive(seq: bool | None = False, **kw) -> Domain:
    """A finite number > 0 (learning rates, scales, ratios)."""
    return real(0.0, lo_open=True, seq=seq, **kw)


def non_negative(seq: bool | None = False, **kw) -> Domain:
    """A finite number >= 0 (tolerances, margins, variances)."""
    return real(0.0, seq=seq, **kw)


def fraction(seq: bool | None = False, **kw) -> Domain:
    """A number in [0, 1] (thresholds on fractions, accuracies, probabilities)."""
    return real(0.0, 1.0, seq=seq, **kw)


def finite(seq: bool | None = False, **kw) -> Domain:
    """Any finite number (log ratios, input ranges, shifts)."""
    return real(seq=seq, **kw)


def names(kind: str | tuple[str, ...], seq: bool | None = False, extra: tuple[str, ...] = (), **kw) -> Domain:
    """A name of ``kind`` (see :data:`NAME_KINDS`), or one of the given choices; ``extra`` adds choices."""
    if isinstance(kind, str) and kind not in NAME_KINDS:
        raise ValueError(f"unknown name kind {kind!r}; valid: {', '.join(NAME_KINDS)}")
    unique = kw.pop("unique", bool(seq))
    return Domain("name", names=kind, extra=tuple(extra), shape=_shape(seq), unique=unique, **kw)


def text(seq: bool | None = False, **kw) -> Domain:
    """Any string (labels)."""
    return Domain("text", shape=_shape(seq), **kw)


def anything(**kw) -> Domain:
    """No check beyond the defaults (finite numbers)."""
    return Domain("any", empty_ok=True, **kw)


def per_dataset(**kw) -> Domain:
    """A section with one entry per data set used (e.g. ``criteria.threshold.<data set>``)."""
    return Domain("per_dataset", **kw)


NAME_KINDS = ("activation", "initializer", "optimizer", "loss", "dataset", "scaling", "part", "preset")

_ACT, _ACTS = names("activation"), names("activation", seq=True)
_COUNT, _COUNTS = count(), count(seq=True)

# The kit's table: key name (dotted suffix, fnmatch segments) -> domain. Read top to bottom by kind.
DOMAINS: dict[str, Domain] = {
    # names, wherever they occur
    "preset": names("preset"),
    "parts": names("part", seq=True),
    **{k: _ACT for k in ("activation", "*_activation", "baseline", "reference", "derived_for")},
    **{k: _ACTS for k in ("activations", "*_activations", "nonlinear", "named", "bounded", "expensive", "exponential")},
    **{k: names("activation", seq=True, empty_ok=True) for k in ("excluded", "*_excludes", "extra.activations")},
    **{k: names("initializer") for k in ("init", "initializer", "*_init", "*_initializer")},
    **{k: names("initializer", seq=True, unique=False) for k in ("inits", "initializers", "*_inits")},
    **{k: names("optimizer") for k in ("optimizer", "*_optimizer")},
    "optimizers": names("optimizer", seq=True),
    "loss": names("loss"),
    "losses": names("loss", seq=True),
    **{k: names("dataset") for k in ("dataset", "*_dataset")},
    "datasets": names("dataset", seq=True),
    "cnn.datasets": names("dataset", seq=True, empty_ok=True),  # a preset may leave the CNN out
    "scaling": names("scaling"),
    "scalings": names("scaling", seq=True),
    "labels": text(seq=True),
    # whole numbers: sizes, counts, steps (>= 1), seed and skips (>= 0)
    **{k: _COUNT for k in (
        "seeds", "steps", "*_steps", "width", "depth", "hidden_layers", "batch_size", "*_batch_size", "fit_batch",
        "log_every", "n_*", "*_n", "reps", "*_per_rep", "*_per_seed", "*_per_line", "*_per_call", "*_per_rep.*",
        "max_batches", "max_depth", "jac_examples", "jac_layers", "hist_bins", "softmax_vectors", "softmax_dim",
        "rrelu_draws", "maxout_width", "fit_width", "fit_depth", "fit_nets", "input_dim", "min_datasets",
        "narrow_width", "narrow_depth", "minibatch", "*_points", "*_width", "*_depth", "n_init", "*_n_*", "map_batch", "*_length",
    )},
    **{k: _COUNTS for k in (
        "widths", "*_widths", "depths", "channels", "cnn_channels", "batch_sizes", "*_batch_sizes", "maxout_ks",
    )},
    "fashion_sizes": count(seq=True, empty_ok=True),  # optional extra training-set sizes
    **{k: count(0) for k in ("seed", "fit_skip", "*_extensions")},
    # learning rates, scales, variances
    **{k: positive() for k in ("learning_rate", "*_learning_rate", "lr", "weight_scale", "*_lr_scale", "elu_alpha",
                               "rrelu_lower", "rrelu_upper", "*_rrelu_lower", "*_rrelu_upper", "*_sigma_w2")},
    **{k: positive(seq=True) for k in ("learning_rates", "*_learning_rates", "lrs", "weight_scales", "sigma_w2",
                                       "*_betas", "*_scales")},
    **{k: non_negative() for k in ("sigma_b2", "bias_std", "*_std", "logistic_l2", "*_l2")},
    **{k: fraction() for k in ("*_alpha",)},  # leaky / PReLU slopes
    "momentum": real(0.0, 1.0, hi_open=True),
    "linear_c": finite(nonzero=True),
    "censor_factor": real(1.0),
    "x_range": positive(seq=True, length=2, increasing=True),
    "edges": finite(seq=True),
    "w_star": finite(seq=True),
    "shift": finite(),
    # criteria: tolerances and margins >= 0, fractions in [0, 1], ratios > 0, log ratios any sign
    **{k: non_negative() for k in ("*tol", "*tol64", "tolerance", "*margin", "steady", "vanish_explode",
                                   "step_negligible", "step_large", "*_decades")},
    **{k: fraction() for k in (
        "*_fraction", "max_fraction_of_bound", "trainable_acc", "min_agreement", "*_dead", "min_dead", "max_dead",
        "max_revival", "max_born_dead", "min_lr_effect", "dead_threshold", "min_narrow_p", "ks_p_min",
        "max_abs_corr", "all_high", "min_rel_drop", "saturation_rise", "exact_min", "minibatch_min",
        "centring_share_min", "stall_drop", "holds_below", "nonconvex_rate_lo", "threshold.*", "*_bound", "censor_*",
        "majority", "*_share",
    )},
    **{k: real(0.0, 1.0, lo_open=True, hi_open=True) for k in ("alpha", "confidence")},
    **{k: positive() for k in ("*_ratio", "ratio_*", "min_speedup", "bound", "max_slope", "multiple_of_xi",
                               "monotone_range", "target", "target_loss", "targets.*", "half_range.*")},
    **{k: finite() for k in ("*log10_ratio", "*_lo", "*_hi")},
    # tables with one entry per data set used
    **{k: per_dataset() for k in ("threshold", "targets", "half_range")},
    # published numbers are quoted, not used
    "published.*": anything(),
}

# Keys of a batch drawn from a data set (checked against the data set's size, see _check_batches).
BATCH_KEYS = ("batch_size", "batch_sizes", "*_batch_size", "*_batch_sizes")
SKIP = ("published",)  # sections not checked beyond the defaults

# Domains of experiment-specific keys that the experiments' configs do not declare yet (issue 17:
# each belongs in that config's DOMAINS, which take precedence; remove an entry once its config has it).
PENDING: dict[str, dict[str, Domain]] = {
    "convergence": {
        "h4.variants": names("activation", seq=True, extra=("leaky_relu_big",)),
        "extra.datasets": names("dataset", seq=True, empty_ok=True),
    },
    "cost": {
        **{k: names("activation", within=("activations", "step_activations")) for k in ("reference", "floor")},
        "reported": names("activation", seq=True, empty_ok=True),
    },
    "vanishing": {
        "criteria.d4.layer": names(("top", "bottom")),
        "depth_sweep.inits": names("initializer", seq=True, unique=False),
    },
    "zigzag": {
        "e2.scalings": names("scaling", seq=True, extra=("raw_centred",)),
        "e2.centring_pairs": Domain("name", names="scaling", extra=("raw_centred",), shape="seq",
                                    item=names("scaling", seq=True, extra=("raw_centred",), length=2),
                                    within=()),
    },
    "scorecard": {
        "references": names("activation", seq=True),
        "activation_init": names("initializer", extra=("auto",)),
        "init_rule": names("initializer", extra=("auto",)),
        "search_lo": positive(),
        "search_hi": positive(),
    },
}


@functools.cache
def _pattern(pattern: str) -> tuple:
    """A pattern's segments as compiled matchers, last segment first (the cheap rejection)."""
    return tuple(re.compile(fnmatch.translate(s)).match for s in reversed(pattern.split(".")))


def _segments_match(pattern: str, path: tuple[str, ...]) -> bool:
    matchers = _pattern(pattern)
    return len(matchers) <= len(path) and all(m(s) for m, s in zip(matchers, reversed(path), strict=False))


def _specificity(pattern: str) -> tuple[int, int]:
    return len(pattern.split(".")), sum(c not in "*?[]" for c in pattern)


_INDEX: dict[int, tuple[Mapping, dict, list]] = {}


def _index(table: Mapping[str, Domain]) -> tuple[dict, list]:
    """Patterns by literal last segment, and those whose last segment has a wildcard (cached per table)."""
    hit = _INDEX.get(id(table))
    if hit is not None and hit[0] is table:
        return hit[1], hit[2]
    literal: dict[str, list[str]] = {}
    wild = []
    for p in table:
        last = p.rsplit(".", 1)[-1]
        (wild.append(p) if any(c in last for c in "*?[") else literal.setdefault(last, []).append(p))
    if len(_INDEX) > 64:
        _INDEX.clear()
    _INDEX[id(table)] = (table, literal, wild)
    return literal, wild


def lookup(path: str, tables: Iterable[Mapping[str, Domain]], kinds: tuple[str, ...] | None = None) -> Domain | None:
    """The domain of ``path`` (dotted): the most specific match of the first table that has one."""
    segments = tuple(path.split("."))
    for table in tables:
        literal, wild = _index(table)
        candidates = literal.get(segments[-1], []) + wild
        found = [p for p in candidates if (kinds is None or table[p].kind in kinds) and _segments_match(p, segments)]
        if found:
            return table[max(found, key=_specificity)]
    return None

"""Applying the domains of :mod:`experiments.kit.domains` to a config, and the rules between keys.

Per value: its shape (one value or a sequence), emptiness, type, finiteness, bounds, names (an
activation is resolved by ``acts.resolve``, so ``module:function`` works; a data set must be
installed and readable, ``data.check``). Between keys: a batch is no larger than the training set
it is drawn from (the data sets its section names, else the nearest enclosing section's, capped
by the nearest ``n_train``); ``steps`` is a multiple of the nearest ``log_every``; ``x_lo < x_hi``
and ``x_lower <= x_upper``; a table per data set has an entry for every data set the config uses.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
from collections.abc import Iterable

import ml_collections

import acts

from . import inits
from .domains import BATCH_KEYS, PRESETS, SKIP, ConfigError, Domain, lookup


def walk(config: ml_collections.ConfigDict, prefix: str = "") -> Iterable[tuple[str, object]]:
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, ml_collections.ConfigDict):
            yield from walk(value, path + ".")
        else:
            yield path, value


def _nodes(config: ml_collections.ConfigDict, prefix: str = "") -> Iterable[tuple[str, ml_collections.ConfigDict]]:
    yield prefix.rstrip("."), config
    for key, value in config.items():
        if isinstance(value, ml_collections.ConfigDict):
            yield from _nodes(value, f"{prefix}{key}.")


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _fail(path: str, value, problem: str) -> None:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    raise ConfigError(f"config.{path} = {shown}: {problem}")


class Checker:
    """One validation: the domains in force, the experiment's parts, and the data sets seen."""

    def __init__(self, config, tables, parts, resolve_user_activations: bool = True):
        self.config, self.tables, self.parts = config, tables, parts
        self.resolve_user = resolve_user_activations
        self.checked_data: set[str] = set()

    def name_ok(self, path: str, item, dom: Domain) -> None:
        if not isinstance(item, str) or not item.strip():
            _fail(path, item, f"expected {dom.describe()}")
        if item in dom.choices():
            return
        kind = dom.names if isinstance(dom.names, str) else None
        if kind is None:
            raise ConfigError(f"config.{path}: unknown value {item!r}; valid: {', '.join(dom.choices())}")
        valid = self.valid_names(kind)
        if kind == "activation":
            if item.strip() != item:
                _fail(path, item, "an activation name has no spaces around it")
            if not self.resolve_user and acts.user.is_user_spec(item):
                return
            try:
                acts.resolve(item)
            except ValueError as err:
                raise ConfigError(f"config.{path}: {' '.join(str(err).split())}") from None
            return
        if kind == "part" and valid is None:
            return  # no experiment given: its parts are checked when it runs
        if item not in valid:
            label = {"initializer": "initialiser", "optimizer": "optimiser", "dataset": "data set"}.get(kind, kind)
            raise ConfigError(f"config.{path}: unknown {label} {item!r}; valid names: {', '.join(list(valid) + list(dom.extra))}")
        if kind == "dataset":
            self.data_ok(path, item)

    def valid_names(self, kind: str):
        from . import data, train  # local: train imports JAX models; data nothing from here

        return {
            "initializer": inits.names(), "optimizer": train.OPTIMIZERS, "loss": train.LOSSES, "dataset": data.names(),
            "scaling": data.SCALINGS, "preset": PRESETS, "part": self.parts,
        }.get(kind)

    def data_ok(self, path: str, name: str) -> None:
        from . import data

        if name in self.checked_data:
            return
        self.checked_data.add(name)
        try:
            data.check(name)
        except (data.DataMissing, data.DataError) as err:
            raise ConfigError(f"config.{path}: {' '.join(str(err).split())}") from None

    def number_ok(self, path: str, item, dom: Domain, whole: object) -> None:
        if not _is_number(item):
            _fail(path, whole, f"expected {dom.describe() if dom.kind in ('int', 'real') else 'a number'}")
        if not math.isfinite(item):
            _fail(path, whole, "must be finite")
        if dom.kind == "int" and not isinstance(item, int):
            _fail(path, whole, f"expected {dom.describe()}")
        if dom.lo is not None and (item < dom.lo or (dom.lo_open and item == dom.lo)):
            _fail(path, whole, f"must be {'>' if dom.lo_open else '>='} {dom.lo:g}")
        if dom.hi is not None and (item > dom.hi or (dom.hi_open and item == dom.hi)):
            _fail(path, whole, f"must be {'<' if dom.hi_open else '<='} {dom.hi:g}")
        if dom.nonzero and item == 0:
            _fail(path, whole, "must not be 0")

    def item_ok(self, path: str, item, dom: Domain, whole) -> None:
        if dom.item is not None:
            self.value_ok(path, item, dom.item)
        elif dom.kind in ("int", "real"):
            self.number_ok(path, item, dom, whole)
        elif dom.kind == "name":
            self.name_ok(path, item, dom)
        elif dom.kind == "text":
            if not isinstance(item, str):
                _fail(path, whole, "expected text")
        elif _is_number(item) and not math.isfinite(item):
            _fail(path, whole, "must be finite")
        elif isinstance(item, (list, tuple)):
            self.value_ok(path, item, Domain("any", empty_ok=dom.empty_ok))

    def value_ok(self, path: str, value, dom: Domain) -> None:
        is_seq = isinstance(value, (list, tuple))
        if dom.shape == "scalar" and is_seq:
            _fail(path, value, f"expected one value ({dom.describe()}), not a sequence")
        if dom.shape == "seq" and not is_seq:
            _fail(path, value, f"expected a sequence such as ({value!r},) of {dom.describe()}")
        if not is_seq:
            self.item_ok(path, value, dom, value)
            return
        if not value and not dom.empty_ok:
            _fail(path, value, "must not be empty (declare the key empty_ok in the config's DOMAINS if empty means 'none')")
        if dom.length is not None and len(value) != dom.length:
            _fail(path, value, f"expected {dom.length} items")
        for item in value:
            self.item_ok(path, item, dom, value)
        if dom.unique and len({repr(v) for v in value}) != len(value):
            _fail(path, value, "lists an item twice")
        if dom.increasing and any(not b > a for a, b in itertools.pairwise(value)):
            _fail(path, value, "must be increasing")

    def resolve_key(self, path: str, key: str):
        """The value of ``key`` seen from the section of ``path``: its own section, then its parents'."""
        parents = path.split(".")[:-1]
        for depth in range(len(parents), -1, -1):
            node = self.config
            try:
                for part in parents[:depth] + key.split("."):
                    node = node[part]
            except (KeyError, AttributeError, TypeError):
                continue
            return node
        return None

    def like_ok(self, path: str, value, like) -> None:
        """Items of the kind the preset's own value holds: numbers for numbers, text for text (a key
        with no domain still cannot take ``('(nan,)',)``, which is what ``(nan,)`` parses to)."""
        if not isinstance(like, (list, tuple)) or not like or not isinstance(value, (list, tuple)):
            return
        kinds = {"number" if _is_number(v) else type(v).__name__ for v in like}
        if kinds == {"number"} and not all(_is_number(v) for v in value):
            _fail(path, value, f"expected numbers, as in the preset's {tuple(like)!r}")
        if kinds == {"str"} and not all(isinstance(v, str) for v in value):
            _fail(path, value, f"expected names, as in the preset's {tuple(like)!r}")
        if kinds <= {"tuple", "list"} and not all(isinstance(v, (list, tuple)) for v in value):
            _fail(path, value, f"expected a sequence of sequences, as in the preset's {tuple(like)!r}")

    def within_ok(self, path: str, value, dom: Domain) -> None:
        items = value if isinstance(value, (list, tuple)) else [value]
        for key in dom.within:
            pool = self.resolve_key(path, key)
            pool = pool if isinstance(pool, (list, tuple)) else [pool]
            missing = [i for i in items if i not in pool]
            if missing:
                _fail(path, value, f"{missing[0]!r} must also be in config.{key} = {tuple(pool)!r}")



# --- rules between keys ----------------------------------------------------------------------
_DATASET_KEYS = ("dataset", "datasets", "*_dataset")


def _datasets_in(node) -> list[str]:
    """Data set names under ``node`` (its criteria and published sections left out)."""
    found = []
    for path, value in walk(node):
        segments = path.split(".")
        if segments[0] in ("criteria", *SKIP) or not any(fnmatch.fnmatchcase(segments[-1], k) for k in _DATASET_KEYS):
            continue
        found += [v for v in (value if isinstance(value, (list, tuple)) else [value]) if isinstance(v, str)]
    return list(dict.fromkeys(found))


def _section(config, path: str):
    node = config
    for part in [p for p in path.split(".") if p]:
        node = node[part]
    return node


def _enclosing(path: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a", ""]``: a section and the ones around it, nearest first."""
    parts = [p for p in path.split(".") if p]
    return [".".join(parts[:depth]) for depth in range(len(parts), -1, -1)]


def _scope(config, section_path: str) -> list[str]:
    """The data sets a section's values apply to: those it names, else the nearest enclosing section's."""
    for path in _enclosing(section_path):
        found = _datasets_in(_section(config, path))
        if found:
            return found
    return []


def _nearest(config, section_path: str, key: str):
    """The value of ``key`` in the section or the nearest enclosing one that has it (None: none has)."""
    for path in _enclosing(section_path):
        node = _section(config, path)
        if key in node and not isinstance(node[key], ml_collections.ConfigDict):
            return node[key]
    return None


def _check_batches(config, section_path: str, node, where: str) -> None:
    """A batch is drawn from the (possibly subsampled) training set: no larger than it."""
    from . import data

    keys = [k for k in node if any(fnmatch.fnmatchcase(k, p) for p in BATCH_KEYS)]
    if not keys:
        return
    n_train = _nearest(config, section_path, "n_train")
    for ds in [d for d in _scope(config, section_path) if d in data.names()]:
        size = data.train_size(ds)
        limit = min(size, n_train) if _is_number(n_train) else size
        for key in keys:
            values = node[key] if isinstance(node[key], (list, tuple)) else [node[key]]
            big = [v for v in values if _is_number(v) and v > limit]
            if big:
                source = f"n_train = {n_train}" if limit < size else f"{ds} has {size} training examples"
                _fail(where + key, node[key], f"a batch of {big[0]} is larger than the training set ({source})")


def check_relations(config: ml_collections.ConfigDict, checker: Checker) -> None:
    for section_path, node in _nodes(config):
        top = section_path.split(".")[0]
        if top in SKIP:
            continue
        where = f"{section_path}." if section_path else ""
        if top != "criteria":
            _check_batches(config, section_path, node, where)
        # steps are logged every log_every steps
        if _is_number(node.get("steps")):
            every = _nearest(config, section_path, "log_every")
            if _is_number(every) and every >= 1 and node["steps"] % every:
                _fail(where + "steps", node["steps"], f"must be a multiple of log_every ({every})")
        # ranges: x_lo < x_hi, x_lower <= x_upper
        for key in node:
            for low, high, strict in (("_lo", "_hi", True), ("_lower", "_upper", False)):
                other = key[: -len(low)] + high
                if key.endswith(low) and other in node:
                    a, b = node[key], node[other]
                    if _is_number(a) and _is_number(b) and (a >= b if strict else a > b):
                        _fail(where + key, a, f"must be {'<' if strict else '<='} config.{where}{other} = {b!r}")
        # a table per data set has an entry for every data set used
        if section_path and lookup(section_path, checker.tables, kinds=("per_dataset",)) is not None:
            parent = section_path.rsplit(".", 1)[0] if "." in section_path else ""
            inside = parent and parent.split(".")[0] not in ("criteria", *SKIP)
            used = (_datasets_in(_section(config, parent)) if inside else []) or _datasets_in(config)
            missing = [d for d in used if d not in node]
            if missing:
                raise ConfigError(f"config.{section_path} has no entry for data set {missing[0]!r}, which this config uses; "
                                  f"add config.{section_path}.{missing[0]}")

"""Learning-rate sweeps of one arm (DECISIONS.md R6) and each use's best rate.

An *arm* is (model, data set, activation, init) trained for every seed at learning rates of one log grid
(``per_decade`` points per decade). :func:`extend` says where a block of ``per_decade`` more rates is
needed: beyond an edge of the rates tried where a best rate lies on that edge, and (C5) above the largest
rate tried while it still trains. The best rate of each use (speed, validation accuracy, loss, a target
loss) is a pure function of the arm's per-seed results, so tables and tests can recompute it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np


def round_lr(lr: float, per_decade: int = 3) -> float:
    """A rate on the log grid 10**(k / per_decade) as that grid point (4 significant digits); others rounded."""
    k = per_decade * math.log10(lr)
    return float(f"{10.0 ** (round(k) / per_decade) if abs(k - round(k)) < 0.05 else lr:.4g}")


@dataclasses.dataclass
class Arm:
    """Per-seed results of one arm at every learning rate tried (``results[lr]``: arrays over seeds)."""

    model: str
    dataset: str
    activation: str
    init: str
    init_scale: float
    threshold: float  # training error that counts as reached (criteria.threshold of the data set)
    steps: np.ndarray  # logged steps, step 0 included
    chance: float
    results: dict = dataclasses.field(default_factory=dict)
    more: dict = dataclasses.field(default_factory=dict)  # lr -> arrays of further seeds (the accuracy claims)

    def decided(self) -> Arm:
        """The arm at the rates that got further seeds, every seed together (the accuracy comparisons)."""
        both = {lr: {k: np.concatenate([self.results[lr][k], v]) for k, v in more.items()} for lr, more in self.more.items()}
        return dataclasses.replace(self, results={**self.results, **both}, more={})

    @property
    def lrs(self) -> list[float]:
        return sorted(self.results)

    @property
    def budget(self) -> int:
        return int(self.steps[-1])

    def get(self, lr: float, key: str) -> np.ndarray:
        """Per-seed ``key`` at ``lr``; ``final_loss`` is the last logged training loss."""
        return self.results[lr]["train_loss"][:, -1] if key == "final_loss" else self.results[lr][key]

    def diverged(self, lr: float) -> np.ndarray:
        return self.get(lr, "diverged")

    def first_below(self, lr: float, curve: str, target: float) -> np.ndarray:
        """Per seed, the first logged step where ``curve`` <= target (inf if never; NaN never counts)."""
        values = self.get(lr, curve)
        if curve == "train_acc":
            values = 1.0 - values
        reached = np.nan_to_num(values, nan=np.inf) <= target
        return np.where(reached.any(-1), self.steps[np.argmax(reached, -1)].astype(float), np.inf)

    def steps_to(self, lr: float) -> np.ndarray:
        """Steps to the training-error threshold per seed (inf: censored at this budget)."""
        return self.first_below(lr, "train_acc", self.threshold)

    def steps_to_loss(self, lr: float, target: float) -> np.ndarray:
        """Steps to a training loss <= target per seed (C4; inf: censored)."""
        return self.first_below(lr, "train_loss", target)

    def final_loss(self, lr: float) -> np.ndarray:
        return self.get(lr, "train_loss")[:, -1]

    def trains(self, lr: float, loss_fraction: float) -> np.ndarray:
        """C5 row: the final training loss is below ``loss_fraction`` of the initial one (diverged: no)."""
        loss = self.get(lr, "train_loss")
        return ~self.diverged(lr) & (np.nan_to_num(loss[:, -1], nan=np.inf) < loss_fraction * loss[:, 0])

    def learned(self, lr: float, margin: float) -> np.ndarray:
        """R8: final train accuracy >= chance + margin (diverged: no)."""
        return ~self.diverged(lr) & (np.nan_to_num(self.get(lr, "train_acc")[:, -1], nan=0.0) >= self.chance + margin)


def paired_arms(a: Arm, lr_a: float, b: Arm, lr_b: float) -> tuple[Arm, Arm]:
    """Both arms with every seed they have at their rates (:meth:`Arm.decided`), cut to the seeds both have."""
    a, b = a.decided(), b.decided()
    n = min(len(a.diverged(lr_a)), len(b.diverged(lr_b)))

    def cut(arm, lr):
        return dataclasses.replace(arm, results={**arm.results, lr: {k: v[:n] for k, v in arm.results[lr].items()}})

    return cut(a, lr_a), cut(b, lr_b)


def learned_diff(a: Arm, lr_a: float, b: Arm, lr_b: float, key: str, margin: float) -> tuple[np.ndarray, int]:
    """Per seed ``key`` of ``a`` minus ``b``; NaN where either run did not learn (R8), and how many such seeds."""
    ok = a.learned(lr_a, margin) & b.learned(lr_b, margin)
    d = np.asarray(a.get(lr_a, key), float) - np.asarray(b.get(lr_b, key), float)
    return np.where(ok, d, np.nan), int((~ok).sum())


def median_inf(values: np.ndarray) -> float:
    """Median with censored values as +inf (finite while fewer than half are censored)."""
    v = np.sort(np.asarray(values, float))
    n = len(v)
    return float(v[n // 2]) if n % 2 else float(0.5 * (v[n // 2 - 1] + v[n // 2]))


def _stable(arm: Arm) -> list[float]:
    return [lr for lr in arm.lrs if not arm.diverged(lr).any()]


def best_by_steps(arm: Arm, steps_of: Callable[[float], np.ndarray], bound_fraction: float) -> float | None:
    """Fastest stable rate: none of its seeds diverged; at most ``bound_fraction`` censored if any rate
    allows it (else the fewest censored); then the fewest median steps, then the lowest mean final loss."""
    def key(lr):
        s = steps_of(lr)
        censored = float(np.mean(~np.isfinite(s)))
        return (censored > bound_fraction, censored if censored > bound_fraction else 0.0, median_inf(s),
                float(np.nanmean(arm.final_loss(lr))))

    stable = _stable(arm)
    return min(stable, key=key) if stable else None


def best_speed(arm: Arm, bound_fraction: float) -> float | None:
    """The rate of H1, H3 (a) and C4's reference: fastest to the training-error threshold."""
    return best_by_steps(arm, arm.steps_to, bound_fraction)


def best_val(arm: Arm) -> float | None:
    """The rate of the accuracy claims: the highest mean validation accuracy among stable rates."""
    stable = _stable(arm)
    return max(stable, key=lambda lr: (float(np.mean(arm.get(lr, "val_acc"))), -lr)) if stable else None


def best_loss(arm: Arm, min_train_fraction: float, loss_fraction: float, seeds=None) -> float | None:
    """C5's rate: the lowest mean final training loss among rates where no seed diverged and at least
    ``min_train_fraction`` of the seeds train (``seeds``: a resample of seed indices, for bootstraps)."""
    idx = slice(None) if seeds is None else seeds
    ok = [lr for lr in arm.lrs if not arm.diverged(lr)[idx].any()
          and np.mean(arm.trains(lr, loss_fraction)[idx]) >= min_train_fraction]
    return min(ok, key=lambda lr: float(np.mean(arm.final_loss(lr)[idx]))) if ok else None


def max_training_lr(arm: Arm, min_train_fraction: float, loss_fraction: float, seeds=None) -> float | None:
    """C5 (a): the largest rate at which at least ``min_train_fraction`` of the seeds train (None: none)."""
    idx = slice(None) if seeds is None else seeds
    ok = [lr for lr in arm.lrs if np.mean(arm.trains(lr, loss_fraction)[idx]) >= min_train_fraction]
    return max(ok) if ok else None


def extend(arm: Arm, bests: list[float | None], train_edge: tuple[float, float] | None) -> list[str]:
    """Directions ("down", "up") in which the arm needs a block of rates (R6; C5's edge when ``train_edge`` =
    (min_train_fraction, loss_fraction) is given)."""
    lrs, want = arm.lrs, []
    if not _stable(arm):
        want.append("down")  # every rate diverged somewhere
    for best in bests:
        if best is not None and best == lrs[0]:
            want.append("down")
        if best is not None and best == lrs[-1]:
            want.append("up")
    if train_edge is not None and np.mean(arm.trains(lrs[-1], train_edge[1])) >= train_edge[0]:
        want.append("up")
    return list(dict.fromkeys(want))


def block(arm: Arm, direction: str, per_decade: int, lowest: float, highest: float) -> list[float]:
    """The next ``per_decade`` rates beyond an edge of the arm's rates, within [lowest, highest]."""
    edge = arm.lrs[0] if direction == "down" else arm.lrs[-1]
    sign = -1 if direction == "down" else 1
    k = per_decade * math.log10(edge)
    out = [round_lr(10.0 ** ((k + sign * j) / per_decade), per_decade) for j in range(1, per_decade + 1)]
    return [lr for lr in out if lowest * (1 - 1e-6) <= lr <= highest * (1 + 1e-6)]


def window(centre: float, per_decade: int) -> list[float]:
    """``per_decade`` rates of the grid centred on ``centre`` (a block: one call)."""
    k, half = per_decade * math.log10(centre), per_decade // 2
    return [round_lr(10.0 ** ((k + j) / per_decade), per_decade) for j in range(-half, per_decade - half)]

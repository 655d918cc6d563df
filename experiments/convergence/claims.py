"""The claims of experiments.convergence, in the ledger's order: H1, H3, H4, F5, C4, C5.

H1, H3 and C4 (steps to a training-error threshold) are in :mod:`.claims_speed`; F5, H4 and C5
(accuracy, train-test gap, stable learning rates) in :mod:`.claims_accuracy`.
"""

from __future__ import annotations

from .claims_accuracy import c5, f5, h4
from .claims_speed import c4, h1, h3

CLAIMS = (h1, h3, h4, f5, c4, c5)

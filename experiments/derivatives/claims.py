"""The claims of experiments.derivatives, in ledger order: B1-B12 (formulas), A2 and C2 (training).

Each claim is a pure function of the tables of the measure modules and the config's criteria;
the formula claims are in :mod:`.claims_formulas`, B6/B8 in :mod:`.claims_layers`, A2/C2 in
:mod:`.claims_training`.
"""

from __future__ import annotations

from .claims_formulas import b1, b2, b3, b4, b5, b7, b9, b10, b11, b12
from .claims_layers import b6, b8
from .claims_training import a2, c2

CLAIMS = (b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, a2, c2)

"""Evidence engine: meta-analysis with numerical parity with R's metafor 3.8-1.

>>> from livermet.evidence import escalc, rma
>>> es = escalc("PLO", xi=[3, 5, 9], ni=[20, 25, 30])
>>> fit = rma(es.yi, es.vi, method="REML")
>>> round(fit.beta, 4)
-1.1748
"""

from .control import METAFOR, TIGHT, Control
from .escalc import EscalcResult, escalc
from .rma import Prediction, RMAResult, rma

__all__ = [
    "METAFOR",
    "TIGHT",
    "Control",
    "EscalcResult",
    "Prediction",
    "RMAResult",
    "escalc",
    "rma",
]

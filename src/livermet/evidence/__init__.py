"""Evidence engine: meta-analysis with numerical parity with R's metafor 3.8-1.

>>> from livermet.evidence import escalc, rma
>>> es = escalc("PLO", xi=[3, 5, 9], ni=[20, 25, 30])
>>> fit = rma(es.yi, es.vi, method="REML")
>>> round(fit.beta, 4)
-1.1912
>>> round(fit.predict(transf="ilogit").pred, 4)
0.2331

Modules: :mod:`.escalc` (effect sizes), :mod:`.rma` (model fit, prediction),
:mod:`.estimators` (tau² estimators), :mod:`.inference` (z/t/Knapp-Hartung),
:mod:`.confint` (Q-profile), :mod:`.diagnostics` (leave-one-out, cumulative, influence),
:mod:`.bias` (regression test, trim-and-fill), :mod:`.batch` (many fits at once),
:mod:`.gosh` (all-subsets analysis), :mod:`.glmm` (binomial-normal model, ``rma.glmm``),
:mod:`.transforms` (back-transformations),
:mod:`.control` (iteration settings: converged by default, or metafor's early stopping).
"""

from .batch import BatchResult, rma_batch
from .bias import RegtestResult, TrimfillResult, regtest, trimfill
from .confint import HeterogeneityCI, confint_tau2
from .control import METAFOR, TIGHT, Control
from .diagnostics import CaseDeletion, InfluenceResult, cumul, influence, leave1out
from .escalc import EscalcResult, escalc
from .glmm import GLMMPrediction, GLMMResult, rma_glmm
from .gosh import GoshResult, gosh
from .rma import Prediction, RMAResult, rma

__all__ = [
    "METAFOR",
    "TIGHT",
    "BatchResult",
    "CaseDeletion",
    "Control",
    "EscalcResult",
    "GLMMPrediction",
    "GLMMResult",
    "GoshResult",
    "HeterogeneityCI",
    "InfluenceResult",
    "Prediction",
    "RMAResult",
    "RegtestResult",
    "TrimfillResult",
    "confint_tau2",
    "cumul",
    "escalc",
    "gosh",
    "influence",
    "leave1out",
    "regtest",
    "rma",
    "rma_batch",
    "rma_glmm",
    "trimfill",
]

"""Estimators of the between-study variance tau² for one (meta-regression) data set.

Notation (Viechtbauer 2005; metafor ``?rma.uni``): ``y`` the k estimates, ``v`` their sampling
variances, ``X`` the k x p model matrix, ``W = diag(1/(v + tau²))`` and the projection-type matrix
``P = W - W X (X'WX)^-1 X'W``. All estimating equations use the mean-centred ``y`` as metafor does
(a no-op when ``X`` has an intercept).

=======  ====================================================================  ====================
method   estimate                                                              source
=======  ====================================================================  ====================
EE       0 (equal-effects, alias FE/CE)
DL       (Q - (k - p)) / tr(P0),  P0 = P at tau² = 0, truncated at 0           DerSimonian & Laird
                                                                               (1986)
HE       (y'P_I y - tr(P_I V)) / (k - p), unweighted P_I                       Hedges (1983)
HS       (Q - k) / sum(1/v)                                                    Hunter & Schmidt
                                                                               (2004)
HSk      (k/(k-p) Q - k) / sum(1/v)                                            Brannick et al.
                                                                               (2019)
SJ       tau0² Q(tau0²) / (k - p), tau0² = sum((y - mean y)²)/k                Sidik & Jonkman
                                                                               (2005)
ML       Fisher scoring  tau² += (y'PPy - tr W) / tr(W²)                       Viechtbauer (2005)
REML     Fisher scoring  tau² += (y'PPy - tr P) / tr(PP)                       Viechtbauer (2005)
EB       tau² += (Q(tau²) k/(k-p) - k) / tr W                                  Morris (1983)
PM       root of Q(tau²) = k - p (Brent)                                       Paule & Mandel
                                                                               (1982)
=======  ====================================================================  ====================

Standard errors of tau² follow metafor's code (Fisher information for ML/REML, the delta method
for the moment estimators).

The estimators are written once, vectorised over many problems, in :mod:`.kernel`; this module is
their one-fit front: :func:`estimate_tau2` runs the kernel with m = 1 and turns a failed
problem's status into the error (``InputError``/``ConvergenceError`` naming ``vi`` or
``control``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

from . import kernel
from .control import Control

FloatArray = npt.NDArray[np.float64]

METHODS = ("EE", "DL", "HE", "HS", "HSk", "SJ", "ML", "REML", "EB", "PM")
_ALIASES = {"FE": "EE", "CE": "EE", "VC": "HE", "CO": "HE", "MP": "PM"}
_CANON = {m.upper(): m for m in METHODS}


class ConvergenceError(InputError):
    """An iterative estimator did not converge within ``maxiter`` iterations."""


def canonical_method(method: str) -> str:
    """Return the canonical estimator name (``"FE"`` -> ``"EE"``); raise for unknown names."""
    key = str(method).strip().upper()
    key = _ALIASES.get(key, key)
    try:
        return _CANON[key]
    except KeyError:
        raise InputError(
            f"unknown method {method!r}; use one of {', '.join(METHODS)} (or FE)", "method"
        ) from None


def inv_xwx(X: FloatArray, w: FloatArray) -> FloatArray:
    """``(X' diag(w) X)^-1`` through the QR decomposition of ``diag(sqrt(w)) X``."""
    out: FloatArray = kernel.inv_xwx_stack(X[None], w[None])[0][0]
    return out


def p_matrix(X: FloatArray, w: FloatArray) -> FloatArray:
    """``P = W - W X (X'WX)^-1 X'W`` for ``W = diag(w)``."""
    wx = w[:, None] * X
    out: FloatArray = np.diag(w) - wx @ inv_xwx(X, w) @ wx.T
    return out


def q_stat(y: FloatArray, v: FloatArray, X: FloatArray, tau2: float) -> float:
    """Generalised Q statistic ``y' P y`` at ``tau²`` (Cochran's Q at 0)."""
    P = p_matrix(X, 1.0 / (v + tau2))
    return float(y @ P @ y)


@dataclass(frozen=True)
class Tau2Estimate:
    """A tau² estimate with its standard error and iteration record."""

    tau2: float
    se_tau2: float
    iterations: int = 0
    converged: bool = True
    ll0_reset: bool = False


def raise_for_status(status: int, method: str, control: Control) -> None:
    """Raise the error of a single fit whose kernel problem ended with ``status`` (none if OK)."""
    if status == kernel.VI_NOT_POSITIVE:
        raise InputError(f"the {method} estimator needs all sampling variances > 0", "vi")
    if status == kernel.TAU2_MAX_TOO_LOW:
        raise ConvergenceError(
            "value of tau2_max too low for the Paule-Mandel estimator; raise tau2_max", "control"
        )
    if status == kernel.NO_CONVERGENCE:
        raise ConvergenceError(
            f"Fisher scoring for {method} did not converge in {control.maxiter} iterations",
            "control",
        )
    if status == kernel.MARGINAL_NOT_POSITIVE:
        raise InputError("some marginal variances are not positive", "vi")
    if status == kernel.TOO_FEW:
        raise InputError("more parameters to estimate than studies", "yi")


def estimate_tau2(
    yi: FloatArray, vi: FloatArray, X: FloatArray, method: str, control: Control
) -> Tau2Estimate:
    """Estimate tau² for the model ``y = X beta + u + e`` with the named estimator.

    Parameters
    ----------
    yi, vi : ndarray
        Estimates and sampling variances (length k).
    X : ndarray
        Model matrix, k x p, full column rank.
    method : str
        Canonical estimator name (see :data:`METHODS`).
    control : Control
        Iteration settings.

    Returns
    -------
    Tau2Estimate

    Raises
    ------
    ConvergenceError
        When Fisher scoring does not converge or the PM root lies above ``tau2_max``.
    InputError
        Sampling variances not positive where the estimator needs them.
    """
    fit = kernel.estimate(kernel.design(yi, vi, X=X), method, control)
    raise_for_status(int(fit.status[0]), method, control)
    return Tau2Estimate(
        float(fit.tau2[0]), float(fit.se[0]), int(fit.iterations[0]), True, bool(fit.ll0_reset[0])
    )


def _score(
    ymc: FloatArray, vi: FloatArray, X: FloatArray, method: str, tau2: float
) -> tuple[float, float]:
    """Score (estimating function) and expected information of ML/REML/EB at ``tau²``."""
    d = kernel.design(ymc, vi, X=X)
    score, info = kernel.score_info(method, d.at(np.array([float(tau2)])), d.kk, d.p)
    return float(score[0]), float(info[0])

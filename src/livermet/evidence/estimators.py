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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

from .control import Control
from .zeroin import zeroin

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
    r = np.linalg.qr(np.sqrt(w)[:, None] * X, mode="r")
    rinv = np.linalg.inv(r)
    out: FloatArray = rinv @ rinv.T
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


def mad(x: FloatArray) -> float:
    """R's ``mad()``: median absolute deviation scaled by 1.4826."""
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


@dataclass(frozen=True)
class Tau2Estimate:
    """A tau² estimate with its standard error and iteration record."""

    tau2: float
    se_tau2: float
    iterations: int = 0
    converged: bool = True
    ll0_reset: bool = False


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
    """
    k, p = X.shape
    ymc = yi - yi.mean()
    con = control
    if method == "EE":
        return Tau2Estimate(0.0, math.nan)
    if method in ("DL", "HS", "HSk", "PM") and np.any(vi <= 0):
        raise InputError(f"the {method} estimator needs all sampling variances > 0", "vi")

    if method in ("DL", "HS", "HSk"):
        w = 1.0 / vi
        P = p_matrix(X, w)
        rss = float(ymc @ P @ ymc)
        trP = float(np.trace(P))
        sPP = float(np.sum(P * P))
        sw = float(w.sum())
        if method == "DL":
            t2 = (rss - (k - p)) / trP
        elif method == "HS":
            t2 = (rss - k) / sw
        else:
            t2 = (k / (k - p) * rss - k) / sw
        t2 = max(con.tau2_min, t2)
        tp = max(t2, 0.0)
        if method == "DL":
            se = math.sqrt((2 * (k - p) + 4 * tp * trP + 2 * tp**2 * sPP) / trP**2)
        else:
            se = math.sqrt((2 * (k - p) + 4 * tp * trP + 2 * tp**2 * sPP) / sw**2)
            if method == "HSk":
                se *= k / (k - p)
        return Tau2Estimate(t2, se)

    if method == "SJ":
        t0 = float(np.mean(ymc**2)) if con.tau2_init is None else float(con.tau2_init)
        P = p_matrix(X, 1.0 / (vi + t0))
        rss = float(ymc @ P @ ymc)
        t2 = max(con.tau2_min, t0 * rss / (k - p))
        PV = P * vi[None, :]
        tp = max(t2, 0.0)
        se = math.sqrt(
            t0**2
            / (k - p) ** 2
            * (2 * np.sum(PV * PV.T) + 4 * tp * np.sum(PV * P) + 2 * tp**2 * np.sum(P * P))
        )
        return Tau2Estimate(t2, se)

    # Hedges (HE) estimate: the estimator itself and the start of ML, REML and EB
    Pi = np.eye(k) - X @ inv_xwx(X, np.ones(k)) @ X.T
    PV = Pi * vi[None, :]
    trPV = float(np.trace(PV))
    t_he = (float(ymc @ Pi @ ymc) - trPV) / (k - p)
    if method == "HE":
        t2 = max(con.tau2_min, t_he)
        tp = max(t2, 0.0)
        se = math.sqrt((2 * np.sum(PV * PV.T) + 4 * tp * trPV + 2 * tp**2 * (k - p)) / (k - p) ** 2)
        return Tau2Estimate(t2, se)

    if method == "PM":
        return _paule_mandel(ymc, vi, X, con)

    return _fisher_scoring(ymc, vi, X, method, con, t_he)


def _pm_se(vi: FloatArray, tau2: float, k: int, p: int) -> float:
    """SE of the PM/EB estimate: ``sqrt(2 k² / (k - p)) / sum(w)`` (metafor)."""
    return math.sqrt(2 * k**2 / (k - p)) / float(np.sum(1.0 / (vi + tau2)))


def tau2_max_default(yi: FloatArray, control: Control) -> float:
    """Upper end of the PM bracket: ``max(100, 10 mad(y)²)`` unless set in ``control``."""
    if control.tau2_max is not None:
        return float(control.tau2_max)
    return max(100.0, 10.0 * mad(yi) ** 2)


def _paule_mandel(ymc: FloatArray, vi: FloatArray, X: FloatArray, con: Control) -> Tau2Estimate:
    """Paule-Mandel: the tau² at which the generalised Q equals its expectation k - p."""
    k, p = X.shape
    target = float(k - p)
    lo = con.tau2_min
    hi = tau2_max_default(ymc, con)

    def f(t: float) -> float:
        return q_stat(ymc, vi, X, t) - target

    f_lo = f(lo)
    if f_lo < 0:
        t2 = lo
        iters = 0
    else:
        f_hi = f(hi)
        if f_hi > 0:
            raise ConvergenceError(
                "value of tau2_max too low for the Paule-Mandel estimator; raise tau2_max",
                "control",
            )
        res = zeroin(f, lo, hi, f_lo, f_hi, tol=con.tol, maxiter=con.maxiter)
        t2, iters = res.root, res.iterations
    t2 = max(con.tau2_min, t2)
    return Tau2Estimate(t2, _pm_se(vi, t2, k, p), iters)


def _fallback(
    ymc: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    method: str,
    con: Control,
    tau2: float,
    lo: float,
    hi: float,
) -> float:
    """Root of the score next to the Fisher scoring iterates, by bisection.

    ``lo``/``hi`` are the largest iterate with a positive score and the smallest with a negative
    one; an open side (iterates converging monotonically) is closed by stepping away from the
    iterates in doubling steps until the score changes sign (or tau2_min is reached).
    """

    def score(t: float) -> float:
        return _score(ymc, vi, X, method, t)[0]

    step = max(1e-10, 1e-6 * abs(tau2))
    if not math.isfinite(lo) and not math.isfinite(hi):
        return tau2
    if not math.isfinite(lo):
        lo = hi
        while True:
            lo = max(con.tau2_min, hi - step)
            if score(lo) > 0:
                break
            if lo <= con.tau2_min:
                return con.tau2_min
            step *= 2
    if not math.isfinite(hi):
        for _ in range(2100):
            hi = lo + step
            if score(hi) <= 0:
                break
            step *= 2
    return bisect_bracket(lo, hi, score, con.threshold)


def _loglik(ymc: FloatArray, vi: FloatArray, X: FloatArray, tau2: float, reml: bool) -> float:
    """Log-likelihood (ML) or restricted log-likelihood (REML) at ``tau²``, as metafor's check."""
    k, p = X.shape
    w = 1.0 / (vi + tau2)
    A = (X * w[:, None]).T @ X
    beta = np.linalg.solve(A, (X * w[:, None]).T @ ymc)
    rss = float(np.sum(w * (ymc - X @ beta) ** 2))
    ll = -0.5 * (k - p if reml else k) * math.log(2 * math.pi) - 0.5 * float(
        np.sum(np.log(vi + tau2))
    )
    if reml:
        ll -= 0.5 * float(np.linalg.slogdet(A)[1])
    return float(ll - 0.5 * rss)


def _score(
    ymc: FloatArray, vi: FloatArray, X: FloatArray, method: str, tau2: float
) -> tuple[float, float]:
    """Score (estimating function) and expected information of ML/REML/EB at ``tau²``."""
    k, p = X.shape
    w = 1.0 / (vi + tau2)
    P = p_matrix(X, w)
    Py = P @ ymc
    if method == "ML":
        return float(Py @ Py) - float(w.sum()), float(np.sum(w * w))
    if method == "REML":
        return float(Py @ Py) - float(np.trace(P)), float(np.sum(P * P))
    return float(ymc @ Py) * k / (k - p) - k, float(w.sum())


def bisect_bracket(lo: float, hi: float, score: Callable[[float], float], tol: float) -> float:
    """Bisection of a decreasing-through-zero score on ``[lo, hi]`` (score(lo) > 0 > score(hi))."""
    while hi - lo > max(tol, 4 * np.finfo(float).eps * abs(hi)):
        mid = 0.5 * (lo + hi)
        if score(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _fisher_scoring(
    ymc: FloatArray, vi: FloatArray, X: FloatArray, method: str, con: Control, t_he: float
) -> Tau2Estimate:
    """ML, REML and EB by Fisher scoring from the HE estimate with step halving (metafor).

    With ``control.fallback_after`` set, a run that has not converged by then (Fisher scoring
    can oscillate around the optimum) is finished by bisection between the largest iterate with
    a positive score and the smallest with a negative one.
    """
    k, p = X.shape
    tau2 = max(0.0, t_he, con.tau2_min) if con.tau2_init is None else float(con.tau2_init)
    change = math.inf
    it = 0
    lo, hi = -math.inf, math.inf
    while change > con.threshold and change > 8 * np.finfo(float).eps * abs(tau2):
        it += 1
        old = tau2
        if np.any(vi + tau2 <= 0):
            raise InputError("some marginal variances are not positive", "vi")
        score, info = _score(ymc, vi, X, method, tau2)
        if score > 0:
            lo = max(lo, tau2)
        elif score < 0:
            hi = min(hi, tau2)
        if con.fallback_after is not None and it > con.fallback_after:
            tau2 = _fallback(ymc, vi, X, method, con, tau2, lo, hi)
            break
        adj = score / info * con.stepadj
        if math.isnan(adj):
            adj = 0.0
        while tau2 + adj < con.tau2_min:
            adj /= 2.0
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if it > con.maxiter:
            raise ConvergenceError(
                f"Fisher scoring for {method} did not converge in {con.maxiter} iterations",
                "control",
            )
    reset = False
    if method in ("ML", "REML") and con.ll0check and np.all(vi > 0):
        reml = method == "REML"
        ll0 = _loglik(ymc, vi, X, 0.0, reml)
        ll = _loglik(ymc, vi, X, tau2, reml)
        if ll0 - ll > con.tol and tau2 > con.threshold:
            tau2, reset = 0.0, True
    tau2 = max(con.tau2_min, tau2)
    w = 1.0 / (vi + tau2)
    if method == "ML":
        se = math.sqrt(2.0 / float(np.sum(w * w)))
    elif method == "REML":
        P = p_matrix(X, w)
        se = math.sqrt(2.0 / float(np.sum(P * P)))
    else:
        se = _pm_se(vi, tau2, k, p)
    return Tau2Estimate(tau2, se, it, True, reset)

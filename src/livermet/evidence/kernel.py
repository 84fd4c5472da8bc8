"""The meta-analysis kernel: every tau² estimator written once and vectorised over m problems.

With each estimator's standard error and the fixed-effects tests.

:func:`.rma.rma` is the one-problem case (m = 1) and :func:`.batch.rma_batch` the many-problem
case of the same code. The estimators (table in :mod:`.estimators`) only ask a *design* for
moments of the projection-type matrix ``P = W - W X (X'WX)^-1 X'W``, ``W = diag(w)``, at given
weights, and never branch on which design they have. Two designs:

:class:`InterceptDesign`
    Models without moderators, by closed-form sums over the studies (``[m, k]`` arithmetic):
    with ``s_j = sum w^j`` and ``r = y - sum(w y)/s_1``: ``Q = sum w r²``, ``y'PPy = sum w² r²``,
    ``tr P = s_1 - s_2/s_1``, ``sum P∘P = s_2 - 2 s_3/s_1 + s_2²/s_1²`` (Viechtbauer 2005,
    appendix), and with ``a = w v`` the terms ``tr PV = sum a - sum w a / s_1``,
    ``sum PV∘(PV)' = sum a² - 2 sum w a²/s_1 + (sum w a)²/s_1²`` and
    ``sum PV∘P = sum w a - 2 sum w² a/s_1 + s_2 sum w a / s_1²``.
:class:`GeneralDesign`
    Moderators: the matrices ``P`` formed per problem (``[m, k, k]``), ``(X'WX)^-1`` through the
    QR decomposition of ``W^1/2 X``.

Ragged problems: a mask ``[m, k]`` selects each problem's studies (weights 0 elsewhere).
Instead of raising, each problem gets a status (:data:`OK`, ...); :mod:`.estimators` turns a
status into the error of a single fit, :func:`.batch.rma_batch` into NaN.

References
----------
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. *J. Educ. Behav. Stat.* 30(3), 261-293. metafor ``?rma.uni``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from .control import Control
from .heterogeneity import i2_h2, typical_variance
from .zeroin import zeroin_batch

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
EPS = float(np.finfo(float).eps)

# problem status
OK = 0
VI_NOT_POSITIVE = 1  # DL, HS, HSk, PM need every v_i > 0
TAU2_MAX_TOO_LOW = 2  # Q(tau2_max) still above k - p (PM)
NO_CONVERGENCE = 3  # Fisher scoring did not converge in maxiter iterations
MARGINAL_NOT_POSITIVE = 4  # some v_i + tau² <= 0 during Fisher scoring
TOO_FEW = 5  # fewer studies than parameters to estimate


# ---------------------------------------------------------------------------------------------
# moments and designs


class Moments(Protocol):
    """Sums of one set of weights per problem (see module docstring)."""

    @property
    def s1(self) -> FloatArray:
        """Return ``sum w``."""

    @property
    def s2(self) -> FloatArray:
        """Return ``sum w²``."""

    @property
    def q(self) -> FloatArray:
        """Return ``y'Py`` (generalised Q)."""

    @property
    def ypp(self) -> FloatArray:
        """Return ``y'PPy``."""

    @property
    def trP(self) -> FloatArray:
        """Return ``tr P``."""

    @property
    def sPP(self) -> FloatArray:
        """Return ``sum P∘P = tr PP``."""

    @property
    def trPV(self) -> FloatArray:
        """Return ``tr PV``."""

    @property
    def pvpv(self) -> FloatArray:
        """Return ``sum PV∘(PV)'``."""

    @property
    def pvp(self) -> FloatArray:
        """Return ``sum PV∘P``."""

    def loglik(self, reml: bool) -> FloatArray:
        """Return the (restricted) log-likelihood at the tau² of these weights."""
        ...


class Design(Protocol):
    """m problems: studies per problem ``kk``, ``p`` coefficients, moments at any tau²."""

    m: int
    p: int
    kk: FloatArray
    vpos: BoolArray  # all sampling variances > 0
    vmin: FloatArray  # smallest sampling variance

    def take(self, idx: IntArray) -> Design:
        """Return the problems ``idx``."""
        ...

    def at(self, tau2: FloatArray) -> Moments:
        """Return the moments at weights ``1/(v + tau²)``."""
        ...

    def unweighted(self) -> Moments:
        """Return the moments at unit weights (Hedges' estimator)."""
        ...

    def centred_ss(self) -> FloatArray:
        """Return ``sum (y - mean y)²`` (Sidik-Jonkman start)."""
        ...

    def mad(self) -> FloatArray:
        """Return R's ``mad(y)`` per problem."""
        ...

    def fixed(self, tau2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return ``beta [m, p]``, ``(X'WX)^-1 [m, p, p]`` and ``sum w (y - X beta)²`` at tau²."""
        ...


def _rows(a: FloatArray, idx: IntArray) -> FloatArray:
    """Rows ``idx`` of a per-problem array; a shared ``[1, ...]`` array is returned as is."""
    return a if a.shape[0] == 1 else a[idx]


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise ``sum(a * b)``; ``b`` may be shared (``[1, k]``)."""
    if b.shape[0] == 1 and a.shape[0] != 1:
        out: FloatArray = a @ b[0]
        return out
    out = np.einsum("ij,ij->i", a, b)
    return out


def _masked_stats(y: FloatArray, v: FloatArray, mask: FloatArray) -> tuple[BoolArray, FloatArray]:
    """``(all v > 0, min v)`` over each problem's studies."""
    inside = mask > 0
    vpos: BoolArray = np.all((v > 0) | ~inside, axis=1)
    vmin: FloatArray = np.min(np.where(inside, v, np.inf), axis=1)
    return vpos, vmin


def _mad(y: FloatArray, mask: FloatArray) -> FloatArray:
    ym = np.where(mask > 0, y, np.nan)
    med = np.nanmedian(ym, axis=1)
    out: FloatArray = 1.4826 * np.nanmedian(np.abs(ym - med[:, None]), axis=1)
    return out


def _logsum(v: FloatArray, tau2: FloatArray, mask: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(mask > 0, np.log(v + tau2[:, None]), 0.0).sum(axis=1)
    return out


def _loglik(
    k: FloatArray, p: int, logv: FloatArray, q: FloatArray, logdet: FloatArray | None
) -> FloatArray:
    """``-(k [- p])/2 log 2pi - sum log(v + tau²)/2 - Q/2 [- log|X'WX|/2]``."""
    ll: FloatArray = (
        -0.5 * (k if logdet is None else k - p) * np.log(2 * np.pi) - 0.5 * logv - 0.5 * q
    )
    if logdet is not None:
        ll = ll - 0.5 * logdet
    return ll


class _InterceptMoments:
    """Closed-form sums of one weight matrix ``w [m, k]`` (intercept-only models)."""

    def __init__(self, d: InterceptDesign, w: FloatArray, tau2: FloatArray | None) -> None:
        self.d, self.w, self.tau2 = d, w, tau2
        self.s1: FloatArray = w.sum(axis=1)
        self.mu: FloatArray = _dot(w, d.y) / self.s1
        r = d.y - self.mu[:, None]
        self.wr: FloatArray = w * r
        self.q: FloatArray = np.einsum("ij,ij->i", self.wr, r)

    @cached_property
    def ypp(self) -> FloatArray:
        out: FloatArray = np.einsum("ij,ij->i", self.wr, self.wr)
        return out

    @cached_property
    def s2(self) -> FloatArray:
        out: FloatArray = np.einsum("ij,ij->i", self.w, self.w)
        return out

    @cached_property
    def trP(self) -> FloatArray:
        return self.s1 - self.s2 / self.s1

    @cached_property
    def sPP(self) -> FloatArray:
        s1, s2 = self.s1, self.s2
        s3 = np.einsum("ij,ij,ij->i", self.w, self.w, self.w)
        out: FloatArray = s2 - 2 * s3 / s1 + s2**2 / s1**2
        return out

    @cached_property
    def _a(self) -> tuple[FloatArray, FloatArray]:
        a = self.w * self.d.v
        return a, (self.w * a).sum(axis=1)

    @cached_property
    def trPV(self) -> FloatArray:
        a, swa = self._a
        out: FloatArray = a.sum(axis=1) - swa / self.s1
        return out

    @cached_property
    def pvpv(self) -> FloatArray:
        a, swa = self._a
        out: FloatArray = (
            (a * a).sum(1) - 2 * (self.w * a * a).sum(1) / self.s1 + swa**2 / self.s1**2
        )
        return out

    @cached_property
    def pvp(self) -> FloatArray:
        a, swa = self._a
        s1 = self.s1
        out: FloatArray = swa - 2 * (self.w * self.w * a).sum(1) / s1 + self.s2 * swa / s1**2
        return out

    def loglik(self, reml: bool) -> FloatArray:
        assert self.tau2 is not None
        logv = _logsum(self.d.v, self.tau2, self.d.mask)
        return _loglik(self.d.kk, 1, logv, self.q, np.log(self.s1) if reml else None)


class InterceptDesign:
    """Intercept-only models: ``y``, ``v`` of shape ``[m, k]`` (or ``[1, k]`` shared), mask."""

    p = 1

    def __init__(self, y: FloatArray, v: FloatArray, mask: FloatArray) -> None:
        self.y, self.v, self.mask = y, v, mask
        self.m = mask.shape[0]
        self.kk: FloatArray = mask.sum(axis=1)
        self.vpos, self.vmin = _masked_stats(y, v, mask)

    def take(self, idx: IntArray) -> InterceptDesign:
        """Return the problems ``idx``."""
        return InterceptDesign(_rows(self.y, idx), _rows(self.v, idx), self.mask[idx])

    def at(self, tau2: FloatArray) -> _InterceptMoments:
        """Return the moments at weights ``1/(v + tau²)``."""
        return _InterceptMoments(self, self.mask / (self.v + tau2[:, None]), tau2)

    def unweighted(self) -> _InterceptMoments:
        """Return the moments at unit weights."""
        return _InterceptMoments(self, self.mask, None)

    def centred_ss(self) -> FloatArray:
        """Return ``sum (y - mean y)²`` (Q at unit weights)."""
        return self.unweighted().q

    def mad(self) -> FloatArray:
        """Return R's ``mad(y)`` per problem."""
        return _mad(np.broadcast_to(self.y, self.mask.shape), self.mask)

    def fixed(self, tau2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return the weighted mean, ``1/sum w`` and Q at tau² (shapes as :meth:`Design.fixed`)."""
        mom = self.at(tau2)
        return mom.mu[:, None], (1.0 / mom.s1)[:, None, None], mom.q


def inv_xwx_stack(X: FloatArray, w: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(X'WX)^-1 [m, p, p]`` and ``log|X'WX|`` through the QR decomposition of ``W^1/2 X``."""
    r = np.linalg.qr(np.sqrt(w)[..., None] * X, mode="r")
    try:
        rinv = np.linalg.inv(r)
    except np.linalg.LinAlgError:  # some problem singular: invert one by one, NaN where singular
        rinv = np.stack([_inv_or_nan(ri) for ri in r])
    with np.errstate(divide="ignore"):
        logdet = 2.0 * np.log(np.abs(np.diagonal(r, axis1=-2, axis2=-1))).sum(axis=-1)
    out: FloatArray = rinv @ np.swapaxes(rinv, -1, -2)
    return out, logdet


def _inv_or_nan(a: FloatArray) -> FloatArray:
    try:
        out: FloatArray = np.linalg.inv(a).astype(np.float64, copy=False)
    except np.linalg.LinAlgError:
        out = np.full_like(a, np.nan)
    return out


class _GeneralMoments:
    """Moments from the explicit matrices ``P [m, k, k]`` (models with moderators)."""

    def __init__(self, d: GeneralDesign, w: FloatArray, tau2: FloatArray | None) -> None:
        self.d, self.w, self.tau2 = d, w, tau2
        X = d.X
        self.ainv, self.logdet = inv_xwx_stack(X, w)
        wx = w[..., None] * X
        self.P: FloatArray = w[:, :, None] * np.eye(w.shape[1]) - wx @ self.ainv @ np.swapaxes(
            wx, -1, -2
        )
        self.Py: FloatArray = np.einsum("mij,mj->mi", self.P, d.ymc)
        self.q: FloatArray = np.einsum("mi,mi->m", d.ymc, self.Py)
        self.s1: FloatArray = w.sum(axis=1)

    @cached_property
    def ypp(self) -> FloatArray:
        out: FloatArray = np.einsum("mi,mi->m", self.Py, self.Py)
        return out

    @cached_property
    def s2(self) -> FloatArray:
        out: FloatArray = np.einsum("ij,ij->i", self.w, self.w)
        return out

    @cached_property
    def trP(self) -> FloatArray:
        out: FloatArray = np.einsum("mii->m", self.P)
        return out

    @cached_property
    def sPP(self) -> FloatArray:
        out: FloatArray = (self.P * self.P).sum(axis=(1, 2))
        return out

    @cached_property
    def _pv(self) -> FloatArray:
        out: FloatArray = self.P * self.d.v[:, None, :]
        return out

    @cached_property
    def trPV(self) -> FloatArray:
        out: FloatArray = np.einsum("mii->m", self._pv)
        return out

    @cached_property
    def pvpv(self) -> FloatArray:
        out: FloatArray = (self._pv * np.swapaxes(self._pv, 1, 2)).sum(axis=(1, 2))
        return out

    @cached_property
    def pvp(self) -> FloatArray:
        out: FloatArray = (self._pv * self.P).sum(axis=(1, 2))
        return out

    def loglik(self, reml: bool) -> FloatArray:
        assert self.tau2 is not None
        logv = _logsum(self.d.v, self.tau2, self.d.mask)
        return _loglik(self.d.kk, self.d.p, logv, self.q, self.logdet if reml else None)


class GeneralDesign:
    """Models with moderators: ``y``, ``v``, ``mask`` ``[m, k]``, ``X`` ``[k, p]`` or ``[m, k, p]``.

    The estimating equations use ``y`` centred at its (unweighted) mean, as metafor.
    """

    def __init__(self, y: FloatArray, v: FloatArray, mask: FloatArray, X: FloatArray) -> None:
        m, k = mask.shape
        self.m, self.mask = m, mask
        self.y = np.broadcast_to(y, (m, k))
        self.v = np.where(mask > 0, np.broadcast_to(v, (m, k)), 1.0)
        self.X = np.broadcast_to(X, (m, k, X.shape[-1]))
        self.p = int(X.shape[-1])
        self.kk: FloatArray = mask.sum(axis=1)
        mean = (mask * self.y).sum(axis=1) / np.maximum(self.kk, 1)
        self.ymc: FloatArray = np.where(mask > 0, self.y - mean[:, None], 0.0)
        self.vpos, self.vmin = _masked_stats(self.y, self.v, mask)

    def take(self, idx: IntArray) -> GeneralDesign:
        """Return the problems ``idx``."""
        return GeneralDesign(self.y[idx], self.v[idx], self.mask[idx], self.X[idx])

    def at(self, tau2: FloatArray) -> _GeneralMoments:
        """Return the moments at weights ``1/(v + tau²)``."""
        return _GeneralMoments(self, self.mask / (self.v + tau2[:, None]), tau2)

    def unweighted(self) -> _GeneralMoments:
        """Return the moments at unit weights."""
        return _GeneralMoments(self, self.mask.copy(), None)

    def centred_ss(self) -> FloatArray:
        """Return ``sum (y - mean y)²`` per problem."""
        out: FloatArray = (self.ymc**2).sum(axis=1)
        return out

    def mad(self) -> FloatArray:
        """Return R's ``mad(y)`` per problem."""
        return _mad(self.ymc, self.mask)

    def fixed(self, tau2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Return ``beta``, ``(X'WX)^-1`` and ``sum w (y - X beta)²`` at tau²."""
        w = self.mask / (self.v + tau2[:, None])
        ainv, _ = inv_xwx_stack(self.X, w)
        xwy = np.einsum("mkp,mk->mp", self.X, w * self.y)
        beta: FloatArray = np.einsum("mpq,mq->mp", ainv, xwy)
        resid = self.y - np.einsum("mkp,mp->mk", self.X, beta)
        rss: FloatArray = (w * resid**2).sum(axis=1)
        return beta, ainv, rss


def design(
    y: FloatArray, v: FloatArray, mask: FloatArray | None = None, X: FloatArray | None = None
) -> Design:
    """Return the design of m problems (``X`` None or a column of ones: intercept only)."""
    y2 = np.atleast_2d(np.asarray(y, float))
    v2 = np.atleast_2d(np.asarray(v, float))
    if mask is None:
        mask = np.ones((max(y2.shape[0], v2.shape[0]), y2.shape[1]))
    if X is None or (X.ndim == 2 and X.shape[1] == 1 and bool(np.all(X == 1))):
        return InterceptDesign(y2, v2, mask)
    return GeneralDesign(y2, v2, mask, X)


# ---------------------------------------------------------------------------------------------
# tau² estimators


@dataclass
class Tau2Fit:
    """Estimates of m problems (NaN where ``status`` is not :data:`OK`)."""

    tau2: FloatArray
    se: FloatArray
    iterations: IntArray
    status: IntArray
    ll0_reset: BoolArray

    @classmethod
    def empty(cls, m: int) -> Tau2Fit:
        """Return m unfinished fits (NaN estimates, status OK)."""
        return cls(
            np.full(m, np.nan),
            np.full(m, np.nan),
            np.zeros(m, np.int64),
            np.full(m, OK, np.int64),
            np.zeros(m, bool),
        )

    def put(self, idx: IntArray, other: Tau2Fit) -> None:
        """Store the fits ``other`` as problems ``idx``."""
        for name in ("tau2", "se", "iterations", "status", "ll0_reset"):
            getattr(self, name)[idx] = getattr(other, name)


def _sandwich(mom: Moments, tp: FloatArray) -> FloatArray:
    """``sqrt(2 sum PV∘(PV)' + 4 tau² sum PV∘P + 2 tau⁴ sum P∘P)`` (SE of HE and SJ, metafor)."""
    out: FloatArray = np.sqrt(2 * mom.pvpv + 4 * tp * mom.pvp + 2 * tp**2 * mom.sPP)
    return out


def _ee(d: Design, con: Control, method: str) -> Tau2Fit:
    fit = Tau2Fit.empty(d.m)
    fit.tau2[:] = 0.0
    return fit


def _moment(d: Design, con: Control, method: str) -> Tau2Fit:
    """DerSimonian-Laird, Hunter-Schmidt and its k-corrected version (P at tau² = 0)."""
    k, df = d.kk, d.kk - d.p
    m0 = d.at(np.zeros(d.m))
    scale = k / df if method == "HSk" else np.ones(d.m)
    den = m0.trP if method == "DL" else m0.s1
    num = m0.q - df if method == "DL" else scale * m0.q - k
    fit = Tau2Fit.empty(d.m)
    fit.tau2 = np.maximum(con.tau2_min, num / den)
    tp = np.maximum(fit.tau2, 0.0)
    fit.se = scale * np.sqrt((2 * df + 4 * tp * m0.trP + 2 * tp**2 * m0.sPP) / den**2)
    return fit


def _hedges(d: Design, con: Control) -> tuple[FloatArray, Moments]:
    """Return the Hedges estimate (unfloored) and the unit-weight moments."""
    mu = d.unweighted()
    return (mu.q - mu.trPV) / (d.kk - d.p), mu


def _he(d: Design, con: Control, method: str) -> Tau2Fit:
    t_he, mu = _hedges(d, con)
    fit = Tau2Fit.empty(d.m)
    fit.tau2 = np.maximum(con.tau2_min, t_he)
    fit.se = _sandwich(mu, np.maximum(fit.tau2, 0.0)) / (d.kk - d.p)
    return fit


def _sj(d: Design, con: Control, method: str) -> Tau2Fit:
    df = d.kk - d.p
    t0 = d.centred_ss() / d.kk if con.tau2_init is None else np.full(d.m, float(con.tau2_init))
    mom = d.at(t0)
    fit = Tau2Fit.empty(d.m)
    fit.tau2 = np.maximum(con.tau2_min, t0 * mom.q / df)
    fit.se = np.sqrt(t0**2 / df**2) * _sandwich(mom, np.maximum(fit.tau2, 0.0))
    return fit


def _q_se(d: Design, tau2: FloatArray) -> FloatArray:
    """SE of the PM and EB estimates: ``sqrt(2 k² / (k - p)) / sum w`` (metafor)."""
    out: FloatArray = np.sqrt(2 * d.kk**2 / (d.kk - d.p)) / d.at(tau2).s1
    return out


def _pm(d: Design, con: Control, method: str) -> Tau2Fit:
    """Paule-Mandel: root of ``Q(tau²) = k - p`` by R's uniroot (Brent) on [tau2_min, tau2_max]."""
    target = d.kk - d.p
    fit = Tau2Fit.empty(d.m)
    lo = np.full(d.m, con.tau2_min, dtype=float)
    f_lo = d.at(lo).q - target
    fit.tau2 = lo.copy()
    act = np.flatnonzero(~(f_lo < 0))
    if act.size:
        sub = d.take(act)
        hi = (
            np.full(act.size, float(con.tau2_max))
            if con.tau2_max is not None
            else np.maximum(100.0, 10.0 * sub.mad() ** 2)
        )
        f_hi = sub.at(hi).q - target[act]
        fit.status[act[f_hi > 0]] = TAU2_MAX_TOO_LOW
        ok = np.flatnonzero(~(f_hi > 0))
        sub = sub.take(ok)
        tgt = target[act[ok]]

        def f(idx: IntArray, t: FloatArray) -> FloatArray:
            out: FloatArray = sub.take(idx).at(t).q - tgt[idx]
            return out

        res = zeroin_batch(f, lo[act[ok]], hi[ok], f_lo[act[ok]], f_hi[ok], con.tol, con.maxiter)
        fit.tau2[act[ok]], fit.iterations[act[ok]] = res.root, res.iterations
    fit.tau2 = np.maximum(con.tau2_min, fit.tau2)
    fit.se = _q_se(d, fit.tau2)
    return fit


def score_info(method: str, mom: Moments, k: FloatArray, p: int) -> tuple[FloatArray, FloatArray]:
    """Score (estimating function) and expected information of ML, REML and EB."""
    if method == "ML":
        return mom.ypp - mom.s1, mom.s2
    if method == "REML":
        return mom.ypp - mom.trP, mom.sPP
    return mom.q * k / (k - p) - k, mom.s1


ScoreFn = Callable[[IntArray, FloatArray], tuple[FloatArray, FloatArray]]


def _fisher(d: Design, con: Control, method: str) -> Tau2Fit:
    """ML, REML and EB by Fisher scoring from the HE estimate, then metafor's check at tau² = 0."""
    if con.tau2_init is None:
        start = np.maximum(np.maximum(0.0, _hedges(d, con)[0]), con.tau2_min)
    else:
        start = np.full(d.m, float(con.tau2_init))

    def score_fn(idx: IntArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        sub = d.take(idx) if idx.size < d.m else d
        return score_info(method, sub.at(t), sub.kk, d.p)

    fit = Tau2Fit.empty(d.m)
    fit.tau2, fit.iterations, fit.status = fisher_scoring(d.vmin, start, score_fn, con)
    if method in ("ML", "REML") and con.ll0check:
        fit.ll0_reset = _ll0_reset(d, fit, method == "REML", con)
        fit.tau2 = np.where(fit.ll0_reset, 0.0, fit.tau2)
    fit.tau2 = np.maximum(con.tau2_min, fit.tau2)
    t = np.nan_to_num(fit.tau2)
    if method == "ML":
        fit.se = np.sqrt(2.0 / d.at(t).s2)
    elif method == "REML":
        fit.se = np.sqrt(2.0 / d.at(t).sPP)
    else:
        fit.se = _q_se(d, t)
    return fit


def _ll0_reset(d: Design, fit: Tau2Fit, reml: bool, con: Control) -> BoolArray:
    """Where the (restricted) likelihood is larger at tau² = 0 than at the optimum found."""
    reset = np.zeros(d.m, bool)
    idx = np.flatnonzero((fit.status == OK) & d.vpos & (fit.tau2 > con.threshold))
    if idx.size:
        sub = d.take(idx)
        ll0 = sub.at(np.zeros(idx.size)).loglik(reml)
        ll = sub.at(fit.tau2[idx]).loglik(reml)
        reset[idx] = ll0 - ll > con.tol
    return reset


def _step_halving(tau2: FloatArray, adj: FloatArray, tau2_min: float) -> FloatArray:
    """Halve the steps that would take tau² below ``tau2_min`` (metafor)."""
    adj = np.where(np.isnan(adj), 0.0, adj)
    low = np.flatnonzero(tau2 + adj < tau2_min)
    while low.size:
        adj[low] /= 2
        low = low[tau2[low] + adj[low] < tau2_min]
    return adj


def fisher_scoring(
    vmin: FloatArray, tau2: FloatArray, score_fn: ScoreFn, con: Control
) -> tuple[FloatArray, IntArray, IntArray]:
    """Fisher scoring of the problems still iterating (metafor's step halving and stopping rule).

    With ``control.fallback_after`` set, problems not converged by then are finished by
    bisection on the bracket the iterates established (:func:`_bisect_fallback`). Returns
    tau², iterations and status.
    """
    m = tau2.size
    tau2 = tau2.copy()
    iters = np.zeros(m, dtype=np.int64)
    status = np.full(m, NO_CONVERGENCE, dtype=np.int64)
    lo, hi = np.full(m, -np.inf), np.full(m, np.inf)
    act = np.arange(m)
    it = 0
    while act.size:
        it += 1
        bad = vmin[act] + tau2[act] <= 0
        status[act[bad]] = MARGINAL_NOT_POSITIVE
        act = act[~bad]
        ta = tau2[act]
        if not act.size:
            break
        score, info = score_fn(act, ta)
        lo[act] = np.where(score > 0, np.maximum(lo[act], ta), lo[act])
        hi[act] = np.where(score < 0, np.minimum(hi[act], ta), hi[act])
        iters[act] = it
        if con.fallback_after is not None and it > con.fallback_after:
            tau2[act] = _bisect_fallback(act, ta, lo[act], hi[act], score_fn, con)
            status[act] = np.where(np.isfinite(tau2[act]), OK, NO_CONVERGENCE)
            break
        new = ta + _step_halving(ta, score / info * con.stepadj, con.tau2_min)
        change = np.abs(ta - new)
        tau2[act] = new
        if it > con.maxiter:
            break
        done = (change <= con.threshold) | (change <= 8 * EPS * np.abs(new))
        status[act[done]] = OK
        act = act[~(done | np.isnan(change))]
    return tau2, iters, status


def _close_low(
    act: IntArray,
    anchor: FloatArray,
    lo: FloatArray,
    step: FloatArray,
    score_fn: ScoreFn,
    con: Control,
) -> BoolArray:
    """Step down from ``anchor`` in doubling steps until the score is positive (sets ``lo``).

    Return where tau2_min was reached first.
    """
    at_min = np.zeros(act.size, dtype=bool)
    open_ = ~np.isfinite(lo)
    for _ in range(2100):
        if not np.any(open_):
            break
        idx = np.flatnonzero(open_)
        cand = np.maximum(con.tau2_min, anchor[idx] - step[idx])
        pos = score_fn(act[idx], cand)[0] > 0
        lo[idx[pos]] = cand[pos]
        floor = ~pos & (cand <= con.tau2_min)
        at_min[idx[floor]] = True
        open_[idx[pos | floor]] = False
        step[idx] *= 2
    return at_min


def _close_high(
    act: IntArray,
    lo: FloatArray,
    hi: FloatArray,
    step: FloatArray,
    score_fn: ScoreFn,
    skip: BoolArray,
) -> None:
    """Step up from ``lo`` in doubling steps until the score is not positive (sets ``hi``)."""
    open_ = ~np.isfinite(hi) & ~skip
    for _ in range(2100):
        if not np.any(open_):
            break
        idx = np.flatnonzero(open_)
        cand = lo[idx] + step[idx]
        neg = score_fn(act[idx], cand)[0] <= 0
        hi[idx[neg]] = cand[neg]
        open_[idx[neg]] = False
        step[idx] *= 2


def _bisect_fallback(
    act: IntArray, tau2: FloatArray, lo: FloatArray, hi: FloatArray, score_fn: ScoreFn, con: Control
) -> FloatArray:
    """Root of the score next to the Fisher scoring iterates, by bisection.

    ``lo``/``hi`` are the largest iterate with a positive score and the smallest with a negative
    one; an open side (iterates converging monotonically) is closed by stepping away from the
    iterates in doubling steps until the score changes sign (or tau2_min is reached).
    """
    lo, hi = lo.copy(), hi.copy()
    stuck = ~np.isfinite(lo) & ~np.isfinite(hi)  # no informative score: keep the iterate
    lo[stuck] = hi[stuck] = tau2[stuck]
    at_min = _close_low(act, hi.copy(), lo, np.maximum(1e-10, 1e-6 * np.abs(tau2)), score_fn, con)
    _close_high(act, lo, hi, np.maximum(1e-10, 1e-6 * np.abs(tau2)), score_fn, at_min)
    for _ in range(2000):
        run = (hi - lo > np.maximum(con.threshold, 4 * EPS * np.abs(hi))) & ~at_min
        if not np.any(run):
            break
        idx = np.flatnonzero(run)
        mid = 0.5 * (lo[idx] + hi[idx])
        pos = score_fn(act[idx], mid)[0] > 0
        lo[idx[pos]] = mid[pos]
        hi[idx[~pos]] = mid[~pos]
    out: FloatArray = np.where(at_min, con.tau2_min, 0.5 * (lo + hi))
    return out


_ESTIMATORS: dict[str, Callable[[Design, Control, str], Tau2Fit]] = {
    "EE": _ee,
    "DL": _moment,
    "HS": _moment,
    "HSk": _moment,
    "HE": _he,
    "SJ": _sj,
    "ML": _fisher,
    "REML": _fisher,
    "EB": _fisher,
    "PM": _pm,
}
_NEED_V_POSITIVE = ("DL", "HS", "HSk", "PM")


def estimate(d: Design, method: str, con: Control) -> Tau2Fit:
    """tau² of every problem with the (canonical) ``method``; statuses instead of errors."""
    fit = Tau2Fit.empty(d.m)
    fit.status[d.kk < d.p + (0 if method == "EE" else 1)] = TOO_FEW
    if method in _NEED_V_POSITIVE:
        fit.status[(fit.status == OK) & ~d.vpos] = VI_NOT_POSITIVE
    run = np.flatnonzero(fit.status == OK)
    if run.size:
        with np.errstate(all="ignore"):
            fit.put(run, _ESTIMATORS[method](d.take(run) if run.size < d.m else d, con, method))
    bad = fit.status != OK
    fit.tau2[bad] = np.nan
    fit.se[bad] = np.nan
    return fit


# ---------------------------------------------------------------------------------------------
# fixed effects and heterogeneity


def critical_value(test: str, level: float, ddf: float | None) -> float:
    """Two-sided critical value: normal for ``"z"``, t_{ddf} otherwise (NaN for ddf <= 0)."""
    if test == "z" or ddf is None:
        return float(stats.norm.isf((1 - level) / 2))
    if not ddf > 0:
        return float("nan")
    return float(stats.t.isf((1 - level) / 2, ddf))


@dataclass(frozen=True)
class FixedEffects:
    """Coefficients of m problems: ``[m, p]`` (``vb`` ``[m, p, p]``, the rest ``[m]``)."""

    beta: FloatArray
    vb: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    s2w: FloatArray
    crit: FloatArray


def fixed_effects(d: Design, tau2: FloatArray, test: str, level: float) -> FixedEffects:
    """Weighted least squares at tau² with the z, t, knha or adhoc tests (:mod:`.inference`)."""
    beta, vb, rss = d.fixed(tau2)
    df = d.kk - d.p
    s2w = np.ones(d.m)
    if test in ("knha", "adhoc"):
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = np.where(rss <= EPS, 0.0, rss / df)
        if test == "adhoc":
            s2w = np.maximum(1.0, s2w)
        vb = vb * s2w[:, None, None]
    se = np.sqrt(np.diagonal(vb, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if test == "z":
        pval = 2 * special.ndtr(-np.abs(zval))
        crit = np.full(d.m, critical_value("z", level, None))
    else:
        with np.errstate(invalid="ignore"):
            pval = np.where(df[:, None] > 0, 2 * special.stdtr(df[:, None], -np.abs(zval)), np.nan)
        crit = np.full(d.m, np.nan)
        for u in np.unique(df[np.isfinite(df)]):
            crit[df == u] = critical_value(test, level, float(u))
    c = crit[:, None]
    return FixedEffects(beta, vb, se, zval, pval, beta - c * se, beta + c * se, s2w, crit)


@dataclass(frozen=True)
class Heterogeneity:
    """``QE``, its p-value, I², H² and the typical within-study variance, per problem."""

    qe: FloatArray
    qe_p: FloatArray
    i2: FloatArray
    h2: FloatArray
    vt: FloatArray


def heterogeneity(d: Design, tau2: FloatArray, equal_effects: bool) -> Heterogeneity:
    """Return Cochran's Q at tau² = 0 with I² and H² (:mod:`.heterogeneity`).

    NaN where some v_i <= 0, ``(0, 1, 0, 1, 0)`` without residual degrees of freedom (as metafor).
    """
    df = d.kk - d.p
    with np.errstate(all="ignore"):
        m0 = d.at(np.zeros(d.m))
        qe = np.maximum(0.0, m0.q)
        vt = typical_variance(df, m0.trP)
        i2, h2 = i2_h2(qe, df, tau2, vt, equal_effects=equal_effects)
        qe_p = special.chdtrc(df, qe)
    none = df <= 0
    vals = [
        np.where(none, fill, a)
        for fill, a in zip((0.0, 1.0, 0.0, 1.0, 0.0), (qe, qe_p, i2, h2, vt), strict=True)
    ]
    vals = [np.where(d.vpos, a, np.nan) for a in vals]
    return Heterogeneity(*vals)

"""Many meta-analyses at once: every estimator vectorised over a leading axis of problems.

``rma_batch(yi, vi, mask)`` fits m data sets of up to k studies (arrays of shape ``[m, k]``, or
``[k]`` shared by all rows; a boolean ``mask`` of shape ``[m, k]`` selects each row's studies, so
ragged k is allowed). It gives the same numbers as m calls of :func:`.rma.rma` (same formulas,
same Fisher scoring from the Hedges start with step halving and the same stopping rule, same
log-likelihood check at tau² = 0), except that Paule-Mandel is solved by safeguarded Newton
iterations to the exact root (metafor's ``uniroot`` early stop is not replicated in batch).

Models without moderators use closed-form sums over the studies (``[m, k]`` arithmetic only);
with moderators the projection matrices ``P`` are formed per problem (``[m, k, k]``). Failed
problems (no convergence, too few studies) give NaN and ``converged = False`` instead of an error.

Intercept-only identities used (``W = diag(w)``, ``s_j = sum w^j``, ``r = y - sum(w y)/s_1``):
``Q = sum w r²``, ``tr P = s_1 - s_2/s_1``, ``tr PP = s_2 - 2 s_3/s_1 + s_2²/s_1²``,
``y'PPy = sum w² r²`` (Viechtbauer 2005, appendix).

References
----------
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
random-effects model. *J. Educ. Behav. Stat.* 30(3), 261-293.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from livermet.errors import InputError

from .control import Control, resolve_control
from .estimators import canonical_method
from .heterogeneity import i2_h2, typical_variance

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class BatchResult:
    """Results of m fits; every attribute has leading dimension m.

    Coefficient arrays are ``[m]`` without moderators and ``[m, p]`` with them.
    """

    beta: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    tau2: FloatArray
    se_tau2: FloatArray
    qe: FloatArray
    qe_p: FloatArray
    i2: FloatArray
    h2: FloatArray
    k: IntArray
    converged: BoolArray
    iterations: IntArray
    vb: FloatArray
    s2w: FloatArray
    method: str
    test: str

    @property
    def m(self) -> int:
        """Number of problems."""
        return int(self.tau2.shape[0])

    @property
    def estimate(self) -> FloatArray:
        """Alias of ``beta``."""
        return self.beta

    I2 = property(lambda self: self.i2, doc="Alias of ``i2``.")
    H2 = property(lambda self: self.h2, doc="Alias of ``h2``.")
    QE = property(lambda self: self.qe, doc="Alias of ``qe``.")


# ---------------------------------------------------------------------------------------------
# input handling


def _as_2d(a: Any, m: int | None, k: int, field: str) -> FloatArray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        if arr.shape[0] != k:
            raise InputError(f"expected {k} values", field)
        return arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != k or (m is not None and arr.shape[0] not in (1, m)):
        raise InputError("expected shape [m, k] or [k]", field)
    return arr


def rma_batch(
    yi: Any,
    vi: Any,
    mask: Any = None,
    *,
    mods: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 95,
    control: Control | str | Mapping[str, Any] | None = None,
    chunk_size: int = 65536,
) -> BatchResult:
    """Fit m meta-analyses at once (see module docstring).

    Parameters
    ----------
    yi, vi : array_like
        ``[m, k]`` or ``[k]`` (shared by all problems).
    mask : array_like of bool, optional
        ``[m, k]``: which studies each problem uses (default all).
    mods : array_like, optional
        Model matrix *including* the intercept column: ``[k, p]`` shared or ``[m, k, p]``.
        ``None`` fits intercept-only models.
    method, test, level, control
        As :func:`.rma.rma` (test ``"z"``, ``"t"``, ``"knha"`` or ``"adhoc"``).
    chunk_size : int
        Problems handled at a time (bounds memory).

    Returns
    -------
    BatchResult
    """
    meth = canonical_method(method)
    tst = "knha" if str(test).lower() == "hksj" else str(test).lower()
    if tst not in ("z", "t", "knha", "adhoc"):
        raise InputError(f"unknown test {test!r}", "test")
    lev = float(level) / 100 if float(level) > 1 else float(level)
    con = resolve_control(control)
    y_raw = np.asarray(yi, dtype=float)
    k = y_raw.shape[-1]
    msk = None if mask is None else np.asarray(mask, dtype=bool)
    m_hint = None if msk is None else msk.shape[0]
    y = _as_2d(yi, m_hint, k, "yi")
    v = _as_2d(vi, m_hint, k, "vi")
    if np.any(v < 0):
        raise InputError("sampling variances must be >= 0", "vi")
    m = max(y.shape[0], v.shape[0], 1 if msk is None else msk.shape[0])
    if msk is None:
        msk = np.ones((m, k), dtype=bool)
    if msk.shape != (m, k):
        raise InputError(f"mask must have shape ({m}, {k})", "mask")
    X = None if mods is None else np.asarray(mods, dtype=float)
    if X is not None and X.ndim == 2 and X.shape[1] == 1 and np.all(X == 1):
        X = None
    if np.any(v == 0):
        v = np.where(msk, np.broadcast_to(v, (m, k)), 1.0)
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
        y = np.where(msk, np.broadcast_to(y, (m, k)), 0.0)
        v = np.where(msk, np.broadcast_to(v, (m, k)), 1.0)
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v))):
            raise InputError("yi and vi must be finite for the studies in the mask", "yi")
    parts = []
    for start in range(0, m, chunk_size):
        stop = min(m, start + chunk_size)
        yc = y if y.shape[0] == 1 else y[start:stop]
        vc = v if v.shape[0] == 1 else v[start:stop]
        mc = msk[start:stop].astype(float)
        with np.errstate(all="ignore"):
            if X is None:
                parts.append(_fit_intercept(yc, vc, mc, meth, tst, lev, con))
            else:
                Xc = X if X.ndim == 2 else X[start:stop]
                parts.append(_fit_general(yc, vc, mc, Xc, meth, tst, lev, con))
    out = {key: np.concatenate([pt[key] for pt in parts]) for key in parts[0]}
    return BatchResult(method=meth, test=tst, **out)


# ---------------------------------------------------------------------------------------------
# intercept-only models: sums


def _t_isf(q: float, df: FloatArray) -> FloatArray:
    """``t_{df}`` upper quantile, computed once per distinct df."""
    out = np.full(df.shape, np.nan)
    for d in np.unique(df[np.isfinite(df) & (df > 0)]):
        out[df == d] = stats.t.isf(q, d)
    return out


def _rows(a: FloatArray, idx: IntArray) -> FloatArray:
    """Rows ``idx`` of a per-problem array; a shared ``[1, k]`` array is returned as is."""
    return a if a.shape[0] == 1 else a[idx]


def _dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise ``sum(a * b)``; ``b`` may be shared (``[1, k]``), then a matrix-vector product."""
    if b.shape[0] == 1 and a.shape[0] != 1:
        out: FloatArray = a @ b[0]
        return out
    out = np.einsum("ij,ij->i", a, b)
    return out


class _Sums:
    """Weighted sums of one set of weights over the studies of each problem."""

    def __init__(self, w: FloatArray, y: FloatArray) -> None:
        self.w = w
        self.s1 = w.sum(axis=1)
        self.mu = _dot(w, y) / self.s1
        r = y - self.mu[:, None]
        self.wr = w * r
        self.q = np.einsum("ij,ij->i", self.wr, r)

    @property
    def ypp(self) -> FloatArray:
        """``y'PPy = sum w² r²``."""
        out: FloatArray = np.einsum("ij,ij->i", self.wr, self.wr)
        return out

    def s(self, power: int) -> FloatArray:
        """``sum w^power`` (power 2 or 3)."""
        if power == 2:
            out: FloatArray = np.einsum("ij,ij->i", self.w, self.w)
        else:
            out = np.einsum("ij,ij,ij->i", self.w, self.w, self.w)
        return out


def _weights(v: FloatArray, tau2: FloatArray, mask: FloatArray) -> FloatArray:
    """``mask / (v + tau²)`` (v is 1 outside the mask, so no division by zero)."""
    out: FloatArray = mask / (v + tau2[:, None])
    return out


def _fit_intercept(
    y: FloatArray, v: FloatArray, mask: FloatArray, meth: str, tst: str, lev: float, con: Control
) -> dict[str, Any]:
    m = mask.shape[0]
    kk = mask.sum(axis=1)
    vpos = np.all((v > 0) | (mask == 0), axis=1)
    conv = kk >= (1 if meth == "EE" else 2)
    iters = np.zeros(m, dtype=np.int64)
    se_t2 = np.full(m, np.nan)
    w0 = _weights(v, np.zeros(m), mask)
    s0 = _Sums(w0, y)
    s0_2 = s0.s(2)
    trP0 = s0.s1 - s0_2 / s0.s1
    if meth == "EE":
        tau2 = np.zeros(m)
    elif meth in ("DL", "HS", "HSk"):
        if meth == "DL":
            tau2 = (s0.q - (kk - 1)) / trP0
        elif meth == "HS":
            tau2 = (s0.q - kk) / s0.s1
        else:
            tau2 = (kk / (kk - 1) * s0.q - kk) / s0.s1
        tau2 = np.maximum(con.tau2_min, tau2)
        tp = np.maximum(tau2, 0)
        sPP = s0_2 - 2 * s0.s(3) / s0.s1 + s0_2**2 / s0.s1**2
        num = 2 * (kk - 1) + 4 * tp * trP0 + 2 * tp**2 * sPP
        se_t2 = np.sqrt(num / trP0**2) if meth == "DL" else np.sqrt(num / s0.s1**2)
        if meth == "HSk":
            se_t2 *= kk / (kk - 1)
        conv &= vpos
    elif meth == "SJ":
        ybar = (mask * y).sum(axis=1) / kk
        t0 = (mask * (y - ybar[:, None]) ** 2).sum(axis=1) / kk
        if con.tau2_init is not None:
            t0 = np.full(m, float(con.tau2_init))
        ss = _Sums(_weights(v, t0, mask), y)
        tau2 = np.maximum(con.tau2_min, t0 * ss.q / (kk - 1))
        w, s1 = ss.w, ss.s1
        a = w * v
        pvpv = (a * a).sum(1) - 2 * (w * a * a).sum(1) / s1 + (w * a).sum(1) ** 2 / s1**2
        pvp = (w * a).sum(1) - 2 * (w * w * a).sum(1) / s1 + ss.s(2) * (w * a).sum(1) / s1**2
        sPP = ss.s(2) - 2 * ss.s(3) / s1 + ss.s(2) ** 2 / s1**2
        tp = np.maximum(tau2, 0)
        se_t2 = np.sqrt(t0**2 / (kk - 1) ** 2 * (2 * pvpv + 4 * tp * pvp + 2 * tp**2 * sPP))
    else:
        # Hedges estimate: the estimator and the start of the iterative ones
        ybar = (mask * y).sum(axis=1) / kk
        rss = (mask * (y - ybar[:, None]) ** 2).sum(axis=1)
        sv = (mask * v).sum(axis=1)
        trPV = sv * (1 - 1 / kk)
        t_he = (rss - trPV) / (kk - 1)
        if meth == "HE":
            tau2 = np.maximum(con.tau2_min, t_he)
            tp = np.maximum(tau2, 0)
            sv2 = (mask * v * v).sum(axis=1)
            pvpv = sv2 - 2 * sv2 / kk + sv**2 / kk**2
            se_t2 = np.sqrt((2 * pvpv + 4 * tp * trPV + 2 * tp**2 * (kk - 1)) / (kk - 1) ** 2)
        elif meth == "PM":
            tau2, iters, ok = _pm_newton(y, v, mask, kk, s0, con)
            conv &= ok & vpos
        else:
            tau2, iters, ok = _fisher(y, v, mask, kk, meth, con, t_he)
            conv &= ok
        if meth in ("PM", "EB"):
            sw = _weights(v, np.nan_to_num(tau2), mask).sum(axis=1)
            se_t2 = np.sqrt(2 * kk**2 / (kk - 1)) / sw
        elif meth in ("ML", "REML"):
            ss = _Sums(_weights(v, np.nan_to_num(tau2), mask), y)
            s2 = ss.s(2)
            if meth == "ML":
                se_t2 = np.sqrt(2 / s2)
            else:
                se_t2 = np.sqrt(2 / (s2 - 2 * ss.s(3) / ss.s1 + s2**2 / ss.s1**2))
    tau2 = np.where(conv, tau2, np.nan)
    # fixed effects
    sf = _Sums(_weights(v, np.nan_to_num(tau2), mask), y)
    beta = sf.mu
    var = 1.0 / sf.s1
    s2w = np.ones(m)
    if tst in ("knha", "adhoc"):
        s2w = np.where(sf.q <= EPS, 0.0, sf.q / (kk - 1))
        if tst == "adhoc":
            s2w = np.maximum(1.0, s2w)
        var = var * s2w
    se = np.sqrt(var)
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if tst == "z":
        pval = 2 * special.ndtr(-np.abs(zval))
        crit = np.full(m, stats.norm.isf((1 - lev) / 2))
    else:
        df = (kk - 1).astype(float)
        pval = 2 * special.stdtr(df, -np.abs(zval))
        crit = _t_isf((1 - lev) / 2, df)
    # heterogeneity
    qe = np.where(vpos, np.maximum(0.0, s0.q), np.nan)
    qe_p = special.chdtrc(kk - 1, qe)
    vt = typical_variance(kk - 1, trP0)
    i2, h2 = i2_h2(qe, kk - 1, tau2, vt, equal_effects=meth == "EE")
    bad = ~conv
    if np.any(bad):
        beta, se, zval, pval = (np.where(bad, np.nan, a) for a in (beta, se, zval, pval))
        se_t2 = np.where(bad, np.nan, se_t2)
    return {
        "beta": beta,
        "se": se,
        "zval": zval,
        "pval": pval,
        "ci_lb": beta - crit * se,
        "ci_ub": beta + crit * se,
        "tau2": tau2,
        "se_tau2": se_t2,
        "qe": qe,
        "qe_p": qe_p,
        "i2": i2,
        "h2": h2,
        "k": kk.astype(np.int64),
        "converged": conv,
        "iterations": iters,
        "vb": np.where(conv, var, np.nan),
        "s2w": s2w,
    }


def _step_halving(tau2: FloatArray, adj: FloatArray, tau2_min: float) -> FloatArray:
    """Halve the steps that would take tau² below ``tau2_min`` (metafor)."""
    adj = np.where(np.isnan(adj), 0.0, adj)
    low = np.flatnonzero(tau2 + adj < tau2_min)
    while low.size:
        adj[low] /= 2
        low = low[tau2[low] + adj[low] < tau2_min]
    return adj


def _score_int(
    y: FloatArray, v: FloatArray, mask: FloatArray, kk: FloatArray, meth: str, tau2: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Score and expected information of ML/REML/EB (intercept-only sums)."""
    ss = _Sums(_weights(v, tau2, mask), y)
    if meth == "EB":
        return ss.q * kk / (kk - 1) - kk, ss.s1
    ypp = ss.ypp
    s2 = ss.s(2)
    if meth == "ML":
        return ypp - ss.s1, s2
    trP = ss.s1 - s2 / ss.s1
    return ypp - trP, s2 - 2 * ss.s(3) / ss.s1 + s2**2 / ss.s1**2


ScoreFn = Callable[[IntArray, FloatArray], tuple[FloatArray, FloatArray]]


def _fisher_loop(
    m: int, tau2: FloatArray, score_fn: ScoreFn, con: Control
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Vectorised Fisher scoring over the problems still iterating (metafor's rule), finished
    by bisection on the established bracket after ``control.fallback_after`` iterations."""
    iters = np.zeros(m, dtype=np.int64)
    conv = np.zeros(m, dtype=bool)
    lo = np.full(m, -np.inf)
    hi = np.full(m, np.inf)
    act = np.arange(m)
    it = 0
    while act.size:
        it += 1
        ta = tau2[act]
        score, info = score_fn(act, ta)
        lo[act] = np.where(score > 0, np.maximum(lo[act], ta), lo[act])
        hi[act] = np.where(score < 0, np.minimum(hi[act], ta), hi[act])
        if con.fallback_after is not None and it > con.fallback_after:
            tau2[act] = _bisect_fallback(act, tau2[act], lo[act], hi[act], score_fn, con)
            conv[act] = np.isfinite(tau2[act])
            break
        adj = _step_halving(ta, score / info * con.stepadj, con.tau2_min)
        new = ta + adj
        change = np.abs(ta - new)
        tau2[act] = new
        iters[act] = it
        done = (change <= con.threshold) | (change <= 8 * EPS * np.abs(new))
        failed = np.isnan(change)
        if it > con.maxiter:
            break
        conv[act[done]] = True
        act = act[~(done | failed)]
    return tau2, iters, conv


def _bisect_fallback(
    act: IntArray,
    tau2: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    score_fn: ScoreFn,
    con: Control,
) -> FloatArray:
    """Vectorised version of :func:`.estimators._fallback`."""
    lo, hi = lo.copy(), hi.copy()
    step = np.maximum(1e-10, 1e-6 * np.abs(tau2))
    at_min = np.zeros(act.size, dtype=bool)
    stuck = ~np.isfinite(lo) & ~np.isfinite(hi)  # no informative score: keep the iterate
    lo[stuck] = hi[stuck] = tau2[stuck]
    openlo = ~np.isfinite(lo)
    hi_anchor = hi.copy()
    for _ in range(2100):
        if not np.any(openlo):
            break
        cand = np.maximum(con.tau2_min, hi_anchor - step)
        idx = np.flatnonzero(openlo)
        pos = score_fn(act[idx], cand[idx])[0] > 0
        lo[idx[pos]] = cand[idx[pos]]
        floor = ~pos & (cand[idx] <= con.tau2_min)
        at_min[idx[floor]] = True
        openlo[idx[pos | floor]] = False
        step[idx] *= 2
    step = np.maximum(1e-10, 1e-6 * np.abs(tau2))
    openhi = ~np.isfinite(hi) & ~at_min
    for _ in range(2100):
        if not np.any(openhi):
            break
        idx = np.flatnonzero(openhi)
        cand = lo[idx] + step[idx]
        neg = score_fn(act[idx], cand)[0] <= 0
        hi[idx[neg]] = cand[neg]
        openhi[idx[neg]] = False
        step[idx] *= 2
    for _ in range(2000):
        width = hi - lo
        run = (width > np.maximum(con.threshold, 4 * EPS * np.abs(hi))) & ~at_min
        if not np.any(run):
            break
        idx = np.flatnonzero(run)
        mid = 0.5 * (lo[idx] + hi[idx])
        pos = score_fn(act[idx], mid)[0] > 0
        lo[idx[pos]] = mid[pos]
        hi[idx[~pos]] = mid[~pos]
    out: FloatArray = np.where(at_min, con.tau2_min, 0.5 * (lo + hi))
    return out


def _fisher(
    y: FloatArray,
    v: FloatArray,
    mask: FloatArray,
    kk: FloatArray,
    meth: str,
    con: Control,
    t_he: FloatArray,
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Vectorised Fisher scoring for ML, REML and EB (intercept-only)."""
    m = mask.shape[0]
    if con.tau2_init is None:
        tau2 = np.maximum(np.maximum(0.0, t_he), con.tau2_min)
    else:
        tau2 = np.full(m, float(con.tau2_init))

    def score_fn(idx: IntArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        return _score_int(_rows(y, idx), _rows(v, idx), mask[idx], kk[idx], meth, t)

    tau2, iters, conv = _fisher_loop(m, tau2, score_fn, con)
    if meth in ("ML", "REML") and con.ll0check:
        reml = meth == "REML"
        vpos = np.all((v > 0) | (mask == 0), axis=1)
        ll0 = _loglik(y, v, mask, kk, np.zeros(m), reml)
        ll = _loglik(y, v, mask, kk, tau2, reml)
        reset = conv & vpos & (ll0 - ll > con.tol) & (tau2 > con.threshold)
        tau2 = np.where(reset, 0.0, tau2)
    return np.maximum(con.tau2_min, tau2), iters, conv


def _loglik(
    y: FloatArray, v: FloatArray, mask: FloatArray, kk: FloatArray, tau2: FloatArray, reml: bool
) -> FloatArray:
    ss = _Sums(_weights(v, tau2, mask), y)
    with np.errstate(divide="ignore", invalid="ignore"):
        logv = np.where(mask > 0, np.log(v + tau2[:, None]), 0.0)
    ll = -0.5 * (kk - 1 if reml else kk) * np.log(2 * np.pi) - 0.5 * logv.sum(axis=1) - 0.5 * ss.q
    if reml:
        ll = ll - 0.5 * np.log(ss.s1)
    out: FloatArray = ll
    return out


def _mad(y: FloatArray, mask: FloatArray) -> FloatArray:
    ym = np.where(mask > 0, y, np.nan)
    med = np.nanmedian(ym, axis=1)
    out: FloatArray = 1.4826 * np.nanmedian(np.abs(ym - med[:, None]), axis=1)
    return out


def _pm_newton(
    y: FloatArray, v: FloatArray, mask: FloatArray, kk: FloatArray, s0: _Sums, con: Control
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Paule-Mandel root of Q(tau²) = k - 1 by Newton steps kept inside a shrinking bracket."""
    m = mask.shape[0]
    target = kk - 1
    tau2 = np.full(m, con.tau2_min, dtype=float)
    iters = np.zeros(m, dtype=np.int64)
    conv = np.ones(m, dtype=bool)
    f0 = s0.q - target
    act = np.flatnonzero(f0 >= 0)
    if act.size == 0:
        return tau2, iters, conv
    hi_val = np.full(m, np.nan)
    if con.tau2_max is None:
        ya = np.broadcast_to(_rows(y, act), (act.size, mask.shape[1]))
        hi_val[act] = np.maximum(100.0, 10 * _mad(ya, mask[act]) ** 2)
    else:
        hi_val[act] = float(con.tau2_max)
    f_hi = _Sums(_weights(_rows(v, act), hi_val[act], mask[act]), _rows(y, act)).q - target[act]
    too_low = f_hi > 0
    conv[act[too_low]] = False
    tau2[act[too_low]] = np.nan
    act = act[~too_low]
    lo = tau2.copy()
    hi = hi_val.copy()
    t = tau2.copy()
    for it in range(1, 1000):
        if act.size == 0:
            break
        ss = _Sums(_weights(_rows(v, act), t[act], mask[act]), _rows(y, act))
        f = ss.q - target[act]
        deriv = ss.ypp  # -dQ/dtau2
        pos = f > 0
        lo[act] = np.where(pos, t[act], lo[act])
        hi[act] = np.where(pos, hi[act], t[act])
        with np.errstate(divide="ignore", invalid="ignore"):
            new = t[act] + f / deriv
        outside = ~np.isfinite(new) | (new <= lo[act]) | (new >= hi[act])
        new = np.where(outside, 0.5 * (lo[act] + hi[act]), new)
        new = np.where(f == 0, t[act], new)
        step = np.abs(new - t[act])
        t[act] = new
        iters[act] = it
        done = (step <= max(con.tol, 0.0)) | (step <= 4 * EPS * np.abs(new)) | (f == 0)
        act = act[~done]
    conv[act] = False
    tau2 = np.where(conv, np.maximum(con.tau2_min, t), np.nan)
    return tau2, iters, conv


# ---------------------------------------------------------------------------------------------
# models with moderators: explicit projection matrices


def _pmat(w: FloatArray, X: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Batched ``P = W - W X (X'WX)^-1 X'W``; also ``(X'WX)^-1`` and ``X'W``."""
    XtW = np.swapaxes(X * w[..., None], -1, -2)  # [m, p, k]
    A = XtW @ X
    Ainv: FloatArray = np.linalg.inv(A).astype(np.float64, copy=False)
    P: FloatArray = w[:, :, None] * np.eye(w.shape[1]) - np.swapaxes(XtW, -1, -2) @ Ainv @ XtW
    return P, Ainv, XtW


def _quad(P: FloatArray, y: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("mi,mij,mj->m", y, P, y)
    return out


def _trace(A: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("mii->m", A)
    return out


def _fit_general(
    y: FloatArray,
    v: FloatArray,
    mask: FloatArray,
    X: FloatArray,
    meth: str,
    tst: str,
    lev: float,
    con: Control,
) -> dict[str, Any]:
    m, k = mask.shape
    X = np.broadcast_to(X, (m, k, X.shape[-1]))
    p = X.shape[-1]
    kk = mask.sum(axis=1)
    y = np.broadcast_to(y, mask.shape)
    v = np.broadcast_to(v, mask.shape)
    vsafe = np.where(mask > 0, v, 1.0)
    ymc = np.where(mask > 0, y - ((mask * y).sum(1) / kk)[:, None], 0.0)
    conv = kk >= (p if meth == "EE" else p + 1)
    iters = np.zeros(m, dtype=np.int64)
    se_t2 = np.full(m, np.nan)
    vpos = np.all((v > 0) | (mask == 0), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        P0, _, _ = _pmat(mask / vsafe, X)
    V = vsafe[:, :, None] * np.eye(k)

    def ptau(t2: FloatArray) -> FloatArray:
        P, _, _ = _pmat(mask / (vsafe + t2[:, None]), X)
        return P

    if meth == "EE":
        tau2 = np.zeros(m)
    elif meth in ("DL", "HS", "HSk"):
        rss = _quad(P0, ymc)
        trP = _trace(P0)
        sw = (mask / vsafe).sum(1)
        if meth == "DL":
            tau2 = (rss - (kk - p)) / trP
        elif meth == "HS":
            tau2 = (rss - kk) / sw
        else:
            tau2 = (kk / (kk - p) * rss - kk) / sw
        tau2 = np.maximum(con.tau2_min, tau2)
        tp = np.maximum(tau2, 0)
        num = 2 * (kk - p) + 4 * tp * trP + 2 * tp**2 * (P0 * P0).sum((1, 2))
        se_t2 = np.sqrt(num / (trP**2 if meth == "DL" else sw**2))
        if meth == "HSk":
            se_t2 *= kk / (kk - p)
    elif meth == "SJ":
        t0 = (ymc**2).sum(1) / kk if con.tau2_init is None else np.full(m, float(con.tau2_init))
        P = ptau(t0)
        tau2 = np.maximum(con.tau2_min, t0 * _quad(P, ymc) / (kk - p))
        PV = P @ V
        tp = np.maximum(tau2, 0)
        se_t2 = np.sqrt(
            t0**2
            / (kk - p) ** 2
            * (
                2 * (PV * np.swapaxes(PV, 1, 2)).sum((1, 2))
                + 4 * tp * (PV * P).sum((1, 2))
                + 2 * tp**2 * (P * P).sum((1, 2))
            )
        )
    else:
        Pi, _, _ = _pmat(mask.copy(), X)
        PV = Pi @ V
        trPV = _trace(PV)
        t_he = (_quad(Pi, ymc) - trPV) / (kk - p)
        if meth == "HE":
            tau2 = np.maximum(con.tau2_min, t_he)
            tp = np.maximum(tau2, 0)
            se_t2 = np.sqrt(
                (
                    2 * (PV * np.swapaxes(PV, 1, 2)).sum((1, 2))
                    + 4 * tp * trPV
                    + 2 * tp**2 * (kk - p)
                )
                / (kk - p) ** 2
            )
        elif meth == "PM":
            tau2 = np.full(m, np.nan)
            for i in range(m):  # few problems here: reuse the single-fit root finder
                from .estimators import _paule_mandel

                sel = mask[i] > 0
                if not conv[i]:
                    continue
                try:
                    tau2[i] = _paule_mandel(ymc[i, sel], v[i, sel], X[i][sel], con).tau2
                except InputError:
                    conv[i] = False
        else:
            tau2 = np.maximum(np.maximum(0.0, t_he), con.tau2_min)
            if con.tau2_init is not None:
                tau2 = np.full(m, float(con.tau2_init))
            valid = conv.copy()

            def score_fn(idx: IntArray, t: FloatArray) -> tuple[FloatArray, FloatArray]:
                w = mask[idx] / (vsafe[idx] + t[:, None])
                P, _, _ = _pmat(w, X[idx])
                Py = np.einsum("mij,mj->mi", P, ymc[idx])
                if meth == "ML":
                    return (Py * Py).sum(1) - w.sum(1), (w * w).sum(1)
                if meth == "REML":
                    return (Py * Py).sum(1) - _trace(P), (P * P).sum((1, 2))
                ka = kk[idx]
                return (ymc[idx] * Py).sum(1) * ka / (ka - p) - ka, w.sum(1)

            sub = np.flatnonzero(valid)
            t_sub, it_sub, c_sub = _fisher_loop(
                sub.size, tau2[sub], lambda idx, t: score_fn(sub[idx], t), con
            )
            tau2[sub], iters[sub] = t_sub, it_sub
            conv[:] = False
            conv[sub] = c_sub
            if meth in ("ML", "REML") and con.ll0check:
                reml = meth == "REML"
                ll0 = _loglik_general(ymc, vsafe, mask, X, kk, np.zeros(m), reml)
                ll = _loglik_general(ymc, vsafe, mask, X, kk, tau2, reml)
                reset = conv & vpos & (ll0 - ll > con.tol) & (tau2 > con.threshold)
                tau2 = np.where(reset, 0.0, tau2)
            tau2 = np.maximum(con.tau2_min, tau2)
        if meth in ("PM", "EB"):
            sw = (mask / (vsafe + np.nan_to_num(tau2)[:, None])).sum(1)
            se_t2 = np.sqrt(2 * kk**2 / (kk - p)) / sw
        elif meth == "ML":
            w = mask / (vsafe + np.nan_to_num(tau2)[:, None])
            se_t2 = np.sqrt(2 / (w * w).sum(1))
        elif meth == "REML":
            P = ptau(np.nan_to_num(tau2))
            se_t2 = np.sqrt(2 / (P * P).sum((1, 2)))
    tau2 = np.where(conv, tau2, np.nan)
    # fixed effects
    w = mask / (vsafe + np.nan_to_num(tau2)[:, None])
    _, Ainv, XtW = _pmat(w, X)
    beta = np.einsum("mpk,mk->mp", Ainv @ XtW, y)
    resid = y - np.einsum("mkp,mp->mk", X, beta)
    vb = Ainv
    s2w = np.ones(m)
    if tst in ("knha", "adhoc"):
        rss = (w * resid**2).sum(1)
        s2w = np.where(rss <= EPS, 0.0, rss / (kk - p))
        if tst == "adhoc":
            s2w = np.maximum(1.0, s2w)
        vb = vb * s2w[:, None, None]
    se = np.sqrt(np.einsum("mii->mi", vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    if tst == "z":
        pval = 2 * special.ndtr(-np.abs(zval))
        crit = np.full(m, stats.norm.isf((1 - lev) / 2))
    else:
        df = (kk - p).astype(float)
        pval = 2 * special.stdtr(df[:, None], -np.abs(zval))
        crit = _t_isf((1 - lev) / 2, df)
    qe = np.where(vpos, np.maximum(0.0, _quad(P0, ymc)), np.nan)
    qe_p = special.chdtrc(kk - p, qe)
    vt = typical_variance(kk - p, _trace(P0))
    i2, h2 = i2_h2(qe, kk - p, tau2, vt, equal_effects=meth == "EE")
    bad = ~conv
    if np.any(bad):
        beta, se, zval, pval = (np.where(bad[:, None], np.nan, a) for a in (beta, se, zval, pval))
    return {
        "beta": beta,
        "se": se,
        "zval": zval,
        "pval": pval,
        "ci_lb": beta - crit[:, None] * se,
        "ci_ub": beta + crit[:, None] * se,
        "tau2": tau2,
        "se_tau2": se_t2,
        "qe": qe,
        "qe_p": qe_p,
        "i2": i2,
        "h2": h2,
        "k": kk.astype(np.int64),
        "converged": conv,
        "iterations": iters,
        "vb": np.where(conv[:, None, None], vb, np.nan),
        "s2w": s2w,
    }


def _loglik_general(
    ymc: FloatArray,
    v: FloatArray,
    mask: FloatArray,
    X: FloatArray,
    kk: FloatArray,
    tau2: FloatArray,
    reml: bool,
) -> FloatArray:
    w = mask / (v + tau2[:, None])
    P, Ainv, _ = _pmat(w, X)
    p = X.shape[-1]
    logv = np.where(mask > 0, np.log(v + tau2[:, None]), 0.0)
    ll = (
        -0.5 * (kk - p if reml else kk) * np.log(2 * np.pi)
        - 0.5 * logv.sum(1)
        - 0.5 * _quad(P, ymc)
    )
    if reml:
        ll = ll + 0.5 * np.linalg.slogdet(Ainv)[1]
    out: FloatArray = ll
    return out

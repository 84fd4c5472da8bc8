"""Case-deletion diagnostics: leave-one-out, cumulative meta-analysis, influence measures.

Every refit uses the model's own estimator, test and control, as metafor's ``leave1out``,
``cumul`` and ``influence.rma.uni`` do, and all refits are done at once by
:func:`.batch.rma_batch` (the same kernel as :func:`.rma.rma`, so it replays metafor's Fisher
scoring and ``uniroot`` iterations exactly, early stopping included). A fixed tau² is refitted
one by one instead.

Influence measures (Viechtbauer & Cheung 2010), with ``(-i)`` the fit without study i and
``s²_(-i)`` its Knapp-Hartung factor (1 for z tests):

* externally studentised residual
  ``(y_i - x_i'b_(-i)) / sqrt(v_i s²_(-i) + x_i' Var(b_(-i)) x_i + tau²_(-i) s²_(-i))``;
* DFFITS ``(x_i'b - x_i'b_(-i)) / sqrt(s²_(-i) h_i (tau²_(-i) + v_i))``;
* Cook's distance ``(b - b_(-i))' Var(b)^-1 (b - b_(-i))``;
* COVRATIO ``det Var(b_(-i)) / det Var(b)``;
* DFBETAS ``(b - b_(-i)) / sqrt(s²_(-i) diag((X'W*X)^-1))`` with ``W*`` at tau²_(-i);
* hat values ``diag(X (X'WX)^-1 X'W)`` and weights ``100 w_i / sum w``.

A study is flagged influential when ``|DFFITS| > 3 sqrt(p/(k-p))``, ``P(chi²_p <= D) > 0.5``,
``h_i > 3p/k`` or any ``|DFBETAS| > 1``.

References
----------
Viechtbauer, W. & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
meta-analysis. *Research Synthesis Methods* 1, 112-125. metafor ``?leave1out``, ``?cumul``,
``?influence.rma.uni``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from livermet.errors import InputError

from .batch import BatchResult, rma_batch
from .estimators import inv_xwx
from .transforms import Transform, resolve_transform

if TYPE_CHECKING:
    from .rma import RMAResult

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CaseDeletion:
    """Results of leave-one-out or cumulative fits, one entry per refit.

    ``study`` holds the (0-based) index of the omitted study (leave-one-out) or of the study
    added last (cumulative). ``se`` is NaN after a back-transformation.
    """

    estimate: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    q: FloatArray
    qp: FloatArray
    tau2: FloatArray
    i2: FloatArray
    h2: FloatArray
    study: IntArray

    Q = property(lambda self: self.q, doc="Alias of ``q``.")
    Qp = property(lambda self: self.qp, doc="Alias of ``qp``.")
    I2 = property(lambda self: self.i2, doc="Alias of ``i2``.")
    H2 = property(lambda self: self.h2, doc="Alias of ``h2``.")
    beta = property(lambda self: self.estimate, doc="Alias of ``estimate``.")

    def __len__(self) -> int:
        """Return the number of refits."""
        return int(self.estimate.size)


@dataclass(frozen=True)
class InfluenceResult:
    """Influence diagnostics per study (see module docstring); ``dfbetas`` is k x p."""

    rstudent: FloatArray
    dffits: FloatArray
    cooks_d: FloatArray
    cov_r: FloatArray
    tau2_del: FloatArray
    qe_del: FloatArray
    hat: FloatArray
    weight: FloatArray
    dfbetas: FloatArray
    is_infl: BoolArray

    cook_d = property(lambda self: self.cooks_d, doc="Alias of ``cooks_d``.")


def hatvalues(fit: RMAResult) -> FloatArray:
    """Diagonal of the hat matrix ``X (X'WX)^-1 X'W`` (values within 10 eps of 1 set to 1)."""
    w = 1.0 / (fit.vi + fit.tau2)
    A = inv_xwx(fit.X, w)
    h = np.einsum("ij,jk,ik->i", fit.X, A, fit.X) * w
    out: FloatArray = np.where(h > 1 - 10 * np.finfo(float).eps, 1.0, h)
    return out


def _needs_loop(fit: RMAResult) -> bool:
    """Refit one by one when batch fits would not reproduce the single fits exactly."""
    return fit.tau2_fixed


def refits(fit: RMAResult, masks: BoolArray) -> BatchResult:
    """Refit ``fit``'s model to each row of ``masks`` (studies kept) in one batch."""
    X = None if fit.int_only else fit.X
    if not _needs_loop(fit):
        return rma_batch(
            fit.yi,
            fit.vi,
            masks,
            mods=X,
            method=fit.method,
            test=fit.test,
            level=fit.level,
            control=fit.control,
        )
    return _loop(fit, masks)


def _loop(fit: RMAResult, masks: BoolArray) -> BatchResult:
    m, p = masks.shape[0], fit.p
    vals: dict[str, Any] = {
        key: np.full(m, np.nan) for key in ("tau2", "se_tau2", "qe", "qe_p", "i2", "h2", "s2w")
    }
    coef = {
        key: np.full((m, p), np.nan) for key in ("beta", "se", "zval", "pval", "ci_lb", "ci_ub")
    }
    vb = np.full((m, p, p), np.nan)
    conv = np.zeros(m, dtype=bool)
    for i in range(m):
        sel = masks[i]
        try:
            r = fit.refit(fit.yi[sel], fit.vi[sel], None if fit.int_only else fit.X[sel])
        except (InputError, np.linalg.LinAlgError):
            continue
        conv[i] = True
        for key in ("tau2", "se_tau2", "qe", "qe_p", "i2", "h2", "s2w"):
            vals[key][i] = getattr(r, key)
        for key in coef:
            coef[key][i] = getattr(r.coefs, key)
        vb[i] = r.vb
    if fit.int_only:
        coef = {key: a[:, 0] for key, a in coef.items()}
        vbo: FloatArray = vb[:, 0, 0]
    else:
        vbo = vb
    return BatchResult(
        **coef,
        **vals,
        k=masks.sum(axis=1).astype(np.int64),
        converged=conv,
        iterations=np.zeros(m, dtype=np.int64),
        vb=vbo,
        method=fit.method,
        test=fit.test,
    )


def _case_deletion(res: BatchResult, study: IntArray, fn: Transform | None) -> CaseDeletion:
    est, se, lb, ub = res.beta, res.se, res.ci_lb, res.ci_ub
    if fn is not None:
        est, lb, ub = (np.asarray(fn(a), float) for a in (est, lb, ub))
        lb, ub = np.minimum(lb, ub), np.maximum(lb, ub)
        se = np.full_like(est, np.nan)
    return CaseDeletion(
        estimate=est,
        se=se,
        zval=res.zval,
        pval=res.pval,
        ci_lb=lb,
        ci_ub=ub,
        q=res.qe,
        qp=res.qe_p,
        tau2=res.tau2,
        i2=res.i2,
        h2=res.h2,
        study=study,
    )


def _require_int_only(fit: RMAResult, what: str) -> None:
    if not fit.int_only:
        raise InputError(f"{what} is only available for models without moderators", "mods")


def leave1out(
    fit: RMAResult,
    transf: str | Transform | None = None,
    targs: Mapping[str, Any] | None = None,
) -> CaseDeletion:
    """Refit the model leaving out each study in turn (metafor ``leave1out``).

    Parameters
    ----------
    fit : RMAResult
        A model without moderators.
    transf, targs
        Optional back-transformation of estimates and bounds (as :meth:`RMAResult.predict`).
    """
    _require_int_only(fit, "leave1out")
    k = fit.k
    masks = ~np.eye(k, dtype=bool)
    res = refits(fit, masks)
    fn = resolve_transform(transf, targs, fit.ni, fit.measure)
    return _case_deletion(res, np.arange(k, dtype=np.int64), fn)


def cumul(
    fit: RMAResult,
    order: npt.ArrayLike | None = None,
    decreasing: bool = False,
    transf: str | Transform | None = None,
    targs: Mapping[str, Any] | None = None,
) -> CaseDeletion:
    """Cumulative meta-analysis: add the studies one at a time (metafor 3.8-1 ``cumul``).

    Parameters
    ----------
    fit : RMAResult
        A model without moderators.
    order : sequence, optional
        Values to sort the studies by (e.g. publication year; ties keep data order); default
        the data order.
    decreasing : bool
        Sort in decreasing order.
    transf, targs
        Optional back-transformation.

    Notes
    -----
    The first fit has one study: as metafor, it reports that study's estimate with tau² = 0
    and a z-based interval.
    """
    _require_int_only(fit, "cumul")
    k = fit.k
    if order is None:
        idx = np.arange(k)
    else:
        key = np.asarray(order, dtype=float)
        if key.size != k:
            raise InputError(f"order needs {k} values", "order")
        idx = np.argsort(-key if decreasing else key, kind="stable")
    masks = np.zeros((k, k), dtype=bool)
    for i in range(k):
        masks[i, idx[: i + 1]] = True
    res = refits(fit, masks)
    out = _case_deletion(res, idx.astype(np.int64), None)
    first = idx[0]
    y1, s1 = fit.yi[first], float(np.sqrt(fit.vi[first]))
    z = float(stats.norm.isf((1 - fit.level) / 2))
    row0 = {
        "estimate": y1,
        "se": s1,
        "zval": y1 / s1,
        "pval": 2 * stats.norm.sf(abs(y1 / s1)),
        "ci_lb": y1 - z * s1,
        "ci_ub": y1 + z * s1,
        "q": 0.0,
        "qp": 1.0,
        "tau2": 0.0,
        "i2": 0.0,
        "h2": 1.0,
    }
    arrays = {name: getattr(out, name).copy() for name in row0}
    for name, val in row0.items():
        arrays[name][0] = val
    fn = resolve_transform(transf, targs, fit.ni, fit.measure)
    if fn is not None:
        est, lb, ub = (np.asarray(fn(arrays[key]), float) for key in ("estimate", "ci_lb", "ci_ub"))
        arrays.update(
            estimate=est, ci_lb=np.minimum(lb, ub), ci_ub=np.maximum(lb, ub), se=np.full(k, np.nan)
        )
    return CaseDeletion(**arrays, study=out.study)


def influence(fit: RMAResult) -> InfluenceResult:
    """Case-deletion influence diagnostics (metafor ``influence.rma.uni``; module docstring)."""
    k, p = fit.X.shape
    if k < 2:
        raise InputError("needs k >= 2", "yi")
    masks = ~np.eye(k, dtype=bool)
    res = refits(fit, masks)
    X = fit.X
    beta_del = res.beta.reshape(k, p)
    vb_del = res.vb.reshape(k, p, p)
    hat = hatvalues(fit)
    delpred = np.einsum("ij,ij->i", X, beta_del)
    vdelpred = np.einsum("ij,ijk,ik->i", X, vb_del, X)
    pred_full = X @ fit.coefs.beta
    s2w = res.s2w
    resid = fit.yi - delpred
    resid = np.where(np.abs(resid) < 100 * np.finfo(float).eps, 0.0, resid)
    seresid = np.sqrt(fit.vi * s2w + vdelpred + res.tau2 * s2w)
    rstudent = resid / seresid
    dffits = (pred_full - delpred) / np.sqrt(s2w * hat * (res.tau2 + fit.vi))
    dfb = fit.coefs.beta[None, :] - beta_del
    svb = np.linalg.inv(fit.vb)
    cooks = np.einsum("ij,jk,ik->i", dfb, svb, dfb)
    cov_r = np.linalg.det(vb_del) / np.linalg.det(fit.vb)
    dfbetas = np.full((k, p), np.nan)
    for i in range(k):
        if np.isfinite(res.tau2[i]):
            vdel = inv_xwx(X, 1.0 / (fit.vi + res.tau2[i]))
            dfbetas[i] = dfb[i] / np.sqrt(s2w[i] * np.diag(vdel))
    with np.errstate(invalid="ignore"):
        is_infl = (
            (np.abs(dffits) > 3 * np.sqrt(p / (k - p)))
            | (stats.chi2.cdf(cooks, p) > 0.5)
            | (hat > 3 * p / k)
            | np.any(np.abs(dfbetas) > 1, axis=1)
        )
    return InfluenceResult(
        rstudent=rstudent,
        dffits=dffits,
        cooks_d=cooks,
        cov_r=cov_r,
        tau2_del=res.tau2,
        qe_del=res.qe,
        hat=hat,
        weight=fit.weights,
        dfbetas=dfbetas,
        is_infl=is_infl & np.isfinite(cooks),
    )

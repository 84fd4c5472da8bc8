"""Many meta-analyses at once: every estimator vectorised over a leading axis of problems.

``rma_batch(yi, vi, mask)`` fits m data sets of up to k studies (arrays of shape ``[m, k]``, or
``[k]`` shared by all rows; a boolean ``mask`` of shape ``[m, k]`` selects each row's studies, so
ragged k is allowed). It runs the same code as m calls of :func:`.rma.rma`: both are cases of
:mod:`.kernel` (same estimators, same Fisher scoring from the Hedges start with step halving and
the same stopping rule, same log-likelihood check at tau² = 0, Paule-Mandel by the same R
``uniroot`` iterations).

Models without moderators use closed-form sums over the studies (``[m, k]`` arithmetic only);
with moderators the projection matrices ``P`` are formed per problem (``[m, k, k]``). Failed
problems (no convergence, too few studies, variances not positive where the estimator needs
them) give NaN and ``converged = False`` instead of an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

from . import kernel
from .control import Control, resolve_control
from .estimators import canonical_method

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


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
        Xc = None if X is None else (X if X.ndim == 2 else X[start:stop])
        parts.append(_fit(kernel.design(yc, vc, mc, Xc), meth, tst, lev, con))
    out = {key: np.concatenate([pt[key] for pt in parts]) for key in parts[0]}
    return BatchResult(method=meth, test=tst, **(_squeeze(out) if X is None else out))


def _squeeze(out: dict[str, Any]) -> dict[str, Any]:
    """Intercept-only results: coefficients ``[m]`` and ``vb`` ``[m]``."""
    flat = {key: out[key][:, 0] for key in ("beta", "se", "zval", "pval", "ci_lb", "ci_ub")}
    return {**out, **flat, "vb": out["vb"][:, 0, 0]}


def _fit(d: kernel.Design, meth: str, tst: str, lev: float, con: Control) -> dict[str, Any]:
    """One chunk of problems through the kernel; failed problems NaN."""
    est = kernel.estimate(d, meth, con)
    conv = est.status == kernel.OK
    with np.errstate(all="ignore"):
        fe = kernel.fixed_effects(d, np.nan_to_num(est.tau2), tst, lev)
        het = kernel.heterogeneity(d, est.tau2, meth == "EE")
    bad = ~conv[:, None]
    coefs = {
        key: np.where(bad, np.nan, getattr(fe, key))
        for key in ("beta", "se", "zval", "pval", "ci_lb", "ci_ub")
    }
    return {
        **coefs,
        "tau2": est.tau2,
        "se_tau2": est.se,
        "qe": het.qe,
        "qe_p": het.qe_p,
        "i2": het.i2,
        "h2": het.h2,
        "k": d.kk.astype(np.int64),
        "converged": conv,
        "iterations": est.iterations,
        "vb": np.where(bad[:, :, None], np.nan, fe.vb),
        "s2w": fe.s2w,
    }

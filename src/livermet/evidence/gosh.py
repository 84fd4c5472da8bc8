"""GOSH: the model fitted to all 2^k - 1 subsets of the studies, or to a random sample.

Olkin, Dahabreh & Trikalinos (2012); a random sample of subsets when there are too many.

Subsets are enumerated as metafor's ``gosh.rma``: subset number r (1 .. 2^k - 1) contains
study j when bit j of r is set, and the list is stably sorted by subset size; subsets smaller
than the number of coefficients are skipped. A one-study subset reports that study's estimate
with tau² = 0, QE = 0, I² = 0 and H² = 1 (metafor's k = 1 fit). For EE and DL without
moderators the fits are closed-form sums over a 0/1 inclusion matrix (matrix-vector products);
every other model goes through :func:`.batch.rma_batch`. Work is split into chunks (bounded
memory) that run on ``n_jobs`` threads (numpy releases the GIL in array arithmetic).

References
----------
Olkin, I., Dahabreh, I. J. & Trikalinos, T. A. (2012). GOSH - a graphical display of study
heterogeneity. *Research Synthesis Methods* 3(3), 214-223. metafor ``?gosh``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from livermet.errors import InputError

from .batch import rma_batch
from .heterogeneity import i2_h2

if TYPE_CHECKING:
    from .rma import RMAResult

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class GoshResult:
    """One row per subset: ``k qe i2 h2 tau2 estimate`` and the inclusion matrix ``incl``.

    ``estimate`` is ``[n]`` without moderators and ``[n, p]`` with them; ``fit`` marks subsets
    whose fit succeeded; ``exact`` whether all subsets were used.
    """

    k: npt.NDArray[np.int64]
    qe: FloatArray
    i2: FloatArray
    h2: FloatArray
    tau2: FloatArray
    estimate: FloatArray
    incl: BoolArray
    fit: BoolArray
    exact: bool
    method: str

    @property
    def n(self) -> int:
        """Number of subsets fitted."""
        return int(self.k.size)

    QE = property(lambda self: self.qe, doc="Alias of ``qe``.")
    I2 = property(lambda self: self.i2, doc="Alias of ``i2``.")
    H2 = property(lambda self: self.h2, doc="Alias of ``h2``.")
    beta = property(lambda self: self.estimate, doc="Alias of ``estimate``.")


def all_subsets(k: int, min_size: int = 1) -> BoolArray:
    """Inclusion matrix of every subset with at least ``min_size`` studies, metafor's order."""
    if k > 30:
        raise InputError("too many subsets to enumerate (k > 30)", "k")
    codes = np.arange(1, 2**k, dtype=np.uint32)
    bits = np.unpackbits(
        codes.astype("<u4").view(np.uint8).reshape(-1, 4), axis=1, bitorder="little"
    )
    bits = bits[:, :k].view(bool)
    size = bits.sum(axis=1, dtype=np.int64)
    order = np.concatenate([np.flatnonzero(size == s) for s in range(min_size, k + 1)])
    out: BoolArray = bits[order]
    return out


def random_subsets(k: int, n: int, min_size: int = 1, seed: Any = None) -> BoolArray:
    """Draw ``n`` random subsets of ``k`` studies, sorted by size.

    The size is drawn with probability proportional to Binomial(k, 1/2) on ``min_size..k``,
    then that many distinct studies uniformly (as metafor).
    """
    rng = np.random.default_rng(seed)
    sizes = np.arange(min_size, k + 1)
    prob = stats.binom.pmf(sizes, k, 0.5)
    j = rng.choice(sizes, size=n, p=prob / prob.sum())
    j = np.sort(j, kind="stable")
    incl = np.zeros((n, k), dtype=bool)
    for start in range(0, n, 1 << 16):
        keys = rng.random((min(n, start + (1 << 16)) - start, k))
        kth = np.sort(keys, axis=1)
        cut = kth[np.arange(keys.shape[0]), j[start : start + keys.shape[0]] - 1]
        incl[start : start + keys.shape[0]] = keys <= cut[:, None]
    return incl


def _closed_form(y: FloatArray, v: FloatArray, M: FloatArray, dl: bool) -> tuple[FloatArray, ...]:
    """EE/DL fits of the subsets in the 0/1 matrix ``M`` (rows) by matrix-vector products."""
    w = 1.0 / v
    kk = M.sum(axis=1)
    sw = M @ w
    swy = M @ (w * y)
    mu = swy / sw
    # Q = sum w y² - (sum w y)² / sum w, with y centred beforehand for accuracy
    q = np.maximum(0.0, M @ (w * y * y) - swy * mu)
    df = kk - 1
    # for a DL fit, 100 tau² / (vt + tau²) reduces to the equal-effects max(0, 100 (Q - df) / Q)
    i2, h2 = i2_h2(q, df, None, None, equal_effects=True)
    i2 = np.where(kk > 1, np.nan_to_num(i2), 0.0)
    h2 = np.where(kk > 1, h2, 1.0)
    q = np.where(kk > 1, q, 0.0)
    if not dl:
        return kk, q, i2, h2, np.zeros_like(q), mu
    sw2 = M @ (w * w)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.where(kk > 1, np.maximum(0.0, (q - df) / (sw - sw2 / sw)), 0.0)
    W = M / (v[None, :] + tau2[:, None])
    est = (W @ y) / W.sum(axis=1)
    return kk, q, i2, h2, tau2, est


def gosh(
    fit: RMAResult,
    subsets: int | None = None,
    max_subsets: int = 1_000_000,
    seed: Any = None,
    chunk_size: int = 1 << 14,
    n_jobs: int | None = None,
) -> GoshResult:
    """Fit ``fit``'s model to all subsets of the studies (or a random sample of them).

    Parameters
    ----------
    fit : RMAResult
        The model (any estimator; moderators allowed).
    subsets : int, optional
        Number of random subsets to use when there are more than that many (default
        ``max_subsets``, metafor's 10^6).
    max_subsets : int
        Default for ``subsets``.
    seed : optional
        Seed of the random subsets.
    chunk_size : int
        Subsets fitted at a time.
    n_jobs : int, optional
        Threads (default: up to 2, or the CPUs available).

    Returns
    -------
    GoshResult
    """
    k, p = fit.X.shape
    if k < 2:
        raise InputError("GOSH needs k >= 2", "yi")
    limit = max_subsets if subsets is None else int(subsets)
    if limit < 2:
        raise InputError("subsets must be >= 2", "subsets")
    n_all = sum(math.comb(k, j) for j in range(p, k + 1))
    exact = n_all <= limit
    incl = all_subsets(k, p) if exact else random_subsets(k, limit, p, seed)
    n = incl.shape[0]
    y, v = fit.yi, fit.vi
    closed = fit.int_only and fit.method in ("EE", "DL") and not fit.tau2_fixed
    y_c = y - float(np.sum(y / v) / np.sum(1 / v)) if closed else y
    shift = float(y[0] - y_c[0]) if closed else 0.0
    X = None if fit.int_only else fit.X

    def run(start: int) -> tuple[FloatArray, ...]:
        M = incl[start : start + chunk_size]
        if closed:
            kk, q, i2, h2, tau2, est = _closed_form(y_c, v, M.astype(float), fit.method == "DL")
            return kk, q, i2, h2, tau2, est + shift
        res = rma_batch(
            y, v, M, mods=X, method=fit.method, test=fit.test, level=fit.level, control=fit.control
        )
        kk = res.k.astype(float)
        q, i2, h2, tau2, est = res.qe, res.i2, res.h2, res.tau2, res.beta
        if fit.int_only:
            one = kk == 1
            if np.any(one):
                idx = np.argmax(M[one], axis=1)
                est = est.copy()
                est[one] = y[idx]
                q, i2, h2, tau2 = (a.copy() for a in (q, i2, h2, tau2))
                q[one], i2[one], h2[one], tau2[one] = 0.0, 0.0, 1.0, 0.0
        return kk, q, i2, h2, tau2, est

    starts = list(range(0, n, chunk_size))
    jobs = n_jobs if n_jobs is not None else min(2, os.cpu_count() or 1)
    if jobs > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(run, starts))
    else:
        parts = [run(s) for s in starts]
    kk, q, i2, h2, tau2, est = (np.concatenate([pt[j] for pt in parts]) for j in range(6))
    ok = np.isfinite(q) & np.isfinite(tau2) & np.all(np.isfinite(est.reshape(n, -1)), axis=1)
    return GoshResult(
        k=kk.astype(np.int64),
        qe=q,
        i2=i2,
        h2=h2,
        tau2=tau2,
        estimate=est,
        incl=incl,
        fit=ok,
        exact=exact,
        method=fit.method,
    )

"""Tests and intervals for the fixed effects: z, t and Knapp-Hartung (with the ad hoc rule).

Given tau², ``beta = (X'WX)^-1 X'W y`` and ``Var(beta) = (X'WX)^-1`` with ``W = diag(1/(v+tau²))``.

* ``"z"``: standard normal tests and intervals; omnibus ``QM ~ chi²_m``.
* ``"t"``: the same standard errors with t_{k-p}; ``QM/m ~ F(m, k-p)``.
* ``"knha"``: Hartung & Knapp (2001), Sidik & Jonkman (2002): ``Var(beta)`` multiplied by
  ``s² = sum w (y - X beta)² / (k - p)`` (0 when the residual sum is below machine epsilon),
  t_{k-p} and F(m, k-p).
* ``"adhoc"``: Knapp-Hartung with ``s² = max(1, s²)`` (Knapp & Hartung 2003; Jackson et al. 2017),
  so the interval is never narrower than the z-based one's standard error.

References
----------
Hartung, J. & Knapp, G. (2001). A refined method for the meta-analysis of controlled clinical
trials with binary outcome. *Stat. Med.* 20, 3875-3889. Sidik, K. & Jonkman, J. N. (2002). A
simple confidence interval for meta-analysis. *Stat. Med.* 21, 3153-3159. metafor ``?rma.uni``.

The tests are written once in :func:`.kernel.fixed_effects` (vectorised over many fits);
:func:`fixed_effects` is its one-fit case plus the omnibus test of the coefficients ``btt``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from . import kernel
from .kernel import critical_value

FloatArray = npt.NDArray[np.float64]
TESTS = ("z", "t", "knha", "adhoc")
__all__ = ["TESTS", "Coefficients", "critical_value", "fixed_effects"]


@dataclass(frozen=True)
class Coefficients:
    """Estimates with their covariance matrix, tests and intervals."""

    beta: FloatArray
    vb: FloatArray
    se: FloatArray
    zval: FloatArray
    pval: FloatArray
    ci_lb: FloatArray
    ci_ub: FloatArray
    s2w: float
    ddf: int | None
    qm: float
    qm_p: float
    qm_df: tuple[int, int | None]
    crit: float


def _omnibus(
    beta: FloatArray, vb: FloatArray, btt: list[int], ddf: int | None
) -> tuple[float, float]:
    """``QM = b' V^-1 b`` over ``btt`` (chi²_m), or ``QM/m`` with F(m, ddf) for t-type tests."""
    m = len(btt)
    try:
        qm = float(beta[btt] @ np.linalg.solve(vb[np.ix_(btt, btt)], beta[btt]))
    except np.linalg.LinAlgError:
        qm = float("nan")
    if ddf is None:
        return qm, float(stats.chi2.sf(qm, m))
    return qm / m, float(stats.f.sf(qm / m, m, ddf)) if ddf > 0 else float("nan")


def fixed_effects(
    yi: FloatArray,
    vi: FloatArray,
    X: FloatArray,
    tau2: float,
    test: str,
    level: float,
    btt: list[int],
) -> Coefficients:
    """Weighted least-squares estimates at ``tau²`` with the chosen test (see module docstring)."""
    k, p = X.shape
    fe = kernel.fixed_effects(kernel.design(yi, vi, X=X), np.array([float(tau2)]), test, level)
    ddf = None if test == "z" else k - p
    qm, qm_p = _omnibus(fe.beta[0], fe.vb[0], btt, ddf)
    return Coefficients(
        beta=fe.beta[0],
        vb=fe.vb[0],
        se=fe.se[0],
        zval=fe.zval[0],
        pval=fe.pval[0],
        ci_lb=fe.ci_lb[0],
        ci_ub=fe.ci_ub[0],
        s2w=float(fe.s2w[0]),
        ddf=ddf,
        qm=qm,
        qm_p=qm_p,
        qm_df=(len(btt), ddf),
        crit=float(fe.crit[0]),
    )

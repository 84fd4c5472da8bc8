"""Q-profile confidence interval for tau² (and tau, I², H²), as metafor's ``confint.rma.uni``.

The generalised Q statistic ``Q(tau²) = y' P(tau²) y`` follows chi²_{k-p} at the true tau² and
decreases in tau², so (Viechtbauer 2007; Hartung & Knapp 2005)

* lower bound: the tau² with ``Q(tau²) = chi²_{k-p; 1-alpha/2}``, or ``tau2_min`` when
  ``Q(tau2_min)`` is already below that quantile;
* upper bound: the tau² with ``Q(tau²) = chi²_{k-p; alpha/2}``; when even ``Q(tau2_min)`` is below
  that quantile both bounds are ``tau2_min`` (the interval is the null set, reported as [0, 0]).

Roots are found on ``[min(0, tau²), max(100, 10 tau²)]`` with Brent's method using R's
``uniroot`` tolerance ``eps^0.25`` by default, which is what metafor reports (its intervals are
accurate to about 1e-4); pass ``tol=1e-12`` for the exact bounds. I² and H² bounds follow from the
tau² bounds through the monotone formulas of the fit.

References
----------
Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in meta-analysis.
*Stat. Med.* 26, 37-52. metafor ``?confint.rma``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scipy import stats

from livermet.errors import InputError

from .estimators import q_stat
from .zeroin import R_UNIROOT_TOL, zeroin

if TYPE_CHECKING:
    from .rma import RMAResult


@dataclass(frozen=True)
class HeterogeneityCI:
    """Estimates and Q-profile bounds of tau², tau, I² and H².

    ``lb_sign``/``ub_sign`` are ``"<"`` or ``">"`` when a bound lies beyond the search interval
    (as metafor prints); ``null_set`` when the interval is empty (reported as [tau2_min]*2).
    """

    tau2: float
    tau2_lb: float
    tau2_ub: float
    tau_lb: float
    tau_ub: float
    i2_lb: float
    i2_ub: float
    h2_lb: float
    h2_ub: float
    level: float
    lb_sign: str = ""
    ub_sign: str = ""
    null_set: bool = False

    def __iter__(self):  # type: ignore[no-untyped-def]
        """Unpack as ``(lower, upper)`` of tau²."""
        return iter((self.tau2_lb, self.tau2_ub))


def confint_tau2(
    fit: RMAResult,
    level: float | None = None,
    tol: float = R_UNIROOT_TOL,
    maxiter: int = 1000,
    tau2_min: float | None = None,
    tau2_max: float | None = None,
) -> HeterogeneityCI:
    """Q-profile confidence interval of tau² for a random/mixed-effects fit.

    Parameters
    ----------
    fit : RMAResult
        A model with an estimated tau² (not EE, not a fixed tau²).
    level : float, optional
        Confidence level (default: the fit's).
    tol : float
        Root-finding tolerance (metafor's default ``eps^0.25``; use 1e-12 for exact bounds).
    maxiter : int
        Maximum iterations of the root finder.
    tau2_min, tau2_max : float, optional
        Search interval (default ``min(0, tau²)`` and ``max(100, 10 tau², 10 tau2_min)``).

    Returns
    -------
    HeterogeneityCI
    """
    if fit.method == "EE":
        raise InputError("the model has no random-effects component", "method")
    if fit.tau2_fixed:
        raise InputError("tau2 was fixed, not estimated", "tau2")
    if (fit.vi <= 0).any():
        raise InputError("needs all sampling variances > 0", "vi")
    lev = fit.level if level is None else (level / 100 if level > 1 else level)
    alpha = 1 - lev
    k, p = fit.X.shape
    lo = min(0.0, fit.tau2) if tau2_min is None else float(tau2_min)
    hi = max(100.0, 10 * fit.tau2, 10 * lo) if tau2_max is None else float(tau2_max)
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))

    def q(t: float) -> float:
        return q_stat(fit.yi, fit.vi, fit.X, t)

    q_lo, q_hi = q(lo), q(hi)
    lb = ub = math.nan
    lb_sign = ub_sign = ""
    null_set = False

    def root(target: float) -> float:
        res = zeroin(lambda t: q(t) - target, lo, hi, q_lo - target, q_hi - target, tol, maxiter)
        return res.root

    if q_lo < crit_l:
        lb = ub = lo
        lb_sign = ub_sign = "<"
        null_set = lo <= 0
    elif q_hi > crit_l:
        ub, ub_sign = hi, ">"
    else:
        ub = root(crit_l)
    if q_hi > crit_u:
        lb = ub = hi
        lb_sign = ub_sign = ">"
    elif q_lo < crit_u:
        if not null_set:
            lb = lo
            if lo > 0:
                lb_sign = "<"
    else:
        lb = root(crit_u)

    def i2(t: float) -> float:
        return 100 * t / (fit.vt + t)

    def h2(t: float) -> float:
        return t / fit.vt + 1

    return HeterogeneityCI(
        tau2=fit.tau2,
        tau2_lb=lb,
        tau2_ub=ub,
        tau_lb=math.sqrt(max(lb, 0.0)),
        tau_ub=math.sqrt(max(ub, 0.0)),
        i2_lb=i2(lb),
        i2_ub=i2(ub),
        h2_lb=h2(lb),
        h2_ub=h2(ub),
        level=lev,
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        null_set=null_set,
    )

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
from collections.abc import Callable
from dataclasses import dataclass, replace
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
    _check_profilable(fit)
    lev = fit.level if level is None else (level / 100 if level > 1 else level)
    alpha = 1 - lev
    k, p = fit.X.shape
    lo = min(0.0, fit.tau2) if tau2_min is None else float(tau2_min)
    hi = max(100.0, 10 * fit.tau2, 10 * lo) if tau2_max is None else float(tau2_max)
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))

    def q(t: float) -> float:
        return q_stat(fit.yi, fit.vi, fit.X, t)

    search = _Search(lo, hi, q(lo), q(hi))

    def root(target: float) -> float:
        res = zeroin(
            lambda t: q(t) - target,
            lo,
            hi,
            search.q_lo - target,
            search.q_hi - target,
            tol,
            maxiter,
        )
        return res.root

    bounds = _lower_bound(_upper_bound(search, crit_l, root), search, crit_u, root)
    lb, ub = bounds.lb, bounds.ub

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
        lb_sign=bounds.lb_sign,
        ub_sign=bounds.ub_sign,
        null_set=bounds.null_set,
    )


def _check_profilable(fit: RMAResult) -> None:
    """Refuse a fit whose tau² cannot be profiled: EE, a fixed tau², or a variance <= 0."""
    if fit.method == "EE":
        raise InputError("the model has no random-effects component", "method")
    if fit.tau2_fixed:
        raise InputError("tau2 was fixed, not estimated", "tau2")
    if (fit.vi <= 0).any():
        raise InputError("needs all sampling variances > 0", "vi")


@dataclass(frozen=True)
class _Search:
    """The search interval ``[lo, hi]`` of tau² with the Q statistic at its ends."""

    lo: float
    hi: float
    q_lo: float
    q_hi: float


@dataclass(frozen=True)
class _Bounds:
    """Bounds of tau² with metafor's markers (``"<"``/``">"`` beyond the search interval)."""

    lb: float = math.nan
    ub: float = math.nan
    lb_sign: str = ""
    ub_sign: str = ""
    null_set: bool = False


def _upper_bound(search: _Search, crit_l: float, root: Callable[[float], float]) -> _Bounds:
    """Return the upper bound: where Q crosses the lower chi² quantile ``crit_l``.

    Q below ``crit_l`` already at ``lo``: both bounds are ``lo`` (an empty set if ``lo <= 0``);
    Q still above it at ``hi``: the bound is beyond the interval, reported as ``hi``
    (docs/evidence.md#q-profile-interval).
    """
    if search.q_lo < crit_l:
        return _Bounds(search.lo, search.lo, "<", "<", null_set=search.lo <= 0)
    if search.q_hi > crit_l:
        return _Bounds(ub=search.hi, ub_sign=">")
    return _Bounds(ub=root(crit_l))


def _lower_bound(
    bounds: _Bounds, search: _Search, crit_u: float, root: Callable[[float], float]
) -> _Bounds:
    """Return ``bounds`` with the lower bound: where Q crosses the upper chi² quantile ``crit_u``.

    Q above ``crit_u`` still at ``hi``: both bounds are ``hi``; Q below it already at ``lo``:
    the bound is ``lo`` (kept as it is for an empty set).
    """
    if search.q_hi > crit_u:
        return replace(bounds, lb=search.hi, ub=search.hi, lb_sign=">", ub_sign=">")
    if not search.q_lo < crit_u:  # (also for a NaN Q)
        return replace(bounds, lb=root(crit_u))
    if bounds.null_set:
        return bounds
    return replace(bounds, lb=search.lo, lb_sign="<" if search.lo > 0 else bounds.lb_sign)

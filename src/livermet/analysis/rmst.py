"""Restricted mean survival time (RMST) with the standard error R's survival package reports.

RMST(τ) = ∫₀^τ S(u) du under the Kaplan-Meier curve. Its variance is the Greenwood-type sum
(Klein & Moeschberger 2003, section 4.5; Miller 1981, pp. 195-196)

    Var = Σ_{t_j <= τ} A_j² · d_j / (n_j (n_j - d_j)),   A_j = ∫_{t_j}^τ S(u) du,

which is what ``summary(survfit(...), rmean=τ)$table[, "se(rmean)"]`` prints (R survival 3.5-3,
``survmean`` in ``R/print.survfit.R``). lifelines' ``restricted_mean_survival_time(...,
return_variance=True)`` returns the variance of min(T, τ) instead (lifelines issue #1682), so
it is not used. Terms where everyone at risk dies (n_j = d_j) contribute 0, as in R. The
curve is extended flat from the last observed time to τ, as R does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from livermet.analysis._ci import z_value
from livermet.errors import InputError

__all__ = ["RMST", "restricted_mean"]


@dataclass(frozen=True)
class RMST:
    """Restricted mean survival time to ``horizon``, its standard error and a normal interval."""

    horizon: float
    estimate: float
    std_err: float
    lower: float
    upper: float
    conf_level: float

    def to_dict(self) -> dict[str, float]:
        """Return the estimate, its standard error and interval as a plain dict."""
        return asdict(self)


def restricted_mean(
    time: Any,
    survival: Any,
    n_risk: Any,
    n_event: Any,
    horizon: float,
    *,
    conf_level: float = 0.95,
) -> RMST:
    """Return the RMST of a Kaplan-Meier step function (times ascending).

    The times are ascending and S is the survival just after each time.

    Parameters
    ----------
    time, survival, n_risk, n_event : array_like
        The fitted curve (`KaplanMeier.time_`, ``survival_``, ``n_risk_``, ``n_event_``).
    horizon : float
        τ > 0, in the unit of ``time``.
    conf_level : float
        Coverage of the interval estimate ± z·SE (R prints no interval; survRM2 uses this one).
    """
    tau = float(horizon)
    if not np.isfinite(tau) or tau <= 0:
        raise InputError(f"{horizon!r} must be a positive number of months", "horizon")
    t = np.asarray(time, dtype=float)
    s = np.asarray(survival, dtype=float)
    n = np.asarray(n_risk, dtype=float)
    d = np.asarray(n_event, dtype=float)
    keep = t <= tau
    grid = np.concatenate([[0.0], t[keep], [tau]])
    height = np.concatenate([[1.0], s[keep]])  # S on each interval (grid[i], grid[i+1]]
    areas = np.diff(grid) * height
    estimate = float(areas.sum())
    # A_j: area from each kept time to tau = sum of the rectangles after it
    after = np.cumsum(areas[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n[keep] - d[keep] > 0, d[keep] / (n[keep] * (n[keep] - d[keep])), 0.0)
    se = float(np.sqrt(np.sum(after**2 * h)))
    z = z_value(conf_level)
    return RMST(tau, estimate, se, estimate - z * se, estimate + z * se, float(conf_level))

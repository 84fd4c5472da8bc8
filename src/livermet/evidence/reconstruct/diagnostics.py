"""How well a reconstruction fits what was published (docs/reconstruction.md#diagnostics).

Two checks, after Guyot et al. (2012, doi 10.1186/1471-2288-12-9) and Liu et al. (2021,
doi 10.1186/s12874-021-01308-8):

- the Kaplan-Meier curve of the reconstructed patients against the digitised points: the
  vertical distance from each point to the reconstructed step curve, its vertical drops
  included (a point clicked on a drop at time ``t`` lies anywhere between ``S(t-)`` and
  ``S(t)``); root mean square and maximum;
- the reconstructed numbers at risk at the risk table's times (patients with a time at or after
  it, as R's ``summary(survfit(...), times=)``) against the published ones, with the number the
  algorithm reached at the interval's first digitised point and whether it had to lower the
  published number. The two can differ by the censorings placed midway between the last point
  before a risk time and the first after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "POOR_FIT_THRESHOLD",
    "CurveFit",
    "curve_fit",
    "fit_warnings",
    "km_steps",
    "n_at_risk",
    "risk_table_check",
]

POOR_FIT_THRESHOLD = 0.05
"""Largest distance (survival, 0-1 scale) between a digitised point and the reconstructed curve
above which the fit is reported as poor. An engineering default, not a published threshold:
neither Guyot et al. (2012) nor Liu et al. (2021) set one. A careful digitisation of a
published curve with its risk table stays well below it (Guyot's example: 0.013, the tests of
tests/evidence/test_reconstruct_guyot.py); a larger distance points to a wrong scale or time
unit, misread points or a risk table that does not belong to the curve
(docs/reconstruction.md#diagnostics)."""


@dataclass(frozen=True)
class CurveFit:
    """Reconstructed Kaplan-Meier against the digitised points.

    Attributes
    ----------
    rmse, max_abs_error : float
        Root mean square and largest distance (survival, 0-1 scale) over the points.
    worst_time : float
        Time of the point farthest from the reconstructed curve.
    n_points : int
        Points compared.
    """

    rmse: float
    max_abs_error: float
    worst_time: float
    n_points: int

    def to_dict(self) -> dict[str, float | int]:
        """Return the fit as a plain dict."""
        return {
            "rmse": self.rmse,
            "max_abs_error": self.max_abs_error,
            "worst_time": self.worst_time,
            "n_points": self.n_points,
        }


def km_steps(time: npt.ArrayLike, event: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Kaplan-Meier product-limit estimate: distinct event times and survival just after each.

    Parameters
    ----------
    time, event : array_like
        One row per patient; event 1, censored 0.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    times, inverse = np.unique(t, return_inverse=True)
    deaths = np.bincount(inverse, weights=e, minlength=times.size)
    leaving = np.bincount(inverse, minlength=times.size).astype(float)
    at_risk = t.size - np.r_[0.0, np.cumsum(leaving)[:-1]]
    factor = np.where(at_risk > 0, 1 - deaths / np.where(at_risk > 0, at_risk, 1), 1.0)
    surv = np.cumprod(factor)
    has = deaths > 0
    return times[has].astype(float), surv[has].astype(float)


def _step_value(steps: FloatArray, surv: FloatArray, x: FloatArray, *, left: bool) -> FloatArray:
    """Return the step function's value at ``x``: just after (right-continuous) or just before."""
    idx = np.searchsorted(steps, x, side="left" if left else "right")
    values: FloatArray = np.r_[1.0, surv][idx]
    return values


def curve_fit(
    time: npt.ArrayLike, event: npt.ArrayLike, dig_time: npt.ArrayLike, dig_surv: npt.ArrayLike
) -> CurveFit:
    """Distance from each digitised point to the reconstructed Kaplan-Meier step curve."""
    steps, surv = km_steps(time, event)
    x = np.asarray(dig_time, dtype=float)
    y = np.asarray(dig_surv, dtype=float)
    after = _step_value(steps, surv, x, left=False)
    before = _step_value(steps, surv, x, left=True)
    distance = np.maximum(np.maximum(after - y, y - before), 0.0)
    worst = int(np.argmax(distance))
    return CurveFit(
        rmse=float(np.sqrt(np.mean(distance**2))),
        max_abs_error=float(distance[worst]),
        worst_time=float(x[worst]),
        n_points=int(x.size),
    )


def fit_warnings(fit: CurveFit, threshold: float = POOR_FIT_THRESHOLD) -> list[str]:
    """Return a warning when the largest distance of `curve_fit` exceeds ``threshold``."""
    if not fit.max_abs_error > threshold:
        return []
    return [
        f"poor fit: a digitised point is {fit.max_abs_error:.3f} from the reconstructed curve "
        f"(at {fit.worst_time:g}; more than {threshold:g}, an engineering default); check the "
        "digitisation, the survival scale, the time unit and the risk table"
    ]


def n_at_risk(time: npt.ArrayLike, at: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Patients with a time at or after each of ``at`` (R survival's n.risk at those times)."""
    t = np.sort(np.asarray(time, dtype=float))
    x = np.asarray(at, dtype=float)
    return (t.size - np.searchsorted(t, x, side="left")).astype(np.int64)


def risk_table_check(
    risk_time: npt.ArrayLike,
    published: npt.ArrayLike,
    reached: npt.ArrayLike,
    ipd_time: npt.ArrayLike,
) -> pd.DataFrame:
    """Compare published and reconstructed numbers at risk, one row per risk table time.

    Columns: ``time``, ``published``, ``algorithm`` (the number the algorithm reached at the
    interval's first digitised point), ``reconstructed`` (patients of the IPD at risk at
    ``time``), ``difference`` (reconstructed - published) and ``lowered`` (the algorithm could
    not reach the published number and lowered it).
    """
    t = np.asarray(risk_time, dtype=float)
    pub = np.asarray(published, dtype=np.int64)
    alg = np.asarray(reached, dtype=np.int64)
    rec = n_at_risk(ipd_time, t)
    return pd.DataFrame(
        {
            "time": t,
            "published": pub,
            "algorithm": alg,
            "reconstructed": rec,
            "difference": rec - pub,
            "lowered": alg < pub,
        }
    )

"""The pooled Weibull curve: its result object, band, median and Fieller interval.

S(t) = exp(-exp(α + γ log t)) on the complementary log-log scale; fitted by
`livermet.evidence.survival.weibull.weibull_synthesis` (docs/evidence.md#weibull-synthesis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from livermet.errors import InputError

from .series import FloatArray, normal_quantile

LOG_LOG_2 = math.log(math.log(2.0))
"""cloglog(0.5) = log(-log 0.5): the value of the linear predictor at the median."""


@dataclass(frozen=True)
class WeibullSynthesis:
    """Pooled Weibull survival curve (see `weibull_synthesis` for the model).

    Attributes
    ----------
    intercept : float
        α, the mean of the series intercepts a_i on the cloglog scale.
    shape : float
        γ, the common Weibull shape (slope of log(-log S) on log t).
    tau2 : float
        Between-series variance of the intercepts.
    cov : ndarray (2, 2)
        Covariance of (α̂, γ̂) at τ̂² (inverse GLS information).
    median : float
        Pooled median survival, months: exp((log log 2 - α)/γ).
    median_ci : (float, float)
        Fieller interval of the median (where the confidence band crosses S = 0.5); NaN when
        unbounded.
    excluded : list of (id, reason)
        Medians and points left out of the fit, and series with nothing usable.
    points : DataFrame
        The points fitted: ``id``, ``kind`` (``"survival"``/``"median"``), ``time_months``,
        ``s``, ``n``, ``y`` (log(-log s)), ``v`` (its sampling variance).
    k : int
        Series contributing at least one point.
    qe, qe_df, qe_p : float, int, float
        Residual heterogeneity test: Q_E = r'V⁻¹r of the fixed-effects (τ² = 0) GLS fit,
        χ² on (points - 2) df — lack of fit of the common Weibull (metafor ``rma.mv`` QE).
    method : str
        ``"REML"`` or ``"ML"``.
    level : float
        Confidence level of the intervals.
    """

    intercept: float
    shape: float
    tau2: float
    cov: FloatArray
    median: float
    median_ci: tuple[float, float]
    excluded: list[tuple[str, str]]
    points: pd.DataFrame
    k: int
    qe: float
    qe_df: int
    qe_p: float
    method: str
    level: float = 0.95
    loglik: float = field(default=math.nan)

    @property
    def shape_se(self) -> float:
        """Standard error of the shape γ̂."""
        return math.sqrt(float(self.cov[1, 1]))

    @property
    def intercept_se(self) -> float:
        """Standard error of the intercept α̂."""
        return math.sqrt(float(self.cov[0, 0]))

    @property
    def shape_ci(self) -> tuple[float, float]:
        """Wald interval of the shape at ``level``."""
        z = normal_quantile(self.level)
        return (self.shape - z * self.shape_se, self.shape + z * self.shape_se)

    @property
    def scale(self) -> float:
        """Weibull scale λ (months): S(t) = exp(-(t/λ)^γ), λ = exp(-α/γ)."""
        return float(math.exp(-self.intercept / self.shape))

    def curve(
        self,
        t: float | Sequence[float] | FloatArray,
        *,
        level: float | None = None,
        prediction: bool = False,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Pooled survival at times t (months) with a pointwise band.

        S(t) = exp(-exp(α̂ + γ̂ log t)); the band is the delta-method interval of the linear
        predictor η(t) = α̂ + γ̂ log t, Var η = x'Cx with x = (1, log t), mapped through the
        decreasing function exp(-exp(·)). ``prediction=True`` adds τ̂² to Var η: the band for
        the curve of a new series (its intercept drawn from N(α, τ²)).

        Returns
        -------
        (S, lower, upper) : arrays shaped like t
            At t = 0 all three are 1.
        """
        times = np.asarray(t, dtype=np.float64)
        if np.any(~np.isfinite(times)) or np.any(times < 0):
            raise InputError("times must be finite and >= 0 (months)", "t")
        z = normal_quantile(self.level if level is None else level)
        x = np.log(np.where(times > 0, times, 1.0))
        eta = self.intercept + self.shape * x
        var = self.cov[0, 0] + 2.0 * x * self.cov[0, 1] + x * x * self.cov[1, 1]
        if prediction:
            var = var + self.tau2
        half = z * np.sqrt(var)
        at_zero = times == 0

        def surv(e: FloatArray) -> FloatArray:
            return np.asarray(np.where(at_zero, 1.0, inverse_cloglog(e)), dtype=np.float64)

        return surv(eta), surv(eta + half), surv(eta - half)


def inverse_cloglog(eta: FloatArray) -> FloatArray:
    """S = exp(-exp(η)), the inverse complementary log-log."""
    return np.asarray(np.exp(-np.exp(eta)), dtype=np.float64)


def weibull_median(alpha: float, gamma: float) -> float:
    """Median of S(t) = exp(-exp(α + γ log t)); NaN unless γ > 0."""
    return math.exp((LOG_LOG_2 - alpha) / gamma) if gamma > 0 else math.nan


def fieller_median(alpha: float, gamma: float, cov: FloatArray, z: float) -> tuple[float, float]:
    """Fieller interval of the median: roots of (α + γx - c)² = z²·Var(α + γx), x = log t.

    A x² + B x + C = 0 with A = γ² - z²C_γγ, B = 2(γ(α - c) - z²C_αγ),
    C = (α - c)² - z²C_αα, c = log log 2. Bounded only when A > 0 (γ significantly nonzero).
    """
    d = alpha - LOG_LOG_2
    a = gamma * gamma - z * z * cov[1, 1]
    b = 2.0 * (gamma * d - z * z * cov[0, 1])
    c = d * d - z * z * cov[0, 0]
    disc = b * b - 4.0 * a * c
    if a <= 0 or disc < 0:
        return (math.nan, math.nan)
    root = math.sqrt(disc)
    x1, x2 = sorted(((-b - root) / (2 * a), (-b + root) / (2 * a)))
    return (math.exp(x1), math.exp(x2))


@dataclass(frozen=True)
class PooledCurve:
    """A pooled Weibull survival curve evaluated on a time grid, ready to plot.

    Attributes
    ----------
    times : ndarray
        Months from 0 to the horizon, evenly spaced.
    survival, lower, upper : ndarray
        S(t) and its pointwise band at ``times`` (:meth:`WeibullSynthesis.curve`).
    points : tuple of (months, S, series id)
        The series' points the synthesis fitted.
    median : (float, float, float)
        The pooled median and its Fieller interval, months (NaN where unbounded).
    """

    times: FloatArray
    survival: FloatArray
    lower: FloatArray
    upper: FloatArray
    points: tuple[tuple[float, float, str], ...]
    median: tuple[float, float, float]


def weibull_curve(model: WeibullSynthesis, horizon: float = 120.0, steps: int = 241) -> PooledCurve:
    """Return the pooled curve of ``model`` on ``steps`` evenly spaced months from 0 to ``horizon``.

    The default grid (0 to 120 months, every half month) is the one of the pages and the
    printable report.

    Raises
    ------
    InputError
        for a ``horizon`` that is not a finite number of months > 0 (field ``horizon``) or
        fewer than 2 ``steps`` (field ``steps``).
    """
    if not math.isfinite(horizon) or horizon <= 0:
        raise InputError(f"horizon must be a finite number of months > 0, got {horizon}", "horizon")
    if steps < 2:
        raise InputError(f"steps must be at least 2 time points, got {steps}", "steps")
    t = np.linspace(0.0, horizon, steps)
    s, lo, hi = model.curve(t)
    points = tuple(
        (float(r["time_months"]), float(r["s"]), str(r["id"])) for _, r in model.points.iterrows()
    )
    return PooledCurve(t, s, lo, hi, points, (model.median, *model.median_ci))

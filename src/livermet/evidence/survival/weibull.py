"""One-stage Weibull synthesis with a random intercept per series and a common shape.

Arends, Hunink & Stijnen 2008, Stat Med 27:4381-4396; Dear 1994, Biometrics 50:989-1002
(docs/evidence.md#weibull-synthesis).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from livermet.errors import InputError

from .mixed_model import fit_random_intercept, residual_q
from .series import normal_quantile
from .weibull_points import weibull_points, within_covariance
from .weibull_result import WeibullSynthesis, fieller_median, weibull_median

MIN_POINTS = 3
"""Fewest (t, S) points of a Weibull synthesis: two coefficients (α, γ) and τ² to estimate."""

MIN_TIMES = 2
"""Fewest distinct times of a Weibull synthesis: the shape γ is the slope in log t."""


class WeibullNotEstimable(InputError):
    """The series give too few survival points for a Weibull synthesis (field ``series``).

    Raised by `weibull_synthesis`; a caller that can do without the pooled curve catches it
    and reports the synthesis as not available (``livermet evidence survival``).
    """


def weibull_synthesis(
    df: pd.DataFrame,
    *,
    medians: Literal["consistent", "all", "none"] = "consistent",
    within: Literal["independent", "multinomial"] = "independent",
    method: Literal["REML", "ML"] = "REML",
    level: float = 0.95,
    n_column: str | None = None,
) -> WeibullSynthesis:
    r"""Weibull model on the complementary log-log scale with a random intercept per series.

    Model (Dear 1994; Arends, Hunink & Stijnen 2008, Stat Med 27:4381 — one-stage, random
    effects; docs/evidence.md#weibull-synthesis). For series i and time t_ij with reported survival
    Ŝ_ij::

        y_ij = log(-log Ŝ_ij) = a_i + γ·log t_ij + e_ij,
        a_i = α + u_i,   u_i ~ N(0, τ²),   e_ij ~ N(0, v_ij),

    i.e. S_i(t) = exp(-(t/λ_i)^γ) with a series-specific scale λ_i = exp(-a_i/γ) and a common
    shape γ. Points: S(12), S(36), S(60) from ``os1``/``os3``/``os5``; plus the median as
    Ŝ = 0.5 at t = median (y = log log 2) for series whose median passes `check_consistency`
    (``medians="consistent"``, default; ``"all"`` keeps every median, ``"none"`` drops them).
    Left-out medians are listed in ``excluded`` with the reason. Points with S = 0 or 1 are
    left out (undefined on this scale).

    Sampling variances: binomial Var Ŝ = S(1-S)/n, delta method on the cloglog scale
    (g'(S) = 1/(S log S))::

        v_ij = (1 - S) / (n·S·(log S)²)        (median point: 1/(n (log 2)²))

    ``within="independent"`` (default) treats a series' points as independent;
    ``"multinomial"`` uses the covariance of one Kaplan-Meier curve without censoring between
    the S points of a series, Cov(Ŝ_s, Ŝ_t) = S_t(1-S_s)/n for s < t, divided by
    (S_s log S_s)(S_t log S_t) (Arends 2008); medians stay independent (putting them in the
    multinomial covariance makes it singular for these data, docs/evidence.md#weibull-synthesis).

    Fit: τ² by restricted (``REML``, default) or full (``ML``) maximum likelihood of the linear
    mixed model with known V, Σ = V + τ²ZZ' (Z the series indicator), maximised over τ² >= 0
    by a grid and bounded Brent refinement; (α̂, γ̂) by generalised least squares at τ̂²,
    Cov = (X'Σ⁻¹X)⁻¹ — the recipe of metafor ``rma.mv(y, V, mods = ~ log(t),
    random = ~ 1 | series)``.

    Pooled curve: S(t) = exp(-exp(α̂ + γ̂ log t)) — the curve of the typical series (u = 0),
    the analogue of a back-transformed pooled proportion (a median, not a mean, over series).
    Confidence band: delta method on the linear predictor (see `WeibullSynthesis.curve`).
    Pooled median: exp((log log 2 - α̂)/γ̂), interval by Fieller's method — the times where
    the band crosses 0.5, i.e. {t : |α̂ + γ̂ log t - log log 2| <= z·se(η̂(t))} — which stays
    consistent with the drawn band. τ² is treated as known in the band and the intervals (as
    metafor does for the coefficients); ``curve(..., prediction=True)`` adds τ̂².

    Validation: on Table 1 with ``within="multinomial"`` the fit reproduces metafor
    ``rma.mv`` (docs/evidence.md#weibull-synthesis; S points only, shape 1.1405, se 0.1076,
    median 43.1 months; with all nine medians, shape 0.968, median 41.3, Q_E 67.2 on 29 df). The
    distribution-free alternative of Combescure, Foucher & Jackson (2014, Stat Med
    33:2521-2537; multivariate pooling of conditional survival on the arcsine scale) needs the
    numbers at risk and a full time grid per series, which these summary points do not give;
    it is not implemented.

    Parameters
    ----------
    df : DataFrame
        Series (``mst_months``, ``os1``/``os3``/``os5`` in percent, n).
    medians : {"consistent", "all", "none"}
        Which reported medians enter as S = 0.5 points.
    within : {"independent", "multinomial"}
        Within-series covariance of the S points.
    method : {"REML", "ML"}
        Estimator of τ².
    level : float
        Confidence level.
    n_column : str, optional
        Column holding n (default: ``n`` if present, else ``n_table``).

    Returns
    -------
    WeibullSynthesis

    Raises
    ------
    WeibullNotEstimable
        Fewer than 3 usable points or fewer than 2 distinct times (shape not estimable),
        field ``series``.
    InputError
        An unknown ``medians``, ``within`` or ``method``, or a ``level`` outside (0, 1).
    """
    if medians not in ("consistent", "all", "none"):
        raise InputError(f"must be consistent, all or none, got {medians!r}", "medians")
    if within not in ("independent", "multinomial"):
        raise InputError(f"must be independent or multinomial, got {within!r}", "within")
    if method not in ("REML", "ML"):
        raise InputError(f"must be REML or ML, got {method!r}", "method")
    normal_quantile(level)
    points, excluded = weibull_points(df, medians, n_column)
    times = int(points["time_months"].nunique())
    if len(points) < MIN_POINTS or times < MIN_TIMES:
        raise WeibullNotEstimable(
            f"need at least {MIN_POINTS} survival points at {MIN_TIMES} or more distinct times "
            f"to fit a Weibull; the series give {len(points)} at {times} distinct "
            f"time{'' if times == 1 else 's'}",
            "series",
        )
    y = points["y"].to_numpy(dtype=np.float64)
    x_design = np.column_stack([np.ones(len(y)), np.log(points["time_months"].to_numpy(float))])
    v = within_covariance(points, within)
    groups = pd.factorize(points["id"])[0]
    fit = fit_random_intercept(y, x_design, v, groups, method)
    qe = residual_q(y, x_design, v)
    qe_df = len(y) - 2
    alpha, gamma = float(fit.beta[0]), float(fit.beta[1])
    return WeibullSynthesis(
        intercept=alpha,
        shape=gamma,
        tau2=fit.tau2,
        cov=fit.cov,
        median=weibull_median(alpha, gamma),
        median_ci=fieller_median(alpha, gamma, fit.cov, normal_quantile(level)),
        excluded=excluded,
        points=points,
        k=int(points["id"].nunique()),
        qe=qe,
        qe_df=qe_df,
        qe_p=float(stats.chi2.sf(qe, qe_df)) if qe_df > 0 else math.nan,
        method=method,
        level=level,
        loglik=fit.loglik,
    )

"""Survival synthesis from published summary points (n, median, S at 1/3/5 years).

Four tools (docs/evidence.md#survival-synthesis-from-summary-points):

- `check_consistency` — does a series' reported median contradict its own survival
  percentages? Under one non-increasing survival curve S(t) >= 0.5 before the median and
  S(t) <= 0.5 after it.
- `pool_time_points` — random-effects pooling of S(t) separately at each reported time
  (logit scale by default, metafor ``escalc``/``rma`` via `livermet.evidence`).
- `weibull_synthesis` — one-stage Weibull model on the complementary log-log scale with a
  random intercept per series and a common shape (Arends, Hunink & Stijnen 2008, Stat Med
  27:4381-4396; Dear 1994, Biometrics 50:989-1002), giving a pooled survival curve with a
  confidence band and a pooled median.
- `median_of_medians` — (n-weighted) median of the series' medians with a sign-test interval
  (McGrath, Zhao, Qin, Steele & Benedetti 2019, Stat Med 38:969-984; R package metamedian).

Series tables are those of `livermet.evidence.dataset` (``id``, ``n_table``, ``mst_months``,
``os1``, ``os3``, ``os5`` in percent). The n used is the column ``n`` when present (added by
`livermet.evidence.dataset.subset`), otherwise ``n_table``; ``n_column=`` overrides.
Sampling variances assume binomial sampling without censoring before t (the summary points
carry no numbers at risk), so they are lower bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg, optimize, stats

from livermet.errors import InputError

__all__ = [
    "TIME_COLUMNS",
    "MedianOfMedians",
    "WeibullSynthesis",
    "check_consistency",
    "median_of_medians",
    "pool_time_points",
    "weibull_synthesis",
]

FloatArray = npt.NDArray[np.float64]

TIME_COLUMNS: dict[float, str] = {12.0: "os1", 36.0: "os3", 60.0: "os5"}
"""Months -> survival column (percent)."""

LOG_LOG_2 = math.log(math.log(2.0))
"""cloglog(0.5) = log(-log 0.5): the value of the linear predictor at the median."""

_BACK_TRANSFORMS: dict[str, str | None] = {
    "PLO": "ilogit",
    "PR": None,
    "PLN": "exp",
    "PAS": "iarcsin",
    "PFT": "ipft_hm",
}
"""escalc measure -> metafor-style back-transformation passed to ``predict(transf=...)``."""


# --------------------------------------------------------------------------------------------
# Input plumbing
# --------------------------------------------------------------------------------------------


def _n_values(df: pd.DataFrame, n_column: str | None) -> FloatArray:
    """The n per series: ``n_column``, else ``n`` if present, else ``n_table``."""
    name = n_column or ("n" if "n" in df.columns else "n_table")
    if name not in df.columns:
        raise InputError(f"column {name!r} is missing (number of patients per series)", name)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def _column(df: pd.DataFrame, name: str) -> FloatArray:
    """A numeric column as float (NaN where missing or absent)."""
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def _ids(df: pd.DataFrame) -> list[str]:
    """Series ids as text (row positions when there is no ``id`` column)."""
    if "id" not in df.columns:
        return [f"row{i + 1}" for i in range(len(df))]
    return [str(v) for v in df["id"].astype("string").fillna("?")]


def _pct(value: float) -> str:
    """A percentage as printed (``58``, ``31.8``)."""
    return f"{value:g}"


# --------------------------------------------------------------------------------------------
# Consistency check
# --------------------------------------------------------------------------------------------


def check_consistency(df: pd.DataFrame) -> pd.DataFrame:
    """Flag series whose reported median contradicts their reported survival percentages.

    A survival curve is non-increasing and the median m is where it crosses 0.5, so the
    series' own numbers are contradictory when S(t) > 0.5 at a time t > m, or S(t) < 0.5 at a
    time t < m (t = 12, 36, 60 months for ``os1``/``os3``/``os5``; docs/evidence.md). S(t) exactly
    0.5 and t exactly m are not flagged (the printed percentages are rounded), but
    S(t) = 0.5 at t != m is reported in ``note`` as a boundary case.

    Parameters
    ----------
    df : DataFrame
        Series with ``id``, ``mst_months``, ``os1``, ``os3``, ``os5`` (percent).

    Returns
    -------
    DataFrame
        One row per series, in order: ``id``, ``mst_months``, ``flagged`` (bool), ``reason``
        (e.g. ``"median 11 months but 58 % alive at 12 months"``; several joined by ``"; "``;
        empty when not flagged) and ``note`` (boundary cases; empty otherwise). Series without
        a median are never flagged.

    Examples
    --------
    In the case report's Table 1 three series are flagged: Foster 1978 (median 11 months but
    58 % alive at 12 months), Groeschl 2012 (median 72 months but 32 % at 60 months) and
    Grimme 2019 (median 77 months but 42 % at 60 months). DeMatteo 2001 (50 % at 36 months,
    median 39) is a boundary note.
    """
    medians = _column(df, "mst_months")
    percents = {t: _column(df, col) for t, col in TIME_COLUMNS.items()}
    rows = []
    for i, ident in enumerate(_ids(df)):
        m = medians[i]
        reasons: list[str] = []
        notes: list[str] = []
        if math.isfinite(m):
            for t, col in percents.items():
                p = col[i]
                if not math.isfinite(p):
                    continue
                if t > m and p > 50.0:
                    reasons.append(f"median {m:g} months but {_pct(p)} % alive at {t:g} months")
                elif t < m and p < 50.0:
                    reasons.append(
                        f"median {m:g} months but only {_pct(p)} % alive at {t:g} months"
                    )
                elif p == 50.0 and t != m:
                    notes.append(
                        f"{_pct(p)} % alive at {t:g} months with median {m:g} months "
                        "(boundary: consistent only if the percentage is rounded)"
                    )
        rows.append(
            {
                "id": ident,
                "mst_months": m,
                "flagged": bool(reasons),
                "reason": "; ".join(reasons),
                "note": "; ".join(notes),
            }
        )
    return pd.DataFrame(rows, columns=["id", "mst_months", "flagged", "reason", "note"])


# --------------------------------------------------------------------------------------------
# Per-time-point pooling
# --------------------------------------------------------------------------------------------


def pool_time_points(
    df: pd.DataFrame,
    times: Sequence[float] = (12, 36, 60),
    method: str = "REML",
    measure: str = "PLO",
    *,
    test: str = "z",
    round_events: bool = False,
    n_column: str | None = None,
    control: Any = None,
) -> pd.DataFrame:
    """Random-effects pooling of S(t) at each time point, back-transformed.

    For each t, the series reporting S(t) give events x_i = S_i(t)·n_i (**not rounded** by
    default; ``round_events=True`` reproduces the common rounding), pooled with
    ``escalc(measure, xi=x, ni=n)`` and ``rma(yi, vi, method=method, test=test)`` — metafor
    parity (Viechtbauer 2010, JSS 36(3)); the pooled value, its confidence interval and the
    prediction interval for a new series are back-transformed (logit -> ``ilogit`` for PLO).
    The binomial variance ignores censoring before t (docs/evidence.md#pooling-each-time-point).

    Parameters
    ----------
    df : DataFrame
        Series (``os1``/``os3``/``os5`` in percent, and n; see the module docstring).
    times : sequence of {12, 36, 60}
        Months; each maps to ``os1``, ``os3``, ``os5``.
    method : str
        τ² estimator passed to ``rma`` (default REML).
    measure : {"PLO", "PR", "PLN", "PAS", "PFT"}
        escalc measure for a single proportion (default logit). Back-transformations:
        ilogit, none, exp, squared sine, Miller's Freeman-Tukey inversion with the harmonic
        mean of the pooled series' n.
    test : {"z", "knha", "t"}
        Inference passed to ``rma``.
    round_events : bool
        Round S·n to whole events.
    n_column : str, optional
        Column holding n (default: ``n`` if present, else ``n_table``).
    control : optional
        Passed to ``rma`` (default: iterate to convergence; ``"metafor"`` reproduces metafor's
        default early stopping).

    Returns
    -------
    DataFrame
        One row per time: ``time_months``, ``column``, ``k`` (series pooled), ``estimate``,
        ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub`` (proportions 0-1, back-transformed),
        ``tau2``, ``i2`` (percent), ``ids`` (comma-separated). With k < 2 the pooled values
        are NaN (nothing to pool; a single series' S(t) is its own estimate).
    """
    if measure not in _BACK_TRANSFORMS:
        raise InputError(
            f"must be one of {', '.join(_BACK_TRANSFORMS)}, got {measure!r}", "measure"
        )
    n = _n_values(df, n_column)
    ids = np.array(_ids(df), dtype=object)
    rows = [
        _pool_one(
            float(t),
            df,
            n,
            ids,
            method,
            measure,
            test=test,
            round_events=round_events,
            control=control,
        )
        for t in times
    ]
    return pd.DataFrame(rows)


def _pool_one(
    t: float,
    df: pd.DataFrame,
    n: FloatArray,
    ids: npt.NDArray[np.object_],
    method: str,
    measure: str,
    *,
    test: str,
    round_events: bool,
    control: Any,
) -> dict[str, Any]:
    """Pool one time point (lazy import of the metafor-parity core)."""
    if t not in TIME_COLUMNS:
        raise InputError(f"{t:g} months has no survival column (use 12, 36 or 60)", "times")
    column = TIME_COLUMNS[t]
    s = _column(df, column) / 100.0
    use = np.isfinite(s) & np.isfinite(n) & (n > 0)
    row: dict[str, Any] = {
        "time_months": t,
        "column": column,
        "k": int(use.sum()),
        "ids": ",".join(str(i) for i in ids[use]),
    }
    nan_fields = ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub", "tau2", "i2")
    if row["k"] < 2:
        return row | dict.fromkeys(nan_fields, math.nan)
    # lazy: the metafor-parity core may import this module
    from livermet.evidence import escalc, rma

    events = s[use] * n[use]
    if round_events:
        events = np.round(events)
    es = escalc(measure, xi=events, ni=n[use])
    fit = rma(es.yi, es.vi, method=method, test=test, control=control)
    transf = _BACK_TRANSFORMS[measure]
    targs = {"ni": n[use]} if measure == "PFT" else None
    pred = fit.predict(transf=transf, targs=targs)
    return row | {
        "estimate": float(np.squeeze(pred.pred)),
        "ci_lb": float(np.squeeze(pred.ci_lb)),
        "ci_ub": float(np.squeeze(pred.ci_ub)),
        "pi_lb": float(np.squeeze(pred.pi_lb)),
        "pi_ub": float(np.squeeze(pred.pi_ub)),
        "tau2": float(fit.tau2),
        "i2": float(fit.i2),
    }


# --------------------------------------------------------------------------------------------
# Weibull synthesis
# --------------------------------------------------------------------------------------------


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
        z = _z(self.level)
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
        z = _z(self.level if level is None else level)
        x = np.log(np.where(times > 0, times, 1.0))
        eta = self.intercept + self.shape * x
        var = self.cov[0, 0] + 2.0 * x * self.cov[0, 1] + x * x * self.cov[1, 1]
        if prediction:
            var = var + self.tau2
        half = z * np.sqrt(var)
        at_zero = times == 0

        def surv(e: FloatArray) -> FloatArray:
            return np.asarray(np.where(at_zero, 1.0, _surv(e)), dtype=np.float64)

        return surv(eta), surv(eta + half), surv(eta - half)


def _surv(eta: FloatArray) -> FloatArray:
    """S = exp(-exp(η)), the inverse complementary log-log."""
    return np.asarray(np.exp(-np.exp(eta)), dtype=np.float64)


def _z(level: float) -> float:
    """Two-sided normal quantile for a confidence level."""
    if not 0.0 < level < 1.0:
        raise InputError(f"must be between 0 and 1, got {level}", "level")
    return float(stats.norm.ppf(0.5 + level / 2.0))


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
    InputError
        Fewer than 3 usable points or fewer than 2 distinct times (shape not estimable).
    """
    if medians not in ("consistent", "all", "none"):
        raise InputError(f"must be consistent, all or none, got {medians!r}", "medians")
    if within not in ("independent", "multinomial"):
        raise InputError(f"must be independent or multinomial, got {within!r}", "within")
    if method not in ("REML", "ML"):
        raise InputError(f"must be REML or ML, got {method!r}", "method")
    _z(level)
    points, excluded = _weibull_points(df, medians, n_column)
    if len(points) < 3 or points["time_months"].nunique() < 2:
        raise InputError(
            "need at least 3 survival points at 2 or more distinct times to fit a Weibull",
            "df",
        )
    y = points["y"].to_numpy(dtype=np.float64)
    x_design = np.column_stack([np.ones(len(y)), np.log(points["time_months"].to_numpy(float))])
    v = _within_covariance(points, within)
    groups = pd.factorize(points["id"])[0]
    fit = _fit_random_intercept(y, x_design, v, groups, method)
    qe = _residual_q(y, x_design, v)
    qe_df = len(y) - 2
    alpha, gamma = float(fit.beta[0]), float(fit.beta[1])
    return WeibullSynthesis(
        intercept=alpha,
        shape=gamma,
        tau2=fit.tau2,
        cov=fit.cov,
        median=_median(alpha, gamma),
        median_ci=_fieller_median(alpha, gamma, fit.cov, _z(level)),
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


def _weibull_points(
    df: pd.DataFrame, medians: str, n_column: str | None
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The (t, S) points entering the Weibull fit, and what was left out and why."""
    n = _n_values(df, n_column)
    mst = _column(df, "mst_months")
    flags = check_consistency(df)
    percents = {t: _column(df, col) for t, col in TIME_COLUMNS.items()}
    rows: list[dict[str, Any]] = []
    excluded: list[tuple[str, str]] = []
    for i, ident in enumerate(_ids(df)):
        if not (math.isfinite(n[i]) and n[i] > 0):
            excluded.append((ident, "n missing or not positive: series left out"))
            continue
        before = len(rows)
        for t, col in percents.items():
            p = col[i]
            if not math.isfinite(p):
                continue
            if not 0.0 < p < 100.0:
                excluded.append((ident, f"S({t:g}) = {_pct(p)} %: log(-log S) undefined; left out"))
                continue
            rows.append(_point(ident, "survival", t, p / 100.0, n[i]))
        if math.isfinite(mst[i]) and medians != "none":
            if medians == "consistent" and bool(flags["flagged"].iat[i]):
                excluded.append((ident, f"median left out: {flags['reason'].iat[i]}"))
            else:
                rows.append(_point(ident, "median", float(mst[i]), 0.5, n[i]))
        if len(rows) == before and (
            math.isfinite(mst[i]) or any(math.isfinite(c[i]) for c in percents.values())
        ):
            excluded.append((ident, "no usable survival point: series left out"))
    columns = ["id", "kind", "time_months", "s", "n", "y", "v"]
    return pd.DataFrame(rows, columns=columns), excluded


def _point(ident: str, kind: str, t: float, s: float, n: float) -> dict[str, Any]:
    """One fitted point with its cloglog value and binomial delta-method variance."""
    log_s = math.log(s)
    return {
        "id": ident,
        "kind": kind,
        "time_months": t,
        "s": s,
        "n": n,
        "y": math.log(-log_s),
        "v": (1.0 - s) / (n * s * log_s * log_s),
    }


def _within_covariance(points: pd.DataFrame, within: str) -> FloatArray:
    """Within-series covariance matrix of the cloglog points (see `weibull_synthesis`)."""
    v = np.diag(points["v"].to_numpy(dtype=np.float64))
    if within == "independent":
        return v
    ids = points["id"].to_numpy()
    kinds = points["kind"].to_numpy()
    t = points["time_months"].to_numpy(dtype=np.float64)
    s = points["s"].to_numpy(dtype=np.float64)
    n = points["n"].to_numpy(dtype=np.float64)
    for a in range(len(points)):
        for b in range(a + 1, len(points)):
            if ids[a] != ids[b] or kinds[a] != "survival" or kinds[b] != "survival":
                continue
            early, late = (a, b) if t[a] < t[b] else (b, a)
            cov_s = s[late] * (1.0 - s[early]) / n[a]
            cov_y = cov_s / (s[early] * math.log(s[early]) * s[late] * math.log(s[late]))
            v[a, b] = v[b, a] = cov_y
    return v


@dataclass(frozen=True)
class _MixedFit:
    """GLS coefficients, their covariance, τ² and the log-likelihood at the optimum."""

    beta: FloatArray
    cov: FloatArray
    tau2: float
    loglik: float


def _gls(
    y: FloatArray, x: FloatArray, sigma: FloatArray
) -> tuple[FloatArray, FloatArray, float, float, float]:
    """GLS via Cholesky: beta, (X'Σ⁻¹X)⁻¹, r'Σ⁻¹r, log|Σ|, log|X'Σ⁻¹X|."""
    chol = linalg.cholesky(sigma, lower=True)
    xw = linalg.solve_triangular(chol, x, lower=True)
    yw = linalg.solve_triangular(chol, y, lower=True)
    info = xw.T @ xw
    beta = linalg.solve(info, xw.T @ yw, assume_a="pos")
    resid = yw - xw @ beta
    logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
    logdet_info = float(np.linalg.slogdet(info)[1])
    return beta, linalg.inv(info), float(resid @ resid), logdet, logdet_info


def _neg_loglik(
    tau2: float, y: FloatArray, x: FloatArray, v: FloatArray, zzt: FloatArray, method: str
) -> float:
    """Negative (restricted) log-likelihood of the random-intercept model at τ²."""
    _, _, rss, logdet, logdet_info = _gls(y, x, v + tau2 * zzt)
    n_obs, p = int(x.shape[0]), int(x.shape[1])
    if method == "REML":
        return 0.5 * ((n_obs - p) * math.log(2 * math.pi) + logdet + logdet_info + rss)
    return 0.5 * (n_obs * math.log(2 * math.pi) + logdet + rss)


def _fit_random_intercept(
    y: FloatArray, x: FloatArray, v: FloatArray, groups: npt.NDArray[np.intp], method: str
) -> _MixedFit:
    """Maximise the (RE)ML over τ² >= 0: log grid, then bounded Brent around the best node.

    With a single series τ² is not identifiable and is set to 0.
    """
    z = (groups[:, None] == np.arange(groups.max() + 1)[None, :]).astype(np.float64)
    zzt = z @ z.T
    if z.shape[1] < 2:
        beta, cov, _, _, _ = _gls(y, x, v)
        return _MixedFit(
            beta=beta, cov=cov, tau2=0.0, loglik=-_neg_loglik(0.0, y, x, v, zzt, method)
        )

    def objective(tau2: float) -> float:
        return _neg_loglik(tau2, y, x, v, zzt, method)

    upper = max(10.0, 10.0 * float(np.var(y)))
    grid = np.concatenate([[0.0], np.geomspace(1e-8, upper, 80)])
    values = np.array([objective(float(g)) for g in grid])
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    tau2, value = float(grid[best]), float(values[best])
    if hi > lo:
        res = optimize.minimize_scalar(
            objective, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * max(hi, 1)}
        )
        if float(res.fun) < value:
            tau2, value = float(res.x), float(res.fun)
    beta, cov, _, _, _ = _gls(y, x, v + tau2 * zzt)
    return _MixedFit(beta=beta, cov=cov, tau2=tau2, loglik=-value)


def _residual_q(y: FloatArray, x: FloatArray, v: FloatArray) -> float:
    """Q_E = r'V⁻¹r of the fixed-effects GLS fit (τ² = 0)."""
    return _gls(y, x, v)[2]


def _median(alpha: float, gamma: float) -> float:
    """Median of S(t) = exp(-exp(α + γ log t)); NaN unless γ > 0."""
    return math.exp((LOG_LOG_2 - alpha) / gamma) if gamma > 0 else math.nan


def _fieller_median(alpha: float, gamma: float, cov: FloatArray, z: float) -> tuple[float, float]:
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


# --------------------------------------------------------------------------------------------
# Median of medians
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MedianOfMedians:
    """Pooled median survival from the series' medians.

    Attributes
    ----------
    estimate : float
        Median (or n-weighted median) of the series medians, months.
    ci_lb, ci_ub : float
        Interval bounds, months.
    k : int
        Series with a median.
    weighted : bool
        Whether series were weighted by n.
    interval : str
        ``"exact"``, ``"normal"`` or ``"bootstrap"`` (see `median_of_medians`).
    level : float
        Nominal confidence level.
    coverage : float | None
        Achieved coverage of the exact interval (None for the others).
    ids : tuple of str
        Series used.
    """

    estimate: float
    ci_lb: float
    ci_ub: float
    k: int
    weighted: bool
    interval: str
    level: float
    coverage: float | None
    ids: tuple[str, ...]


def median_of_medians(
    df: pd.DataFrame,
    weighted: bool = False,
    *,
    interval: Literal["exact", "normal", "bootstrap"] | None = None,
    level: float = 0.95,
    exclude_inconsistent: bool = False,
    n_boot: int = 2000,
    seed: int = 20220101,
    n_column: str | None = None,
) -> MedianOfMedians:
    """Median of the series' median survival times, optionally weighted by n.

    Methods (McGrath et al. 2019, Stat Med 38:969-984; R ``metamedian::pool.med``):

    - estimate, unweighted: the sample median of the K medians. Weighted: the weighted median
      with n as frequency weights — the type-7 quantile at 0.5 of the medians each repeated
      n_i times (``Hmisc::wtd.quantile``, as metamedian's ``"wm"``).
    - ``interval="exact"`` (default unweighted): distribution-free order-statistic interval
      from the sign test, [x_(j), x_(K-j+1)] with j the largest integer such that
      P(Bin(K, ½) <= j-1) <= (1-level)/2; achieved coverage 1 - 2 P(Bin(K, ½) <= j-1) >= level
      is reported. If K is too small for the level (K < 6 at 95 %), the range [min, max] is
      returned with its (lower) coverage. Not available weighted. (metamedian's exact upper
      bound is x_(K-j), one order statistic lower; we use the symmetric textbook interval.)
    - ``interval="normal"`` (default weighted; metamedian's default ``norm.approx``): the
      (weighted) quantiles at ½ ± z/(2√K), type 7 / ``Hmisc::wtd.quantile``.
    - ``interval="bootstrap"``: percentile interval of the (weighted) median over ``n_boot``
      resamples of series with replacement (seeded: ``seed``).

    Parameters
    ----------
    df : DataFrame
        Series with ``mst_months`` (rows without it are skipped) and n.
    weighted : bool
        Weight series by n.
    interval : {"exact", "normal", "bootstrap"}, optional
        Interval method; default ``"exact"`` unweighted, ``"normal"`` weighted.
    level : float
        Confidence level.
    exclude_inconsistent : bool
        Leave out medians flagged by `check_consistency`.
    n_boot, seed : int
        Bootstrap resamples and seed.
    n_column : str, optional
        Column holding n (default: ``n`` if present, else ``n_table``).

    Returns
    -------
    MedianOfMedians
    """
    method = interval or ("normal" if weighted else "exact")
    if method not in ("exact", "normal", "bootstrap"):
        raise InputError(f"must be exact, normal or bootstrap, got {method!r}", "interval")
    if method == "exact" and weighted:
        raise InputError("the exact interval is for the unweighted median only", "interval")
    z = _z(level)
    values, weights, ids = _medians(df, weighted, exclude_inconsistent, n_column)
    k = len(values)
    if k == 0:
        raise InputError("no series with a median survival time", "mst_months")
    estimate = float(_weighted_quantiles(values, weights, [0.5])[0])
    coverage: float | None = None
    if method == "exact":
        lb, ub, coverage = _exact_interval(values, level)
    elif method == "normal":
        half = min(0.5, z / (2.0 * math.sqrt(k)))
        lb, ub = _weighted_quantiles(values, weights, [0.5 - half, 0.5 + half])
    else:
        lb, ub = _bootstrap_interval(values, weights, level, n_boot, seed)
    return MedianOfMedians(
        estimate=estimate,
        ci_lb=float(lb),
        ci_ub=float(ub),
        k=k,
        weighted=weighted,
        interval=method,
        level=level,
        coverage=coverage,
        ids=tuple(ids),
    )


def _medians(
    df: pd.DataFrame, weighted: bool, exclude_inconsistent: bool, n_column: str | None
) -> tuple[FloatArray, FloatArray, list[str]]:
    """Medians, weights (n, or 1 unweighted) and ids of the usable series."""
    mst = _column(df, "mst_months")
    use = np.isfinite(mst)
    if exclude_inconsistent:
        use &= ~check_consistency(df)["flagged"].to_numpy(dtype=bool)
    if weighted:
        n = _n_values(df, n_column)
        use &= np.isfinite(n) & (n > 0)
        weights = n[use]
    else:
        weights = np.ones(int(use.sum()))
    ids = [i for i, u in zip(_ids(df), use, strict=True) if u]
    return mst[use], weights, ids


def _weighted_quantiles(
    values: FloatArray, weights: FloatArray, probs: Iterable[float]
) -> FloatArray:
    """Type-7 quantiles with frequency weights, as ``Hmisc::wtd.quantile(normwt=FALSE)``.

    With total weight N the quantile at p sits at position 1 + (N-1)p among the values each
    repeated w_i times; the value at position q is the first (sorted) value whose cumulative
    weight reaches q, and fractional positions interpolate linearly. With unit weights this
    is R's ``quantile(type = 7)``.
    """
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    uniq, inverse = np.unique(x, return_inverse=True)
    wsum = np.bincount(inverse, weights=w)
    cum = np.cumsum(wsum, dtype=np.float64)
    total = float(cum[-1])
    out = []
    for p in probs:
        pos = 1.0 + (total - 1.0) * p
        low = max(math.floor(pos), 1)
        high = min(low + 1, total)
        frac = pos % 1.0
        out.append((1 - frac) * _at_position(uniq, cum, low) + frac * _at_position(uniq, cum, high))
    return np.array(out, dtype=np.float64)


def _at_position(values: FloatArray, cum: FloatArray, position: float) -> float:
    """The first value whose cumulative weight reaches ``position`` (clamped to the range)."""
    index = int(np.searchsorted(cum, position - 1e-12 * max(1.0, position), side="left"))
    return float(values[min(index, len(values) - 1)])


def _exact_interval(values: FloatArray, level: float) -> tuple[float, float, float]:
    """Order-statistic (sign-test) interval [x_(j), x_(K-j+1)] and its achieved coverage."""
    x = np.sort(values)
    k = len(x)
    alpha_half = (1.0 - level) / 2.0
    j = 1
    while j + 1 <= (k + 1) // 2 and stats.binom.cdf(j, k, 0.5) <= alpha_half:
        j += 1
    coverage = 1.0 - 2.0 * float(stats.binom.cdf(j - 1, k, 0.5))
    return float(x[j - 1]), float(x[k - j]), coverage


def _bootstrap_interval(
    values: FloatArray, weights: FloatArray, level: float, n_boot: int, seed: int
) -> tuple[float, float]:
    """Percentile bootstrap over series of the (weighted) median."""
    if n_boot < 1:
        raise InputError(f"must be at least 1, got {n_boot}", "n_boot")
    rng = np.random.default_rng(seed)
    k = len(values)
    draws = rng.integers(0, k, size=(n_boot, k))
    boots = np.array(
        [_weighted_quantiles(values[d], weights[d], [0.5])[0] for d in draws], dtype=np.float64
    )
    tail = (1.0 - level) / 2.0
    lb, ub = np.quantile(boots, [tail, 1.0 - tail])
    return float(lb), float(ub)

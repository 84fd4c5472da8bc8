"""Log-rank test of k survival curves, as R's ``survdiff(Surv(time, event) ~ group)`` (rho = 0).

At each distinct event time t_j with n_j at risk and d_j events, group g expects
E_gj = d_j n_gj / n_j events; the hypergeometric covariance is

    V_gh = Σ_j d_j (n_j - d_j) / (n_j² (n_j - 1)) · n_gj (δ_gh n_j - n_hj).

The statistic is (O - E)ᵀ V⁻¹ (O - E) over the groups with E > 0, dropping the first of them
(V is singular), with df = (number of groups with E > 0) - 1 (R survival 3.5-3,
``R/survdiff.R``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg, stats

from livermet.analysis._data import event_values, group_values, rows_to_use, time_values
from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]

__all__ = [
    "LogRankParts",
    "LogRankResult",
    "group_table",
    "logrank_parts",
    "logrank_result",
    "logrank_test",
    "survdiff",
]


@dataclass(frozen=True)
class LogRankResult:
    """Log-rank chi-square, its degrees of freedom and p-value, with the per-group counts."""

    chisq: float
    df: int
    p: float
    groups: list[str]
    n: list[int]
    observed: list[float]
    expected: list[float]
    variance: FloatArray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Return the test and the observed and expected events per group as a plain dict."""
        return {
            "chisq": self.chisq,
            "df": self.df,
            "p": self.p,
            "groups": [
                {"group": g, "n": n, "observed": o, "expected": e}
                for g, n, o, e in zip(
                    self.groups, self.n, self.observed, self.expected, strict=True
                )
            ],
        }


@dataclass(frozen=True)
class LogRankParts:
    """Observed and expected events per group and their covariance, from one table.

    Sums of parts over strata (sites) give the stratified test (R's ``strata()`` term).
    """

    observed: FloatArray
    expected: FloatArray
    variance: FloatArray

    def __add__(self, other: LogRankParts) -> LogRankParts:
        """Return the parts of two strata together (the stratified sums)."""
        return LogRankParts(
            self.observed + other.observed,
            self.expected + other.expected,
            self.variance + other.variance,
        )


def group_table(
    time: Any, event: Any, group: Any, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Return the distinct times and, per time and group, patients ending there and deaths.

    Parameters
    ----------
    time, event, group : array_like
        Times, 0/1 events and group codes 0..k-1, one per patient.
    k : int
        Number of groups.

    Returns
    -------
    tuple of ndarray
        Distinct times (m,), patients whose follow-up ends at each time (m, k) (events and
        censorings) and deaths (m, k).
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    times, inverse = np.unique(t, return_inverse=True)
    ending = np.zeros((times.size, k))
    deaths = np.zeros((times.size, k))
    np.add.at(ending, (inverse, g), 1.0)
    np.add.at(deaths, (inverse, g), e)
    return times, ending, deaths


def logrank_parts(ending: Any, deaths: Any) -> LogRankParts:
    """Return observed, expected and covariance from a table of counts per time and group.

    Parameters
    ----------
    ending, deaths : array_like, shape (times, groups)
        Patients whose follow-up ends at each distinct time (ascending), and deaths there. The
        tables of several sites summed time by time give the pooled test; parts of each site
        summed give the test stratified by site.
    """
    ending = np.asarray(ending, dtype=float)
    deaths = np.asarray(deaths, dtype=float)
    at_risk = np.cumsum(ending[::-1], axis=0)[::-1]  # n_gj = #{time >= t_j} in group g
    n_j = at_risk.sum(axis=1)
    d_j = deaths.sum(axis=1)
    use = d_j > 0
    at_risk, deaths, n_j, d_j = at_risk[use], deaths[use], n_j[use], d_j[use]
    expected = (at_risk * (d_j / n_j)[:, None]).sum(axis=0)
    observed = deaths.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(n_j > 1, d_j * (n_j - d_j) / (n_j**2 * (n_j - 1)), 0.0)
    variance = np.diag((w * n_j) @ at_risk) - np.einsum("j,jg,jh->gh", w, at_risk, at_risk)
    return LogRankParts(observed, expected, variance)


def logrank_result(parts: LogRankParts, n: Sequence[int], labels: Sequence[str]) -> LogRankResult:
    """Return the log-rank test of (possibly stratum-summed) parts.

    Parameters
    ----------
    parts : LogRankParts
        Observed and expected events per group and their covariance.
    n : sequence of int
        Patients per group.
    labels : sequence of str
        Group names.
    """
    observed, expected, variance = parts.observed, parts.expected, parts.variance
    keep = np.flatnonzero(expected > 0)
    if keep.size < 2:
        chisq, df = 0.0, max(int(keep.size) - 1, 0)
    else:
        sub = keep[1:]
        diff = (observed - expected)[sub]
        chisq = float(diff @ linalg.solve(variance[np.ix_(sub, sub)], diff, assume_a="pos"))
        df = int(keep.size) - 1
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    return LogRankResult(
        chisq,
        df,
        p,
        list(labels),
        [int(x) for x in n],
        [float(x) for x in observed],
        [float(x) for x in expected],
        variance,
    )


def survdiff(
    time: Any,
    event: Any,
    group: Any,
    labels: Sequence[str] | None = None,
    strata: Any = None,
) -> LogRankResult:
    """Run the log-rank test on arrays: times, 0/1 events and group codes 0..k-1.

    ``strata`` (optional codes, one per patient) gives the stratified test, as R's
    ``survdiff(Surv(time, event) ~ group + strata(s))``: observed, expected and covariance
    summed over the strata.
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    s = np.zeros(t.size, dtype=np.int64) if strata is None else np.asarray(strata)
    if not (t.size == e.size == g.size == s.size):
        raise InputError("time, event and group must have the same length", "group")
    k = int(g.max()) + 1 if g.size else 0
    names = list(labels) if labels is not None else [str(i) for i in range(k)]
    if k < 2:
        raise InputError("the log-rank test needs at least two groups", "by")
    parts = [
        logrank_parts(*group_table(t[s == v], e[s == v], g[s == v], k)[1:]) for v in np.unique(s)
    ]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return logrank_result(total, np.bincount(g, minlength=k).tolist(), names)


def logrank_test(
    data: pd.DataFrame,
    time: str,
    event: str,
    by: str,
    *,
    levels: Sequence[Any] | None = None,
    dropna: bool = False,
    strata: str | None = None,
) -> LogRankResult:
    """Test the groups of column ``by`` by the log-rank test (any number of groups).

    ``strata`` names a column whose values are strata (e.g. the site): the stratified test.
    """
    columns = [time, event, by] if strata is None else [time, event, by, strata]
    rows = rows_to_use(data, columns, dropna)
    codes, names = group_values(data, by, levels, rows)
    layers = None if strata is None else group_values(data, strata, None, rows)[0]
    return survdiff(
        time_values(data, time, rows), event_values(data, event, rows), codes, names, layers
    )

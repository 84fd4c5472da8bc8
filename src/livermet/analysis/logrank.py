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

__all__ = ["LogRankResult", "logrank_test", "survdiff"]


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


def survdiff(
    time: Any, event: Any, group: Any, labels: Sequence[str] | None = None
) -> LogRankResult:
    """Run the log-rank test on arrays: times, 0/1 events and group codes 0..k-1."""
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    g = np.asarray(group, dtype=np.int64)
    if not (t.size == e.size == g.size):
        raise InputError("time, event and group must have the same length", "group")
    k = int(g.max()) + 1 if g.size else 0
    names = list(labels) if labels is not None else [str(i) for i in range(k)]
    if k < 2:
        raise InputError("the log-rank test needs at least two groups", "by")
    times, inverse = np.unique(t, return_inverse=True)
    m = times.size
    # counts per (time, group): subjects ending there and events there
    ending = np.zeros((m, k))
    deaths = np.zeros((m, k))
    np.add.at(ending, (inverse, g), 1.0)
    np.add.at(deaths, (inverse, g), e)
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
    keep = np.flatnonzero(expected > 0)
    if keep.size < 2:
        chisq, df = 0.0, max(int(keep.size) - 1, 0)
    else:
        sub = keep[1:]
        diff = (observed - expected)[sub]
        chisq = float(diff @ linalg.solve(variance[np.ix_(sub, sub)], diff, assume_a="pos"))
        df = int(keep.size) - 1
    p = float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan")
    n_per = np.bincount(g, minlength=k)
    return LogRankResult(
        chisq,
        df,
        p,
        names,
        [int(x) for x in n_per],
        [float(x) for x in observed],
        [float(x) for x in expected],
        variance,
    )


def logrank_test(
    data: pd.DataFrame,
    time: str,
    event: str,
    by: str,
    *,
    levels: Sequence[Any] | None = None,
    dropna: bool = False,
) -> LogRankResult:
    """Test the groups of column ``by`` by the log-rank test (any number of groups)."""
    rows = rows_to_use(data, [time, event, by], dropna)
    codes, names = group_values(data, by, levels, rows)
    return survdiff(time_values(data, time, rows), event_values(data, event, rows), codes, names)

"""Median of the series' medians, optionally n-weighted, with its interval.

McGrath, Zhao, Qin, Steele & Benedetti 2019, Stat Med 38:969-984; R package metamedian
(docs/evidence.md#median-of-medians).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from livermet.errors import InputError

from .consistency import check_consistency
from .quantiles import weighted_quantiles
from .series import FloatArray, n_values, normal_quantile, numeric_column, series_ids


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
    z = normal_quantile(level)
    values, weights, ids = _medians(df, weighted, exclude_inconsistent, n_column)
    k = len(values)
    if k == 0:
        raise InputError("no series with a median survival time", "mst_months")
    estimate = float(weighted_quantiles(values, weights, [0.5])[0])
    coverage: float | None = None
    if method == "exact":
        lb, ub, coverage = _exact_interval(values, level)
    elif method == "normal":
        half = min(0.5, z / (2.0 * math.sqrt(k)))
        lb, ub = weighted_quantiles(values, weights, [0.5 - half, 0.5 + half])
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
    mst = numeric_column(df, "mst_months")
    use = np.isfinite(mst)
    if exclude_inconsistent:
        use &= ~check_consistency(df)["flagged"].to_numpy(dtype=bool)
    if weighted:
        n = n_values(df, n_column)
        use &= np.isfinite(n) & (n > 0)
        weights = n[use]
    else:
        weights = np.ones(int(use.sum()))
    ids = [i for i, u in zip(series_ids(df), use, strict=True) if u]
    return mst[use], weights, ids


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
        [weighted_quantiles(values[d], weights[d], [0.5])[0] for d in draws], dtype=np.float64
    )
    tail = (1.0 - level) / 2.0
    lb, ub = np.quantile(boots, [tail, 1.0 - tail])
    return float(lb), float(ub)

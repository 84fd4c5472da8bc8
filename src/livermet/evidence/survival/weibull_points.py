"""The (t, S) points of a Weibull synthesis and their within-series covariance.

Each point is y = log(-log S) with its binomial delta-method variance; medians enter as S = 0.5
(docs/evidence.md#weibull-synthesis).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .consistency import check_consistency
from .series import TIME_COLUMNS, FloatArray, format_percent, n_values, numeric_column, series_ids


def weibull_points(
    df: pd.DataFrame, medians: str, n_column: str | None
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Return the (t, S) points entering the Weibull fit, and what was left out and why."""
    n = n_values(df, n_column)
    mst = numeric_column(df, "mst_months")
    flags = check_consistency(df)
    percents = {t: numeric_column(df, col) for t, col in TIME_COLUMNS.items()}
    rows: list[dict[str, Any]] = []
    excluded: list[tuple[str, str]] = []
    for i, ident in enumerate(series_ids(df)):
        if not (math.isfinite(n[i]) and n[i] > 0):
            excluded.append((ident, "n missing or not positive: series left out"))
            continue
        before = len(rows)
        for t, col in percents.items():
            p = col[i]
            if not math.isfinite(p):
                continue
            if not 0.0 < p < 100.0:
                excluded.append(
                    (ident, f"S({t:g}) = {format_percent(p)} %: log(-log S) undefined; left out")
                )
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


def within_covariance(points: pd.DataFrame, within: str) -> FloatArray:
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

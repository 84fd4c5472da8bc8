"""Check whether a series' reported median contradicts its own survival percentages.

Under one non-increasing survival curve S(t) >= 0.5 before the median and S(t) <= 0.5 after it
(docs/evidence.md#consistency-check).
"""

from __future__ import annotations

import math

import pandas as pd

from .series import TIME_COLUMNS, format_percent, numeric_column, series_ids


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
    medians = numeric_column(df, "mst_months")
    percents = {t: numeric_column(df, col) for t, col in TIME_COLUMNS.items()}
    rows = []
    for i, ident in enumerate(series_ids(df)):
        m = medians[i]
        reasons: list[str] = []
        notes: list[str] = []
        if math.isfinite(m):
            for t, col in percents.items():
                p = col[i]
                if not math.isfinite(p):
                    continue
                if t > m and p > 50.0:
                    reasons.append(
                        f"median {m:g} months but {format_percent(p)} % alive at {t:g} months"
                    )
                elif t < m and p < 50.0:
                    reasons.append(
                        f"median {m:g} months but only {format_percent(p)} % alive at {t:g} months"
                    )
                elif p == 50.0 and t != m:
                    notes.append(
                        f"{format_percent(p)} % alive at {t:g} months with median {m:g} months "
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

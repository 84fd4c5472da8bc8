"""Random-effects pooling of S(t) separately at each reported time.

Logit scale by default, metafor ``escalc``/``rma`` via `livermet.evidence`
(docs/evidence.md#pooling-each-time-point). Sampling variances assume binomial sampling without
censoring before t (the summary points carry no numbers at risk), so they are lower bounds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.errors import InputError
from livermet.evidence.escalc import escalc
from livermet.evidence.rma import rma

from .series import (
    SINGLE_SERIES_NOTE,
    TIME_COLUMNS,
    FloatArray,
    n_values,
    numeric_column,
    series_ids,
)

_BACK_TRANSFORMS: dict[str, str | None] = {
    "PLO": "ilogit",
    "PR": None,
    "PLN": "exp",
    "PAS": "iarcsin",
    "PFT": "ipft_hm",
}
"""escalc measure -> metafor-style back-transformation passed to ``predict(transf=...)``."""


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
    n = n_values(df, n_column)
    ids = np.array(series_ids(df), dtype=object)
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
    """Pool one time point."""
    if t not in TIME_COLUMNS:
        raise InputError(f"{t:g} months has no survival column (use 12, 36 or 60)", "times")
    column = TIME_COLUMNS[t]
    s = numeric_column(df, column) / 100.0
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


def single_series_figure(df: pd.DataFrame, point: Mapping[Any, Any]) -> dict[str, Any]:
    """Return the own S(t) of the one series reporting a time point of `pool_time_points`.

    ``point`` is one row of its result (``k``, ``column``, ``ids``). With k = 1 nothing is
    pooled (``estimate`` stays NaN); the series' S(t) as printed is returned instead:
    ``series_id``, ``reported`` (a proportion) and ``note``. Otherwise an empty dict.
    """
    if point["k"] != 1:
        return {}
    ident = str(point["ids"])
    percent = float(numeric_column(df, str(point["column"]))[series_ids(df).index(ident)])
    return {"series_id": ident, "reported": percent / 100.0, "note": SINGLE_SERIES_NOTE}

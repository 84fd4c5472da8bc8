"""Reading series tables: survival columns, n, ids, and the shared normal quantile.

Series tables are those of `livermet.evidence.dataset` (``id``, ``n_table``, ``mst_months``,
``os1``, ``os3``, ``os5`` in percent; docs/evidence.md#survival-synthesis-from-summary-points).
The n used is the column ``n`` when present (added by `livermet.evidence.dataset.subset`),
otherwise ``n_table``; ``n_column=`` overrides.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]

TIME_COLUMNS: dict[float, str] = {12.0: "os1", 36.0: "os3", 60.0: "os5"}
"""Months -> survival column (percent)."""


SINGLE_SERIES_NOTE = "pooling needs 2 or more series"
"""Why a time point, the Weibull synthesis or the reconstructed curve of one series shows that
series' own figures instead of a pooled one."""


def n_values(df: pd.DataFrame, n_column: str | None) -> FloatArray:
    """Return the n per series: ``n_column``, else ``n`` if present, else ``n_table``."""
    name = n_column or ("n" if "n" in df.columns else "n_table")
    if name not in df.columns:
        raise InputError(f"column {name!r} is missing (number of patients per series)", name)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def numeric_column(df: pd.DataFrame, name: str) -> FloatArray:
    """Return a numeric column as float (NaN where missing or absent)."""
    if name not in df.columns:
        return np.full(len(df), np.nan)
    return np.asarray(pd.to_numeric(df[name], errors="coerce"), dtype=np.float64)


def series_ids(df: pd.DataFrame) -> list[str]:
    """Return the series ids as text (row positions when there is no ``id`` column)."""
    if "id" not in df.columns:
        return [f"row{i + 1}" for i in range(len(df))]
    return [str(v) for v in df["id"].astype("string").fillna("?")]


def format_percent(value: float) -> str:
    """Format a percentage as printed (``58``, ``31.8``)."""
    return f"{value:g}"


def normal_quantile(level: float) -> float:
    """Two-sided normal quantile for a confidence level."""
    if not 0.0 < level < 1.0:
        raise InputError(f"must be between 0 and 1, got {level}", "level")
    return float(stats.norm.ppf(0.5 + level / 2.0))

"""Checking and converting the columns of a cohort table (one row per patient).

Every analysis takes a pandas DataFrame plus column names, so a CSV file and the registry
supply the same thing. Problems raise `InputError` with the column as ``field`` and the data
row in the message: row 1 is the first row of the table (for a CSV file, the first line after
the header, blank lines skipped), and when the table has a meaningful index (not 0..n-1) its
label is named too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "event_values",
    "group_values",
    "integer_labels",
    "missing_mask",
    "numeric_values",
    "optional_times",
    "refuse_missing",
    "require_columns",
    "row_label",
    "rows_to_use",
    "show_value",
    "time_values",
]


def require_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    """Refuse a table that lacks one of ``columns`` (the first missing one is the field)."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"expected a table (pandas DataFrame), got {type(data).__name__}", "data")
    if data.columns.duplicated().any():
        dup = str(data.columns[data.columns.duplicated()][0])
        raise InputError("column appears more than once", dup)
    for col in columns:
        if col not in data.columns:
            available = ", ".join(map(str, data.columns))
            raise InputError(f"column not found (the table has: {available})", col)


def row_label(data: pd.DataFrame, position: int) -> str:
    """Return the label of a row for messages: 'row 5', or 'row 5 (P0005)'.

    The label names the index value when the table is indexed by something other than 0..n-1.
    """
    text = f"row {position + 1}"
    index = data.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        text += f" ({index[position]})"
    return text


def show_value(value: Any) -> str:
    """Return a cell as the user wrote it: 'abc' for text, 2 for a number (not np.int64(2))."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _rows_text(data: pd.DataFrame, positions: Sequence[int] | npt.NDArray[Any]) -> str:
    first = row_label(data, int(positions[0]))
    more = len(positions) - 1
    return first if more == 0 else f"{first} (and {more} more row{'s' * (more > 1)})"


def missing_mask(data: pd.DataFrame, columns: Iterable[str]) -> BoolArray:
    """Return True for rows with a missing value (NaN, None, empty text) in any of ``columns``."""
    mask = np.zeros(len(data), dtype=bool)
    for col in columns:
        values = data[col]
        blank = values.isna().to_numpy().copy()  # pandas 3 may hand back a read-only view
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            blank |= values.astype(str).str.strip().eq("").to_numpy() & values.notna().to_numpy()
        mask |= blank
    return mask


def rows_to_use(data: pd.DataFrame, columns: Sequence[str], dropna: bool) -> BoolArray:
    """Return the rows an analysis uses: all, or (``dropna``) those complete in ``columns``.

    Without ``dropna`` a missing value is an error naming its column and row.
    """
    require_columns(data, columns)
    if dropna:
        return ~missing_mask(data, columns)
    refuse_missing(data, columns)
    return np.ones(len(data), dtype=bool)


def refuse_missing(data: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise naming the first column and row with a missing value."""
    for col in columns:
        bad = np.flatnonzero(missing_mask(data, [col]))
        if bad.size:
            raise InputError(
                f"{_rows_text(data, bad)}: missing value (to leave incomplete rows out, "
                "use --drop-missing on the command line, dropna=True in Python)",
                col,
            )


def _use(data: pd.DataFrame, rows: BoolArray | None) -> BoolArray:
    return np.ones(len(data), dtype=bool) if rows is None else rows


def _numeric(data: pd.DataFrame, column: str, use: BoolArray) -> FloatArray:
    values = data[column]
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float)
    converted = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(converted) & values.notna().to_numpy() & use)
    if bad.size:
        raise InputError(
            f"{_rows_text(data, bad)}: {show_value(values.iloc[bad[0]])} is not a number", column
        )
    return converted


def time_values(data: pd.DataFrame, column: str, rows: BoolArray | None = None) -> FloatArray:
    """Return the follow-up times of the ``rows`` used: finite numbers >= 0."""
    use = _use(data, rows)
    t = _numeric(data, column, use)
    bad = np.flatnonzero(~np.isfinite(t) & use)
    if bad.size:
        raise InputError(f"{_rows_text(data, bad)}: time must be a finite number", column)
    bad = np.flatnonzero((t < 0) & use)
    if bad.size:
        raise InputError(
            f"{_rows_text(data, bad)}: negative time {t[bad[0]]:g} (times are measured from "
            "the index date and cannot be negative)",
            column,
        )
    return t[use]


def numeric_values(data: pd.DataFrame, column: str, rows: BoolArray | None = None) -> FloatArray:
    """Return a numeric column (a covariate) of the ``rows`` used: finite numbers."""
    use = _use(data, rows)
    x = _numeric(data, column, use)
    bad = np.flatnonzero(~np.isfinite(x) & use)
    if bad.size:
        raise InputError(f"{_rows_text(data, bad)}: value must be a finite number", column)
    return x[use]


def optional_times(data: pd.DataFrame, column: str, rows: BoolArray | None = None) -> FloatArray:
    """Return times that may be missing (NaN: no such event), else numbers >= 0, of ``rows``."""
    use = _use(data, rows) & ~missing_mask(data, [column])
    t = _numeric(data, column, use)
    bad = np.flatnonzero(use & ~(np.isfinite(t) & (t >= 0)))
    if bad.size:
        raise InputError(f"{_rows_text(data, bad)}: time must be a number >= 0", column)
    return np.where(use, t, np.nan)[_use(data, rows)]


def event_values(data: pd.DataFrame, column: str, rows: BoolArray | None = None) -> IntArray:
    """Return the event indicators of the ``rows`` used.

    Coded 0 (censored) and 1 (event); True and False are accepted too.
    """
    use = _use(data, rows)
    e = _numeric(data, column, use)
    bad = np.flatnonzero((e != 0) & (e != 1) & use)
    if bad.size:
        raise InputError(
            f"{_rows_text(data, bad)}: event must be 0 (censored) or 1 (event), "
            f"got {show_value(data[column].iloc[bad[0]])}",
            column,
        )
    return e[use].astype(np.int64)


def integer_labels(values: pd.Series) -> pd.Series:
    """Return a float column of whole numbers as integers (pandas nullable Int64).

    A CSV column of integers with a missing value is read as floats; its groups and factor
    levels are still 0 and 1, not 0.0 and 1.0.
    """
    if not pd.api.types.is_float_dtype(values):
        return values
    present = values.dropna()
    if (
        present.empty
        or not np.all(np.isfinite(present))
        or not np.all(present == np.round(present))
    ):
        return values
    return values.astype("Int64")


def group_values(
    data: pd.DataFrame,
    column: str,
    levels: Sequence[Any] | None = None,
    rows: BoolArray | None = None,
    *,
    keep_empty: bool = False,
) -> tuple[IntArray, list[str]]:
    """Return integer codes 0..k-1 of a grouping column (``rows`` used) and the levels, in order.

    The order is ``levels`` when given (every value must be one of them), else the categories
    of a pandas Categorical, else the sorted distinct values (R's ``factor()`` default).
    Levels that no used row has are dropped, unless ``keep_empty`` (a site of a federated
    analysis codes the levels of all sites).
    """
    use = _use(data, rows)
    values = integer_labels(data[column])[use]
    if levels is None:
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = list(values.cat.categories)
        else:
            levels = sorted(pd.unique(values), key=lambda v: (str(type(v)), v))
    text = values.astype(str).to_numpy()
    names = [str(v) for v in levels]
    if len(set(names)) != len(names):
        raise InputError(f"levels {names} repeat a value", column)
    lookup = {name: i for i, name in enumerate(names)}
    codes = np.array([lookup.get(v, -1) for v in text], dtype=np.int64)
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        where = np.flatnonzero(use)[bad]
        raise InputError(
            f"{_rows_text(data, where)}: {show_value(text[bad[0]])} is not one of the levels "
            f"{names}",
            column,
        )
    used = np.unique(codes)
    if used.size < len(names) and not keep_empty:  # renumber without the empty levels
        remap = np.full(len(names), -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        codes = remap[codes]
        names = [names[i] for i in used]
    return codes, names

"""Scalar/array plumbing shared by every score.

Convention of the clinical engine: a score accepts Python scalars or numpy arrays (broadcast
together). Unknown inputs are ``None`` (scalar) or ``NaN`` (array). When every input is a scalar the
result's fields are Python scalars (``None`` for unknown); otherwise they are numpy arrays
(``float`` with ``NaN`` for unknown numbers, ``object`` with ``None`` for unknown labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
# Python scalars take fast paths below (one patient: the API assesses one case at a time).
_PY_SCALARS = (str, int, float)


def is_scalar(*values: Any) -> bool:
    """Return True when every value is a scalar (or None): the result should be scalar too."""
    return all(v is None or isinstance(v, _PY_SCALARS) or np.ndim(v) == 0 for v in values)


def as_float_array(value: Any, field: str) -> FloatArray:
    """Convert a scalar / sequence / array to a float array; ``None`` becomes ``NaN``.

    Raises InputError naming ``field`` when a value is not a number.
    """
    if value is None:
        return np.array(np.nan)
    if isinstance(value, (str, bytes)):
        raise InputError(f"expected a number, got {value!r}", field)
    if isinstance(value, (int, float)):  # bool included, as np.asarray would take it
        return np.array(float(value))
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return value.astype(np.float64, copy=False)
    try:
        items = np.asarray(value, dtype=object)
        out = np.array(
            [np.nan if v is None else v for v in items.ravel()], dtype=np.float64
        ).reshape(items.shape)
    except (TypeError, ValueError) as exc:
        raise InputError(f"expected numbers, got {value!r}", field) from exc
    return out


def as_label_array(value: Any, field: str, allowed: Sequence[str]) -> npt.NDArray[np.object_]:
    """Convert a label or a sequence of labels to an object array, checking each label.

    ``None`` and ``NaN`` mean unknown and are kept as ``None``.
    """
    if value is None or isinstance(value, str):  # one patient: no array machinery needed
        if value is not None and value not in allowed:
            raise InputError(f"expected one of {', '.join(allowed)}; got {value!r}", field)
        return np.array(value, dtype=object)
    arr = np.asarray(value, dtype=object)
    flat = arr.ravel()
    # Vectorised: a cohort's label column has few distinct values; they are checked, not the
    # patients. Distinct values keep the order of first appearance, so the value named in the
    # error is the first bad one of the column, as an element-by-element check would name.
    import pandas as pd  # here, not at the top: one patient's labels never load pandas

    distinct = distinct_values(flat)
    candidates = flat if distinct is None else distinct  # unhashable: element by element
    unknown = pd.isna(candidates)
    known = candidates[~unknown]
    bad = ~np.isin(known, np.asarray(list(allowed), dtype=object))
    if bad.any():
        item = known[bad][0]
        raise InputError(f"expected one of {', '.join(allowed)}; got {item!r}", field)
    out = flat.copy()
    if distinct is None or any(v is not None for v in distinct[unknown]):
        out[pd.isna(flat)] = None  # NaN, pd.NA -> None (a column whose unknowns are None: no pass)
    return out.reshape(arr.shape)


def label_codes(value: Any, field: str, allowed: Sequence[str]) -> npt.NDArray[np.intp]:
    """Labels as codes: the index of each label in ``allowed``, -1 for unknown (None, NaN).

    Same accepted labels and errors as :func:`as_label_array`; for a cohort, one hash pass in C
    and a look-up (per distinct value), instead of one comparison pass per allowed label.
    """
    if value is None or isinstance(value, str):  # one patient
        as_label_array(value, field, allowed)  # the check and its error
        return np.array(-1 if value is None else list(allowed).index(value), dtype=np.intp)
    arr = np.asarray(value, dtype=object)
    try:
        codes, distinct = factorize(arr.ravel())
    except TypeError:  # an unhashable value: element by element, as as_label_array checks
        labels = as_label_array(arr, field, allowed)
        out = np.full(labels.shape, -1, dtype=np.intp)
        for index, label in enumerate(allowed):
            out[labels == label] = index
        return out
    allowed_array = np.asarray(list(allowed), dtype=object)
    bad = ~np.isin(distinct, allowed_array)
    if bad.any():  # distinct values in order of first appearance: the column's first bad one
        item = distinct[bad][0]
        raise InputError(f"expected one of {', '.join(allowed)}; got {item!r}", field)
    table = np.array([*(int(np.argmax(allowed_array == v)) for v in distinct), -1], np.intp)
    return lookup(table, codes).reshape(arr.shape)  # code -1 (unknown) -> the last entry, -1


def band_codes(
    values: FloatArray,
    bounds: Sequence[float] | FloatArray,
    *,
    right: bool | Sequence[bool] = False,
) -> npt.NDArray[np.int8]:
    """Return the band of each value between ascending ``bounds``: its count of bounds passed.

    A value passes a bound when it is at or above it, or strictly above it where ``right`` is
    True (one flag for every bound, or one per bound). So with ``right=False`` band i holds
    ``bounds[i - 1] <= value < bounds[i]``, as :func:`numpy.digitize` numbers bands, and a closed
    middle band ``[low, high]`` is ``band_codes(v, (low, high), right=(False, True))``. NaN gets
    band -1, so that ``lookup(table, codes)`` reads the last entry of ``table`` for it. One
    comparison per bound on bytes, instead of a binary search per value.
    """
    sides = (right,) * len(bounds) if isinstance(right, bool) else tuple(right)
    codes = np.zeros(np.shape(values), dtype=np.int8)
    for bound, strict in zip(bounds, sides, strict=True):
        codes += (values > bound) if strict else (values >= bound)
    return np.where(np.isnan(values), np.int8(-1), codes)


def flags_as_float(values: npt.NDArray[np.object_]) -> FloatArray | None:
    """Return a 1-d object array of flags as 1.0 / 0.0 / NaN, or None when it holds other values.

    A value equal to True (True, 1, 1.0, numpy's) is 1.0, one equal to False is 0.0, an unknown
    (None, NaN) NaN, exactly as ``float`` reads them. Two comparison passes in C and a check of
    the few values that are neither; None (for the caller's general conversion) as soon as one
    of them is something else: a string, another number, pd.NA (which has no truth value).
    """
    import pandas as pd  # array paths only

    try:
        true, false = values == True, values == False  # noqa: E712 - elementwise, not identity
    except TypeError:  # pd.NA: its comparison has no truth value
        return None
    neither = ~(true | false)
    if neither.any() and not pd.isna(values[neither]).all():
        return None
    out: FloatArray = true.astype(np.float64)
    out[neither] = np.nan
    return out


def unknowns_as_none(labels: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Return a 1-d object array of labels with every unknown (NaN, pd.NA) as ``None``.

    The array itself when ``None`` is its only unknown (one hash pass in C finds its distinct
    values); otherwise a copy.
    """
    import pandas as pd  # array paths only

    distinct = distinct_values(labels)
    if distinct is not None and all(v is None for v in distinct[pd.isna(distinct)]):
        return labels
    out = labels.copy()
    out[pd.isna(labels)] = None
    return out


def tri_state(condition: npt.ArrayLike, unknown: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Object array of True / False from ``condition``, None where ``unknown``."""
    return lookup(_TRI_STATE, np.where(unknown, np.uint8(2), condition))  # byte codes


_TRI_STATE = np.array([False, True, None], dtype=object)


def distinct_values(flat: npt.NDArray[np.object_]) -> npt.NDArray[np.object_] | None:
    """Distinct values of a 1-d object array in order of first appearance; None if unhashable.

    One hash pass in C (pandas), so the Python work that follows is per distinct value, not per
    patient. Values equal to each other (``1``, ``1.0``, ``True``) count once, as the first of
    them. Unknowns (None, NaN, pd.NA) are kept, each kind once.
    """
    import pandas as pd  # array paths only

    try:
        return np.asarray(pd.unique(flat), dtype=object)
    except TypeError:  # e.g. a list inside the array
        return None


def factorize(
    flat: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]:
    """Integer codes and distinct values of a 1-d object array, ``flat[i] == distinct[codes[i]]``.

    Code -1 marks an unknown (None, NaN, pd.NA). Distinct values are in order of first appearance;
    values equal to each other (``1``, ``1.0``, ``True``) count once. One hash pass in C, so a
    cohort column is then handled per distinct value. Raises TypeError for an unhashable value.
    """
    import pandas as pd  # array paths only

    codes, distinct = pd.factorize(flat)
    return np.asarray(codes, dtype=np.intp), np.asarray(distinct, dtype=object)


def lookup(table: npt.NDArray[Any], codes: npt.ArrayLike) -> npt.NDArray[Any]:
    """Return ``table[codes]`` keeping the shape of ``codes``, 0-d included.

    A look-up table (labels, results) applied to a cohort's integer codes in one step; code -1
    reads the table's last entry (the unknown one, by this module's convention).
    """
    index = np.asarray(codes)
    out: npt.NDArray[Any] = table[index.ravel()]
    return out if index.ndim == 1 else out.reshape(index.shape)  # 1-d: the array itself


def check_range(
    values: FloatArray,
    field: str,
    low: float,
    high: float,
    unit: str,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raise InputError if a known (non-NaN) value lies outside [low, high] (or open ends)."""
    if values.size:  # a cohort: two reductions (NaN ignored) settle the common case, all valid
        lowest, highest = np.fmin.reduce(values, axis=None), np.fmax.reduce(values, axis=None)
        low_ok = lowest >= low if low_inclusive else lowest > low
        high_ok = highest <= high if high_inclusive else highest < high
        if np.isnan(lowest) or (low_ok and high_ok):  # all unknown, or all within the range
            return
    known = values.reshape(1) if values.ndim == 0 else values
    known = known[~np.isnan(known)]
    if known.size == 0:
        return
    too_low = known < low if low_inclusive else known <= low
    too_high = known > high if high_inclusive else known >= high
    bad = known[too_low | too_high]
    if bad.size:
        lo = "[" if low_inclusive else "("
        hi = "]" if high_inclusive else ")"
        raise InputError(
            f"{bad[0]:g} {unit} is outside the accepted range {lo}{low:g}, {high:g}{hi} {unit}",
            field,
        )


def first_not_in(values: FloatArray, allowed: tuple[float, ...]) -> float | None:
    """Return the first known (non-NaN) value that is not one of ``allowed``, or None."""
    if values.ndim == 0:  # one patient: no set machinery
        value = float(values)
        return None if np.isnan(value) or value in allowed else value
    bad = ~np.isnan(values)
    for value in allowed:  # few allowed values: boolean algebra, no sort
        bad &= values != value
    return float(values[bad][0]) if bad.any() else None


def scalar_or_array(values: Any, scalar: bool) -> Any:
    """Return ``values`` unchanged for array mode, or as a Python scalar (NaN -> None)."""
    if not scalar:
        return values
    item = np.asarray(values).item() if np.ndim(values) == 0 else values
    if isinstance(item, float) and np.isnan(item):
        return None
    if isinstance(item, np.generic):
        return item.item()
    return item


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """``np.select`` with a fast path for one patient (every input 0-d): same value and dtype.

    A single-patient assessment (the web API) makes dozens of these choices on 0-d arrays,
    where ``np.select``'s broadcasting costs ~15 µs each, more than the rest of the score.
    """
    conds = [np.asarray(c) for c in condlist]
    choices = [np.asarray(c) for c in (*choicelist, default)]
    if (
        len(conds) != len(choicelist)
        or any(a.ndim or (a.dtype != np.bool_) for a in conds)
        or any(a.ndim for a in choices)
    ):
        return np.select(condlist, choicelist, default)  # arrays, or np.select's own errors
    dtype = np.result_type(*choices)
    chosen = next((choice for cond, choice in zip(conds, choices, strict=False) if cond), None)
    return np.asarray(choices[-1] if chosen is None else chosen, dtype=dtype)

"""Input checks and the model matrix of ``rma`` (moderators, intercept, redundant columns)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def as_vector(value: Any, field: str) -> FloatArray:
    """Return ``value`` as a 1-D float array; InputError naming ``field`` otherwise."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError("expected numbers", field) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError("expected a one-dimensional sequence", field)
    return arr


def as_mods(mods: Any, k: int) -> FloatArray | None:
    """Moderators as a k x q float matrix (a vector is one moderator)."""
    if mods is None:
        return None
    try:
        arr = np.asarray(mods, dtype=float)
    except (TypeError, ValueError):
        raise InputError(
            "moderators must be numeric (code factors as dummy columns)", "mods"
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != k:
        raise InputError(f"mods must have {k} rows (one per study)", "mods")
    return arr


def _is_intercept(col: FloatArray) -> bool:
    return bool(np.all(np.abs(col - 1.0) < 1e-8))


def model_matrix(mods: FloatArray | None, k: int, intercept: bool) -> tuple[FloatArray, bool]:
    """Build X: intercept first, linearly dependent columns dropped (with a warning) as metafor.

    Returns
    -------
    X : ndarray
        k x p model matrix of full column rank.
    has_intercept : bool
        Whether X contains an intercept column (always its first column).
    """
    cols: list[FloatArray] = []
    if intercept:
        cols.append(np.ones(k))
    if mods is not None:
        cols.extend(mods[:, j] for j in range(mods.shape[1]))
    if not cols:
        cols.append(np.ones(k))
    kept: list[FloatArray] = []
    dropped = 0
    for col in cols:
        cand = np.column_stack([*kept, col])
        scale = np.linalg.norm(cand, axis=0)
        scale[scale == 0] = 1.0
        rank = np.linalg.matrix_rank(cand / scale, tol=1e-7)
        if rank == len(kept) + 1:
            kept.append(col)
        else:
            dropped += 1
    if dropped:
        warnings.warn("redundant predictors dropped from the model", UserWarning, stacklevel=3)
    ints = [j for j, c in enumerate(kept) if _is_intercept(c)]
    if ints:
        j = ints[0]
        kept = [kept[j], *kept[:j], *kept[j + 1 :]]
    X = np.column_stack(kept)
    return X, bool(ints)


def drop_missing(
    yi: FloatArray, vi: FloatArray, mods: FloatArray | None, ni: FloatArray | None
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray | None, BoolArray]:
    """Omit studies with a missing ``yi``, ``vi`` or moderator (metafor's ``na.omit``)."""
    ok = np.isfinite(yi) & np.isfinite(vi)
    if mods is not None:
        ok &= np.all(np.isfinite(mods), axis=1)
    if not np.all(ok):
        warnings.warn(
            f"{int(np.sum(~ok))} studies with missing values omitted from the model fit",
            UserWarning,
            stacklevel=3,
        )
        yi, vi = yi[ok], vi[ok]
        mods = None if mods is None else mods[ok]
        ni = None if ni is None else ni[ok]
    return yi, vi, mods, ni, ok

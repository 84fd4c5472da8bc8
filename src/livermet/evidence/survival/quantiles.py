"""Type-7 quantiles with frequency weights (``Hmisc::wtd.quantile``), for the median of medians.

docs/evidence.md#median-of-medians
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from .series import FloatArray


def weighted_quantiles(
    values: FloatArray, weights: FloatArray, probs: Iterable[float]
) -> FloatArray:
    """Type-7 quantiles with frequency weights, as ``Hmisc::wtd.quantile(normwt=FALSE)``.

    With total weight N the quantile at p sits at position 1 + (N-1)p among the values each
    repeated w_i times; the value at position q is the first (sorted) value whose cumulative
    weight reaches q, and fractional positions interpolate linearly. With unit weights this
    is R's ``quantile(type = 7)``.
    """
    order = np.argsort(values, kind="stable")
    x, w = values[order], weights[order]
    uniq, inverse = np.unique(x, return_inverse=True)
    wsum = np.bincount(inverse, weights=w)
    cum = np.cumsum(wsum, dtype=np.float64)
    total = float(cum[-1])
    out = []
    for p in probs:
        pos = 1.0 + (total - 1.0) * p
        low = max(math.floor(pos), 1)
        high = min(low + 1, total)
        frac = pos % 1.0
        out.append((1 - frac) * _at_position(uniq, cum, low) + frac * _at_position(uniq, cum, high))
    return np.array(out, dtype=np.float64)


def _at_position(values: FloatArray, cum: FloatArray, position: float) -> float:
    """Return the first value whose cumulative weight reaches ``position`` (clamped)."""
    index = int(np.searchsorted(cum, position - 1e-12 * max(1.0, position), side="left"))
    return float(values[min(index, len(values) - 1)])

"""I², H² and the typical within-study variance: written once for single and batched fits.

Definitions (metafor ``?print.rma.uni``; Higgins & Thompson, Stat Med 2002;21:1539-1558): with
Cochran's ``QE`` on ``df = k - p`` degrees of freedom and ``tr(P0)`` the trace of the projection
matrix at tau² = 0, the "typical" within-study variance is ``vt = df / tr(P0)``. For a
random-effects model ``I² = 100 tau² / (tau² + vt)`` and ``H² = (tau² + vt) / vt``; for the
equal-effects model (no tau²) ``I² = max(0, 100 (QE - df) / QE)`` (0 when QE = 0) and
``H² = QE / df``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def typical_variance(df: Any, trace_p0: Any) -> Any:
    """``vt = df / tr(P0)`` (scalars or arrays)."""
    return df / trace_p0


def i2_h2(qe: Any, df: Any, tau2: Any, vt: Any, *, equal_effects: bool) -> tuple[Any, Any]:
    """``(I², H²)`` of one fit (floats) or of many (arrays of the same shape).

    Parameters
    ----------
    qe, df
        Cochran's Q and its degrees of freedom ``k - p``.
    tau2, vt
        The tau² estimate and the typical within-study variance (ignored for equal effects).
    equal_effects
        True for the equal-effects model, whose I² and H² come from Q.
    """
    scalar = np.ndim(qe) == 0 and np.ndim(tau2) == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if equal_effects:
            q = np.asarray(qe, dtype=float)
            i2 = np.where(q > 0, np.maximum(0.0, 100.0 * (q - df) / q), 0.0)
            h2 = q / df
        else:
            t = np.asarray(tau2, dtype=float)
            i2 = 100.0 * t / (vt + t)
            h2 = t / vt + 1.0
    if scalar:
        return float(i2), float(h2)
    return i2, h2

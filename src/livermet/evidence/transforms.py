"""Back-transformations of pooled estimates (metafor's ``transf.*`` functions).

=============================  ======================================================  ========
name                           function                                                measure
=============================  ======================================================  ========
``"ilogit"``                   1 / (1 + exp(-y))                                        PLO
``"exp"``                      exp(y)                                                   PLN, RR,
                                                                                        OR
``"iarcsin"`` (``"isqrt_sin"``)  sin(y)², 0 below 0 and 1 above pi/2                    PAS
``"ipft_hm"`` (``"ift_hm"``)   Miller's inverse of the Freeman-Tukey transformation     PFT
                               with the harmonic mean of the study sizes
=============================  ======================================================  ========

Miller (1978): ``p = (1 - sgn(cos 2y) sqrt(1 - (sin 2y + (sin 2y - 1/sin 2y)/n)²)) / 2``, set to 0
below ``pft(0, n)`` and to 1 above ``pft(1, n)``, with ``n`` the harmonic mean ``1/mean(1/n_i)``.

References
----------
Miller, J. J. (1978). The inverse of the Freeman-Tukey double arcsine transformation. *The
American Statistician*, 32(4), 138. metafor ``?transf``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.errors import InputError

FloatArray = npt.NDArray[np.float64]
Transform = Callable[[FloatArray], FloatArray]


def ilogit(y: Any) -> FloatArray:
    """Inverse logit ``1 / (1 + exp(-y))``."""
    out: FloatArray = 1.0 / (1.0 + np.exp(-np.asarray(y, dtype=float)))
    return out


def exp(y: Any) -> FloatArray:
    """Exponential (back-transform of log proportions, log risk/odds ratios)."""
    out: FloatArray = np.exp(np.asarray(y, dtype=float))
    return out


def iarcsin(y: Any) -> FloatArray:
    """Inverse of the arcsine square-root transformation: ``sin(y)^2`` clipped to [0, 1]."""
    y = np.asarray(y, dtype=float)
    out: FloatArray = np.where(y < 0, 0.0, np.where(y > np.arcsin(1.0), 1.0, np.sin(y) ** 2))
    return out


def pft(p: Any, n: Any) -> FloatArray:
    """Freeman-Tukey transform of a proportion ``p`` for a study of size ``n`` (metafor scale)."""
    p = np.asarray(p, dtype=float)
    n = np.asarray(n, dtype=float)
    x = p * n
    out: FloatArray = 0.5 * (
        np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1)))
    )
    return out


def ipft(y: Any, n: Any) -> FloatArray:
    """Miller's (1978) inverse of the Freeman-Tukey double arcsine transformation."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sin(2 * y)
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(1 - (s + (s - 1 / s) / n) ** 2))
    z = np.where(y > pft(1.0, n), 1.0, z)
    out: FloatArray = np.where(y < pft(0.0, n), 0.0, z)
    return out


def harmonic_mean(n: Any) -> float:
    """Harmonic mean ``1 / mean(1 / n)`` ignoring NaN."""
    n = np.asarray(n, dtype=float)
    return float(1.0 / np.nanmean(1.0 / n))


def ipft_hm(y: Any, ni: Any) -> FloatArray:
    """Inverse Freeman-Tukey with the harmonic mean of the study sizes ``ni`` (metafor)."""
    return ipft(y, harmonic_mean(ni))


_NAMED: dict[str, Transform] = {
    "ilogit": ilogit,
    "expit": ilogit,
    "exp": exp,
    "iarcsin": iarcsin,
    "isqrt_sin": iarcsin,
    "pas": iarcsin,
}
_PFT_NAMES = ("ipft_hm", "ift_hm", "pft")
_BY_MEASURE = {"PLO": "ilogit", "PLN": "exp", "RR": "exp", "OR": "exp", "PAS": "iarcsin"}


def resolve_transform(
    transf: str | Transform | None,
    targs: Mapping[str, Any] | None = None,
    ni: Any = None,
    measure: str | None = None,
) -> Transform | None:
    """Return the back-transform function named by ``transf``.

    Parameters
    ----------
    transf : str, callable or None
        A name from the table above, ``"auto"`` (by ``measure``), a function, or None.
    targs : mapping, optional
        ``{"ni": ...}`` for the Freeman-Tukey inversion.
    ni : array_like, optional
        Study sizes from the fit, used when ``targs`` gives none.
    measure : str, optional
        The fit's measure (for ``"auto"``).
    """
    if transf is None:
        return None
    if callable(transf):
        return transf
    name = str(transf).lower()
    if name == "auto":
        meas = (measure or "").upper()
        if meas == "PFT":
            name = "ipft_hm"
        elif meas in _BY_MEASURE:
            name = _BY_MEASURE[meas]
        else:
            return None
    if name in _NAMED:
        return _NAMED[name]
    if name in _PFT_NAMES:
        n = (targs or {}).get("ni", ni)
        if n is None:
            raise InputError("the Freeman-Tukey inversion needs the study sizes ni", "targs")
        nhm = harmonic_mean(n)

        def _ipft_hm(y: FloatArray) -> FloatArray:
            return ipft(y, nhm)

        return _ipft_hm
    raise InputError(
        f"unknown transf {transf!r}; use ilogit, exp, iarcsin, ipft_hm, auto or a function",
        "transf",
    )


def back_transform_of(fit: Any, transf: str | Transform | None = "auto") -> Transform:
    """Return the back-transformation ``transf`` for a fitted model.

    ``"auto"`` is the one matching the model's measure; the identity when there is none.
    """
    f = resolve_transform(
        transf, ni=getattr(fit, "ni", None), measure=getattr(fit, "measure", None)
    )
    if f is None:
        return lambda x: np.asarray(x, dtype=float)
    return f

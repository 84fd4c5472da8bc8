"""Indocyanine green clearance: ICG-K (plasma disappearance rate) and remnant ICG-K (ICG-Kf).

Specified in docs/clinical.md#icg-clearance.

ICG-K: assuming mono-exponential clearance, R15 = 100 · exp(−15 K), hence
K (min⁻¹) = ln(100 / R15) / 15 and PDR (%/min) = 100 · K ([one source]: the same conversion is used
in an open-source Japanese calculator; docs/clinical.md#units-and-plausibility-ranges).

ICG-Kf (remnant ICG-K): Yokoyama Y, Nishio H, Ebata T, Igami T, Sugawara G, Nagino M. Value of
indocyanine green clearance of the future liver remnant in predicting outcome after resection for
biliary cancer. Br J Surg 2010;97:1260-1268 (abstract seen, [one source]):
ICG-Kf = ICG-K × (FLR volume / total functional liver volume); ICG-Kf ≥ 0.05 = acceptable.
Experienced centres may accept lower values, and other thresholds exist (0.04 normal liver /
0.05 diseased liver, J Gastrointest Surg 2015; 0.075 with bile-duct resection, BJS Open) [one
source] — hence the threshold is a keyword argument. The caller states which denominator (CT total
liver volume minus tumour, or standard liver volume) produced ``flr_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    check_range,
    is_scalar,
    scalar_or_array,
    tri_state,
)
from livermet.clinical.contracts import ICG as CONTRACT

_R15 = CONTRACT.input("icg_r15_percent")

ICG_R15_RANGE_PERCENT = _R15.range
"""ICG-R15 must lie strictly between 0 and 100 % (``contracts.ICG_R15``;
docs/clinical.md#icg-clearance): ln(100/R15) needs R15 > 0, and R15 = 100 % would mean no
clearance at all."""
ICG_KF_MIN_ACCEPTABLE = 0.05
"""ICG-Kf ≥ 0.05 = acceptable remnant function (Yokoyama 2010; [one source])."""
ICG_K_RANGE_PER_MIN = (0.0, 1.0)
"""Accepted K in (0, 1] min⁻¹ — an engineering plausibility bound (K = 1 means R15 ≈ 3e-5 %),
not a published limit."""

_R15_FIELD = "icg_r15_percent"
_SNAP_DECIMALS = 9


@dataclass(frozen=True)
class IcgResult:
    """ICG clearance derived from the 15-minute retention rate.

    Attributes
    ----------
    r15_percent : float | None (array: float, NaN = unknown)
        ICG retention at 15 min, %.
    k_per_min : float | None (array: float)
        Plasma disappearance rate constant K, min⁻¹.
    pdr_percent_per_min : float | None (array: float)
        PDR = 100 · K, %/min.
    """

    r15_percent: Any
    k_per_min: Any
    pdr_percent_per_min: Any


@dataclass(frozen=True)
class IcgKfResult:
    """Remnant ICG-K (Yokoyama 2010).

    Attributes
    ----------
    kf : float | None (array: float, NaN = unknown)
        ICG-K × FLR fraction, min⁻¹.
    acceptable : bool | None (array: object, None = unknown)
        ``kf >= threshold``.
    threshold : float
        The threshold applied (default ``ICG_KF_MIN_ACCEPTABLE`` = 0.05).
    """

    kf: Any
    acceptable: Any
    threshold: float


def icg_k(r15_percent: Any) -> Any:
    """ICG-K (min⁻¹) = ln(100 / R15) / 15 for R15 in % (docs/clinical.md#icg-clearance).

    Parameters
    ----------
    r15_percent : float | array | None
        ICG retention rate at 15 min, % (0 < R15 < 100).

    Returns
    -------
    float | None, or a float array (NaN = unknown)

    Raises
    ------
    InputError
        Field ``icg_r15_percent`` when R15 is not in (0, 100) %.
    """
    return icg_clearance(r15_percent).k_per_min


def icg_clearance(r15_percent: Any) -> IcgResult:
    """R15, K and PDR together (see :func:`icg_k`)."""
    scalar = is_scalar(r15_percent)
    r15 = as_float_array(r15_percent, _R15_FIELD)
    _R15.check(r15)
    # ln(100) - ln(R15) rather than ln(100/R15): the quotient overflows for a subnormal R15
    k = (np.log(100.0) - np.log(r15)) / 15.0
    return IcgResult(
        r15_percent=scalar_or_array(r15, scalar),
        k_per_min=scalar_or_array(k, scalar),
        pdr_percent_per_min=scalar_or_array(100.0 * k, scalar),
    )


def icg_kf(
    *, k_per_min: Any, flr_fraction: Any, threshold: float = ICG_KF_MIN_ACCEPTABLE
) -> IcgKfResult:
    """Remnant ICG-K = ICG-K × FLR fraction and whether it reaches ``threshold``.

    Parameters
    ----------
    k_per_min : float | array | None
        ICG-K in min⁻¹ (0 < K ≤ 1).
    flr_fraction : float | array | None
        Future liver remnant / total functional liver volume, a fraction in (0, 1].
    threshold : float
        Minimum acceptable ICG-Kf (default 0.05, Yokoyama 2010).

    Returns
    -------
    IcgKfResult

    Notes
    -----
    ICG-Kf is snapped to 9 decimals before the comparison so that float noise
    (0.25 × 0.2 = 0.05000000000000001) does not decide a case lying exactly on the threshold;
    a value equal to the threshold is acceptable.
    """
    scalar = is_scalar(k_per_min, flr_fraction)
    k = as_float_array(k_per_min, "k_per_min")
    frac = as_float_array(flr_fraction, "flr_fraction")
    check_range(k, "k_per_min", *ICG_K_RANGE_PER_MIN, "/min", low_inclusive=False)
    check_range(frac, "flr_fraction", 0.0, 1.0, "(fraction)", low_inclusive=False)
    kf = k * frac
    acceptable = _at_least(kf, threshold)
    return IcgKfResult(
        kf=scalar_or_array(kf, scalar),
        acceptable=scalar_or_array(acceptable, scalar),
        threshold=threshold,
    )


def _at_least(values: FloatArray, threshold: float) -> Any:
    """Object array of True/False (None where the value is NaN)."""
    return tri_state(np.round(values, _SNAP_DECIMALS) >= threshold, np.isnan(values))

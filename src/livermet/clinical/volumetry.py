"""Body surface area, standard liver volume, future liver remnant (FLR) % and minimum FLR.

Specified in docs/clinical.md#volumetry.

BSA ([two sources]): Mosteller RD. Simplified calculation of body-surface area. N Engl J Med
1987;317:1098 (default); DuBois D, DuBois EF. A formula to estimate the approximate surface area
if height and weight be known. Arch Intern Med 1916;17:863-871.

Standard liver volume ([two sources], both formulas listed in J Surg Oncol 2019, PMC6422720):
Urata K, et al. Hepatology 1995;21:1317-1321 (Japanese donors/children);
Vauthey JN, et al. Liver Transpl 2002;8:233-240 (Western adults). Default: Vauthey for Western
registries, Urata for Japanese patients — the caller chooses and records which.

FLR %: measured FLR / (CT total liver volume − tumour volume) × 100, or standardised
FLR / standard liver volume × 100.

Minimum FLR by liver condition: normal ≥ 20 % (Kishi Y, et al. Ann Surg 2009; 25 % in Vauthey
2000 / Shoup 2003), after extensive chemotherapy / steatosis / cholestasis ≥ 30 % (Shindoh J, et
al. J Am Coll Surg 2013; Abdalla EK, et al. Ann Surg Oncol 2006 consensus), cirrhosis / fibrosis
≥ 40 % (Azoulay; Kubota; consensus). [one source] for the individual studies via the PMC6422720
table; the 20/30/40 consensus summary is [not verified] as to exact wording.

Plausibility ranges (height 100–230 cm, weight 25–250 kg, volumes 0–10 000 mL) are engineering
choices from docs/clinical.md#volumetry and the unit parser, not published limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    check_range,
    is_scalar,
    label_codes,
    lookup,
    scalar_or_array,
    tri_state,
)
from livermet.clinical.contracts import BODY, FLR
from livermet.errors import InputError

CONTRACTS = (BODY, FLR)
"""Contracts of the body measures and the FLR (``contracts.py``; the standardised FLR combines
the two)."""
_HEIGHT = BODY.input("height_cm")
_WEIGHT = BODY.input("weight_kg")
_VOLUME = FLR.input("flr_ml")

HEIGHT_RANGE_CM = _HEIGHT.range
"""Height plausibility 100-230 cm, the unit parser's (docs/clinical.md#volumetry; engineering
choice)."""
WEIGHT_RANGE_KG = _WEIGHT.range
"""Weight plausibility 25-250 kg, the unit parser's (docs/clinical.md#volumetry; engineering
choice)."""
BSA_RANGE_M2 = (0.7, 4.5)
"""BSA plausibility: the span of both BSA formulas over the height/weight box (about 0.8–4.0 m²),
widened outward (engineering choice; keeps the Vauthey volume positive, which needs BSA > 0.63)."""
VOLUME_RANGE_ML = _VOLUME.range
"""Liver and FLR volume plausibility (engineering choice, shared with the unit parser)."""

MOSTELLER_DIVISOR = 3600.0
"""BSA = √(height cm × weight kg / 3600) (Mosteller 1987; [two sources])."""
DUBOIS_COEFFICIENT = 0.007184
DUBOIS_WEIGHT_EXPONENT = 0.425
DUBOIS_HEIGHT_EXPONENT = 0.725
"""BSA = 0.007184 × weight^0.425 × height^0.725 (DuBois 1916; [two sources])."""
URATA_SLOPE, URATA_INTERCEPT = 706.2, 2.4
"""SLV (mL) = 706.2 × BSA + 2.4 (Urata 1995; [two sources])."""
VAUTHEY_SLOPE, VAUTHEY_INTERCEPT = 1267.28, -794.41
"""TLV (mL) = −794.41 + 1267.28 × BSA (Vauthey 2002; [two sources])."""

_LIVER_CONDITIONS = FLR.input("liver_condition").vocabulary
MINIMUM_FLR_PERCENT: dict[str, float] = dict(
    zip(
        _LIVER_CONDITIONS,
        (
            20.0,  # normal: Kishi 2009 (20 %); some series 25 % (Vauthey 2000, Shoup 2003)
            30.0,  # chemotherapy: extensive chemotherapy > 12 weeks; Shindoh 2013, Abdalla 2006
            30.0,  # steatosis: grouped with chemotherapy in the consensus summary
            30.0,  # cholestasis: grouped with chemotherapy in the consensus summary
            40.0,  # cirrhosis: Azoulay; Kubota; consensus
            40.0,  # fibrosis: grouped with cirrhosis in the consensus summary
        ),
        strict=True,
    )
)
"""Minimum standardised FLR % by liver condition, in the order of the contract's vocabulary
(``contracts.LIVER_CONDITION``; docs/clinical.md#volumetry; individual studies [one source],
20/30/40 consensus wording [not verified])."""

_SNAP_DECIMALS = 9


@dataclass(frozen=True)
class FlrResult:
    """FLR adequacy.

    Attributes
    ----------
    flr_percent : float | None (array: float, NaN = unknown)
        The FLR % assessed.
    minimum_percent : float | None (array: float)
        The minimum for the liver condition.
    adequate : bool | None (array: object, None = unknown)
        ``flr_percent >= minimum_percent``.
    """

    flr_percent: Any
    minimum_percent: Any
    adequate: Any


def bsa_mosteller(*, height_cm: Any, weight_kg: Any) -> Any:
    """Body surface area (m²) by Mosteller 1987: √(height cm × weight kg / 3600). Default."""
    scalar = is_scalar(height_cm, weight_kg)
    h, w = _anthropometrics(height_cm, weight_kg)
    return scalar_or_array(np.sqrt(h * w / MOSTELLER_DIVISOR), scalar)


def bsa_dubois(*, height_cm: Any, weight_kg: Any) -> Any:
    """Body surface area (m²) by DuBois 1916: 0.007184 × weight^0.425 × height^0.725."""
    scalar = is_scalar(height_cm, weight_kg)
    h, w = _anthropometrics(height_cm, weight_kg)
    bsa = DUBOIS_COEFFICIENT * w**DUBOIS_WEIGHT_EXPONENT * h**DUBOIS_HEIGHT_EXPONENT
    return scalar_or_array(bsa, scalar)


def standard_liver_volume_urata(bsa_m2: Any) -> Any:
    """Return the standard liver volume (mL) = 706.2 × BSA + 2.4 (Urata 1995; Japanese)."""
    scalar = is_scalar(bsa_m2)
    bsa = _bsa(bsa_m2)
    return scalar_or_array(URATA_SLOPE * bsa + URATA_INTERCEPT, scalar)


def standard_liver_volume_vauthey(bsa_m2: Any) -> Any:
    """Total liver volume (mL) = −794.41 + 1267.28 × BSA (Vauthey 2002; Western adults)."""
    scalar = is_scalar(bsa_m2)
    bsa = _bsa(bsa_m2)
    return scalar_or_array(VAUTHEY_INTERCEPT + VAUTHEY_SLOPE * bsa, scalar)


def flr_percent(*, flr_ml: Any, total_liver_ml: Any, tumour_ml: Any = 0.0) -> Any:
    """Measured FLR % = FLR / (total liver volume − tumour volume) × 100.

    Parameters
    ----------
    flr_ml : float | array | None
        Future liver remnant volume, mL (CT volumetry).
    total_liver_ml : float | array | None
        Total liver volume, mL (CT volumetry).
    tumour_ml : float | array | None
        Tumour volume within the liver, mL (default 0).

    Raises
    ------
    InputError
        When a volume is outside 0–10 000 mL, the tumour volume is not smaller than the total
        volume, or the FLR exceeds the functional (non-tumour) volume.
    """
    scalar = is_scalar(flr_ml, total_liver_ml, tumour_ml)
    flr = _volume(flr_ml, "flr_ml")
    total = _volume(total_liver_ml, "total_liver_ml")
    tumour = _volume(tumour_ml, "tumour_ml")
    no_liver, too_big = volume_rules_broken(flr, total, tumour)
    if np.any(no_liver):
        raise InputError("tumour volume must be smaller than the total liver volume", "tumour_ml")
    if np.any(too_big):
        raise InputError(
            "future liver remnant exceeds the functional liver volume (total − tumour)", "flr_ml"
        )
    return scalar_or_array(flr / (total - tumour) * 100.0, scalar)


def volume_rules_broken(
    flr: FloatArray, total: FloatArray, tumour: FloatArray
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return where the volumes break the FLR rules of ``contracts.FLR``.

    The first mask marks a tumour volume not smaller than the total liver volume (no functional
    liver); the second, a remnant larger than the functional liver (total − tumour), compared at
    9 decimals. Unknown (NaN) volumes break no rule. :func:`flr_percent` refuses both; the
    cohort table's ``errors="coerce"`` makes the volumes unknown instead.
    """
    functional = total - tumour
    no_liver = functional <= 0.0
    functional = np.where(no_liver, np.nan, functional)
    too_big = np.round(flr - functional, _SNAP_DECIMALS) > 0.0
    return no_liver, too_big


def standardised_flr_percent(*, flr_ml: Any, standard_liver_volume_ml: Any) -> Any:
    """Standardised FLR % = FLR / standard liver volume × 100 (may exceed 100 %)."""
    scalar = is_scalar(flr_ml, standard_liver_volume_ml)
    flr = _volume(flr_ml, "flr_ml")
    slv = _volume(standard_liver_volume_ml, "standard_liver_volume_ml")
    if np.any(slv <= 0.0):
        raise InputError("standard liver volume must be > 0 mL", "standard_liver_volume_ml")
    return scalar_or_array(flr / slv * 100.0, scalar)


def minimum_flr_percent(liver_condition: Any) -> Any:
    """Minimum FLR % for a liver condition (see ``MINIMUM_FLR_PERCENT``); None/NaN if unknown."""
    scalar = is_scalar(liver_condition)
    return scalar_or_array(_minimum(liver_condition), scalar)


def flr_assessment(*, flr_percent: Any, liver_condition: Any) -> FlrResult:
    """Is the FLR % at least the minimum for the liver condition? (docs/clinical.md#volumetry).

    Parameters
    ----------
    flr_percent : float | array | None
        FLR % (measured or standardised, ≥ 0).
    liver_condition : str | array | None
        A key of ``MINIMUM_FLR_PERCENT`` ("normal", "chemotherapy", "cirrhosis", ...).

    Returns
    -------
    FlrResult
        A value equal to the minimum is adequate (the thresholds read "≥").
    """
    scalar = is_scalar(flr_percent, liver_condition)
    flr = as_float_array(flr_percent, "flr_percent")
    check_range(flr, "flr_percent", 0.0, np.inf, "%")
    minimum = _minimum(liver_condition)
    flr, minimum = np.broadcast_arrays(flr, minimum)
    unknown = np.isnan(flr) | np.isnan(minimum)
    adequate = tri_state(np.round(flr, _SNAP_DECIMALS) >= minimum, unknown)
    return FlrResult(
        flr_percent=scalar_or_array(flr, scalar),
        minimum_percent=scalar_or_array(minimum, scalar),
        adequate=scalar_or_array(adequate, scalar),
    )


def _minimum(liver_condition: Any) -> FloatArray:
    codes = label_codes(liver_condition, "liver_condition", _LIVER_CONDITIONS)
    out: FloatArray = lookup(np.array([*MINIMUM_FLR_PERCENT.values(), np.nan]), codes)
    return out


def _anthropometrics(height_cm: Any, weight_kg: Any) -> tuple[FloatArray, FloatArray]:
    h = as_float_array(height_cm, "height_cm")
    w = as_float_array(weight_kg, "weight_kg")
    _HEIGHT.check(h)
    _WEIGHT.check(w)
    return h, w


def _bsa(bsa_m2: Any) -> FloatArray:
    bsa = as_float_array(bsa_m2, "bsa_m2")
    check_range(bsa, "bsa_m2", *BSA_RANGE_M2, "m²")
    return bsa


def _volume(value: Any, field: str) -> FloatArray:
    volume = as_float_array(value, field)
    _VOLUME.check(volume, field)
    return volume

"""Child-Pugh (Child-Turcotte-Pugh) score and class.

Sources: Child CG, Turcotte JG. Surgery and portal hypertension. In: The liver and portal
hypertension. Saunders, 1964. Pugh RN, Murray-Lyon IM, Dawson JL, Pietroni MC, Williams R.
Transection of the oesophagus for bleeding oesophageal varices. Br J Surg 1973;60:646-649.
Specified in docs/clinical.md#child-pugh (points table and classes [two sources]).

Default variant (docs/clinical.md#child-pugh): INR (not PT seconds) and the standard,
non-cholestatic bilirubin bands. Boundary semantics: the middle band is closed (bilirubin 2.0 and
3.0 mg/dL, albumin 3.5 g/dL, INR 1.7 and 2.3 all score 2 points).

Unit tables (docs/clinical.md#conventions): the published table gives bilirubin and albumin
thresholds in both unit systems and the two are not exactly equivalent (2 mg/dL = 34.2 µmol/L, but
the SI table says 34). The rule is to apply the thresholds of the unit system in which the value was
*reported*. This function always takes canonical units (mg/dL, g/dL); a caller whose values were
reported in µmol/L and g/L passes ``si_units=True``: the canonical values are converted back to
µmol/L (× 17.1) and g/L (× 10) and compared with the SI thresholds (34/50 µmol/L, 28/35 g/L).
The table used is recorded in the result's ``thresholds`` field.

Unknown components give a bounded result: each unknown component scores 1 to 3 points, so the
total lies in [points_min, points_max]; the class is reported when both ends fall in the same class
(the project's rule for missing input, docs/clinical.md#conventions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    band_codes,
    is_scalar,
    label_codes,
    lookup,
    scalar_or_array,
)
from livermet.clinical.contracts import CHILD_PUGH as CONTRACT
from livermet.clinical.units import ALBUMIN_G_L_PER_G_DL, BILIRUBIN_UMOL_PER_MG_DL

# --- thresholds (Pugh 1973 table as reproduced in docs/clinical.md#child-pugh, [two sources]) -----
BILIRUBIN_MG_DL_BANDS = (2.0, 3.0)
"""Bilirubin mg/dL: < 2 → 1 point, 2–3 → 2, > 3 → 3 (Pugh 1973; [two sources])."""
BILIRUBIN_UMOL_L_BANDS = (34.0, 50.0)
"""Bilirubin µmol/L (SI table): < 34 → 1 point, 34–50 → 2, > 50 → 3 (Pugh 1973; [two sources])."""
ALBUMIN_G_DL_BANDS = (2.8, 3.5)
"""Albumin g/dL: > 3.5 → 1 point, 2.8–3.5 → 2, < 2.8 → 3 (Pugh 1973; [two sources])."""
ALBUMIN_G_L_BANDS = (28.0, 35.0)
"""Albumin g/L (SI table): > 35 → 1 point, 28–35 → 2, < 28 → 3 (Pugh 1973; [two sources])."""
INR_BANDS = (1.7, 2.3)
"""INR: < 1.7 → 1 point, 1.7–2.3 → 2, > 2.3 → 3 (INR variant of Pugh 1973; [two sources])."""

_BILIRUBIN = CONTRACT.input("bilirubin_mg_dl")
_ALBUMIN = CONTRACT.input("albumin_g_dl")
_INR = CONTRACT.input("inr")
_ASCITES = CONTRACT.input("ascites").vocabulary
_ENCEPHALOPATHY = CONTRACT.input("encephalopathy").vocabulary

ASCITES_POINTS = dict(zip(_ASCITES, (1, 2, 3), strict=True))
"""Ascites: none 1, slight/mild (controlled) 2, moderate–severe (refractory) 3 ([two sources]);
the words are the contract's (``contracts.ASCITES``)."""
ENCEPHALOPATHY_POINTS = dict(zip(_ENCEPHALOPATHY, (1, 2, 3), strict=True))
"""Hepatic encephalopathy: none 1, grade 1–2 (or controlled) 2, grade 3–4 (or refractory) 3
([two sources]); the words are the contract's (``contracts.ENCEPHALOPATHY``)."""

CLASS_LOWER_POINTS = {"A": 5, "B": 7, "C": 10}
"""Classes: A = 5–6, B = 7–9, C = 10–15 points (Pugh 1973; [two sources])."""

# --- plausibility (engineering choice, docs/clinical.md#child-pugh; not published limits) ---------
BILIRUBIN_RANGE_MG_DL = _BILIRUBIN.range
"""Bilirubin 0.1-50 mg/dL, the unit parser's range (``contracts.CHILD_PUGH``)."""
ALBUMIN_RANGE_G_DL = _ALBUMIN.range
"""Albumin 1.0-6.0 g/dL, the unit parser's range (``contracts.CHILD_PUGH``)."""
INR_RANGE = _INR.range
"""INR 0.8-10, the unit parser's range (``contracts.CHILD_PUGH``)."""

_SNAP_DECIMALS = 9
"""Values are rounded to 9 decimals before comparison so that unit-conversion noise
(e.g. 51.3 / 17.1 = 3.0000000000000004) cannot move a value across a threshold."""

THRESHOLDS_CONVENTIONAL = "conventional (bilirubin mg/dL, albumin g/dL)"
THRESHOLDS_SI = "SI (bilirubin µmol/L, albumin g/L)"

_COMPONENTS = ("bilirubin", "albumin", "inr", "ascites", "encephalopathy")


@dataclass(frozen=True)
class ChildPughResult:
    """Child-Pugh score.

    Attributes
    ----------
    points : int | None (array: float, NaN = unknown)
        Total 5–15; unknown when any component is unknown.
    child_class : str | None (array: object)
        "A", "B" or "C"; also given when a component is unknown but both bounds agree.
    points_min, points_max : int (array: float)
        Bounds of the total (each unknown component counted as 1 and as 3 points); equal to
        ``points`` when every component is known.
    components : dict[str, Any]
        Points per component (``bilirubin``, ``albumin``, ``inr``, ``ascites``,
        ``encephalopathy``); None/NaN when unknown.
    thresholds : str
        Which unit table was applied (``THRESHOLDS_CONVENTIONAL`` or ``THRESHOLDS_SI``).
    """

    points: Any
    child_class: Any
    points_min: Any
    points_max: Any
    components: dict[str, Any]
    thresholds: str


def child_pugh(
    *,
    bilirubin_mg_dl: Any,
    albumin_g_dl: Any,
    inr: Any,
    ascites: Any,
    encephalopathy: Any,
    si_units: bool = False,
) -> ChildPughResult:
    """Compute the Child-Pugh score and class (docs/clinical.md#child-pugh).

    Parameters
    ----------
    bilirubin_mg_dl : float | array | None
        Total bilirubin in mg/dL (plausible 0.1–50).
    albumin_g_dl : float | array | None
        Serum albumin in g/dL (plausible 1.0–6.0).
    inr : float | array | None
        INR (plausible 0.8–10).
    ascites : str | array | None
        "none", "mild" (slight/controlled) or "moderate-severe".
    encephalopathy : str | array | None
        "none", "grade 1-2" or "grade 3-4".
    si_units : bool
        True when bilirubin and albumin were reported in µmol/L and g/L: the SI thresholds are
        applied to the values converted back to those units (see module docstring).

    Returns
    -------
    ChildPughResult

    Raises
    ------
    InputError
        When a value lies outside its plausibility range or a label is not recognised.
    """
    scalar = is_scalar(bilirubin_mg_dl, albumin_g_dl, inr, ascites, encephalopathy)
    bili = as_float_array(bilirubin_mg_dl, "bilirubin_mg_dl")
    alb = as_float_array(albumin_g_dl, "albumin_g_dl")
    inr_v = as_float_array(inr, "inr")
    _BILIRUBIN.check(bili)
    _ALBUMIN.check(alb)
    _INR.check(inr_v)
    asc = label_codes(ascites, "ascites", _ASCITES)
    enc = label_codes(encephalopathy, "encephalopathy", _ENCEPHALOPATHY)

    if si_units:
        bili_pts = _rising_points(bili * BILIRUBIN_UMOL_PER_MG_DL, BILIRUBIN_UMOL_L_BANDS)
        alb_pts = _falling_points(alb * ALBUMIN_G_L_PER_G_DL, ALBUMIN_G_L_BANDS)
        thresholds = THRESHOLDS_SI
    else:
        bili_pts = _rising_points(bili, BILIRUBIN_MG_DL_BANDS)
        alb_pts = _falling_points(alb, ALBUMIN_G_DL_BANDS)
        thresholds = THRESHOLDS_CONVENTIONAL
    parts = [
        bili_pts,
        alb_pts,
        _rising_points(inr_v, INR_BANDS),
        _label_points(asc, ASCITES_POINTS),
        _label_points(enc, ENCEPHALOPATHY_POINTS),
    ]
    aligned = np.broadcast_arrays(*parts)
    # Bounds: an unknown component (NaN) counts 1 point in the lower and 3 in the upper bound;
    # fmax/fmin ignore NaN, and known points already lie in 1-3. Equal bounds: all known.
    points_min = np.fmax(aligned[0], 1.0)
    points_max = np.fmin(aligned[0], 3.0)
    for part in aligned[1:]:
        points_min += np.fmax(part, 1.0)
        points_max += np.fmin(part, 3.0)
    points = np.where(points_min == points_max, points_min, np.nan)

    low_class, high_class = _class_codes(points_min), _class_codes(points_max)
    # None where the bounds straddle a class limit
    child_class = lookup(_CLASSES, np.where(low_class == high_class, low_class, -1))

    components = {
        name: _int_or_array(part, scalar) for name, part in zip(_COMPONENTS, aligned, strict=True)
    }
    return ChildPughResult(
        points=_int_or_array(points, scalar),
        child_class=scalar_or_array(child_class, scalar),
        points_min=_int_or_array(points_min, scalar),
        points_max=_int_or_array(points_max, scalar),
        components=components,
        thresholds=thresholds,
    )


def child_pugh_class(points: int) -> str:
    """Class for a total of 5–15 points: A 5–6, B 7–9, C 10–15 (Pugh 1973; [two sources])."""
    if not 5 <= points <= 15:
        raise ValueError(f"Child-Pugh points must be 5-15, got {points}")
    return str(_class_of(np.array(float(points))).item())


def _rising_points(values: FloatArray, bands: tuple[float, float]) -> FloatArray:
    """1 below the band, 2 inside the closed band, 3 above it; NaN stays NaN."""
    closed_middle = band_codes(np.round(values, _SNAP_DECIMALS), bands, right=(False, True))
    out: FloatArray = lookup(_RISING, closed_middle)
    return out


def _falling_points(values: FloatArray, bands: tuple[float, float]) -> FloatArray:
    """1 above the band, 2 inside the closed band, 3 below it; NaN stays NaN."""
    closed_middle = band_codes(np.round(values, _SNAP_DECIMALS), bands, right=(False, True))
    out: FloatArray = lookup(_FALLING, closed_middle)
    return out


_RISING = np.array([1.0, 2.0, 3.0, np.nan])
"""Points below, inside and above a closed band; the last entry (band -1, NaN) unknown."""
_FALLING = np.array([3.0, 2.0, 1.0, np.nan])
"""Points below, inside and above a closed band of a falling value (albumin)."""


def _label_points(codes: Any, table: dict[str, int]) -> FloatArray:
    """Points of each label code (index in ``table``; -1 unknown -> NaN)."""
    out: FloatArray = lookup(np.array([*table.values(), np.nan]), codes)
    return out


_CLASSES = np.array([*CLASS_LOWER_POINTS, None], dtype=object)
_CLASS_LOWER = np.array(list(CLASS_LOWER_POINTS.values()), dtype=np.float64)


def _class_codes(points: FloatArray) -> Any:
    """Return the index in ``_CLASSES`` of the class of each total.

    The class is the last one whose lower limit is at most the points (limits ascending); -1
    (None) below them all or where points is NaN.
    """
    band = band_codes(points, _CLASS_LOWER)  # 0 below class A, 1 A, 2 B, 3 C, -1 NaN
    return np.where(band > 0, band - 1, -1)


def _class_of(points: FloatArray) -> Any:
    """Object array of "A"/"B"/"C" (None where points is NaN)."""
    return lookup(_CLASSES, _class_codes(points))


def _int_or_array(values: Any, scalar: bool) -> Any:
    """Python int (None if unknown) in scalar mode, float array (NaN) otherwise."""
    if not scalar:
        return np.asarray(values, dtype=np.float64)
    item = float(np.asarray(values).item())
    return None if np.isnan(item) else int(item)

"""MELD (UNOS/OPTN), MELD-Na (OPTN 2016) and MELD 3.0 (OPTN 2023).

Sources (docs/clinical.md#meld, formulas and bounds [two sources]):
Malinchoc M, et al. Hepatology 2000;31:864-871. Kamath PS, et al. Hepatology 2001;33:464-470.
Wiesner R, et al. Gastroenterology 2003;124:91-96 (UNOS adoption). Kim WR, et al. N Engl J Med
2008;359:1018-1026 and OPTN policy 9.1 (Jan 2016) (MELD-Na). Kim WR, Mannalithara A, Heimbach JK,
et al. Gastroenterology 2021;161:1887-1895 (MELD 3.0; formula and bounds [two sources] from two
implementations, [one source] for the paper via its abstract).

MELD is a cirrhosis/transplant score; in a non-cirrhotic hepatectomy candidate it is context only.
The UNOS age condition (≥ 12 years) is not an input here.

Rounding: every rounding step is round-half-up (x.5 goes up), after snapping the value to 9
decimals so that floating-point noise (24.499999999999996 for a true 24.5) cannot change the
result. Python's ``round`` / ``numpy.round`` (half-to-even) are deliberately not used.

Dialysis flag: True, False or None (unknown). With an unknown flag the creatinine still decides
when it is already at or above the cap; otherwise the score is unknown. With dialysis True the
creatinine value is not needed (it is set to the cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    first_not_in,
    is_scalar,
    scalar_or_array,
)
from livermet.clinical.contracts import MELD, MELD_3, MELD_NA
from livermet.errors import InputError

# --- UNOS MELD (OPTN policy 9.1; Kamath 2001 / Wiesner 2003; [two sources]) -----------------------
MELD_LAB_FLOOR = 1.0
"""Creatinine, bilirubin and INR below 1.0 are set to 1.0 ([two sources])."""
MELD_CREATININE_CAP_MG_DL = 4.0
"""Creatinine above 4.0 mg/dL, or dialysis, → 4.0 mg/dL ([two sources])."""
MELD_COEF_CREATININE = 0.957
MELD_COEF_BILIRUBIN = 0.378
MELD_COEF_INR = 1.120
MELD_INTERCEPT = 0.643
"""MELD(i) = 0.957 ln Cr + 0.378 ln bili + 1.120 ln INR + 0.643 (UNOS form; [two sources])."""
MELD_MAX = 40
"""Scores are capped at 40 ([two sources]); the minimum achievable is 6."""

# --- MELD-Na (Kim 2008; OPTN 2016; [two sources]) -------------------------------------------------
MELD_NA_SODIUM_RANGE = (125.0, 137.0)
"""Sodium is clamped to 125–137 mmol/L ([two sources])."""
MELD_NA_APPLIES_ABOVE = 11
"""The sodium correction applies only when MELD > 11 ([two sources])."""

# --- MELD 3.0 (Kim 2021; [two sources]) -----------------------------------------------------------
MELD3_CREATININE_CAP_MG_DL = 3.0
"""MELD 3.0 caps creatinine at 3.0 mg/dL (dialysis → 3.0) ([two sources])."""
MELD3_ALBUMIN_RANGE_G_DL = (1.5, 3.5)
"""Albumin clamped to 1.5–3.5 g/dL ([two sources])."""
MELD3_SODIUM_RANGE = (125.0, 137.0)
"""Sodium clamped to 125–137 mmol/L ([two sources])."""
MELD3_MIN, MELD3_MAX = 6, 40
"""MELD 3.0 range after rounding ([two sources])."""

_SNAP_DECIMALS = 9


CONTRACTS = (MELD, MELD_NA, MELD_3)
"""The contracts of the three scores: plausibility ranges shared with the unit parser
(engineering choice, not published; docs/clinical.md#units-and-plausibility-ranges)."""
_CREATININE, _BILIRUBIN, _INR = (MELD.input(name) for name in MELD.required)
_SODIUM = MELD_NA.input("sodium_mmol_l")
_SODIUM_3 = MELD_3.input("sodium_mmol_l")
_ALBUMIN_3 = MELD_3.input("albumin_g_dl")


@dataclass(frozen=True)
class MeldResult:
    """UNOS MELD.

    Attributes
    ----------
    score : int | None (array: float, NaN = unknown)
        MELD(i) rounded to the tenth, × 10, capped at 40 (range 6–40).
    meld_i : float | None (array: float)
        The unrounded linear predictor 0.957 ln Cr + 0.378 ln bili + 1.120 ln INR + 0.643,
        computed on the bounded values.
    components : dict[str, Any]
        The bounded values used: ``creatinine_mg_dl``, ``bilirubin_mg_dl``, ``inr``.
    """

    score: Any
    meld_i: Any
    components: dict[str, Any]


@dataclass(frozen=True)
class MeldNaResult:
    """MELD-Na (OPTN 2016).

    Attributes
    ----------
    score : int | None (array: float)
        Rounded to the nearest integer (half up), capped at 40.
    raw : float | None (array: float)
        Unrounded MELD-Na (equals ``meld`` when MELD ≤ 11).
    meld : int | None (array: float)
        The UNOS MELD it was computed from.
    sodium_used : float | None (array: float)
        Sodium after clamping to 125–137 mmol/L.
    """

    score: Any
    raw: Any
    meld: Any
    sodium_used: Any


@dataclass(frozen=True)
class Meld3Result:
    """MELD 3.0 (Kim 2021).

    Attributes
    ----------
    score : int | None (array: float)
        Rounded to the nearest integer (half up), limited to 6–40.
    raw : float | None (array: float)
        Unrounded MELD 3.0.
    components : dict[str, Any]
        The bounded values used: ``creatinine_mg_dl``, ``bilirubin_mg_dl``, ``inr``,
        ``sodium_mmol_l``, ``albumin_g_dl``, ``female`` (1.0/0.0).
    """

    score: Any
    raw: Any
    components: dict[str, Any]


def meld(
    *, creatinine_mg_dl: Any, bilirubin_mg_dl: Any, inr: Any, dialysis: Any = False
) -> MeldResult:
    """UNOS MELD (docs/clinical.md#meld, steps 1–5).

    Parameters
    ----------
    creatinine_mg_dl, bilirubin_mg_dl : float | array | None
        Serum creatinine and total bilirubin in mg/dL.
    inr : float | array | None
        INR.
    dialysis : bool | array | None
        ≥ 2 dialysis sessions or ≥ 24 h CVVHD in the past 7 days; None = unknown.

    Returns
    -------
    MeldResult

    Raises
    ------
    InputError
        When a value lies outside its plausibility range or the dialysis flag is not boolean.
    """
    scalar = is_scalar(creatinine_mg_dl, bilirubin_mg_dl, inr, dialysis)
    cr, bili, inr_v = _labs(creatinine_mg_dl, bilirubin_mg_dl, inr)
    dial = _flag(dialysis, "dialysis")
    cr_used = _bounded_creatinine(cr, dial, MELD_CREATININE_CAP_MG_DL)
    bili_used = np.maximum(bili, MELD_LAB_FLOOR)
    inr_used = np.maximum(inr_v, MELD_LAB_FLOOR)
    meld_i = (
        MELD_COEF_CREATININE * np.log(cr_used)
        + MELD_COEF_BILIRUBIN * np.log(bili_used)
        + MELD_COEF_INR * np.log(inr_used)
        + MELD_INTERCEPT
    )
    # Round MELD(i) to the tenth, then × 10: the same as rounding 10 × MELD(i) to an integer.
    score = np.minimum(round_half_up(10.0 * meld_i), MELD_MAX)
    cr_used, bili_used, inr_used = np.broadcast_arrays(cr_used, bili_used, inr_used)
    return MeldResult(
        score=_int_or_array(score, scalar),
        meld_i=scalar_or_array(meld_i, scalar),
        components={
            "creatinine_mg_dl": scalar_or_array(cr_used, scalar),
            "bilirubin_mg_dl": scalar_or_array(bili_used, scalar),
            "inr": scalar_or_array(inr_used, scalar),
        },
    )


def meld_na(
    *,
    creatinine_mg_dl: Any,
    bilirubin_mg_dl: Any,
    inr: Any,
    sodium_mmol_l: Any,
    dialysis: Any = False,
) -> MeldNaResult:
    """MELD-Na as in OPTN policy 9.1 (2016) (docs/clinical.md#meld).

    If MELD > 11: MELD + 1.32 (137 − Na) − 0.033 MELD (137 − Na), with Na clamped to
    125–137 mmol/L; otherwise MELD. Rounded half up to an integer, capped at 40. When MELD ≤ 11
    the sodium is not needed (an unknown sodium still gives a score).

    Parameters
    ----------
    creatinine_mg_dl, bilirubin_mg_dl, inr, dialysis
        As for :func:`meld`.
    sodium_mmol_l : float | array | None
        Serum sodium in mmol/L.

    Returns
    -------
    MeldNaResult
    """
    scalar = is_scalar(creatinine_mg_dl, bilirubin_mg_dl, inr, sodium_mmol_l, dialysis)
    base = meld(
        creatinine_mg_dl=creatinine_mg_dl,
        bilirubin_mg_dl=bilirubin_mg_dl,
        inr=inr,
        dialysis=dialysis,
    )
    m = np.asarray(base.score if not scalar else _nan_if_none(base.score), dtype=np.float64)
    na = as_float_array(sodium_mmol_l, "sodium_mmol_l")
    _SODIUM.check(na)
    na_used = np.clip(na, *MELD_NA_SODIUM_RANGE)
    deficit = 137.0 - na_used
    corrected = m + 1.32 * deficit - 0.033 * m * deficit
    raw = np.where(m > MELD_NA_APPLIES_ABOVE, corrected, m)
    score = np.minimum(round_half_up(raw), MELD_MAX)
    m, na_used = np.broadcast_arrays(m, na_used)
    return MeldNaResult(
        score=_int_or_array(score, scalar),
        raw=scalar_or_array(raw, scalar),
        meld=_int_or_array(m, scalar),
        sodium_used=scalar_or_array(na_used, scalar),
    )


def meld_3(
    *,
    creatinine_mg_dl: Any,
    bilirubin_mg_dl: Any,
    inr: Any,
    sodium_mmol_l: Any,
    albumin_g_dl: Any,
    female: Any,
    dialysis: Any = False,
) -> Meld3Result:
    """MELD 3.0 (Kim 2021) (docs/clinical.md#meld).

    1.33·female + 4.56·ln(bili) + 0.82·(137 − Na) − 0.24·(137 − Na)·ln(bili) + 9.09·ln(INR)
    + 11.14·ln(Cr) + 1.85·(3.5 − Alb) − 1.83·(3.5 − Alb)·ln(Cr) + 6, with bili, INR, Cr ≥ 1.0;
    Cr ≤ 3.0 (dialysis → 3.0); Na clamped to 125–137; albumin clamped to 1.5–3.5 g/dL.
    Rounded half up to an integer and limited to 6–40.

    Parameters
    ----------
    creatinine_mg_dl, bilirubin_mg_dl, inr, dialysis
        As for :func:`meld`.
    sodium_mmol_l : float | array | None
        Serum sodium in mmol/L.
    albumin_g_dl : float | array | None
        Serum albumin in g/dL.
    female : bool | array | None
        Sex (True = female); None = unknown gives an unknown score.

    Returns
    -------
    Meld3Result
    """
    scalar = is_scalar(
        creatinine_mg_dl, bilirubin_mg_dl, inr, sodium_mmol_l, albumin_g_dl, female, dialysis
    )
    cr, bili, inr_v = _labs(creatinine_mg_dl, bilirubin_mg_dl, inr)
    na = as_float_array(sodium_mmol_l, "sodium_mmol_l")
    _SODIUM_3.check(na)
    alb = as_float_array(albumin_g_dl, "albumin_g_dl")
    _ALBUMIN_3.check(alb)
    sex = _flag(female, "female")
    dial = _flag(dialysis, "dialysis")

    cr_used = _bounded_creatinine(cr, dial, MELD3_CREATININE_CAP_MG_DL)
    bili_used = np.maximum(bili, MELD_LAB_FLOOR)
    inr_used = np.maximum(inr_v, MELD_LAB_FLOOR)
    ln_cr, ln_bili, ln_inr = np.log(cr_used), np.log(bili_used), np.log(inr_used)
    na_used = np.clip(na, *MELD3_SODIUM_RANGE)
    alb_used = np.clip(alb, *MELD3_ALBUMIN_RANGE_G_DL)
    na_def = 137.0 - na_used
    alb_def = 3.5 - alb_used
    raw = (
        1.33 * sex
        + 4.56 * ln_bili
        + 0.82 * na_def
        - 0.24 * na_def * ln_bili
        + 9.09 * ln_inr
        + 11.14 * ln_cr
        + 1.85 * alb_def
        - 1.83 * alb_def * ln_cr
        + 6.0
    )
    score = np.clip(round_half_up(raw), MELD3_MIN, MELD3_MAX)
    used = np.broadcast_arrays(cr_used, bili_used, inr_used, na_used, alb_used, sex, raw)
    names = (
        "creatinine_mg_dl",
        "bilirubin_mg_dl",
        "inr",
        "sodium_mmol_l",
        "albumin_g_dl",
        "female",
    )
    return Meld3Result(
        score=_int_or_array(score, scalar),
        raw=scalar_or_array(raw, scalar),
        components={n: scalar_or_array(v, scalar) for n, v in zip(names, used[:-1], strict=True)},
    )


def round_half_up(values: Any, decimals: int = 0) -> FloatArray:
    """Round half up (2.05 → 2.1, 24.5 → 25) after snapping float noise at 9 decimals.

    Only meaningful for the non-negative values MELD produces; NaN stays NaN.
    """
    factor = 10.0**decimals
    scaled = np.round(np.asarray(values, dtype=np.float64) * factor, _SNAP_DECIMALS)
    out: FloatArray = np.floor(scaled + 0.5) / factor
    return out


def _labs(creatinine: Any, bilirubin: Any, inr: Any) -> tuple[FloatArray, FloatArray, FloatArray]:
    cr = as_float_array(creatinine, "creatinine_mg_dl")
    bili = as_float_array(bilirubin, "bilirubin_mg_dl")
    inr_v = as_float_array(inr, "inr")
    _CREATININE.check(cr)
    _BILIRUBIN.check(bili)
    _INR.check(inr_v)
    return cr, bili, inr_v


def _flag(value: Any, field: str) -> FloatArray:
    """Boolean flag(s) as 1.0 / 0.0, NaN when unknown."""
    flag = as_float_array(value, field)
    if first_not_in(flag, MELD_3.input(field).values) is not None:
        raise InputError(f"expected True, False or None; got {value!r}", field)
    return flag


def _bounded_creatinine(cr: FloatArray, dialysis: FloatArray, cap: float) -> FloatArray:
    """Floor at 1.0, cap at ``cap``; dialysis → ``cap`` whatever the measured value.

    An unknown dialysis flag leaves the value unknown unless the creatinine is already ≥ cap.
    """
    bounded = np.minimum(np.maximum(cr, MELD_LAB_FLOOR), cap)
    out: FloatArray = np.where(dialysis == 1.0, cap, bounded)
    undecided = np.isnan(dialysis) & ~(cr >= cap)
    out = np.where(undecided, np.nan, out)
    return out


def _nan_if_none(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _int_or_array(values: Any, scalar: bool) -> Any:
    """Python int (None if unknown) in scalar mode, float array (NaN) otherwise."""
    if not scalar:
        return np.asarray(values, dtype=np.float64)
    item = float(np.asarray(values).item())
    return None if np.isnan(item) else int(item)

"""ALBI (albumin-bilirubin) score and grade, with the modified ALBI (mALBI) sub-grades.

Sources: Johnson PJ, Berhane S, Kagebayashi C, et al. Assessment of liver function in patients
with hepatocellular carcinoma: a new evidence-based approach — the ALBI grade. J Clin Oncol
2015;33:550-558 (formula and grade cut-offs, [two sources]). Hiraoka A, et al. Liver Cancer
2017;6:204-215 and 2017;6:325-336 (mALBI 2a/2b; the existence of the split is [one source], the
exact -2.270 cut-off is [not verified] — not seen in any public text, must be checked against the
paper). Specified in docs/clinical.md#albi-and-malbi.

ALBI = 0.66 × log10(bilirubin µmol/L) + c × albumin g/L, with c = -0.085 by default. Canonical
inputs (mg/dL, g/dL) are converted first (× 17.1 and × 10,
docs/clinical.md#units-and-plausibility-ranges). Grades use the unrounded score; a score exactly on
a cut-off belongs to the lower grade (grade 1 ≤ -2.60 < grade 2 ≤ -1.39 < grade 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    is_scalar,
    scalar_or_array,
    select,
)
from livermet.clinical.contracts import ALBI as CONTRACT
from livermet.clinical.units import ALBUMIN_G_L_PER_G_DL, BILIRUBIN_UMOL_PER_MG_DL

ALBI_BILIRUBIN_COEFFICIENT = 0.66
"""Coefficient of log10(bilirubin µmol/L) (Johnson 2015; [two sources])."""
ALBI_ALBUMIN_COEFFICIENT = -0.085
"""Coefficient of albumin g/L: the rounded published formula (Johnson 2015; [two sources]).
Default."""
ALBI_ALBUMIN_COEFFICIENT_PRECISE = -0.0852
"""Variant coefficient used by some implementations and reviews ([two sources]). It lowers the score
by 0.0002 × albumin g/L (0.008 at 40 g/L, at most 0.012 at 60 g/L), so it can flip a grade only for
scores within about 0.01 of a cut-off (docs/clinical.md#albi-and-malbi)."""

ALBI_GRADE_1_MAX = -2.60
"""Grade 1: score ≤ -2.60 (Johnson 2015; [two sources])."""
ALBI_GRADE_2_MAX = -1.39
"""Grade 2: -2.60 < score ≤ -1.39; grade 3 above (Johnson 2015; [two sources])."""
MALBI_GRADE_2A_MAX = -2.270
"""mALBI 2a: -2.60 < score ≤ -2.270; 2b: -2.270 < score ≤ -1.39 (Hiraoka 2017; cut-off [not
verified], said to correspond to ICG-R15 ≈ 30 %)."""

_BILIRUBIN = CONTRACT.input("bilirubin_mg_dl")
_ALBUMIN = CONTRACT.input("albumin_g_dl")

BILIRUBIN_RANGE_MG_DL = _BILIRUBIN.range
"""Bilirubin 1–850 µmol/L in mg/dL (engineering choice declared in ``contracts.ALBI``;
docs/clinical.md#units-and-plausibility-ranges)."""
ALBUMIN_RANGE_G_DL = _ALBUMIN.range
"""Albumin 10–60 g/L in g/dL (engineering choice declared in ``contracts.ALBI``;
docs/clinical.md#units-and-plausibility-ranges)."""


@dataclass(frozen=True)
class AlbiResult:
    """ALBI score.

    Attributes
    ----------
    score : float | None (array: float, NaN = unknown)
        Unrounded ALBI score.
    grade : int | None (array: float, NaN = unknown)
        1, 2 or 3.
    malbi_grade : str | None (array: object)
        "1", "2a", "2b" or "3" (the 2a/2b cut-off -2.270 is [not verified]).
    bilirubin_umol_l, albumin_g_l : float | None (array: float)
        The converted inputs entering the formula.
    albumin_coefficient : float
        The albumin coefficient used.
    """

    score: Any
    grade: Any
    malbi_grade: Any
    bilirubin_umol_l: Any
    albumin_g_l: Any
    albumin_coefficient: float


def albi(
    *,
    bilirubin_mg_dl: Any,
    albumin_g_dl: Any,
    albumin_coefficient: float = ALBI_ALBUMIN_COEFFICIENT,
) -> AlbiResult:
    """Compute the ALBI score, grade and mALBI grade (docs/clinical.md#albi-and-malbi).

    Parameters
    ----------
    bilirubin_mg_dl : float | array | None
        Total bilirubin in mg/dL (plausible 1–850 µmol/L, i.e. about 0.058–49.7 mg/dL).
    albumin_g_dl : float | array | None
        Serum albumin in g/dL (plausible 1.0–6.0 g/dL).
    albumin_coefficient : float
        ``ALBI_ALBUMIN_COEFFICIENT`` (-0.085, default) or ``ALBI_ALBUMIN_COEFFICIENT_PRECISE``
        (-0.0852).

    Returns
    -------
    AlbiResult

    Raises
    ------
    InputError
        When a value lies outside its plausibility range.
    """
    scalar = is_scalar(bilirubin_mg_dl, albumin_g_dl)
    bili = as_float_array(bilirubin_mg_dl, "bilirubin_mg_dl")
    alb = as_float_array(albumin_g_dl, "albumin_g_dl")
    _BILIRUBIN.check(bili)
    _ALBUMIN.check(alb)
    bili_umol, alb_g_l = np.broadcast_arrays(
        bili * BILIRUBIN_UMOL_PER_MG_DL, alb * ALBUMIN_G_L_PER_G_DL
    )
    score = ALBI_BILIRUBIN_COEFFICIENT * np.log10(bili_umol) + albumin_coefficient * alb_g_l
    grade = albi_grade(score)
    malbi = malbi_grade(score)
    return AlbiResult(
        score=scalar_or_array(score, scalar),
        grade=_int_or_array(grade, scalar),
        malbi_grade=scalar_or_array(malbi, scalar),
        bilirubin_umol_l=scalar_or_array(bili_umol, scalar),
        albumin_g_l=scalar_or_array(alb_g_l, scalar),
        albumin_coefficient=albumin_coefficient,
    )


def albi_grade(score: Any) -> FloatArray:
    """ALBI grade 1/2/3 for score(s) (float array, NaN where the score is NaN)."""
    s = np.asarray(score, dtype=np.float64)
    out: FloatArray = select(
        [s <= ALBI_GRADE_1_MAX, s <= ALBI_GRADE_2_MAX, s > ALBI_GRADE_2_MAX],
        [1.0, 2.0, 3.0],
        np.nan,
    )
    return out


def malbi_grade(score: Any) -> Any:
    """Return the mALBI grade "1"/"2a"/"2b"/"3" of score(s) (object array, None where NaN)."""
    s = np.asarray(score, dtype=np.float64)
    out = np.full(s.shape, None, dtype=object)
    out[s > ALBI_GRADE_2_MAX] = "3"
    out[s <= ALBI_GRADE_2_MAX] = "2b"
    out[s <= MALBI_GRADE_2A_MAX] = "2a"
    out[s <= ALBI_GRADE_1_MAX] = "1"
    return out


def _int_or_array(values: Any, scalar: bool) -> Any:
    """Python int (None if unknown) in scalar mode, float array (NaN) otherwise."""
    if not scalar:
        return np.asarray(values, dtype=np.float64)
    item = float(np.asarray(values).item())
    return None if np.isnan(item) else int(item)

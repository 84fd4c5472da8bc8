"""FNCLCC histologic grade of soft-tissue sarcoma (docs/clinical.md#fnclcc-grade).

Sources: Trojani M, et al. Int J Cancer 1984;33:37-42 (grading system); Coindre JM, et al.
Cancer 1986;58:306-309 (reproducibility); Guillou L, et al. J Clin Oncol 1997;15:350-362
(differentiation score by histologic type); review Coindre JM, Arch Pathol Lab Med
2006;130:1448-1453. Component scores, total -> grade table and the LMS differentiation scores
were seen in two sources (docs/clinical.md#fnclcc-grade).

Grade = differentiation (1-3) + mitotic count (1-3) + tumour necrosis (0-2), total 2-8:
2-3 grade 1, 4-5 grade 2, 6-8 grade 3. When a component is unknown the result is bounded over
that component's range, and the grade is returned when both bounds give the same grade
(docs/clinical.md#conventions, e.g. mitosis 3 + necrosis 2 => total >= 6 => grade 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    as_label_array,
    band_codes,
    check_range,
    first_not_in,
    is_scalar,
    lookup,
    scalar_or_array,
)
from livermet.clinical.contracts import FNCLCC as CONTRACT
from livermet.errors import InputError

# --- constants -----------------------------------------------------------------------------

MITOSIS_SCORE_LOWER_BOUNDS = (10.0, 20.0)
"""Mitoses per 10 HPF: 0-9 -> 1, 10-19 -> 2, >= 20 -> 3 (Trojani 1984; docs/clinical.md#fnclcc-grade
[two sources]). Exactly 10 scores 2 and exactly 20 scores 3."""

_MITOSES = CONTRACT.input("mitoses_per_10hpf")
_NECROSIS = CONTRACT.input("necrosis_percent")
_DIFFERENTIATION = CONTRACT.input("differentiation_score")

MITOTIC_COUNT_RANGE = _MITOSES.range
"""Plausibility range of the mitotic count per 10 HPF, 0-500 (engineering choice, declared in the
contract, ``contracts.MITOSES``; docs/clinical.md#fnclcc-grade)."""

NECROSIS_1_UPPER_PERCENT = 50.0
"""Necrosis: none -> 0, < 50 % -> 1, >= 50 % -> 2; exactly 50 % scores 2 (Trojani 1984;
docs/clinical.md#fnclcc-grade [two sources])."""

NECROSIS_CATEGORY_SCORES: dict[str, int] = {"none": 0, "<50%": 1, ">=50%": 2}
"""Necrosis category -> score (Trojani 1984; docs/clinical.md#fnclcc-grade [two sources])."""

_NECROSIS_CATEGORY_ALIASES = {"≥50%": ">=50%", "0%": "none", "absent": "none"}

DIFFERENTIATION_SCORE_RANGE = (1, 3)
"""Differentiation score: 1 well differentiated, 2 histologic type certain (conventional),
3 embryonal / undifferentiated / synovial / doubtful type (Guillou 1997;
docs/clinical.md#fnclcc-grade [two sources])."""

MITOSIS_SCORE_RANGE = (1, 3)
NECROSIS_SCORE_RANGE = (0, 2)

GRADE_LOWER_BOUNDS = (4, 6)
"""Total 2-3 -> grade 1, 4-5 -> grade 2, 6-8 -> grade 3 (Trojani 1984; docs/clinical.md#fnclcc-grade
[two sources])."""

REFERENCE_HPF_AREA_MM2 = 0.1734
"""Area of one high-power field of the original FNCLCC microscope, mm²
(docs/clinical.md#fnclcc-grade [not verified]: from domain knowledge only, to be checked against the
primary paper / CAP-WHO guidance)."""

HPF_AREA_RANGE_MM2 = (0.05, 1.0)
"""Plausibility range of a reported HPF area, mm² (engineering choice)."""

DIFFERENTIATION_SCORES: dict[str, int] = {
    # Leiomyosarcoma (Guillou 1997, docs/clinical.md#fnclcc-grade [two sources]).
    "well differentiated leiomyosarcoma": 1,
    "conventional leiomyosarcoma": 2,
    "poorly differentiated leiomyosarcoma": 3,
    "pleomorphic leiomyosarcoma": 3,
    "epithelioid leiomyosarcoma": 3,
    # Other frequent entries of the same table (Guillou 1997, docs/clinical.md#fnclcc-grade [two
    # sources]).
    "well differentiated liposarcoma": 1,
    "myxoid liposarcoma": 2,
    "round cell liposarcoma": 3,
    "high grade myxoid liposarcoma": 3,
    "pleomorphic liposarcoma": 3,
    "dedifferentiated liposarcoma": 3,
    "conventional fibrosarcoma": 2,
    "myxofibrosarcoma": 2,
    "conventional malignant peripheral nerve sheath tumour": 2,
    "poorly differentiated malignant peripheral nerve sheath tumour": 3,
    "malignant triton tumour": 3,
    "synovial sarcoma": 3,
    "rhabdomyosarcoma": 3,
    "mesenchymal chondrosarcoma": 3,
    "extraskeletal osteosarcoma": 3,
    "extraskeletal ewing sarcoma": 3,
    "malignant rhabdoid tumour": 3,
    "undifferentiated sarcoma": 3,
    "undifferentiated pleomorphic sarcoma": 3,
    "undifferentiated spindle cell sarcoma": 3,
    "conventional angiosarcoma": 2,
    "poorly differentiated angiosarcoma": 3,
    "epithelioid angiosarcoma": 3,
    "extraskeletal myxoid chondrosarcoma": 2,
}
"""Differentiation score by histologic type, keyed by normalised name (Guillou 1997 table as
reproduced in docs/clinical.md#fnclcc-grade [two sources]). Implementation default (not in the
table): a name given without a variant ("leiomyosarcoma", "angiosarcoma", "fibrosarcoma", "MPNST")
is read as the conventional variant when the table has one; other unqualified names (e.g.
"liposarcoma") are unknown."""

GRADING_NOT_APPLICABLE = frozenset(
    {"alveolar soft part sarcoma", "clear cell sarcoma", "epithelioid sarcoma"}
)
"""Entities for which FNCLCC grading is not recommended (docs/clinical.md#fnclcc-grade [not
verified]: the list varies between CAP/WHO versions). MPNST, named "in some protocols", is not
blocked here because the docs/clinical.md#fnclcc-grade table gives it scores."""

_ABBREVIATIONS = {
    "lms": "leiomyosarcoma",
    "mpnst": "malignant peripheral nerve sheath tumour",
    "ups": "undifferentiated pleomorphic sarcoma",
    "tumor": "tumour",
    "extra skeletal": "extraskeletal",
    "ewing's": "ewing",
    "ewings": "ewing",
}


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FnclccResult:
    """FNCLCC grade with its components.

    Attributes
    ----------
    mitosis_score, necrosis_score, differentiation_score
        Component scores (None / NaN when unknown).
    total
        Sum of the three scores, None / NaN unless all are known.
    total_min, total_max
        Bounds of the total over the range of every unknown component (2-8).
    grade
        1, 2 or 3; None / NaN when the bounds map to different grades.
    grade_min, grade_max
        Grades of ``total_min`` and ``total_max``.
    """

    mitosis_score: Any
    necrosis_score: Any
    differentiation_score: Any
    total: Any
    total_min: Any
    total_max: Any
    grade: Any
    grade_min: Any
    grade_max: Any


# --- component scores ----------------------------------------------------------------------


def _mitosis_score_array(mitoses: FloatArray) -> FloatArray:
    _MITOSES.check(mitoses)
    out: FloatArray = lookup(_SCORE_1_TO_3, band_codes(mitoses, MITOSIS_SCORE_LOWER_BOUNDS))
    return out


_SCORE_1_TO_3 = np.array([1.0, 2.0, 3.0, np.nan])
"""Score (or grade) 1, 2, 3 by band code; the last entry (band -1, NaN) unknown."""


def mitosis_score(mitoses_per_10hpf: Any) -> Any:
    """Mitotic count score: 0-9 -> 1, 10-19 -> 2, >= 20 mitoses per 10 HPF -> 3.

    Parameters
    ----------
    mitoses_per_10hpf
        Mitoses in 10 consecutive HPF of the most active area, 0-500; None/NaN = unknown.

    Returns
    -------
    int or None for a scalar; float array (NaN = unknown) otherwise.
    """
    arr = as_float_array(mitoses_per_10hpf, "mitoses_per_10hpf")
    score = _mitosis_score_array(arr)
    return _int_or_array(score, is_scalar(mitoses_per_10hpf))


def _necrosis_score_from_percent(percent: FloatArray) -> FloatArray:
    _NECROSIS.check(percent)
    # none (0 %) -> 0; above 0 and below 50 % -> 1; 50 % and above -> 2
    bands = band_codes(percent, (0.0, NECROSIS_1_UPPER_PERCENT), right=(True, False))
    out: FloatArray = lookup(_SCORE_0_TO_2, bands)
    return out


_SCORE_0_TO_2 = np.array([0.0, 1.0, 2.0, np.nan])
"""Necrosis score 0, 1, 2 by band code; the last entry (band -1, NaN) unknown."""


def necrosis_score(necrosis_percent: Any) -> Any:
    """Tumour necrosis score: 0 % -> 0, < 50 % -> 1, >= 50 % -> 2.

    Parameters
    ----------
    necrosis_percent
        Microscopic tumour necrosis as % of the tumour, 0-100; None/NaN = unknown.
    """
    arr = as_float_array(necrosis_percent, "necrosis_percent")
    return _int_or_array(_necrosis_score_from_percent(arr), is_scalar(necrosis_percent))


def _necrosis_score_from_category(category: Any) -> FloatArray:
    allowed = tuple(NECROSIS_CATEGORY_SCORES)
    if isinstance(category, str):  # one patient
        labels = as_label_array(_normalise_necrosis_label(category), "necrosis_category", allowed)
    else:
        raw = np.asarray(category, dtype=object)
        flat = [_normalise_necrosis_label(v) for v in raw.ravel()]
        labels = as_label_array(
            np.array(flat, dtype=object).reshape(raw.shape), "necrosis_category", allowed
        )
    score = np.full(labels.shape, np.nan)
    for label, points in NECROSIS_CATEGORY_SCORES.items():
        score[labels == label] = points
    return score


def _normalise_necrosis_label(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    key = value.strip().lower().replace(" ", "")
    return _NECROSIS_CATEGORY_ALIASES.get(key, key)


def normalise_histology(histology: str) -> str:
    """Lower-case, unify hyphens/spacing/spelling and expand common abbreviations (LMS, MPNST)."""
    text = re.sub(r"[-_/,]+", " ", histology.strip().lower())
    text = re.sub(r"\s+", " ", text)
    for short, full in _ABBREVIATIONS.items():
        text = re.sub(rf"\b{re.escape(short)}(?=\s|$)", full, text)
    return text.strip()


def differentiation_score_for(histology: str) -> int | None:
    """Return the differentiation score of a histologic type.

    Guillou 1997 table, docs/clinical.md#fnclcc-grade [two sources].

    Parameters
    ----------
    histology
        Histologic type, e.g. "conventional leiomyosarcoma", "pleomorphic LMS".

    Returns
    -------
    1, 2 or 3; None when the type is not in the table (or grading is not applicable to it).
    A name without a variant is read as the conventional variant when the table has one
    (implementation default, e.g. "leiomyosarcoma" -> 2).
    """
    key = normalise_histology(histology)
    if key in DIFFERENTIATION_SCORES:
        return DIFFERENTIATION_SCORES[key]
    conventional = f"conventional {key}"
    return DIFFERENTIATION_SCORES.get(conventional)


def grading_not_applicable_reason(
    histology: str | None = None, *, post_neoadjuvant: bool = False
) -> str | None:
    """Why FNCLCC grading should not be applied, or None when it applies.

    Grading is not meant for post-neoadjuvant specimens and not recommended for some entities
    (docs/clinical.md#fnclcc-grade; entity list [not verified], see :data:`GRADING_NOT_APPLICABLE`).
    """
    if post_neoadjuvant:
        return "FNCLCC grading is not meant for specimens after neoadjuvant treatment"
    if histology is not None and normalise_histology(histology) in GRADING_NOT_APPLICABLE:
        return f"FNCLCC grading is not recommended for {histology.strip()}"
    return None


def mitoses_per_reference_10hpf(mitoses_per_10hpf: Any, hpf_area_mm2: Any) -> Any:
    """Normalise a count over 10 HPF of ``hpf_area_mm2`` to 10 reference HPF (10 x 0.1734 mm²).

    The reference area 0.1734 mm² is [not verified] (domain knowledge only); the result is
    count x 0.1734 / area. Returns a float (None if unknown) or a float array.
    """
    count = as_float_array(mitoses_per_10hpf, "mitoses_per_10hpf")
    area = as_float_array(hpf_area_mm2, "hpf_area_mm2")
    _MITOSES.check(count)
    check_range(area, "hpf_area_mm2", *HPF_AREA_RANGE_MM2, "mm²")
    normalised = count * REFERENCE_HPF_AREA_MM2 / area
    return scalar_or_array(normalised, is_scalar(mitoses_per_10hpf, hpf_area_mm2))


# --- grade ---------------------------------------------------------------------------------


def _grade_of_total(total: FloatArray) -> FloatArray:
    out: FloatArray = lookup(_SCORE_1_TO_3, band_codes(total, GRADE_LOWER_BOUNDS))
    return out


def fnclcc_grade(
    *,
    mitoses_per_10hpf: Any = None,
    necrosis_percent: Any = None,
    necrosis_category: Any = None,
    differentiation_score: Any = None,
) -> FnclccResult:
    """FNCLCC grade from the mitotic count, necrosis and differentiation score.

    Parameters
    ----------
    mitoses_per_10hpf
        Mitoses per 10 HPF (0-500); None/NaN = unknown.
    necrosis_percent
        Tumour necrosis, % (0-100); None/NaN = unknown.
    necrosis_category
        "none", "<50%" or ">=50%" (also "≥50%"); used where ``necrosis_percent`` is unknown.
        Where both are known they must give the same score.
    differentiation_score
        1, 2 or 3 (see :func:`differentiation_score_for`); None/NaN = unknown.

    Returns
    -------
    FnclccResult
        Bounded when a component is unknown; ``grade`` is set when both bounds agree.

    Raises
    ------
    InputError
        Out-of-range values, an unknown necrosis category, or contradictory necrosis inputs.

    Examples
    --------
    42 mitoses, necrosis > 50 %, differentiation unknown -> mitosis 3, necrosis 2,
    total 6-8, grade 3.
    """
    scalar = is_scalar(
        mitoses_per_10hpf, necrosis_percent, necrosis_category, differentiation_score
    )
    mitosis = _mitosis_score_array(as_float_array(mitoses_per_10hpf, "mitoses_per_10hpf"))
    necrosis = _combined_necrosis_score(necrosis_percent, necrosis_category)
    differentiation = as_float_array(differentiation_score, "differentiation_score")
    bad = first_not_in(differentiation, _DIFFERENTIATION.values)
    if bad is not None:
        raise InputError(
            f"differentiation score {bad:g} is not one of {_DIFFERENTIATION.values_text()}",
            "differentiation_score",
        )
    mitosis, necrosis, differentiation = np.broadcast_arrays(mitosis, necrosis, differentiation)

    total = mitosis + necrosis + differentiation
    total_min = (
        _fill(mitosis, MITOSIS_SCORE_RANGE[0])
        + _fill(necrosis, NECROSIS_SCORE_RANGE[0])
        + _fill(differentiation, DIFFERENTIATION_SCORE_RANGE[0])
    )
    total_max = (
        _fill(mitosis, MITOSIS_SCORE_RANGE[1])
        + _fill(necrosis, NECROSIS_SCORE_RANGE[1])
        + _fill(differentiation, DIFFERENTIATION_SCORE_RANGE[1])
    )
    grade_min = _grade_of_total(total_min)
    grade_max = _grade_of_total(total_max)
    grade = np.where(grade_min == grade_max, grade_min, np.nan)

    return FnclccResult(
        mitosis_score=_int_or_array(mitosis, scalar),
        necrosis_score=_int_or_array(necrosis, scalar),
        differentiation_score=_int_or_array(differentiation, scalar),
        total=_int_or_array(total, scalar),
        total_min=_int_or_array(total_min, scalar),
        total_max=_int_or_array(total_max, scalar),
        grade=_int_or_array(grade, scalar),
        grade_min=_int_or_array(grade_min, scalar),
        grade_max=_int_or_array(grade_max, scalar),
    )


def _combined_necrosis_score(percent: Any, category: Any) -> FloatArray:
    from_percent = _necrosis_score_from_percent(as_float_array(percent, "necrosis_percent"))
    if category is None:
        return from_percent
    from_category = _necrosis_score_from_category(category)
    both = ~np.isnan(from_percent) & ~np.isnan(from_category)
    if np.any(both & (from_percent != from_category)):
        raise InputError(
            "necrosis_category contradicts necrosis_percent (none = 0 %, <50%, >=50%)",
            "necrosis_category",
        )
    return np.where(np.isnan(from_percent), from_category, from_percent)


def _fill(values: FloatArray, default: float) -> FloatArray:
    return np.where(np.isnan(values), default, values)


def _int_or_array(values: FloatArray, scalar: bool) -> Any:
    """Scalar mode: int (or None); array mode: the float array with NaN for unknown."""
    out = scalar_or_array(values, scalar)
    if scalar and out is not None:
        return int(out)
    return out

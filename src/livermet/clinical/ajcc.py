"""AJCC 8th edition staging of soft-tissue sarcoma of the trunk and extremities (spec §2).

Source: Amin MB, et al. (eds). AJCC Cancer Staging Manual, 8th ed. Springer, 2017, chapter
"Soft tissue sarcoma of the trunk and extremities"; checked in the spec against World J Clin
Oncol 2023;14(2):89 Table 2 and the OncoLink staging page [V2].

T by greatest dimension (T1 <= 5 cm, T2 > 5-10, T3 > 10-15, T4 > 15 cm) [V2]; stage groups
IA/IB/II/IIIA/IIIB/IV from T, N, M and FNCLCC grade [V2]. NX is grouped with N0 [V1].
Retroperitoneal, head & neck and visceral sarcomas have other chapters and are out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    as_label_array,
    check_range,
    first_not_in,
    is_scalar,
    scalar_or_array,
    select,
)
from livermet.errors import InputError

ObjectArray = npt.NDArray[np.object_]

T_UPPER_BOUNDS_CM = (5.0, 10.0, 15.0)
"""Upper (inclusive) size limits of T1, T2, T3 in cm; T4 > 15 cm (AJCC 8, 2017; spec §2 [V2])."""

T_CATEGORIES = ("T1", "T2", "T3", "T4")

SIZE_RANGE_CM = (0.0, 100.0)
"""Plausibility range of the greatest tumour dimension, (0, 100] cm (engineering choice)."""

N_CATEGORIES = ("N0", "N1", "NX")
"""NX (nodes not assessed) is grouped with N0 (AJCC 8, 2017; spec §2 [V1])."""

M_CATEGORIES = ("M0", "M1")

GRADE_LABELS = ("G1", "G2", "G3", "GX")

_NONE = np.array(None, dtype=object)

STAGE_TABLE: dict[tuple[str, str], str] = {
    ("T1", "low"): "IA",
    ("T2", "low"): "IB",
    ("T3", "low"): "IB",
    ("T4", "low"): "IB",
    ("T1", "high"): "II",
    ("T2", "high"): "IIIA",
    ("T3", "high"): "IIIB",
    ("T4", "high"): "IIIB",
}
"""Stage of N0 M0 tumours by (T, grade group); "low" = G1 or GX, "high" = G2 or G3
(AJCC 8, 2017; spec §2 [V2]). Any N1 or M1 is stage IV."""


@dataclass(frozen=True)
class Ajcc8Result:
    """AJCC 8 TNM categories and stage group.

    Attributes
    ----------
    t
        "T1".."T4", None when the size is unknown.
    n
        "N0", "N1" or "NX" (unknown nodal status is reported and grouped as NX).
    m
        "M0", "M1" or None when unknown.
    grade
        "G1", "G2", "G3" or "GX" (unknown grade).
    stage
        "IA", "IB", "II", "IIIA", "IIIB", "IV", or None when not determinable.
    """

    t: Any
    n: Any
    m: Any
    grade: Any
    stage: Any


def _t_category_array(size_cm: FloatArray) -> ObjectArray:
    check_range(size_cm, "size_cm", *SIZE_RANGE_CM, "cm", low_inclusive=False)
    index = np.digitize(size_cm, T_UPPER_BOUNDS_CM, right=True)
    labels = np.array(T_CATEGORIES, dtype=object)[np.minimum(index, 3)]
    return np.where(np.isnan(size_cm), _NONE, labels)


def ajcc8_t_category(size_cm: Any) -> Any:
    """AJCC 8 T category from the greatest tumour dimension.

    Parameters
    ----------
    size_cm
        Greatest dimension in cm, in (0, 100]; None/NaN = unknown.

    Returns
    -------
    "T1" (<= 5), "T2" (> 5, <= 10), "T3" (> 10, <= 15), "T4" (> 15), or None; an object array
    for array input.
    """
    labels = _t_category_array(as_float_array(size_cm, "size_cm"))
    return scalar_or_array(labels, is_scalar(size_cm))


def _grade_labels(grade: Any) -> ObjectArray:
    """Grade 1/2/3 (or "G1".."G3"/"GX"), None/NaN = unknown -> labels "G1".."GX"."""
    raw = np.asarray(grade, dtype=object)
    if raw.dtype == object and any(isinstance(v, str) for v in raw.ravel()):
        labels = as_label_array(raw, "grade", GRADE_LABELS)
        return np.where(labels == None, "GX", labels)  # noqa: E711 (elementwise)
    numeric = as_float_array(grade, "grade")
    bad = first_not_in(numeric, (1.0, 2.0, 3.0))
    if bad is not None:
        raise InputError(f"grade {bad:g} is not one of 1, 2, 3 (FNCLCC)", "grade")
    out = np.full(numeric.shape, "GX", dtype=object)
    for value, label in ((1.0, "G1"), (2.0, "G2"), (3.0, "G3")):
        out[numeric == value] = label
    return out


def ajcc8_stage(
    *,
    size_cm: Any = None,
    n: Any = None,
    m: Any = None,
    grade: Any = None,
) -> Ajcc8Result:
    """AJCC 8th-edition stage group of an extremity/trunk soft-tissue sarcoma.

    Parameters
    ----------
    size_cm
        Greatest tumour dimension, cm, (0, 100]; None/NaN = unknown.
    n
        "N0", "N1", "NX"; None = not stated, treated as NX and grouped with N0 (spec §2 [V1]:
        AJCC 8 groups unknown nodal status with N0 — implementation default for None).
    m
        "M0", "M1"; None = unknown (no MX in AJCC 8, so the stage stays undetermined unless N1).
    grade
        FNCLCC grade 1, 2, 3 (or "G1".."G3", "GX"); None/NaN = GX, grouped with G1.

    Returns
    -------
    Ajcc8Result
        Stage IV whenever N1 or M1, regardless of T (also with unknown size); otherwise the
        N0 M0 table; None when M or T is unknown and decides the stage.
    """
    scalar = is_scalar(size_cm, n, m, grade)
    t_labels = _t_category_array(as_float_array(size_cm, "size_cm"))
    n_labels = as_label_array(n, "n", N_CATEGORIES)
    n_labels = np.where(n_labels == None, "NX", n_labels)  # noqa: E711 (elementwise)
    m_labels = as_label_array(m, "m", M_CATEGORIES)
    g_labels = _grade_labels(grade)
    t_labels, n_labels, m_labels, g_labels = np.broadcast_arrays(
        t_labels, n_labels, m_labels, g_labels
    )

    grade_group = np.where(np.isin(g_labels, ("G1", "GX")), "low", "high")
    local_stage = np.full(t_labels.shape, None, dtype=object)
    for (t_cat, group), group_stage in STAGE_TABLE.items():
        local_stage[(t_labels == t_cat) & (grade_group == group)] = group_stage

    distant = (n_labels == "N1") | (m_labels == "M1")
    local = (m_labels == "M0") & np.isin(n_labels, ("N0", "NX"))
    stage = select([distant, local], [np.array("IV", dtype=object), local_stage], _NONE)

    return Ajcc8Result(
        t=scalar_or_array(t_labels, scalar),
        n=scalar_or_array(n_labels, scalar),
        m=scalar_or_array(m_labels, scalar),
        grade=scalar_or_array(g_labels, scalar),
        stage=scalar_or_array(np.asarray(stage, dtype=object), scalar),
    )

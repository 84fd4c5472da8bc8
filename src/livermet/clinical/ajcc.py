"""AJCC 8th edition staging of soft-tissue sarcoma: trunk/extremities and retroperitoneum.

Sources: Amin MB, et al. (eds). AJCC Cancer Staging Manual, 8th ed. Springer, 2017, chapters
41 "Soft tissue sarcoma of the trunk and extremities" (Yoon SS, et al.) and 44 "Soft tissue sarcoma
of the retroperitoneum" (Pollock RE, et al.), as reproduced by the NCI PDQ "Soft Tissue Sarcoma
Treatment" (2025) Tables 1 and 7; World J Clin Oncol 2023;14(2):89 Table 2; Fisher SB, et al.
(NCDB, 2019) for the retroperitoneal groups IA-IIIB.

T by greatest dimension, the same for both chapters (T1 <= 5 cm, T2 > 5-10, T3 > 10-15,
T4 > 15 cm); stage groups IA/IB/II/IIIA/IIIB from T and FNCLCC grade when N0 M0; M1 is stage IV.
The chapters differ only for N1 M0: stage IV for the trunk and extremities, stage IIIB for the
retroperitoneum (NCI PDQ Table 7 footnote; a single reproduction of the retroperitoneal table was
found, so this is the documented default). NX is grouped with N0 (AJCC 8, 2017).

Head and neck (chapter 40) and abdominal/thoracic visceral organs (chapter 42) have T, N and M but
no recommended stage grouping (NCI PDQ 2025; OncoLink 2024): :data:`AJCC8_CHAPTERS`,
:func:`ajcc8_head_neck_t_category`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    as_label_array,
    band_codes,
    first_not_in,
    is_scalar,
    label_codes,
    lookup,
    scalar_or_array,
)
from livermet.clinical.contracts import AJCC8 as CONTRACT
from livermet.errors import InputError

ObjectArray = npt.NDArray[np.object_]

T_UPPER_BOUNDS_CM = (5.0, 10.0, 15.0)
"""Upper (inclusive) size limits of T1, T2, T3 in cm; T4 > 15 cm, trunk/extremities and
retroperitoneum alike (AJCC 8, 2017, chapters 41 and 44; NCI PDQ 2025 Table 1). 50 mm = 5 cm
exactly is T1."""

T_CATEGORIES = ("T1", "T2", "T3", "T4")

_SIZE = CONTRACT.input("size_cm")
_GRADE = CONTRACT.input("grade")

SIZE_RANGE_CM = _SIZE.range
"""Plausibility range of the greatest tumour dimension, (0, 100] cm (engineering choice, declared
in the contract, ``contracts.SIZE_CM``; docs/clinical.md#ajcc-8-staging)."""

N_CATEGORIES = CONTRACT.input("n").vocabulary
"""N0, N1, NX; NX (nodes not assessed) is grouped with N0 (AJCC 8, 2017; NCI PDQ 2025;
``contracts.N_CATEGORY``)."""

M_CATEGORIES = CONTRACT.input("m").vocabulary
"""M0, M1 (AJCC 8, 2017; ``contracts.M_CATEGORY``)."""

GRADE_LABELS = ("G1", "G2", "G3", "GX")

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
(AJCC 8, 2017, chapters 41 and 44). M1 is stage IV; N1 M0 is :data:`N1_M0_STAGE` by chapter."""

SITES = ("trunk_extremity", "retroperitoneum")
"""Chapters with AJCC 8 stage groups for soft-tissue sarcoma: 41 (trunk and extremities) and 44
(retroperitoneum)."""

N1_M0_STAGE: dict[str, str] = {"trunk_extremity": "IV", "retroperitoneum": "IIIB"}
"""Stage of any T, N1, M0, any G: IV for the trunk and extremities, IIIB for the retroperitoneum
(AJCC 8, 2017, as reproduced by NCI PDQ 2025 Table 7 footnote "Stage IIIB for soft tissue sarcoma
of the retroperitoneum; stage IV for soft tissue sarcoma of the trunk and extremities")."""

STAGE_ORDER = ("IA", "IB", "II", "IIIA", "IIIB", "IV")
"""AJCC 8 soft-tissue sarcoma stage groups, least to most advanced."""


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


_T_LABELS = np.array([*T_CATEGORIES, None], dtype=object)
"""T label by T code: 0-3 = T1-T4, 4 = size unknown."""


def _t_codes(size_cm: FloatArray) -> npt.NDArray[np.int8]:
    _SIZE.check(size_cm)
    bands = band_codes(size_cm, T_UPPER_BOUNDS_CM, right=True)  # upper limits inclusive
    return np.where(bands < 0, np.int8(4), bands)


def _t_category_array(size_cm: FloatArray) -> ObjectArray:
    return lookup(_T_LABELS, _t_codes(size_cm))


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


_N_LABELS = np.array([*N_CATEGORIES, "NX"], dtype=object)
"""N label by N code; the last entry (code -1, not stated) is NX."""

_M_LABELS = np.array([*M_CATEGORIES, None], dtype=object)
"""M label by M code; the last entry (code -1) is None, unknown."""

_GRADES = np.array(GRADE_LABELS, dtype=object)
"""Grade label by grade code: 0-3 = G1, G2, G3, GX (unknown)."""


def _grade_codes(grade: Any) -> npt.NDArray[np.intp]:
    """Grade 1/2/3 (or "G1".."G3"/"GX"), None/NaN = unknown -> grade codes (see ``_GRADES``)."""
    numbers = isinstance(grade, np.ndarray) and grade.dtype.kind in "fiub"  # a cohort's column
    raw = None if numbers else np.asarray(grade, dtype=object)
    if raw is not None and any(isinstance(v, str) for v in raw.ravel()):
        labels = as_label_array(raw, "grade", GRADE_LABELS)
        codes = np.full(labels.shape, 3, dtype=np.intp)  # GX, also for None
        for code, label in enumerate(GRADE_LABELS[:3]):
            codes[labels == label] = code
        return codes
    numeric = as_float_array(grade, "grade")
    bad = first_not_in(numeric, _GRADE.values)
    if bad is not None:
        raise InputError(f"grade {bad:g} is not one of {_GRADE.values_text()} (FNCLCC)", "grade")
    return np.where(np.isnan(numeric), 3.0, numeric - 1.0).astype(np.intp)


def ajcc8_stage(
    *,
    size_cm: Any = None,
    n: Any = None,
    m: Any = None,
    grade: Any = None,
    site: str = "trunk_extremity",
) -> Ajcc8Result:
    """AJCC 8th-edition stage group of a trunk/extremity or retroperitoneal soft-tissue sarcoma.

    Parameters
    ----------
    size_cm
        Greatest tumour dimension, cm, (0, 100]; None/NaN = unknown.
    n
        "N0", "N1", "NX"; None = not stated, treated as NX and grouped with N0 (AJCC 8 groups
        unknown nodal status with N0; None taken as NX is this implementation's default).
    m
        "M0", "M1"; None = unknown (no MX in AJCC 8, so the stage stays undetermined unless it
        does not matter: N1 on the trunk/extremities is stage IV with M0 or M1).
    grade
        FNCLCC grade 1, 2, 3 (or "G1".."G3", "GX"); None/NaN = GX, grouped with G1.
    site
        "trunk_extremity" (chapter 41, the default) or "retroperitoneum" (chapter 44); see
        :data:`N1_M0_STAGE`.

    Returns
    -------
    Ajcc8Result
        Stage IV whenever M1 (and for N1 on the trunk/extremities), regardless of T (also with
        unknown size); IIIB for N1 M0 of the retroperitoneum; otherwise the N0 M0 table; None
        when M or T is unknown and decides the stage (:func:`ajcc8_stage_bounds` gives the
        possible stages then).
    """
    if site not in SITES:
        raise InputError(f"expected one of {', '.join(SITES)}; got {site!r}", "site")
    scalar = is_scalar(size_cm, n, m, grade)
    t_codes = _t_codes(as_float_array(size_cm, "size_cm"))
    n_codes = label_codes(n, "n", N_CATEGORIES)  # index in N_CATEGORIES, -1 unknown (= NX)
    m_codes = label_codes(m, "m", M_CATEGORIES)  # index in M_CATEGORIES, -1 unknown
    g_codes = _grade_codes(grade)
    t_codes, n_codes, m_codes, g_codes = np.broadcast_arrays(t_codes, n_codes, m_codes, g_codes)

    # Stage code, then one look-up: 0-9 the N0/NX M0 table by 2 x T code + grade group (low = G1
    # or GX, high = G2 or G3; T unknown -> 8-9, undetermined), 10 stage IV, 11 N1 M0, 12 M unknown.
    n1_stage = N1_M0_STAGE[site]
    stages = np.array(
        [
            *(STAGE_TABLE[t, group] for t in T_CATEGORIES for group in ("low", "high")),
            *(None, None, "IV", n1_stage, None),
        ],
        dtype=object,
    )
    n1 = n_codes == N_CATEGORIES.index("N1")
    m0 = m_codes == M_CATEGORIES.index("M0")
    distant = m_codes == M_CATEGORIES.index("M1")
    if n1_stage == "IV":  # N1 is stage IV whatever M is
        distant = distant | n1
    high_grade = (g_codes == 1) | (g_codes == 2)
    local = 2 * t_codes + high_grade  # N0 or NX (None is NX): every N but N1
    stage = lookup(stages, np.where(distant, 10, np.where(m0, np.where(n1, 11, local), 12)))

    return Ajcc8Result(
        t=scalar_or_array(lookup(_T_LABELS, t_codes), scalar),
        n=scalar_or_array(lookup(_N_LABELS, n_codes), scalar),
        m=scalar_or_array(lookup(_M_LABELS, m_codes), scalar),
        grade=scalar_or_array(lookup(_GRADES, g_codes), scalar),
        stage=scalar_or_array(stage, scalar),
    )


# --- bounded stage (one patient) -------------------------------------------------------------


@dataclass(frozen=True)
class StageBounds:
    """The stage groups a patient can have when some staging inputs are unknown.

    Attributes
    ----------
    stage
        The stage group when every possible value of the unknown inputs gives the same one,
        else None.
    candidates
        Every stage group the unknown inputs allow, least to most advanced (one when decided,
        empty when nothing can be said).
    missing
        Names of the unknown inputs that leave the stage undecided (empty when decided).
    text
        The stage for a reader: "IIIA", "IIIB or IV", "I (IA or IB)", or "not known".
    """

    stage: str | None
    candidates: tuple[str, ...]
    missing: tuple[str, ...]
    text: str

    @property
    def stage_min(self) -> str | None:
        """Least advanced possible stage group."""
        return self.candidates[0] if self.candidates else None

    @property
    def stage_max(self) -> str | None:
        """Most advanced possible stage group."""
        return self.candidates[-1] if self.candidates else None


def _roman(stage: str) -> str:
    return stage.rstrip("ABC") or stage


def stage_bounds(stages: set[str], order: tuple[str, ...], missing: tuple[str, ...]) -> StageBounds:
    """:class:`StageBounds` of the set of stage groups ``stages`` (ordered by ``order``).

    ``missing`` names the unknown inputs; it is kept only when the stage is undecided. Two or
    more sub-stages of one group read "I (IA or IB)"; otherwise the candidates are joined by
    "or".
    """
    candidates = tuple(s for s in order if s in stages)
    if len(candidates) == 1:
        return StageBounds(candidates[0], candidates, (), candidates[0])
    if not candidates:
        return StageBounds(None, (), missing, "not known")
    joined = " or ".join(candidates)
    groups = {_roman(s) for s in candidates}
    text = f"{groups.pop()} ({joined})" if len(groups) == 1 else joined
    return StageBounds(None, candidates, missing, text)


_T_REPRESENTATIVE_CM = {"T1": 1.0, "T2": 7.5, "T3": 12.5, "T4": 20.0}


def ajcc8_stage_bounds(
    *,
    size_cm: float | None = None,
    n: str | None = None,
    m: str | None = None,
    grade: int | str | None = None,
    site: str = "trunk_extremity",
) -> StageBounds:
    """Possible AJCC 8 stage groups of one patient, over the values of the unknown inputs.

    Like the FNCLCC total_min/total_max: an unknown size is tried as T1..T4, an unknown M as
    M0 and M1; N (NX = N0) and grade (GX = G1) are never unknown for the stage (AJCC 8, 2017).
    Parameters as :func:`ajcc8_stage` (scalars only).
    """
    sizes: list[float | None] = [size_cm]
    missing: list[str] = []
    size_unknown = size_cm is None or (isinstance(size_cm, float) and math.isnan(size_cm))
    if size_unknown:
        sizes = list(_T_REPRESENTATIVE_CM.values())
    ms: list[str | None] = [m] if m is not None else ["M0", "M1"]
    stages: set[str] = set()
    by_size: dict[str, set[str]] = {}  # stages for each tried size (over M)
    by_m: dict[str, set[str]] = {}  # stages for each tried M (over sizes)
    for size in sizes:
        for m_value in ms:
            stage = ajcc8_stage(size_cm=size, n=n, m=m_value, grade=grade, site=site).stage
            stages.add(stage)
            by_size.setdefault(str(size), set()).add(stage)
            by_m.setdefault(str(m_value), set()).add(stage)
    if size_unknown and _varies(by_m):  # with M fixed, the size still changes the stage
        missing.append("size")
    if m is None and _varies(by_size):  # with the size fixed, M still changes the stage
        missing.append("M")
    return stage_bounds(stages, STAGE_ORDER, tuple(missing))


def _varies(groups: dict[str, set[str]]) -> bool:
    """Return whether some group (fixed value of one input) still holds several stages."""
    return any(len(v) > 1 for v in groups.values())


# --- chapters --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ajcc8Chapter:
    """One AJCC 8 chapter a sarcoma's site is staged by.

    Attributes
    ----------
    number
        Chapter number in the AJCC Cancer Staging Manual, 8th ed. (2017).
    title
        Chapter title.
    stage_groups
        True when the chapter defines prognostic stage groups.
    """

    number: int
    title: str
    stage_groups: bool


AJCC8_CHAPTERS: dict[str, Ajcc8Chapter] = {
    "head_neck": Ajcc8Chapter(40, "Soft tissue sarcoma of the head and neck", False),
    "trunk_extremity": Ajcc8Chapter(41, "Soft tissue sarcoma of the trunk and extremities", True),
    "visceral": Ajcc8Chapter(
        42, "Soft tissue sarcoma of the abdomen and thoracic visceral organs", False
    ),
    "retroperitoneum": Ajcc8Chapter(44, "Soft tissue sarcoma of the retroperitoneum", True),
    "uterus": Ajcc8Chapter(54, "Corpus uteri - sarcoma", True),
}
"""AJCC 8 chapters by site (Amin MB, et al., AJCC Cancer Staging Manual, 8th ed., 2017; chapter
numbers and pages as listed by NCI PDQ 2025). "There is no recommended prognostic stage grouping
for soft tissue sarcoma of the abdomen, thoracic visceral organs, and head and neck" (NCI PDQ
2025; OncoLink 2024). Chapter 54 uses the FIGO stages of uterine sarcoma
(:mod:`livermet.clinical.figo`)."""

HEAD_NECK_T_UPPER_BOUNDS_CM = (2.0, 4.0)
"""Head and neck (chapter 40): T1 <= 2 cm, T2 > 2 to <= 4 cm, T3 > 4 cm; T4 is invasion of
adjoining structures whatever the size (AJCC 8, 2017, as reproduced by NCI PDQ 2025 Table 1)."""


def ajcc8_head_neck_t_category(size_cm: float | None) -> str | None:
    """T of a head and neck soft-tissue sarcoma from its size: "T1", "T2", "T3" or None.

    T4 (invasion of the orbit, skull base, brain, carotid...) is not a size: the caller must
    say that T4 is not assessed when invasion is not recorded.
    """
    if size_cm is None or math.isnan(size_cm):
        return None
    _SIZE.check(np.array(float(size_cm)))
    if size_cm <= HEAD_NECK_T_UPPER_BOUNDS_CM[0]:
        return "T1"
    if size_cm <= HEAD_NECK_T_UPPER_BOUNDS_CM[1]:
        return "T2"
    return "T3"

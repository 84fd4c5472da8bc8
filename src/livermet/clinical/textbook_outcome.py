"""Textbook outcome in liver surgery (TOLS), 2022 Delphi consensus
(docs/clinical.md#textbook-outcome).

Source: Görgec B, Benedetti Cacciaguerra A, Pawlik TM, et al. An international expert Delphi
consensus on defining textbook outcome in liver surgery (TOLS). Ann Surg 2023;277:821-828
(PMC10082050) [one source: abstract]; criteria list as applied in Dig Dis 2025 (PubMed 39778550)
[one source]. Predecessor: Görgec B, et al. JAMA Surg 2021 (not implemented: 30-day readmission,
in-hospital mortality). TOLS+ (length of stay <= cohort 50th percentile, [not verified]) needs a
cohort and is not computed here.

TOLS is achieved only if all seven criteria hold. Tri-state result
(docs/clinical.md#textbook-outcome): "not achieved" when any criterion failed, "not assessable" when
some are unknown and none failed, else "achieved".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    first_not_in,
    is_scalar,
)
from livermet.errors import InputError

ObjectArray = npt.NDArray[np.object_]

MET = "met"
FAILED = "failed"
NOT_ASSESSABLE = "not assessable"

ACHIEVED = "achieved"
NOT_ACHIEVED = "not achieved"


@dataclass(frozen=True)
class TolsCriterion:
    """One TOLS criterion: its name (= the keyword of :func:`textbook_outcome`), the condition
    that must hold, its source, and whether ``True`` is the good value."""

    name: str
    description: str
    source: str
    true_is_good: bool = False


TOLS_CRITERIA: tuple[TolsCriterion, ...] = (
    TolsCriterion(
        "intraoperative_incident_grade2_or_more",
        "no intraoperative incident grade >= 2",
        "Görgec AS, et al. 2023 (Delphi consensus); Oslo classification of intraoperative adverse "
        "events (name not verified against the full text)",
    ),
    TolsCriterion(
        "bile_leak_grade_b_or_c",
        "no postoperative bile leak grade B or C",
        "Görgec AS, et al. 2023; ISGLS bile leakage, Koch M, et al. Surgery 2011;149:680-688",
    ),
    TolsCriterion(
        "liver_failure_grade_b_or_c",
        "no post-hepatectomy liver failure grade B or C",
        "Görgec AS, et al. 2023; ISGLS PHLF, Rahbari NN, et al. Surgery 2011;149:713-724",
    ),
    TolsCriterion(
        "major_complication",
        "no major postoperative complication (Clavien-Dindo >= III) within 90 days",
        "Görgec AS, et al. 2023; Dindo D, et al. Ann Surg 2004",
    ),
    TolsCriterion(
        "readmission_90d",
        "no readmission within 90 days after discharge due to a surgery-related major complication",
        "Görgec AS, et al. 2023",
    ),
    TolsCriterion(
        "mortality_90d",
        "no in-hospital or 90-day mortality",
        "Görgec AS, et al. 2023",
    ),
    TolsCriterion(
        "r0_resection",
        "R0 resection (malignancy; margin >= 1 mm, not verified against the full text)",
        "Görgec AS, et al. 2023",
        true_is_good=True,
    ),
)
"""The seven TOLS criteria in the consensus order (Görgec 2023;
docs/clinical.md#textbook-outcome)."""

_CRITERIA_BY_NAME = {c.name: c for c in TOLS_CRITERIA}

# Look-up tables of the array path, indexed by integer codes (no Python loop over patients).
_CRITERION_STATUS = np.array([MET, FAILED, NOT_ASSESSABLE], dtype=object)  # 0 met, 1, 2 unknown
_STATUS = np.array([ACHIEVED, NOT_ACHIEVED, NOT_ASSESSABLE], dtype=object)  # 0, 1 failed, 2
_ACHIEVED = np.array([True, False, None], dtype=object)
_MISSING = np.empty(2 ** len(TOLS_CRITERIA), dtype=object)
"""Bit i of the index set = criterion i unknown -> the tuple of the unknown criteria's names."""
_MISSING[:] = [
    tuple(c.name for i, c in enumerate(TOLS_CRITERIA) if pattern >> i & 1)
    for pattern in range(len(_MISSING))
]


@dataclass(frozen=True)
class TextbookOutcomeResult:
    """TOLS status with its per-criterion statuses.

    Attributes
    ----------
    status
        "achieved", "not achieved" or "not assessable" (object array in array mode).
    achieved
        True / False / None (not assessable); object array in array mode.
    criteria
        criterion name -> "met" | "failed" | "not assessable" (values are object arrays in
        array mode), in the order of :data:`TOLS_CRITERIA`.
    missing
        Names of the criteria not assessable: a list; in array mode an object array of tuples
        (immutable, so patients with the same unknown criteria share one).
    """

    status: Any
    achieved: Any
    criteria: dict[str, Any]
    missing: Any


def _criterion_flags(value: Any, field: str) -> FloatArray:
    """Booleans / 1 / 0 -> 1.0 / 0.0, None / NaN -> NaN; anything else is an InputError."""
    arr = as_float_array(value, field)
    bad = first_not_in(arr, (0.0, 1.0))
    if bad is not None:
        raise InputError(f"expected True/False (1/0) or None/NaN for unknown, got {bad:g}", field)
    return arr


def textbook_outcome(
    *,
    intraoperative_incident_grade2_or_more: Any = None,
    bile_leak_grade_b_or_c: Any = None,
    liver_failure_grade_b_or_c: Any = None,
    major_complication: Any = None,
    readmission_90d: Any = None,
    mortality_90d: Any = None,
    r0_resection: Any = None,
) -> TextbookOutcomeResult:
    """Textbook outcome in liver surgery (2022 Delphi consensus).

    Parameters
    ----------
    intraoperative_incident_grade2_or_more, bile_leak_grade_b_or_c, liver_failure_grade_b_or_c,
    major_complication, readmission_90d, mortality_90d
        True (or 1) when the adverse event happened, False (0) when not, None/NaN unknown.
        ``major_complication`` = Clavien-Dindo >= III within 90 days; ``readmission_90d`` =
        readmission within 90 days for a surgery-related major complication.
    r0_resection
        True (1) when the resection was R0 (the good value), False (0) when R1/R2, None unknown.

    Scalars give scalar fields; arrays (of 1/0/NaN) broadcast and give object arrays.

    Examples
    --------
    The case (docs/clinical.md#textbook-outcome): every criterion good but readmission unknown ->
    "not assessable"; with ``readmission_90d=False`` -> "achieved".
    """
    inputs = {
        "intraoperative_incident_grade2_or_more": intraoperative_incident_grade2_or_more,
        "bile_leak_grade_b_or_c": bile_leak_grade_b_or_c,
        "liver_failure_grade_b_or_c": liver_failure_grade_b_or_c,
        "major_complication": major_complication,
        "readmission_90d": readmission_90d,
        "mortality_90d": mortality_90d,
        "r0_resection": r0_resection,
    }
    scalar = is_scalar(*inputs.values())
    flags = np.broadcast_arrays(*(_criterion_flags(v, k) for k, v in inputs.items()))

    # Integer codes, then look-up tables: per criterion 0 met / 1 failed / 2 not assessable;
    # overall 0 achieved / 1 not achieved (any failed) / 2 not assessable (else any unknown).
    # Flags are 1/0/NaN here (checked above), so "failed" is the bad value and never NaN. Codes
    # are bytes (uint8): seven criteria fit the unknown-criteria bit pattern.
    shape = flags[0].shape
    any_failed = np.zeros(shape, dtype=bool)
    unknown_bits = np.zeros(shape, dtype=np.uint8)
    codes: dict[str, npt.NDArray[np.uint8]] = {}
    for bit, (criterion, flag) in enumerate(zip(TOLS_CRITERIA, flags, strict=True)):
        failed = flag == (0.0 if criterion.true_is_good else 1.0)
        unknown = np.isnan(flag).view(np.uint8)
        any_failed |= failed
        unknown_bits |= unknown << np.uint8(bit)
        codes[criterion.name] = failed.view(np.uint8) | (unknown << np.uint8(1))
    overall = np.where(any_failed, 1, np.where(unknown_bits != 0, 2, 0))

    if scalar:
        return TextbookOutcomeResult(
            status=str(_STATUS[overall.item()]),
            achieved=_ACHIEVED[overall.item()],
            criteria={name: str(_CRITERION_STATUS[c.item()]) for name, c in codes.items()},
            missing=list(_MISSING[unknown_bits.item()]),
        )
    return TextbookOutcomeResult(
        status=_STATUS[overall],
        achieved=_ACHIEVED[overall],
        criteria={name: _CRITERION_STATUS[c] for name, c in codes.items()},
        missing=_MISSING[unknown_bits],
    )


def textbook_outcome_array(**criteria: Any) -> TextbookOutcomeResult:
    """Array form of :func:`textbook_outcome`: same keywords (arrays of 1/0/NaN), always
    returns arrays (at least one dimension), e.g. for a cohort table's columns."""
    unknown = set(criteria) - set(_CRITERIA_BY_NAME)
    if unknown:
        raise InputError(
            f"unknown TOLS criterion; expected {', '.join(_CRITERIA_BY_NAME)}",
            sorted(unknown)[0],
        )
    arrays = {k: np.atleast_1d(as_float_array(v, k)) for k, v in criteria.items()}
    if not arrays:
        arrays = {TOLS_CRITERIA[0].name: np.array([np.nan])}
    return textbook_outcome(**arrays)

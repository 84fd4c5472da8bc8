"""Textbook outcome in liver surgery (TOLS), 2022 Delphi consensus.

Specified in docs/clinical.md#textbook-outcome.

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

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import (
    FloatArray,
    as_float_array,
    first_not_in,
    is_scalar,
    lookup,
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
    """One TOLS criterion.

    Its name (= the keyword of :func:`textbook_outcome`), the condition that must hold, its
    source, and whether ``True`` is the good value.
    """

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
        array mode), in the order of :data:`TOLS_CRITERIA`. Computed on first access, so that a
        cohort scored for its status alone does not build seven label columns.
    missing
        Names of the criteria not assessable: a list; in array mode an object array of tuples
        (immutable, so patients with the same unknown criteria share one). Computed on first
        access.
    """

    status: Any
    achieved: Any
    failed_bits: Any = field(repr=False)
    """Bit i set = criterion i of :data:`TOLS_CRITERIA` failed (uint8; a Python int for one
    patient)."""
    unknown_bits: Any = field(repr=False)
    """Bit i set = criterion i not assessable (uint8; a Python int for one patient)."""

    @cached_property
    def criteria(self) -> dict[str, Any]:
        """Return criterion name -> "met", "failed" or "not assessable"."""
        if isinstance(self.failed_bits, int):  # one patient
            return {
                c.name: str(_CRITERION_STATUS[_criterion_code(self, bit)])
                for bit, c in enumerate(TOLS_CRITERIA)
            }
        return {
            c.name: lookup(_CRITERION_STATUS, _criterion_code(self, bit))
            for bit, c in enumerate(TOLS_CRITERIA)
        }

    @cached_property
    def missing(self) -> Any:
        """Return the names of the criteria not assessable (array mode: one tuple per patient)."""
        if isinstance(self.unknown_bits, int):  # one patient
            return list(_MISSING[self.unknown_bits])
        return lookup(_MISSING, self.unknown_bits)


def _criterion_code(result: TextbookOutcomeResult, bit: int) -> Any:
    """Return criterion ``bit``'s code: 0 met, 1 failed, 2 not assessable."""
    failed, unknown = result.failed_bits >> bit & 1, result.unknown_bits >> bit & 1
    return failed | unknown << 1


def _criterion_flags(value: Any, field: str) -> FloatArray:
    """Return booleans / 1 / 0 as 1.0 / 0.0, None / NaN as NaN; anything else is an InputError."""
    arr = as_float_array(value, field)
    bad = first_not_in(arr, (0.0, 1.0))
    if bad is not None:
        raise InputError(f"expected True/False (1/0) or None/NaN for unknown, got {bad:g}", field)
    return arr


def _criterion_bits(flags: list[FloatArray]) -> tuple[npt.NDArray[np.uint8], ...]:
    """Return the failed and unknown criteria of each patient as bit patterns (uint8).

    Flags are 1/0/NaN here (checked before), so "failed" is the bad value and never NaN; seven
    criteria fit the bits of one byte.
    """
    shape = np.broadcast_shapes(*(flag.shape for flag in flags))
    failed_bits = np.zeros(shape, dtype=np.uint8)
    unknown_bits = np.zeros(shape, dtype=np.uint8)
    for bit, (criterion, flag) in enumerate(zip(TOLS_CRITERIA, flags, strict=True)):
        failed = flag == (0.0 if criterion.true_is_good else 1.0)
        unknown = np.isnan(flag)
        failed_bits |= failed.view(np.uint8) << np.uint8(bit)
        unknown_bits |= unknown.view(np.uint8) << np.uint8(bit)
    return failed_bits, unknown_bits


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
    """Return the textbook outcome in liver surgery (2022 Delphi consensus).

    Parameters
    ----------
    intraoperative_incident_grade2_or_more, bile_leak_grade_b_or_c, liver_failure_grade_b_or_c,
    major_complication, readmission_90d, mortality_90d
        True (or 1) when the adverse event happened, False (0) when not, None/NaN unknown.
        ``major_complication`` = Clavien-Dindo >= III within 90 days; ``readmission_90d`` =
        readmission within 90 days for a surgery-related major complication.
    r0_resection
        True (1) when the resection was R0 (the good value), False (0) when R1/R2, None unknown.

    Returns
    -------
    TextbookOutcomeResult
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
    failed_bits, unknown_bits = _criterion_bits([_criterion_flags(v, k) for k, v in inputs.items()])
    # Overall code, then look-up tables: 0 achieved / 1 not achieved (any failed) / 2 not
    # assessable (none failed, some unknown).
    none, failed, unknown = np.uint8(0), np.uint8(1), np.uint8(2)
    overall = np.where(failed_bits != 0, failed, np.where(unknown_bits != 0, unknown, none))
    if scalar:
        code = int(overall)
        return TextbookOutcomeResult(
            status=str(_STATUS[code]),
            achieved=_ACHIEVED[code],
            failed_bits=int(failed_bits),
            unknown_bits=int(unknown_bits),
        )
    return TextbookOutcomeResult(
        status=lookup(_STATUS, overall),
        achieved=lookup(_ACHIEVED, overall),
        failed_bits=failed_bits,
        unknown_bits=unknown_bits,
    )


def textbook_outcome_array(**criteria: Any) -> TextbookOutcomeResult:
    """Return :func:`textbook_outcome` in array form, for a cohort table's columns.

    Same keywords (arrays of 1/0/NaN); the fields are always arrays (at least one dimension).
    """
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

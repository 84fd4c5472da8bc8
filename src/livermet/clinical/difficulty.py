"""Difficulty of laparoscopic liver resection: Kawaguchi 2018 grade.

Specified in docs/clinical.md#laparoscopic-difficulty.

Source: Kawaguchi Y, Fuks D, Kokudo N, Gayet B. Difficulty of laparoscopic liver resection:
proposal for a new classification. Ann Surg 2018;267:13-17 (abstract seen) [one source]:

- grade I (0 points): wedge resection, left lateral sectionectomy;
- grade II (2 points): anterolateral segmentectomy, left hepatectomy;
- grade III (3 points): posterosuperior segmentectomy, right posterior sectionectomy, right
  hepatectomy, central hepatectomy, extended left/right hepatectomy.

Which segments are "anterolateral" and "posterosuperior" is not in the abstract. This module reads
them as Kazaryan AM, et al. Surg Endosc 2011;25:3881-3889 (PMC3213339, abstract) defines them:
posterosuperior = S1, S4a, S7, S8; anterolateral = S2, S3, S4b, S5, S6 [one source]. So
segmentectomy 2 is grade II. A whole segment 4 (left medial sectionectomy) contains S4a and is read
as a posterosuperior segmentectomy, grade III (inference, flagged ``inferred``).

Resections that are none of these types (right anterior sectionectomy, other bisegmentectomies,
non-contiguous sets) get no grade rather than a guessed one: harder procedures do not contain
easier ones in this classification (a left lateral sectionectomy, grade I, contains the grade-II
segmentectomies 2 and 3), so no containment rule can be derived.

The Ban 2014 difficulty scoring system and the IWATE criteria are not implemented: their point
tables are not verified (docs/clinical.md#laparoscopic-difficulty; see docs/ban-iwate.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from livermet.clinical._vector import factorize, is_scalar, lookup
from livermet.clinical.anatomy import (
    PARTIAL_RESECTION_NAME,
    PARTIAL_RESECTION_SYNONYMS,
    ResectionName,
    parse_resection_name,
    parse_segment_labels,
    resection_name,
)
from livermet.errors import InputError

KAWAGUCHI_POINTS: Final[Mapping[str, int]] = {"I": 0, "II": 2, "III": 3}
"""Points of each Kawaguchi grade (Kawaguchi 2018, docs/clinical.md#laparoscopic-difficulty) [one
source]."""

KAWAGUCHI_PROCEDURE_GRADES: Final[Mapping[str, str]] = {
    "wedge resection": "I",
    "left lateral sectionectomy": "I",
    "anterolateral segmentectomy": "II",
    "left hepatectomy": "II",
    "posterosuperior segmentectomy": "III",
    "right posterior sectionectomy": "III",
    "right hepatectomy": "III",
    "central hepatectomy": "III",
    "extended left hepatectomy": "III",
    "extended right hepatectomy": "III",
}
"""Kawaguchi 2018 procedure types and their grade (docs/clinical.md#laparoscopic-difficulty) [one
source]."""

ANTEROLATERAL_LABELS: Final[frozenset[str]] = frozenset({"2", "3", "4b", "5", "6"})
"""Anterolateral segments (Kazaryan 2011, PMC3213339 abstract) [one source]."""

POSTEROSUPERIOR_LABELS: Final[frozenset[str]] = frozenset({"1", "4a", "7", "8"})
"""Posterosuperior segments (Kazaryan 2011, PMC3213339 abstract) [one source]."""

_TYPE_ALIASES: Final[Mapping[str, str]] = {
    **{name: "wedge resection" for name in (PARTIAL_RESECTION_NAME, *PARTIAL_RESECTION_SYNONYMS)},
    "wedge": "wedge resection",
    "partial hepatectomy": "wedge resection",
    "non-anatomic resection": "wedge resection",
    "nonanatomical resection": "wedge resection",
    "anterolateral segmentectomy": "anterolateral segmentectomy",
    "posterosuperior segmentectomy": "posterosuperior segmentectomy",
}
"""Spellings of the procedure types that are not anatomy names with a fixed segment set."""

_BRISBANE_TO_TYPE: Final[Mapping[str, str]] = {
    "left lateral sectionectomy": "left lateral sectionectomy",
    "left hemihepatectomy": "left hepatectomy",
    "right posterior sectionectomy": "right posterior sectionectomy",
    "right hemihepatectomy": "right hepatectomy",
    "central hepatectomy": "central hepatectomy",
    "right trisectionectomy": "extended right hepatectomy",
    "left trisectionectomy": "extended left hepatectomy",
}
"""Resection names (anatomy.resection_name, ± segment 1) that are a Kawaguchi type."""


@dataclass(frozen=True)
class _Grading:
    grade: str | None
    procedure_type: str | None
    rationale: str
    inferred: bool = False


@dataclass(frozen=True)
class KawaguchiResult:
    """Kawaguchi 2018 difficulty grade of a laparoscopic liver resection.

    Scalars when the input is one procedure, object arrays for an array of procedures.

    Attributes
    ----------
    grade
        "I", "II", "III", or None when unknown / not a Kawaguchi procedure type.
    points
        0, 2, 3 or None.
    procedure_type
        The Kawaguchi procedure type the input was read as (e.g. "right posterior
        sectionectomy", "anterolateral segmentectomy"), or None. Computed on first access, as
        are ``rationale`` and ``inferred``: a cohort graded for its grade alone does not build
        these columns.
    rationale
        One sentence saying how the grade was reached.
    inferred
        True when the grade rests on this module's reading rather than a listed type
        (whole segment 4 read as posterosuperior).
    """

    grade: Any
    points: Any
    gradings: tuple[_Grading, ...] = field(repr=False)
    """The grading of each distinct procedure (one for a single procedure)."""
    codes: Any = field(repr=False, default=None)
    """Array mode: each patient's index in ``gradings``; None for a single procedure."""

    @cached_property
    def procedure_type(self) -> Any:
        """Return the Kawaguchi procedure type the input was read as, or None."""
        return self._column([g.procedure_type for g in self.gradings])

    @cached_property
    def rationale(self) -> Any:
        """Return the sentence saying how the grade was reached."""
        return self._column([g.rationale for g in self.gradings])

    @cached_property
    def inferred(self) -> Any:
        """Return whether the grade rests on this module's reading (whole segment 4)."""
        return self._column([g.inferred for g in self.gradings])

    def _column(self, values: list[Any]) -> Any:
        """Return the value of each patient's grading (the one value for a single procedure)."""
        if self.codes is None:
            return values[0]
        table = np.empty(len(values), dtype=object)
        table[:] = values
        return lookup(table, self.codes)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _type_of_resection(resection: ResectionName) -> tuple[str | None, bool, str]:
    """Kawaguchi type of an anatomical resection, whether it is inferred, and why."""
    base = resection.name.removesuffix(" + segment 1")
    if base in _BRISBANE_TO_TYPE:
        kind = _BRISBANE_TO_TYPE[base]
        return kind, False, f"{resection.name} is the Kawaguchi type '{kind}'"
    if len(resection.labels) == 1:
        label = resection.labels[0]
        if label in ANTEROLATERAL_LABELS:
            why = f"S{label} is anterolateral (Kazaryan 2011)"
            return "anterolateral segmentectomy", False, why
        if label in POSTEROSUPERIOR_LABELS:
            why = f"S{label} is posterosuperior (Kazaryan 2011)"
            return "posterosuperior segmentectomy", False, why
        why = "a whole segment 4 includes posterosuperior S4a (inference)"
        return "posterosuperior segmentectomy", True, why
    return None, False, f"{resection.name} is not one of the Kawaguchi 2018 procedure types"


def _grading(kind: str | None, inferred: bool, why: str) -> _Grading:
    if kind is None:
        return _Grading(None, None, f"{why}; grade it by hand")
    grade = KAWAGUCHI_PROCEDURE_GRADES[kind]
    text = f"{why}: Kawaguchi 2018 grade {grade} ({KAWAGUCHI_POINTS[grade]} points)"
    return _Grading(grade, kind, text, inferred)


def _grade_segments(segments: Any, field: str) -> _Grading:
    return _grading(*_type_of_resection(resection_name(segments, field=field)))


def _grade_procedure(procedure: str, field: str) -> _Grading:
    text = _normalise(procedure)
    kind = _TYPE_ALIASES.get(text)
    if kind is not None:
        return _grading(kind, False, f"{procedure!r} is the Kawaguchi type '{kind}'")
    return _grading(*_type_of_resection(parse_resection_name(procedure, field=field)))


def _check_consistent(procedure: str, segments: Any) -> None:
    """Refuse a procedure whose name contradicts the segments given with it."""
    labels = parse_segment_labels(segments, field="segments")
    kind = _TYPE_ALIASES.get(_normalise(procedure))
    if kind == "wedge resection":
        return  # the segments only locate the tumour
    if kind in {"anterolateral segmentectomy", "posterosuperior segmentectomy"}:
        by_segments = _grade_segments(labels, "segments")
        if by_segments.procedure_type != kind:
            raise InputError(
                f"segments {', '.join(labels)} do not match procedure {procedure!r}", "segments"
            )
        return
    named = parse_resection_name(procedure, field="procedure")
    if tuple(named.labels) != labels:
        raise InputError(
            f"segments {', '.join(labels)} do not match procedure {procedure!r} "
            f"(segments {', '.join(named.labels)})",
            "segments",
        )


def _is_unknown(value: Any) -> bool:
    return value is None or (isinstance(value, float) and bool(np.isnan(value)))


def _grade_one(procedure: Any, segments: Any) -> _Grading:
    if _is_unknown(procedure):
        if segments is None:
            return _Grading(None, None, "procedure and segments unknown")
        return _grade_segments(segments, "segments")
    if not isinstance(procedure, str):
        raise InputError(f"expected a procedure name, got {procedure!r}", "procedure")
    grading = _grade_procedure(procedure, "procedure")
    if segments is not None:
        _check_consistent(procedure, segments)
    return grading


_FACTORIZE_FROM = 4096
"""Arrays from this size are split into distinct values by pandas (one hash pass in C); smaller
ones by a dict, so that grading a few procedures does not load pandas."""


def _grade_distinct(flat: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.intp], list[_Grading]]:
    """Grade each distinct value of ``flat`` once, exactly as one patient's procedure.

    A value that is no name is refused as it would be alone; ``gradings[codes[i]]`` is patient
    i's grading.
    """
    try:
        if flat.size < _FACTORIZE_FROM:
            index: dict[Any, int] = {}
            codes = np.array([index.setdefault(v, len(index)) for v in flat.tolist()], np.intp)
            return codes, [_grade_one(value, None) for value in index]
        import pandas as pd  # large arrays only

        codes, distinct = factorize(flat)  # code -1: None, NaN, pd.NA, ...
    except TypeError:  # an unhashable value is no procedure name: the first bad one raises
        for value in flat.tolist():
            _grade_one(value, None)
        raise
    for value in pd.unique(flat[codes < 0]):  # each kind of unknown, as one patient's
        _grade_one(value, None)
    return codes, [*(_grade_one(value, None) for value in distinct), _grade_one(None, None)]


def kawaguchi_grade(*, procedure: Any = None, segments: Any = None) -> KawaguchiResult:
    """Kawaguchi 2018 difficulty grade (I/II/III) of a laparoscopic liver resection.

    Parameters
    ----------
    procedure
        A Kawaguchi procedure type ("wedge resection", "anterolateral segmentectomy",
        "extended right hepatectomy", ...), a partial-resection name, or an anatomical name that
        :func:`livermet.clinical.anatomy.parse_resection_name` reads ("right posterior
        sectionectomy", "segmentectomy 7", "bisegmentectomy 6,7"). A sequence/array of such
        strings (None = unknown) grades a cohort.
    segments
        Segments resected (ints or strings, "4a"/"4b" allowed), for one procedure only. Alone, they
        are named with :func:`livermet.clinical.anatomy.resection_name` and graded; with a
        procedure they must match it (for a wedge resection they only locate the tumour).

    Returns
    -------
    KawaguchiResult

    Raises
    ------
    InputError
        Unknown procedure name ("procedure"), invalid segments or segments that contradict the
        procedure ("segments").

    Examples
    --------
    >>> kawaguchi_grade(procedure="right posterior sectionectomy").grade
    'III'
    >>> kawaguchi_grade(segments=[6, 7]).points
    3
    """
    if is_scalar(procedure):
        g = _grade_one(procedure, segments)
        points = None if g.grade is None else KAWAGUCHI_POINTS[g.grade]
        return KawaguchiResult(grade=g.grade, points=points, gradings=(g,))
    if segments is not None:
        raise InputError("segments can only be given with a single procedure", "segments")
    names = np.asarray(procedure, dtype=object)
    flat_codes, gradings = _grade_distinct(names.ravel())
    codes = flat_codes.reshape(names.shape)
    grade_table = np.empty(len(gradings), dtype=object)
    grade_table[:] = [g.grade for g in gradings]
    point_table = np.empty(len(gradings), dtype=object)
    point_table[:] = [None if g.grade is None else KAWAGUCHI_POINTS[g.grade] for g in gradings]
    return KawaguchiResult(
        grade=lookup(grade_table, codes),
        points=lookup(point_table, codes),
        gradings=tuple(gradings),
        codes=codes,
    )

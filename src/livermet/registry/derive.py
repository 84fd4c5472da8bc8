"""The columns stored beside each case document, derived through ``livermet.case``.

Nothing clinical is decided here: times come from the case timeline
(``livermet.case.timeline.build_timeline``), the grade and stage from the clinical engine with
the inputs the assessment uses (``livermet.case.assess``), computed for a whole batch of cases
in one vectorised call per score.

Survival is counted from the (first) performed liver resection, time zero. A planned liver
resection (``status: planned``) has not happened: a case whose liver resection is only planned
has no time zero (survival columns and ``approach`` None), and a planned procedure's date is never
taken as a time the patient was known alive.

- ``os_months``: to death, or to the last time the patient is known alive (the latest follow-up
  event, procedure or discharge after time zero); None when nothing is known after time zero.
- ``death``: a follow-up event of kind ``death``.
- ``efs_months`` and ``first_event``: to the first of recurrence and death after time zero
  (``"recurrence"`` when a recurrence is recorded on or before the death, ``"death"``), else
  censored at the last follow-up (``"censored"``) — the event-free survival of the cohort table
  (``tests/analysis/data/cohort.csv``; docs/registry.md#storage) and the competing-risks input
  (recurrence vs death without recurrence).
- ``grade``: the FNCLCC grade computed from its components (as the assessment does), the grade
  stated in the case when the components do not decide it (as ``grade`` of the analysis export,
  ``livermet.registry.analysis_export``).
- ``stage``: the assessment's stage at diagnosis (``staging.at_diagnosis.stage``), by the same
  functions (``livermet.case.staging.stages_at_diagnosis``: the system by site group and
  histology, ``staging_size``, ``m_at_diagnosis`` with the timing ``derived_timing`` gives, the
  computed FNCLCC grade): AJCC 8 chapter 41 or 44 stage groups, the FIGO stage of a uterine
  LMS/ESS, None for chapters without stage groups, primaries not staged, or inputs that leave
  the stage undecided. A metachronous distant metastasis is a recurrence, not part of the stage
  at diagnosis (docs/clinical.md#stage-at-diagnosis-and-recurrence); the registry stored such a
  case as stage IV before issue 12.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from livermet.case.model import Case, Procedure
from livermet.case.staging import (
    STAGE_GROUP_SYSTEMS,
    Timing,
    derived_timing,
    stages_at_diagnosis,
    system_of,
)
from livermet.case.timeline import DAYS_PER_MONTH, Timeline, build_timeline
from livermet.clinical import fnclcc
from livermet.errors import InputError


@dataclass(frozen=True)
class CaseColumns:
    """Indexed columns of one stored case."""

    age_years: int | None
    sex: str | None
    histology: str
    site_group: str
    approach: str | None
    timing: str | None
    grade: int | None
    stage: str | None
    liver_resection_day: float | None
    os_months: float | None
    death: bool
    efs_months: float | None
    first_event: str | None

    def as_row(self) -> dict[str, Any]:
        """Return the columns as a mapping of column name to value."""
        return asdict(self)


@dataclass(frozen=True)
class _Survival:
    liver_resection_day: float | None
    os_months: float | None
    death: bool
    efs_months: float | None
    first_event: str | None


def _first_events(case: Case, timeline: Timeline, zero: float) -> tuple[float | None, float | None]:
    """Return the first death and the first recurrence on or after day ``zero`` (None if none)."""
    death_day: float | None = None
    recurrence: float | None = None
    for event, day in zip(case.follow_up, timeline.follow_up_day, strict=True):
        if day is None or day < zero:
            continue
        if event.kind == "death":
            death_day = day if death_day is None else min(death_day, day)
        elif event.kind == "recurrence":
            recurrence = day if recurrence is None else min(recurrence, day)
    return death_day, recurrence


def _last_known_alive(timeline: Timeline, zero: float) -> float | None:
    """Return the latest follow-up event, performed procedure or discharge after day ``zero``."""
    planned = timeline.planned
    days = [d for d in timeline.follow_up_day if d is not None and d > zero]
    days.extend(d for pid, d in timeline.procedure_day.items() if pid not in planned and d > zero)
    days.extend(d for d in timeline.discharge_day.values() if d > zero)
    return max(days, default=None)


def survival(case: Case, timeline: Timeline) -> _Survival:
    """Overall and event-free survival from the liver resection (see the module docstring)."""
    return _survival(case, timeline, case.performed("liver_resection"))


_SurvivalValues = tuple[float | None, float | None, bool, float | None, str | None]
"""The fields of :class:`_Survival`, in their order (a plain tuple: cheaper per case)."""


def _survival(case: Case, timeline: Timeline, liver: Procedure | None) -> _Survival:
    """Return :func:`survival`, given the case's performed liver resection (or None)."""
    return _Survival(*_survival_values(case, timeline, liver))


def _survival_values(case: Case, timeline: Timeline, liver: Procedure | None) -> _SurvivalValues:
    """Return the fields of :func:`_survival`, in the order of :class:`_Survival`."""
    died = any(event.kind == "death" for event in case.follow_up)
    zero = None if liver is None else timeline.performed_day(liver.id)
    if zero is None:
        return None, None, died, None, None
    death_day, first_recurrence = _first_events(case, timeline, zero)
    end = death_day if death_day is not None else _last_known_alive(timeline, zero)
    os_months = None if end is None else (end - zero) / DAYS_PER_MONTH
    if first_recurrence is not None and (death_day is None or first_recurrence <= death_day):
        first_event: str | None = "recurrence"
        efs: float | None = (first_recurrence - zero) / DAYS_PER_MONTH
    elif death_day is not None:
        first_event, efs = "death", os_months
    else:
        first_event, efs = ("censored", os_months) if os_months is not None else (None, None)
    return zero, os_months, died, efs, first_event


def _timing(case: Case) -> str | None:
    timings = {lesion.timing for lesion in case.liver_lesions if lesion.timing}
    return timings.pop() if len(timings) == 1 else None


def _differentiation(case: Case) -> int | None:
    tumour = case.primary_tumour
    if tumour.differentiation_score is not None:
        return tumour.differentiation_score
    if tumour.histology_variant:
        return fnclcc.differentiation_score_for(f"{tumour.histology_variant} {tumour.histology}")
    return None


def _grading_inputs(case: Case) -> tuple[float, float, Any, float]:
    tumour = case.primary_tumour
    diff = _differentiation(case)
    return (
        np.nan if tumour.mitoses_per_10hpf is None else float(tumour.mitoses_per_10hpf),
        np.nan if tumour.necrosis_percent is None else float(tumour.necrosis_percent),
        tumour.necrosis_category,
        np.nan if diff is None else float(diff),
    )


def _grades(cases: Sequence[Case]) -> list[int | None]:
    """Return the FNCLCC grade computed from its components, for every case in one call."""
    if not cases:
        return []
    mitoses, necrosis_pct, necrosis_cat, diff = zip(
        *(_grading_inputs(c) for c in cases), strict=True
    )
    fn = fnclcc.fnclcc_grade(
        mitoses_per_10hpf=np.array(mitoses, dtype=float),
        necrosis_percent=np.array(necrosis_pct, dtype=float),
        necrosis_category=np.array(necrosis_cat, dtype=object),
        differentiation_score=np.array(diff, dtype=float),
    )
    computed = np.atleast_1d(np.asarray(fn.grade, dtype=float))
    return [None if np.isnan(g) else int(g) for g in computed]


def _grades_and_stages(
    cases: Sequence[Case], timings: Sequence[Timing | None]
) -> tuple[list[int | None], list[str | None]]:
    """Return the grade column and the stage at diagnosis of every case (vectorised).

    The stage is the assessment's (``staging.at_diagnosis.stage``): computed by
    :func:`livermet.case.staging.stages_at_diagnosis` from the computed FNCLCC grade (GX when
    the components do not decide it) and the timing of the distant disease.
    """
    computed = _grades(cases)
    stages = stages_at_diagnosis(cases, computed, timings)
    grades = [
        g if g is not None else case.primary_tumour.reported_grade
        for case, g in zip(cases, computed, strict=True)
    ]
    return grades, stages


def _values(
    case: Case,
    liver: Procedure | None,
    surv: _SurvivalValues,
    grade: int | None,
    stage: str | None,
) -> tuple[Any, ...]:
    """Return the columns' values in the order of :class:`CaseColumns`' fields.

    ``liver`` is the performed liver resection (or None). The approach of a planned liver
    resection is not a cohort's.
    """
    patient, tumour = case.patient, case.primary_tumour
    return (
        patient.age_years,
        patient.sex,
        tumour.histology,
        tumour.site_group,
        None if liver is None else liver.approach,
        _timing(case),
        grade,
        stage,
        *surv,
    )


def derive_columns(cases: Sequence[Case]) -> list[CaseColumns | InputError]:
    """Return the stored columns of each case, or the ``InputError`` that refuses the case.

    A case is refused when its timeline is impossible (an offset from an unknown event, a
    discharge before its operation, ...) or its grading inputs contradict each other; the error
    names the field.
    """
    return [
        value if isinstance(value, InputError) else CaseColumns(*value)
        for value in derive_values(cases)
    ]


def derive_values(cases: Sequence[Case]) -> list[tuple[Any, ...] | InputError]:
    """:func:`derive_columns` as tuples, in the order of :class:`CaseColumns`' fields.

    The bulk import's form (``livermet.registry.bulk``): the same values and errors, without a
    ``CaseColumns`` per case.
    """
    results: list[tuple[Any, ...] | InputError | None] = [None] * len(cases)
    survivals: dict[int, tuple[Procedure | None, _SurvivalValues]] = {}
    timings: dict[int, Timing | None] = {}
    for i, case in enumerate(cases):
        try:
            timeline = build_timeline(case)
            liver = case.performed("liver_resection")
            surv = _survival_values(case, timeline, liver)
            staged = system_of(case)[0] in STAGE_GROUP_SYSTEMS  # else the timing changes nothing
            timings[i] = derived_timing(case, timeline)[0] if staged else None
            survivals[i] = (liver, surv)
        except InputError as exc:
            results[i] = exc
    ok = list(survivals)
    graded: dict[int, tuple[int | None, str | None]] = {}
    try:
        grades, stages = _grades_and_stages([cases[i] for i in ok], [timings[i] for i in ok])
        graded = dict(zip(ok, zip(grades, stages, strict=True), strict=True))
    except InputError:
        # One case's inputs contradict each other: grade the cases one by one to name it.
        for i in ok:
            try:
                (grade,), (stage,) = _grades_and_stages([cases[i]], [timings[i]])
                graded[i] = (grade, stage)
            except InputError as exc:
                results[i] = InputError(exc.message, f"primary_tumour.{exc.field}")
    for i, (grade, stage) in graded.items():
        results[i] = _values(cases[i], *survivals[i], grade, stage)
    out: list[tuple[Any, ...] | InputError] = []
    for result in results:
        assert result is not None  # every case is either derived or refused above
        out.append(result)
    return out

"""The columns stored beside each case document, derived through ``livermet.case``.

Nothing clinical is decided here: times come from the case timeline
(``livermet.case.timeline.build_timeline``), the grade and stage from the clinical engine with
the inputs the assessment uses (``livermet.case.assess``), computed for a whole batch of cases
in one vectorised call.

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
  stated in the case when the components do not decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from livermet.case.model import Case
from livermet.case.timeline import DAYS_PER_MONTH, Timeline, build_timeline
from livermet.clinical import ajcc, fnclcc
from livermet.errors import InputError

STAGED_SITE_GROUPS = frozenset({"extremity", "trunk"})
"""AJCC 8 chapter staged by the clinical engine (trunk and extremity sarcoma)."""


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
        return asdict(self)


@dataclass(frozen=True)
class _Survival:
    liver_resection_day: float | None
    os_months: float | None
    death: bool
    efs_months: float | None
    first_event: str | None


def survival(case: Case, timeline: Timeline) -> _Survival:
    """Overall and event-free survival from the liver resection (see the module docstring)."""
    deaths = [
        day
        for event, day in zip(case.follow_up, timeline.follow_up_day, strict=True)
        if event.kind == "death" and day is not None
    ]
    died = any(event.kind == "death" for event in case.follow_up)
    liver = case.performed("liver_resection")  # a planned resection has not happened
    zero = None if liver is None else timeline.performed_day(liver.id)
    if zero is None:
        return _Survival(None, None, died, None, None)
    after = [
        day
        for day in (
            *timeline.follow_up_day,
            *(timeline.performed_day(pid) for pid in timeline.procedure_day),
            *timeline.discharge_day.values(),
        )
        if day is not None and day > zero
    ]
    death_day = min((d for d in deaths if d >= zero), default=None)
    if death_day is not None:
        end: float | None = death_day
    else:
        end = max(after, default=None)
    os_months = None if end is None else (end - zero) / DAYS_PER_MONTH
    recurrences = [
        day
        for event, day in zip(case.follow_up, timeline.follow_up_day, strict=True)
        if event.kind == "recurrence" and day is not None and day >= zero
    ]
    first_recurrence = min(recurrences, default=None)
    if first_recurrence is not None and (death_day is None or first_recurrence <= death_day):
        first_event: str | None = "recurrence"
        efs: float | None = (first_recurrence - zero) / DAYS_PER_MONTH
    elif death_day is not None:
        first_event, efs = "death", os_months
    else:
        first_event, efs = ("censored", os_months) if os_months is not None else (None, None)
    return _Survival(zero, os_months, died, efs, first_event)


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


def _grades_and_stages(cases: Sequence[Case]) -> tuple[list[int | None], list[str | None]]:
    """FNCLCC grade and AJCC 8 stage of every case, in one vectorised call per score."""
    # Imported here: livermet.case.assess loads the evidence engine (scipy), about a second
    # that registry commands which never derive columns need not pay.
    from livermet.case.assess import metastasis_stage, staging_size

    if not cases:
        return [], []
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
    sizes = [staging_size(c)[0] for c in cases]
    st = ajcc.ajcc8_stage(
        size_cm=np.array([np.nan if s is None else s for s in sizes], dtype=float),
        n=np.array([c.primary_tumour.nodal_status for c in cases], dtype=object),
        m=np.array([metastasis_stage(c) for c in cases], dtype=object),
        grade=computed,
    )
    stages = np.atleast_1d(np.asarray(st.stage, dtype=object))
    grades: list[int | None] = []
    out_stages: list[str | None] = []
    for case, g, s in zip(cases, computed, stages, strict=True):
        grades.append(int(g) if not np.isnan(g) else case.primary_tumour.reported_grade)
        staged = case.primary_tumour.site_group in STAGED_SITE_GROUPS
        out_stages.append(str(s) if staged and s is not None else None)
    return grades, out_stages


def _columns(case: Case, surv: _Survival, grade: int | None, stage: str | None) -> CaseColumns:
    liver = case.performed("liver_resection")  # the approach of a planned one is not a cohort's
    return CaseColumns(
        age_years=case.patient.age_years,
        sex=case.patient.sex,
        histology=case.primary_tumour.histology,
        site_group=case.primary_tumour.site_group,
        approach=None if liver is None else liver.approach,
        timing=_timing(case),
        grade=grade,
        stage=stage,
        liver_resection_day=surv.liver_resection_day,
        os_months=surv.os_months,
        death=surv.death,
        efs_months=surv.efs_months,
        first_event=surv.first_event,
    )


def derive_columns(cases: Sequence[Case]) -> list[CaseColumns | InputError]:
    """The stored columns of each case, or the ``InputError`` that makes a case unstorable.

    A case is refused when its timeline is impossible (an offset from an unknown event, a
    discharge before its operation, ...) or its grading inputs contradict each other; the error
    names the field.
    """
    results: list[CaseColumns | InputError | None] = [None] * len(cases)
    survivals: dict[int, _Survival] = {}
    for i, case in enumerate(cases):
        try:
            survivals[i] = survival(case, build_timeline(case))
        except InputError as exc:
            results[i] = exc
    ok = list(survivals)
    graded: dict[int, tuple[int | None, str | None]] = {}
    try:
        grades, stages = _grades_and_stages([cases[i] for i in ok])
        graded = dict(zip(ok, zip(grades, stages, strict=True), strict=True))
    except InputError:
        # One case's inputs contradict each other: grade the cases one by one to name it.
        for i in ok:
            try:
                (grade,), (stage,) = _grades_and_stages([cases[i]])
                graded[i] = (grade, stage)
            except InputError as exc:
                results[i] = InputError(exc.message, f"primary_tumour.{exc.field}")
    for i, (grade, stage) in graded.items():
        results[i] = _columns(cases[i], survivals[i], grade, stage)
    out: list[CaseColumns | InputError] = []
    for result in results:
        assert result is not None  # every case is either derived or refused above
        out.append(result)
    return out

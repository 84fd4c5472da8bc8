"""Dates that cannot have been observed yet: events recorded after the assessment date.

A case describes what is known on its assessment date (``assessed_on``, else today). A diagnosis,
a lesion's detection, an imaging study, a biopsy, a follow-up contact, a discharge or the start of
a systemic therapy dated after it has not happened yet, so the date is most likely mistyped (the
wrong year, day and month swapped). Each one is a warning naming its field; planned procedures,
which lie in the future by design, and performed ones (``performed-procedure-in-the-future``, see
:mod:`livermet.case.timing`) are not repeated here.
"""

from __future__ import annotations

from collections.abc import Iterator

from livermet.case.model import Case
from livermet.case.timeline import DAYS_PER_MONTH, Timeline
from livermet.case.timing import Issue

CODE = "date-after-assessment"


def _dated_events(case: Case, timeline: Timeline) -> Iterator[tuple[str, str, float | None]]:
    """Yield (field path, what, day) of every observed event of the case."""
    yield "primary_tumour.diagnosed", "diagnosis of the primary tumour", timeline.diagnosis_day
    for i, day in enumerate(timeline.lesion_detected_day):
        yield f"liver_lesions[{i}].detected", "detection of a liver lesion", day
    for i, day in enumerate(timeline.imaging_day):
        yield f"imaging[{i}].when", "imaging study", day
    for i, day in enumerate(timeline.biopsy_day):
        yield f"biopsies[{i}].when", "biopsy", day
    for i, day in enumerate(timeline.follow_up_day):
        yield f"follow_up[{i}].when", "follow-up contact", day
    for i, (started, _ended) in enumerate(timeline.therapy_days):
        yield f"systemic_therapy[{i}].started", "start of a systemic therapy", started
    for i, proc in enumerate(case.procedures):
        if timeline.happened(proc.id):
            day = timeline.discharge_day.get(proc.id)
            yield f"procedures[{i}].discharge", "discharge after a procedure", day


def future_date_issues(case: Case, timeline: Timeline) -> list[Issue]:
    """Return one warning per observed event dated after the assessment date."""
    today = timeline.assessed_day
    if today is None:
        return []
    assessed = timeline.assessed_on.isoformat() if timeline.assessed_on else "the assessment date"
    out: list[Issue] = []
    for path, what, day in _dated_events(case, timeline):
        if day is None or day <= today:
            continue
        date = timeline.date_of(day)
        when = date.isoformat() if date is not None else f"month {day / DAYS_PER_MONTH:.1f}"
        out.append(
            (
                "warning",
                CODE,
                f"The {what} ({path}) is dated {when}, after the assessment date ({assessed}): "
                "an event that has not happened yet cannot be recorded; check the date.",
            )
        )
    return out

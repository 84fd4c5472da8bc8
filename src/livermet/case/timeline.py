"""Resolve the case's times (real dates or offsets from other events) onto one axis.

Day 0 is the case's index event. Months are converted with the mean Gregorian month
(30.4375 days), so that "4 months after" comes back as 4.0 months.

Every time of the case file is placed: procedures (performed, or planned with their planned date),
discharges, follow-up, the primary's diagnosis, each liver lesion's detection, imaging and biopsy
time points, systemic therapy lines, and the assessment date (the tumour board's date: the case
file's ``assessed_on``, else the date passed by the caller, else today). A planned procedure keeps
its planned day so that other times may refer to it, but :meth:`Timeline.performed_day` and
:meth:`Timeline.happened` never count it as having happened.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from livermet.case.model import Case, Offset, Procedure, When
from livermet.errors import InputError

DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Timeline:
    """Days since the index event, for each event of the case that has a time.

    ``procedure_day`` holds planned procedures too (their planned day); ``planned`` names them.
    Lists are parallel to the case's lists (``liver_lesions``, ``imaging``, ``biopsies``,
    ``systemic_therapy``); None where the event has no time.
    """

    procedure_day: dict[str, float]
    discharge_day: dict[str, float]
    follow_up_day: list[float | None]
    index_date: dt.date | None = None
    notes: list[str] = field(default_factory=list)
    planned: frozenset[str] = frozenset()
    diagnosis_day: float | None = None
    lesion_detected_day: list[float | None] = field(default_factory=list)
    imaging_day: list[float | None] = field(default_factory=list)
    biopsy_day: list[float | None] = field(default_factory=list)
    therapy_days: list[tuple[float | None, float | None]] = field(default_factory=list)
    assessed_on: dt.date | None = None
    assessed_day: float | None = None

    def performed_day(self, procedure_id: str) -> float | None:
        """Return the day of a procedure that has happened (None if planned or untimed)."""
        if procedure_id in self.planned:
            return None
        return self.procedure_day.get(procedure_id)

    def happened(self, procedure_id: str) -> bool:
        """Return whether the procedure is recorded as performed (with or without a time)."""
        return procedure_id not in self.planned

    def date_of(self, day: float | None) -> dt.date | None:
        """Return the calendar date of a day on the axis (None without a dated index event)."""
        if day is None or self.index_date is None:
            return None
        return self.index_date + dt.timedelta(days=round(day))

    def months_between(self, start_id: str, end_id: str) -> float | None:
        """Return the months from one procedure to another (None when either has no time)."""
        start, end = self.procedure_day.get(start_id), self.procedure_day.get(end_id)
        return None if start is None or end is None else (end - start) / DAYS_PER_MONTH

    def length_of_stay_days(self, procedure_id: str) -> float | None:
        """Return the days from a procedure to its discharge (None when either has no time)."""
        start, end = self.procedure_day.get(procedure_id), self.discharge_day.get(procedure_id)
        return None if start is None or end is None else end - start

    def last_follow_up_day(self) -> float | None:
        """Return the day of the last follow-up event that has a time (None without one)."""
        known = [d for d in self.follow_up_day if d is not None]
        return max(known) if known else None


def _offset_days(offset: Offset) -> float:
    if offset.days is not None:
        return offset.days
    if offset.weeks is not None:
        return offset.weeks * 7
    if offset.months is not None:
        return offset.months * DAYS_PER_MONTH
    assert offset.years is not None  # guaranteed by Offset's validator
    return offset.years * DAYS_PER_YEAR


_Procedures = dict[str, tuple[int, Procedure]]


def _procedures_by_id(case: Case) -> _Procedures:
    """Return the case's procedures by id, with their list index (the index event among them)."""
    procedures = {p.id: (i, p) for i, p in enumerate(case.procedures)}
    if case.index_event not in procedures:
        raise InputError(
            f"no procedure has the id {case.index_event!r}; known ids: "
            f"{', '.join(procedures) or 'none'}",
            "index_event",
        )
    return procedures


class _Resolver:
    """Turns times (calendar dates or offsets from procedures) into days since the index event.

    ``resolved`` collects the day of each procedure placed so far.
    """

    def __init__(self, procedures: _Procedures, index_event: str) -> None:
        self.procedures = procedures
        self.index_event = index_event
        index_when = procedures[index_event][1].when
        self.index_date = index_when if isinstance(index_when, dt.date) else None
        self.resolved: dict[str, float] = {}

    def resolve(self, when: When, path: str, visiting: tuple[str, ...] = ()) -> float:
        """Return the day of a time; ``visiting`` holds the events being resolved."""
        if isinstance(when, dt.date):
            if self.index_date is None:
                raise InputError(
                    "a calendar date needs the index event to have a calendar date too", path
                )
            return float((when - self.index_date).days)
        return self.day_of(when.after, f"{path}.after", visiting) + _offset_days(when)

    def optional(self, when: When | None, path: str) -> float | None:
        """Return the day of a time, or None when there is none."""
        return None if when is None else self.resolve(when, path)

    def day_of(self, event_id: str, path: str, visiting: tuple[str, ...] = ()) -> float:
        """Return the day of a procedure (the index event is day 0).

        An unknown, untimed or circular reference raises.
        """
        if event_id in self.resolved:
            return self.resolved[event_id]
        if event_id not in self.procedures:
            raise InputError(f"refers to an unknown event {event_id!r}", path)
        if event_id in visiting:
            raise InputError(f"circular time reference through {event_id!r}", path)
        i, proc = self.procedures[event_id]
        if event_id == self.index_event:
            day = 0.0
        elif proc.when is None:
            raise InputError(f"event {event_id!r} has no time", f"procedures[{i}].when")
        else:
            day = self.resolve(proc.when, f"procedures[{i}].when", (*visiting, event_id))
        self.resolved[event_id] = day
        return day


def _discharge_days(resolver: _Resolver) -> dict[str, float]:
    """Return the discharge day by procedure id.

    A discharge of a planned operation, or before the operation, raises.
    """
    discharge: dict[str, float] = {}
    for pid, (i, proc) in resolver.procedures.items():
        if proc.discharge is None:
            continue
        if proc.status == "planned":
            raise InputError(
                "a planned operation has no discharge; set status: performed or remove it",
                f"procedures[{i}].discharge",
            )
        day = resolver.resolve(proc.discharge, f"procedures[{i}].discharge")
        if pid in resolver.resolved and day < resolver.resolved[pid]:
            raise InputError(
                f"discharge is {resolver.resolved[pid] - day:g} days before the operation itself",
                f"procedures[{i}].discharge",
            )
        discharge[pid] = day
    return discharge


def _therapy_days(case: Case, resolver: _Resolver) -> list[tuple[float | None, float | None]]:
    """Return the (start, end) day of each systemic therapy line.

    An end before the start raises.
    """
    therapy: list[tuple[float | None, float | None]] = []
    for i, line in enumerate(case.systemic_therapy):
        start = resolver.optional(line.started, f"systemic_therapy[{i}].started")
        end = resolver.optional(line.ended, f"systemic_therapy[{i}].ended")
        if start is not None and end is not None and end < start:
            raise InputError(
                f"the therapy ends {start - end:g} days before it starts",
                f"systemic_therapy[{i}].ended",
            )
        therapy.append((start, end))
    return therapy


def build_timeline(case: Case, *, today: dt.date | None = None) -> Timeline:
    """Place every timed event of ``case`` on the day axis of its index event.

    ``today`` is the assessment date when the case file gives none (default: the system date).

    Raises
    ------
    InputError
        for an offset from an unknown event, a circular reference, a real date when the index
        event has none, a discharge before its operation, a discharge of a planned operation, or
        a systemic therapy that ends before it starts (the field path is named).
    """
    resolver = _Resolver(_procedures_by_id(case), case.index_event)
    for pid, (i, proc) in resolver.procedures.items():
        if proc.when is not None or pid == case.index_event:
            resolver.day_of(pid, f"procedures[{i}].when")
    discharge = _discharge_days(resolver)
    follow_up = [
        resolver.resolve(ev.when, f"follow_up[{i}].when") for i, ev in enumerate(case.follow_up)
    ]
    optional = resolver.optional
    diagnosed = optional(case.primary_tumour.diagnosed, "primary_tumour.diagnosed")
    detected = [
        optional(lesion.detected, f"liver_lesions[{i}].detected")
        for i, lesion in enumerate(case.liver_lesions)
    ]
    imaging = [optional(im.when, f"imaging[{i}].when") for i, im in enumerate(case.imaging)]
    biopsies = [optional(b.when, f"biopsies[{i}].when") for i, b in enumerate(case.biopsies)]
    therapy = _therapy_days(case, resolver)
    index_date = resolver.index_date
    assessed_on = case.assessed_on or today or dt.date.today()
    assessed_day = None if index_date is None else float((assessed_on - index_date).days)
    return Timeline(
        resolver.resolved,
        discharge,
        list(follow_up),
        index_date,
        planned=frozenset(p.id for p in case.procedures if p.status == "planned"),
        diagnosis_day=diagnosed,
        lesion_detected_day=detected,
        imaging_day=imaging,
        biopsy_day=biopsies,
        therapy_days=therapy,
        assessed_on=assessed_on,
        assessed_day=assessed_day,
    )

"""Resolve the case's times (real dates or offsets from other events) onto one axis.

Day 0 is the case's index event. Months are converted with the mean Gregorian month
(30.4375 days), so that "4 months after" comes back as 4.0 months.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from livermet.case.model import Case, Offset, When
from livermet.errors import InputError

DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Timeline:
    """Days since the index event, for each procedure and follow-up event that has a time."""

    procedure_day: dict[str, float]
    discharge_day: dict[str, float]
    follow_up_day: list[float | None]
    index_date: dt.date | None = None
    notes: list[str] = field(default_factory=list)

    def months_between(self, start_id: str, end_id: str) -> float | None:
        start, end = self.procedure_day.get(start_id), self.procedure_day.get(end_id)
        return None if start is None or end is None else (end - start) / DAYS_PER_MONTH

    def length_of_stay_days(self, procedure_id: str) -> float | None:
        start, end = self.procedure_day.get(procedure_id), self.discharge_day.get(procedure_id)
        return None if start is None or end is None else end - start

    def last_follow_up_day(self) -> float | None:
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


def build_timeline(case: Case) -> Timeline:
    """Place every timed event of ``case`` on the day axis of its index event.

    Raises
    ------
    InputError
        for an offset from an unknown event, a circular reference, a real date when the index
        event has none, or a discharge before its operation (the field path is named).
    """
    procedures = {p.id: (i, p) for i, p in enumerate(case.procedures)}
    if case.index_event not in procedures:
        raise InputError(
            f"no procedure has the id {case.index_event!r}; known ids: "
            f"{', '.join(procedures) or 'none'}",
            "index_event",
        )
    index_when = procedures[case.index_event][1].when
    index_date = index_when if isinstance(index_when, dt.date) else None
    resolved: dict[str, float] = {}

    def resolve(when: When, path: str, visiting: tuple[str, ...]) -> float:
        if isinstance(when, dt.date):
            if index_date is None:
                raise InputError(
                    "a calendar date needs the index event to have a calendar date too", path
                )
            return float((when - index_date).days)
        return day_of(when.after, f"{path}.after", visiting) + _offset_days(when)

    def day_of(event_id: str, path: str, visiting: tuple[str, ...]) -> float:
        if event_id in resolved:
            return resolved[event_id]
        if event_id not in procedures:
            raise InputError(f"refers to an unknown event {event_id!r}", path)
        if event_id in visiting:
            raise InputError(f"circular time reference through {event_id!r}", path)
        i, proc = procedures[event_id]
        if event_id == case.index_event:
            day = 0.0
        elif proc.when is None:
            raise InputError(f"event {event_id!r} has no time", f"procedures[{i}].when")
        else:
            day = resolve(proc.when, f"procedures[{i}].when", (*visiting, event_id))
        resolved[event_id] = day
        return day

    for pid, (i, proc) in procedures.items():
        if proc.when is not None or pid == case.index_event:
            day_of(pid, f"procedures[{i}].when", ())

    discharge: dict[str, float] = {}
    for pid, (i, proc) in procedures.items():
        if proc.discharge is None:
            continue
        day = resolve(proc.discharge, f"procedures[{i}].discharge", ())
        if pid in resolved and day < resolved[pid]:
            raise InputError(
                f"discharge is {resolved[pid] - day:g} days before the operation itself",
                f"procedures[{i}].discharge",
            )
        discharge[pid] = day

    follow_up = [
        resolve(ev.when, f"follow_up[{i}].when", ()) for i, ev in enumerate(case.follow_up)
    ]
    return Timeline(resolved, discharge, list(follow_up), index_date)

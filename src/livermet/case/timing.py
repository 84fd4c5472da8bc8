"""Timing of the liver metastases and the disease-free interval, from the case's dates.

The rules live in :mod:`livermet.clinical.timing`; this module finds the dates in the case file:

- the anchor: the primary's diagnosis (``primary_tumour.diagnosed``), else its resection when
  performed;
- each lesion's first detection: its ``detected`` time, else the first dated imaging of the liver
  (of the lesion's segments when the imaging lists segments) or liver biopsy in the file;
- the resection of the primary (performed only; a planned resection has not happened).

A lesion whose dates are not known keeps the timing the case file states. The timing of the
patient's liver disease is that of the first liver metastasis: synchronous when any lesion is.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Literal

from livermet.case.model import Case, LiverLesion
from livermet.case.timeline import DAYS_PER_MONTH, Timeline
from livermet.clinical import anatomy
from livermet.clinical.timing import (
    ALSO_REPORTED,
    DEFAULT_SCHEME,
    DFI_DEFINITION,
    SCHEME_CHOICE_NOTE,
    TimingResult,
    TimingScheme,
    classify_timing,
    disease_free_interval,
)

DetectionBasis = Literal["detected", "first liver imaging", "first liver biopsy"]
Issue = tuple[Literal["warning", "info"], str, str]
"""(severity, code, message) of a finding; livermet.case.findings wraps it."""


@dataclass(frozen=True)
class Detection:
    """When a lesion was first seen, and which field says so."""

    day: float | None
    basis: DetectionBasis | None


@functools.lru_cache(maxsize=4096)
def _parsed_segments(segments: tuple[tuple[type, int | str], ...], field: str) -> frozenset[int]:
    """Return :func:`anatomy.parse_segments` of the segments (each given with its type).

    Remembered (a cohort repeats the same few lists): the parse depends on the values and the
    field only; the type is part of the key, so that ``True`` is never taken for ``1``.
    """
    return frozenset(anatomy.parse_segments([value for _, value in segments], field=field))


def _segment_set(segments: list[int | str], field: str) -> frozenset[int]:
    try:
        return _parsed_segments(tuple((type(value), value) for value in segments), field)
    except TypeError:  # an unhashable value (a case built without validation): parse it anyway
        return frozenset(anatomy.parse_segments(segments, field=field))


def _segments(lesion: LiverLesion, i: int) -> frozenset[int]:
    return _segment_set(lesion.segments, f"liver_lesions[{i}].segments")


def lesion_detections(case: Case, timeline: Timeline) -> list[Detection]:
    """Return the first detection of each liver lesion (parallel to the lesions)."""
    out: list[Detection] = []
    for i, lesion in enumerate(case.liver_lesions):
        day = timeline.lesion_detected_day[i] if i < len(timeline.lesion_detected_day) else None
        if day is not None:
            out.append(Detection(day, "detected"))
            continue
        segments = _segments(lesion, i)
        candidates: list[tuple[float, DetectionBasis]] = []
        for j, im in enumerate(case.imaging):
            im_day = timeline.imaging_day[j] if j < len(timeline.imaging_day) else None
            if im_day is None or "liver" not in im.target.lower():
                continue
            # A liver imaging that names no segment (the model allows it) saw the whole liver.
            im_segments = (
                _segment_set(im.segments, f"imaging[{j}].segments") if im.segments else frozenset()
            )
            if not im_segments or im_segments & segments:
                candidates.append((im_day, "first liver imaging"))
        for j, biopsy in enumerate(case.biopsies):
            b_day = timeline.biopsy_day[j] if j < len(timeline.biopsy_day) else None
            if b_day is not None and "liver" in biopsy.target.lower():
                candidates.append((b_day, "first liver biopsy"))
        if candidates:
            first = min(candidates, key=lambda c: c[0])
            out.append(Detection(first[0], first[1]))
        else:
            out.append(Detection(None, None))
    return out


def _anchor(case: Case, timeline: Timeline) -> tuple[float | None, str | None]:
    if timeline.diagnosis_day is not None:
        return timeline.diagnosis_day, "diagnosis of the primary"
    primary = case.performed("primary_resection")
    day = None if primary is None else timeline.performed_day(primary.id)
    if day is not None:
        return day, "resection of the primary (its diagnosis date is not known)"
    return None, None


def _months(days: float | None) -> float | None:
    return None if days is None else _r(days / DAYS_PER_MONTH)


def _r(value: float) -> float | int:
    rounded = round(value, 2)
    return int(rounded) if float(rounded).is_integer() else rounded


def _label(lesion: LiverLesion, i: int) -> str:
    segs = ", ".join(str(s) for s in lesion.segments)
    name = lesion.id or f"lesion {i + 1}"
    return f"{name} (segment{'s' if len(lesion.segments) > 1 else ''} {segs})"


def _iso(timeline: Timeline, day: float | None) -> str | None:
    date = timeline.date_of(day)
    return None if date is None else date.isoformat()


def _scheme_dict(scheme: TimingScheme) -> dict[str, Any]:
    return {"scheme": scheme.key, "definition": scheme.definition, "source": scheme.source}


@dataclass(frozen=True)
class LesionTiming:
    """One lesion's timing: from the dates when they are known, else as stated."""

    detection: Detection
    interval_days: float | None
    derived: TimingResult | None
    others: tuple[TimingResult, ...]
    stated: str | None

    @property
    def timing(self) -> str | None:
        """Timing from the dates when known, else as stated (None when neither)."""
        return self.derived.timing if self.derived is not None else self.stated

    @property
    def basis(self) -> str | None:
        """Where the timing comes from: "dates", "stated" or None."""
        if self.derived is not None:
            return "dates"
        return "stated" if self.stated else None


def lesion_timings(case: Case, timeline: Timeline) -> list[LesionTiming]:
    """Return each liver lesion's timing (parallel to ``case.liver_lesions``)."""
    anchor, _ = _anchor(case, timeline)
    out = []
    for lesion, det in zip(case.liver_lesions, lesion_detections(case, timeline), strict=True):
        interval = None if anchor is None or det.day is None else det.day - anchor
        derived = None if interval is None else classify_timing(interval, DEFAULT_SCHEME)
        others = (
            ()
            if interval is None
            else tuple(classify_timing(interval, scheme) for scheme in ALSO_REPORTED)
        )
        out.append(LesionTiming(det, interval, derived, others, lesion.timing))
    return out


def timing_section(case: Case, timeline: Timeline) -> dict[str, Any]:
    """Return the ``timeline`` keys of the metastasis timing and the disease-free interval."""
    anchor, anchor_name = _anchor(case, timeline)
    timings = lesion_timings(case, timeline)
    resolved = {t.timing for t in timings if t.timing}
    overall = (
        "synchronous"
        if "synchronous" in resolved
        else ("metachronous" if "metachronous" in resolved else None)
    )
    deciding = [t for t in timings if t.timing == overall]
    basis = None
    if deciding:
        basis = "dates" if any(t.basis == "dates" for t in deciding) else "stated"
    dated = [t for t in timings if t.detection.day is not None]
    first = min(dated, key=lambda t: t.detection.day or 0.0) if dated else None
    first_day = None if first is None else first.detection.day
    primary = case.performed("primary_resection")
    primary_day = None if primary is None else timeline.performed_day(primary.id)
    from_diagnosis = (
        None
        if first_day is None or timeline.diagnosis_day is None
        else first_day - timeline.diagnosis_day
    )
    from_resection = None if first_day is None or primary_day is None else first_day - primary_day
    category = None
    if first is not None and first.derived is not None:
        category = first.derived.category
    elif overall == "synchronous":
        category = "synchronous"
    dfi = disease_free_interval(
        primary_resected=primary is not None,
        resection_to_detection_days=from_resection,
        margin=None if primary is None else primary.margin,
        synchronous=overall == "synchronous" if case.liver_lesions else None,
    )
    if not case.liver_lesions:
        dfi_months, dfi_status, dfi_reason = None, "not assessable", "no liver lesion is recorded"
    else:
        dfi_months, dfi_status, dfi_reason = dfi.months, dfi.status, dfi.reason
    return {
        "metastasis_timing": overall,
        "metastasis_timing_basis": basis,
        "timing": {
            **_scheme_dict(DEFAULT_SCHEME),
            "choice": SCHEME_CHOICE_NOTE,
            "anchor": anchor_name,
            "anchor_date": _iso(timeline, anchor),
            "first_detection_date": _iso(timeline, first_day),
            "first_detection_month": None if first_day is None else _months(first_day),
            "first_detection_basis": None if first is None else first.detection.basis,
            "months_from_diagnosis": _months(from_diagnosis),
            "months_from_primary_resection": _months(from_resection),
            "category": category,
            "other_definitions": [
                {**_scheme_dict(r.scheme), "timing": r.timing, "category": r.category}
                for r in (first.others if first is not None else ())
            ],
            "lesions": [
                {
                    "id": lesion.id,
                    "segments": list(lesion.segments),
                    "detected_date": _iso(timeline, t.detection.day),
                    "detected_month": _months(t.detection.day),
                    "detected_basis": t.detection.basis,
                    "months_from_anchor": _months(t.interval_days),
                    "timing": t.timing,
                    "category": None if t.derived is None else t.derived.category,
                    "basis": t.basis,
                    "stated": t.stated,
                }
                for lesion, t in zip(case.liver_lesions, timings, strict=True)
            ],
        },
        "disease_free_interval_months": None if dfi_months is None else _r(dfi_months),
        "disease_free_interval_status": dfi_status,
        "disease_free_interval_reason": dfi_reason,
        "disease_free_interval_definition": DFI_DEFINITION,
    }


def _when(timeline: Timeline, day: float) -> str:
    date = timeline.date_of(day)
    return date.isoformat() if date is not None else f"month {day / DAYS_PER_MONTH:.1f}"


def timing_issues(case: Case, timeline: Timeline) -> list[Issue]:
    """Find stated timings the dates contradict, and procedures dated out of order."""
    out: list[Issue] = []
    anchor, anchor_name = _anchor(case, timeline)
    for i, (lesion, t) in enumerate(
        zip(case.liver_lesions, lesion_timings(case, timeline), strict=True)
    ):
        if t.derived is None or t.stated is None or t.stated == t.derived.timing:
            continue
        assert t.interval_days is not None and t.detection.day is not None and anchor is not None
        agree = [o.scheme.short for o in t.others if o.timing == t.stated]
        aside = f"; {t.stated} by the definition of {', '.join(agree)}" if agree else ""
        out.append(
            (
                "warning",
                "metastasis-timing-discordant",
                f"The liver lesion {_label(lesion, i)} is stated to be {t.stated}, but it was "
                f"first seen on {_when(timeline, t.detection.day)}, "
                f"{t.interval_days / DAYS_PER_MONTH:.1f} months after the {anchor_name}: "
                f"{t.derived.category} by the consensus definition ({DEFAULT_SCHEME.short})"
                f"{aside}.",
            )
        )
    out += _liver_resection_order(case, timeline)
    out += _status_against_assessment_date(case, timeline)
    return out


def _liver_resection_order(case: Case, timeline: Timeline) -> list[Issue]:
    primary = case.performed("primary_resection")
    primary_day = None if primary is None else timeline.performed_day(primary.id)
    out: list[Issue] = []
    for proc in case.procedures:
        if proc.kind != "liver_resection" or proc.status != "performed":
            continue
        day = timeline.performed_day(proc.id)
        if day is None:
            continue
        name = proc.name or "liver resection"
        if timeline.diagnosis_day is not None and day < timeline.diagnosis_day:
            out.append(
                (
                    "warning",
                    "liver-resection-before-primary",
                    f"The {name} ({_when(timeline, day)}) is dated before the diagnosis of the "
                    f"primary tumour ({_when(timeline, timeline.diagnosis_day)}); check the dates.",
                )
            )
        elif primary_day is not None and day < primary_day:
            severity: Literal["warning", "info"] = (
                "info" if timeline.diagnosis_day is not None else "warning"
            )
            out.append(
                (
                    severity,
                    "liver-resection-before-primary",
                    f"The {name} ({_when(timeline, day)}) is dated before the resection of the "
                    f"primary tumour ({_when(timeline, primary_day)})"
                    + (
                        ": a liver-first sequence; check the dates if it was not."
                        if severity == "info"
                        else "; check the dates."
                    ),
                )
            )
    return out


def _status_against_assessment_date(case: Case, timeline: Timeline) -> list[Issue]:
    today = timeline.assessed_day
    if today is None:
        return []
    out: list[Issue] = []
    assessed = timeline.assessed_on.isoformat() if timeline.assessed_on else ""
    for proc in case.procedures:
        day = timeline.procedure_day.get(proc.id)
        if day is None:
            continue
        name = proc.name or proc.kind.replace("_", " ")
        if proc.status == "planned" and day < today:
            out.append(
                (
                    "warning",
                    "planned-procedure-in-the-past",
                    f"The planned {name} is dated {_when(timeline, day)}, before the assessment "
                    f"date ({assessed}): if it has been performed, record it as performed.",
                )
            )
        elif proc.status == "performed" and day > today:
            out.append(
                (
                    "warning",
                    "performed-procedure-in-the-future",
                    f"The {name} is recorded as performed but dated {_when(timeline, day)}, after "
                    f"the assessment date ({assessed}): if it is planned, record it as planned.",
                )
            )
    return out


def phase(case: Case) -> Literal["pre-operative", "post-operative"]:
    """Return the phase of the case: ``pre-operative`` or ``post-operative``.

    ``pre-operative`` when a liver resection is planned or none is recorded, ``post-operative``
    when one has been performed and none is planned.
    """
    if case.planned("liver_resection") is not None:
        return "pre-operative"
    return "post-operative" if case.performed("liver_resection") is not None else "pre-operative"


def assessment_date(timeline: Timeline) -> dt.date | None:
    """Return the tumour board's date the timeline was built with."""
    return timeline.assessed_on

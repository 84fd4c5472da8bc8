"""RECIST 1.1 response of the case's imaging time points (``response.recist`` of the assessment).

The rules live in :mod:`livermet.clinical.recist` (Eisenhauer EA, et al. Eur J Cancer
2009;45:228-247); this module takes the case's ``imaging[].measurements`` and ``new_lesions``,
orders the time points on the case's timeline, and says which systemic therapy (if any) ran
between the baseline and the current time point, so that the response can be read as a response
to chemotherapy (a prognostic factor after liver resection of sarcoma metastases: Tirotta F, et
al. Eur J Surg Oncol 2020).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from livermet.case.model import Case, Imaging
from livermet.case.timeline import DAYS_PER_MONTH, Timeline
from livermet.clinical import recist

BASELINE_BEFORE_TREATMENT_DAYS: Final = 28
"""RECIST 1.1 asks for baseline imaging at most 4 weeks before the start of treatment
(Eisenhauer 2009)."""

RESPONDING: Final = ("CR", "PR")
"""Documented default: "response to chemotherapy" is read as an objective response (RECIST CR or
PR); stable disease and progression count as no response. The prognostic series (Tirotta 2020)
contrast response with non-response without a RECIST definition."""

TIROTTA: Final = (
    "Tirotta F, et al. Eur J Surg Oncol 2020 (systematic review and two European centres)"
)


def _num(value: float | None, digits: int = 1) -> float | int | None:
    if value is None:
        return None
    r = round(value, digits)
    return int(r) if float(r).is_integer() else r


def _not_assessable(missing: list[str]) -> dict[str, Any]:
    return {
        "status": "not assessable",
        "missing": missing,
        "category": None,
        "source": recist.SOURCE,
    }


def _label(im: Imaging, day: float | None, timeline: Timeline) -> str:
    if isinstance(im.when, dt.date):
        return im.when.isoformat()
    date = timeline.date_of(day) if hasattr(timeline, "date_of") else None
    if date is not None:
        return date.isoformat()
    if day is not None:
        return f"month {day / DAYS_PER_MONTH:.1f}"
    return "undated"


def _time_points(
    case: Case, timeline: Timeline
) -> tuple[list[tuple[recist.TimePoint, float | None]], list[str]]:
    days: list[float | None] = list(getattr(timeline, "imaging_day", []))
    days += [None] * (len(case.imaging) - len(days))
    chosen = [
        i for i, im in enumerate(case.imaging) if im.measurements or im.new_lesions is not None
    ]
    notes: list[str] = []
    if any(days[i] is None for i in chosen):
        if len(chosen) > 1:
            notes.append(
                "Some imaging time points have no date: they are taken in the order of the file."
            )
    else:
        chosen.sort(key=lambda i: days[i] or 0.0)
    points = []
    for i in chosen:
        im = case.imaging[i]
        lesions = tuple(
            recist.Lesion(
                lesion=m.lesion,
                diameter_mm=recist.diameter_mm(m.diameter, f"imaging[{i}].measurements[{j}]"),
                organ=m.organ,
                target=m.target,
                lymph_node=m.lymph_node,
            )
            for j, m in enumerate(im.measurements)
        )
        label = _label(im, days[i], timeline)
        points.append((recist.TimePoint(label, lesions, im.new_lesions), days[i]))
    return points, notes


def _therapies(
    case: Case, timeline: Timeline, start: float | None, end: float | None
) -> tuple[list[str], list[str]]:
    """Return the regimens given between two imaging days, and a late-baseline note."""
    spans: list[tuple[float | None, float | None]] = list(getattr(timeline, "therapy_days", []))
    if start is None or end is None:
        return [], []
    regimens: list[str] = []
    notes: list[str] = []
    for line, (began, ended) in zip(case.systemic_therapy, spans, strict=False):
        if began is None or began >= end or (ended is not None and ended <= start):
            continue
        regimens.append(line.regimen)
        gap = began - start
        if gap > BASELINE_BEFORE_TREATMENT_DAYS:
            notes.append(
                f"Baseline imaging {gap / 7:.1f} weeks before the start of {line.regimen}; "
                f"RECIST 1.1 asks for at most {BASELINE_BEFORE_TREATMENT_DAYS // 7} weeks."
            )
    return regimens, notes


def recist_section(case: Case, timeline: Timeline) -> dict[str, Any]:
    """Return the ``response.recist`` section: RECIST 1.1 from the imaging time points.

    Baseline, nadir and current sums, changes, category and rule.
    """
    points, notes = _time_points(case, timeline)
    measured = [(tp, day) for tp, day in points if tp.lesions]
    if not measured:
        return _not_assessable(["imaging time points with lesion measurements"])
    first = next(
        (k for k, (tp, _) in enumerate(points) if any(les.target for les in tp.lesions)),
        next(k for k, (tp, _) in enumerate(points) if tp.lesions),
    )
    if first == len(points) - 1:
        return _not_assessable(["an imaging time point with measurements after the baseline"])
    result = recist.recist_response([tp for tp, _ in points])
    cur = result.current
    base_day, cur_day = points[first][1], points[-1][1]
    regimens, therapy_notes = _therapies(case, timeline, base_day, cur_day)
    chemo = bool(regimens)
    return {
        "status": "assessed",
        "missing": [],
        "baseline": {"date": result.baseline_label, "sum_mm": _num(result.baseline_mm)},
        "nadir": {"date": cur.nadir_label, "sum_mm": _num(cur.nadir_mm)},
        "current": {"date": cur.label, "sum_mm": _num(cur.sum_mm)},
        "percent_change_from_baseline": _num(cur.percent_change_from_baseline),
        "percent_change_from_nadir": _num(cur.percent_change_from_nadir),
        "change_from_nadir_mm": _num(cur.change_from_nadir_mm),
        "target_response": cur.target_response,
        "non_target_response": cur.non_target_response,
        "new_lesions": cur.new_lesions,
        "category": cur.category,
        "rule": cur.rule,
        "systemic_therapy_between": regimens,
        "response_to_chemotherapy": None
        if not chemo
        else ("response" if cur.category in RESPONDING else "no response"),
        "response_definition": "response to chemotherapy = RECIST CR or PR (objective "
        "response); documented default",
        "time_points": [
            {
                "date": r.label,
                "sum_mm": _num(r.sum_mm),
                "percent_change_from_baseline": _num(r.percent_change_from_baseline),
                "category": r.category,
            }
            for r in result.responses
        ],
        "notes": [*notes, *result.notes, *therapy_notes],
        "source": recist.SOURCE,
    }


def response_reasons(data: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Return the reasons for the liver-resection option from the RECIST response.

    Each reason is (text, source, supports). Empty when no response could be assessed. A response to
    chemotherapy is prognostic after liver resection of sarcoma metastases (non-response adverse:
    Tirotta 2020); progression on imaging without chemotherapy means the images the plan rests on
    are out of date.
    """
    rec = (data.get("response") or {}).get("recist") or {}
    category = rec.get("category")
    if rec.get("status") != "assessed" or category in (None, "NE"):
        return []
    pct = rec.get("percent_change_from_baseline")
    change = "" if pct is None else f", {pct:+g} % from baseline"
    span = f"{rec['baseline']['date']} to {rec['current']['date']}"
    regimens = rec.get("systemic_therapy_between") or []
    source = f"{recist.SOURCE}; {TIROTTA}"
    if regimens:
        on = " + ".join(regimens) if len(regimens) < 3 else f"{len(regimens)} regimens"
        if category in RESPONDING:
            text = (
                f"The liver metastases responded to {on} (RECIST 1.1 {category}{change}, {span}); "
                "non-response to chemotherapy is associated with shorter survival after liver "
                "resection of sarcoma metastases."
            )
            return [(text, source, True)]
        what = {
            "PD": "progressed on",
            "SD": "were stable, without an objective response, on",
        }.get(category, "showed no objective response to")
        text = (
            f"The liver metastases {what} {on} (RECIST 1.1 {category}{change}, {span}); "
            "lack of response to chemotherapy is associated with shorter survival after liver "
            "resection of sarcoma metastases."
        )
        return [(text, source, False)]
    if category == "PD":
        text = (
            f"The disease progressed on imaging ({span}, RECIST 1.1 PD: {rec['rule']}); a plan "
            "drawn on the earlier images may no longer clear every lesion."
        )
        return [(text, recist.SOURCE, False)]
    return []

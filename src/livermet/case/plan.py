"""The liver-resection plan against the patient's lesions.

Coverage, the smallest resections that clear every lesion within the Makuuchi limit, ablation
eligibility, PVE / two-stage hepatectomy, and the approach.

The rules live in ``livermet.clinical`` (:mod:`~livermet.clinical.clearing`,
:mod:`~livermet.clinical.ablation`, :mod:`~livermet.clinical.difficulty`); this module gathers the
case's facts, builds the ``resection`` keys and ``liver_lesions[]`` of the assessment, and the
findings about the plan.

Coverage: a lesion is covered when all its segments are in the planned (or performed) liver
resection's ``segments_resected`` (a resected segment 4 covers a lesion in 4a or 4b), or in the
``target_segments`` of a planned or performed ``liver_ablation``. A lesion outside both is left
behind: a warning finding that names it, and the resection option cannot be favoured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from livermet.case.model import Case, Procedure, measure
from livermet.case.timeline import Timeline
from livermet.case.timing import Issue, lesion_timings
from livermet.clinical import ablation, anatomy, clearing
from livermet.clinical.extent import ResectionExtent
from livermet.clinical.recist import diameter_mm

LAPAROSCOPIC_APPROACHES: Final = frozenset({"laparoscopic", "robotic", "hand-assisted", "hybrid"})
"""Approaches the laparoscopic difficulty grade applies to: pure laparoscopic, hand-assisted and
hybrid are the three laparoscopic liver resections of the Louisville statement (Buell JF, et al.
Ann Surg 2009;250:825-830); robotic resection is graded with them (engineering choice)."""

PVE_SOURCE: Final = (
    "Vauthey JN, et al. Surgery 2000; van Lienden KP, et al. Cardiovasc Intervent Radiol 2013; "
    "Shindoh J, et al. J Am Coll Surg 2013 (colorectal liver metastases)"
)
TWO_STAGE_SOURCE: Final = (
    "Kawaguchi Y, Lillemoe HA, Vauthey JN. J Surg Oncol 2019; Heil J, Schadde E. Langenbecks "
    "Arch Surg 2021 (colorectal liver metastases)"
)
CASE_REPORT: Final = "Tsuzaka et al., Surg Case Rep 2022"
MAKUUCHI_SOURCE: Final = (
    "Makuuchi M, et al. Semin Surg Oncol 1993; Imamura H, et al. Arch Surg 2003"
)


@dataclass(frozen=True)
class LesionCoverage:
    """One liver lesion against the plan."""

    index: int
    id: str | None
    segments: tuple[int, ...]
    labels: tuple[str, ...]
    size_mm: float | None
    number: int
    covered_by_plan: bool | None
    covered_by: str | None
    outside: tuple[str, ...]  # labels of the lesion outside the resection and the ablations


def fmt_mm(mm: float) -> str:
    """Format a size as the findings print it: 34 mm, 120 mm → "12 cm"."""
    return f"{mm / 10:g} cm" if mm >= 100 else f"{mm:g} mm"


def _segment_words(labels: tuple[str, ...] | list[str]) -> str:
    return f"segment{'s' if len(labels) != 1 else ''} {', '.join(labels)}"


def _outside(lesion: tuple[str, ...], plan: set[str]) -> tuple[str, ...]:
    """Return the labels of the lesion outside ``plan`` (segment 4 contains 4a and 4b)."""
    return tuple(
        label
        for label in lesion
        if label not in plan
        and not (label in anatomy.SUBSEGMENTS and "4" in plan)
        and not (label == "4" and {"4a", "4b"} <= plan)
    )


def _resection(case: Case) -> tuple[int, Procedure] | None:
    proc = case.procedure("liver_resection")
    return None if proc is None else (case.procedures.index(proc), proc)


def _ablated(case: Case) -> set[str]:
    labels: set[str] = set()
    for i, proc in enumerate(case.procedures):
        if proc.kind == "liver_ablation" and proc.target_segments:
            labels.update(
                anatomy.parse_segment_labels(
                    proc.target_segments, field=f"procedures[{i}].target_segments"
                )
            )
    return labels


def lesion_coverage(case: Case) -> list[LesionCoverage]:
    """Return each liver lesion against the liver resection and the ablations.

    ``covered_by_plan`` is None when there is nothing to compare with: no liver resection with its
    segments and no ablation that reaches the lesion.
    """
    found = _resection(case)
    resected: set[str] | None = None
    if found is not None and found[1].segments_resected:
        i, proc = found
        resected = set(
            anatomy.parse_segment_labels(
                proc.segments_resected, field=f"procedures[{i}].segments_resected"
            )
        )
    ablated = _ablated(case)
    out: list[LesionCoverage] = []
    for i, lesion in enumerate(case.liver_lesions):
        labels = anatomy.parse_segment_labels(lesion.segments, field=f"liver_lesions[{i}].segments")
        size = measure(lesion.size, "size")
        covered: bool | None
        by: str | None = None
        outside: tuple[str, ...] = ()
        if resected is not None and not _outside(labels, resected):
            covered, by = True, "resection"
        elif ablated and not _outside(labels, ablated):
            covered, by = True, "ablation"
        elif resected is not None and ablated and not _outside(labels, resected | ablated):
            covered, by = True, "resection + ablation"
        elif resected is None:
            covered = None
        else:
            covered, outside = False, _outside(labels, resected | ablated)
        out.append(
            LesionCoverage(
                index=i,
                id=lesion.id,
                segments=anatomy.parse_segments(labels),
                labels=labels,
                size_mm=None if size is None else size.value,
                number=lesion.number,
                covered_by_plan=covered,
                covered_by=by,
                outside=outside,
            )
        )
    return out


def liver_lesions(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return the top-level ``liver_lesions[]`` of the assessment.

    The timing is the one :func:`livermet.case.timing.lesion_timings` gives (from the dates,
    else as stated).
    """
    rows: list[dict[str, Any]] = []
    timings = lesion_timings(case, timeline)
    for cov, lesion_timing in zip(lesion_coverage(case), timings, strict=True):
        when, source = lesion_timing.timing, lesion_timing.basis
        rows.append(
            {
                "id": cov.id,
                "segments": list(cov.segments),
                "size_mm": _num(cov.size_mm),
                "number": cov.number,
                "timing": when,
                "timing_source": source,
                "covered_by_plan": cov.covered_by_plan,
                "covered_by": cov.covered_by,
            }
        )
    return rows


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    rounded = round(value, 1)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- the resection section ---------------------------------------------------------------


def _max_rank(liver_function: dict[str, Any]) -> int | None:
    rank = liver_function.get("makuuchi", {}).get("max_extent_rank")
    return None if rank is None else int(rank)


def _extrahepatic(case: Case) -> bool | None:
    return None if case.extrahepatic_metastases is None else bool(case.extrahepatic_metastases)


def _bilateral(case: Case) -> bool:
    sides = {
        anatomy.hemiliver_of(s)
        for lesion in case.liver_lesions
        for s in anatomy.parse_segments(lesion.segments)
    }
    return {"left", "right"} <= sides


def _alternatives(
    case: Case, liver_function: dict[str, Any], anatomical_within: list[str]
) -> list[dict[str, str]]:
    """Return the alternatives: PVE / two-stage hepatectomy.

    They are listed when no anatomical resection within the Makuuchi limit clears every lesion or
    the future remnant is below its minimum. Cited, not decided: the thresholds are those
    reported in colorectal liver metastases; no sarcoma-specific data were found.
    """
    rank = _max_rank(liver_function)
    remnant = liver_function.get("remnant", {})
    flr_short = remnant.get("flr_adequate") is False
    none_within = rank is not None and rank > 0 and not anatomical_within
    if not case.liver_lesions or not (none_within or flr_short):
        return []
    why = []
    if none_within:
        why.append("no anatomical resection within the Makuuchi limit clears every lesion")
    if flr_short:
        why.append(
            f"the future liver remnant ({remnant.get('flr_percent')} %) is below the minimum "
            f"for the liver ({remnant.get('minimum_flr_percent')} %)"
        )
    reason = "; ".join(why)
    out = [
        {
            "option": "portal vein embolisation",
            "reason": f"{reason[0].upper()}{reason[1:]}: portal vein embolisation before a major "
            "resection enlarges the future remnant (future remnant 26 to 36 % in one series; "
            "mean hypertrophy 37.9 % across 44 studies); growth is checked before the "
            "operation. Data from colorectal liver metastases.",
            "source": PVE_SOURCE,
        }
    ]
    if _bilateral(case):
        out.append(
            {
                "option": "two-stage hepatectomy",
                "reason": "Lesions in both hemilivers: a two-stage hepatectomy (clearing one "
                "hemiliver first, with portal vein embolisation, then the other) is the reported "
                "strategy for bilateral metastases; 20-40 % do not reach the second stage, "
                "mostly from progression. Data from colorectal liver metastases.",
                "source": TWO_STAGE_SOURCE,
            }
        )
    return out


def _length_mm(value: str | float | None) -> float | None:
    """Return a lesion's distance or vessel diameter in mm (0 allowed; the model checked it)."""
    return None if value is None else diameter_mm(value, "length")


def _ablation_rows(case: Case, coverage: list[LesionCoverage]) -> list[dict[str, Any]]:
    total = sum(c.number for c in coverage)
    extra = _extrahepatic(case)
    rows: list[dict[str, Any]] = []
    for cov in coverage:
        lesion = case.liver_lesions[cov.index]
        res = ablation.lesion_ablation(
            diameter_mm=cov.size_mm,
            lesion_count=total or None,
            extrahepatic_disease=extra,
            bile_duct_distance_mm=_length_mm(lesion.bile_duct_distance),
            abutting_vessel_mm=_length_mm(lesion.abutting_vessel),
        )
        rows.append(
            {
                "id": cov.id,
                "segments": list(cov.segments),
                "size_mm": _num(cov.size_mm),
                "eligible": res.eligible,
                "status": "eligible"
                if res.eligible
                else ("not eligible" if res.eligible is False else "not assessable"),
                "criteria": [
                    {"criterion": c.name, "status": c.status, "text": c.text} for c in res.criteria
                ],
                "zone_needed_mm": [
                    {"margin_mm": _num(m), "zone_mm": _num(z)} for m, z in res.zone_needed_mm
                ],
                "overlapping_zones_likely": res.overlapping_zones_likely,
                "heat_sink_risk": res.heat_sink_risk,
            }
        )
    return rows


def partial_feasible(case: Case) -> bool | None:
    """Return the surgeon's judgement that a partial (non-anatomical) resection would do.

    True when every lesion is marked ``peripheral``, False when one is marked not peripheral,
    else None (not recorded; the partial resection is then listed with its condition).
    """
    marks = [lesion.peripheral for lesion in case.liver_lesions]
    if not marks or None in marks:
        return False if False in marks else None
    return all(marks)


def _difficulty_label(difficulty: dict[str, Any] | None, approach: str | None) -> None:
    """Mark the laparoscopic difficulty grade as applying to the plan or "if laparoscopic"."""
    if not difficulty:
        return
    applies = approach in LAPAROSCOPIC_APPROACHES
    difficulty["applies_to_plan"] = applies
    grade = difficulty.get("grade")
    if grade is None:
        difficulty["label"] = None
        return
    label = f"{difficulty.get('system', 'Kawaguchi 2018')} grade {grade}"
    difficulty["label"] = label if applies else f"{label} (if laparoscopic)"


def plan_section(
    case: Case, liver_function: dict[str, Any], resection: dict[str, Any]
) -> dict[str, Any]:
    """Return the new keys of the ``resection`` section.

    Coverage, clearing resections, ablation and the alternatives (PVE / two-stage hepatectomy);
    also marks the difficulty grade's applicability.
    """
    _difficulty_label(resection.get("difficulty"), resection.get("approach"))
    coverage = lesion_coverage(case)
    rank = _max_rank(liver_function)
    clear = clearing.clearing_resections(
        [c.labels for c in coverage],
        None if rank is None else ResectionExtent(rank),
        partial_feasible=partial_feasible(case),
    )
    anatomical_within = [r.name for r in clear if r.anatomical and r.within_safe_extent]
    partial_within = [r.name for r in clear if not r.anatomical and r.within_safe_extent]
    found = _resection(case)
    return {
        "plan_status": None if found is None else found[1].status,
        "coverage": [
            {
                "id": c.id,
                "segments": list(c.segments),
                "size_mm": _num(c.size_mm),
                "covered_by_plan": c.covered_by_plan,
                "covered_by": c.covered_by,
                "outside_plan_segments": list(c.outside),
            }
            for c in coverage
        ],
        "clearing_resections": [
            {
                "name": r.name,
                "segments": list(r.segments),
                "within_safe_extent": r.within_safe_extent,
                "extent": r.extent.label,
                "anatomical": r.anatomical,
                "combination": r.combination,
                "engineering_choice": r.engineering_choice,
                "condition": r.condition,
            }
            for r in clear
        ],
        "clearing_within_safe_extent": anatomical_within,
        "partial_within_safe_extent": partial_within,
        "clearing_rule": clearing.RULE_NOTE,
        "ablation": _ablation_rows(case, coverage),
        "ablation_rule": ablation.RULE_NOTE,
        "alternatives": _alternatives(case, liver_function, anatomical_within),
    }


# --- findings ----------------------------------------------------------------------------


def _lesion_words(cov: dict[str, Any]) -> str:
    labels = [str(s) for s in cov["segments"]]
    size = "" if cov["size_mm"] is None else f" ({fmt_mm(float(cov['size_mm']))})"
    return f"the lesion in {_segment_words(labels)}{size}"


def plan_findings(case: Case, data: dict[str, Any]) -> list[Issue]:
    """Return the plan's findings as (severity, code, message).

    A resection recorded without its segments, lesions left behind, a plan beyond the Makuuchi
    limit (naming what clears every lesion within it, or the alternatives).
    """
    rs = data["resection"]
    out: list[Issue] = []
    found = _resection(case)
    status = "planned" if found is None else found[1].status
    plan = ", ".join(str(s) for s in rs.get("segments") or [])
    ablation_planned = any(p.kind == "liver_ablation" for p in case.procedures)
    if found is not None and not found[1].segments_resected:
        i, proc = found
        out.append(
            (
                "info",
                "resection-segments-missing",
                f"A liver resection is {proc.status} (procedure '{proc.id}') but its segments "
                f"are not recorded: fill in procedures[{i}].segments_resected to compare the "
                "plan with the lesions, the Makuuchi limit and the laparoscopic difficulty.",
            )
        )
    for cov in rs.get("coverage", []):
        if cov["covered_by_plan"] is not False:
            continue
        words = _lesion_words(cov)
        tag = f" (lesion {cov['id']})" if cov["id"] else ""
        extra = (
            "no ablation targets it"
            if ablation_planned
            else f"no ablation is {'planned' if status == 'planned' else 'recorded'} for it"
        )
        plural = "s" if len(rs.get("segments") or []) != 1 else ""
        out.append(
            (
                "warning",
                "lesion-not-in-plan",
                f"{words[0].upper()}{words[1:]} is not in the {status} resection of "
                f"segment{plural} {plan}{tag}; {extra}.",
            )
        )
    if rs.get("within_safe_extent") is False:
        mk = data["liver_function"]["makuuchi"]
        within = rs.get("clearing_within_safe_extent") or []
        partial = rs.get("partial_within_safe_extent") or []
        if within:
            what = f"Within the limit, {_or_list(within)} would clear every lesion."
        else:
            what = "No anatomical resection within the limit clears every lesion"
            what += f"; {partial_clause(rs)}" if partial else ""
            names = [a["option"] for a in rs.get("alternatives", [])]
            what += f"; options: {_or_list(names)}." if names else "."
        out.append(
            (
                "warning",
                "plan-beyond-safe-extent",
                f"The {status} {rs['procedure_name']} (segments {plan}) exceeds the Makuuchi "
                f"maximum extent ({mk['max_extent']}; {mk['branch']}). {what}",
            )
        )
    return out


def partial_clause(rs: dict[str, Any]) -> str:
    """Return the clause "a partial resection would ..." for the findings and reasons.

    With the surgeon's condition when the lesions are not marked peripheral, as a fact when every
    lesion is.
    """
    partial = next(
        (
            r
            for r in rs.get("clearing_resections", [])
            if not r["anatomical"] and r["within_safe_extent"]
        ),
        None,
    )
    if partial is None:
        return ""
    if partial["condition"] is None:
        return f"{partial['name']} would (the surgeon marks every lesion peripheral)"
    return (
        f"{partial['name']} would, if the surgeon judges every lesion peripheral and small "
        "enough (no verified size threshold exists)"
    )


def _or_list(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" or {names[-1]}"

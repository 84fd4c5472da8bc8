"""Tumour-board assessment of one case: every derived value, with its reasons and sources.

The pipeline only gathers inputs from the case and calls the clinical engine; the rules live in
``livermet.clinical`` (scores), ``livermet.case.options`` (treatment options) and
``livermet.case.findings`` (inconsistencies and gaps).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from livermet import __version__
from livermet.case import liver_scores, prognosis, response, staging
from livermet.case import plan as resection_plan
from livermet.case.assessment_model import AssessmentModel
from livermet.case.evidence_cache import evidence_summary
from livermet.case.findings import Finding, detect_findings
from livermet.case.fitness import fitness_section
from livermet.case.model import Case, Procedure, duration_minutes, measure
from livermet.case.options import TreatmentOption, treatment_options
from livermet.case.timeline import DAYS_PER_MONTH, Timeline, build_timeline
from livermet.case.timing import phase, timing_section
from livermet.clinical import (
    albi,
    anatomy,
    complications,
    difficulty,
    fnclcc,
    gsa,
    icg,
    makuuchi,
    surveillance,
    textbook_outcome,
    volumetry,
)
from livermet.clinical.extent import ResectionExtent

NOTICE = (
    "Decision support, not medical advice. livermet recomputes what the case data imply and shows "
    "its reasons and sources; the decision belongs to the treating team."
)

SIZE_METHOD_PREFERENCE = staging.SIZE_METHOD_PREFERENCE
"""Which measurement stages the primary tumour: the pathological specimen first (pT, AJCC 8
pathological staging), then cross-sectional imaging, then palpation."""


@dataclass
class Assessment:
    """The assessment as nested plain data (JSON-ready), plus the typed parts reports need."""

    data: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    options: list[TreatmentOption] = field(default_factory=list)

    def model(self) -> AssessmentModel:
        """Return the typed assessment (:mod:`livermet.case.assessment_model`) of ``data``.

        Raises pydantic's ``ValidationError`` when a section wrote a value its model does not
        allow (a bug of the section or of the model, never of the case file).
        """
        return AssessmentModel.model_validate(self.data)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON output, generated from the typed model.

        The keys the sections wrote, in their order, with their values (validating and dumping
        the seed case: ~0.2-0.3 ms).
        """
        return self.model().model_dump(mode="json", by_alias=True, exclude_unset=True)

    def to_json(self) -> str:
        """Return the same output as compact JSON text, written by the model's serialiser.

        For the web API: validating and writing cost ~0.1 ms more than ``json.dumps`` of the
        dict alone.
        """
        return self.model().model_dump_json(by_alias=True, exclude_unset=True)


def _round(value: float | None, digits: int) -> float | int | None:
    if value is None:
        return None
    rounded = round(value, digits)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- sections --------------------------------------------------------------------------


def grading_section(case: Case) -> dict[str, Any]:
    """Return the ``grading`` section: the FNCLCC scores and grade (docs/clinical.md#fnclcc-grade).

    The differentiation score is the case's, else the one of its histologic type.
    """
    tumour = case.primary_tumour
    diff: int | None = tumour.differentiation_score
    diff_source = "stated in the case" if diff is not None else None
    if diff is None and tumour.histology_variant:
        diff = fnclcc.differentiation_score_for(f"{tumour.histology_variant} {tumour.histology}")
        diff_source = "from the histologic type (Guillou 1997)" if diff is not None else None
    result = fnclcc.fnclcc_grade(
        mitoses_per_10hpf=tumour.mitoses_per_10hpf,
        necrosis_percent=tumour.necrosis_percent,
        necrosis_category=tumour.necrosis_category,
        differentiation_score=diff,
    )
    return {
        "fnclcc": {
            "mitosis_score": result.mitosis_score,
            "necrosis_score": result.necrosis_score,
            "differentiation_score": result.differentiation_score,
            "differentiation_source": diff_source,
            "total": result.total,
            "total_min": result.total_min,
            "total_max": result.total_max,
            "grade": result.grade,
            "reported_grade": tumour.reported_grade,
            "source": "FNCLCC: Trojani 1984; Coindre 2006; differentiation by type: Guillou 1997",
        }
    }


def staging_size(case: Case) -> tuple[float | None, str | None]:
    """Return the greatest dimension (cm) used for T, and its method."""
    return staging.staging_size(case)


def staging_section(
    case: Case, grade: int | None, timeline: Timeline | None = None
) -> dict[str, Any]:
    """Return the staging system, stage at diagnosis and recurrence (:mod:`.staging`)."""
    timing, basis = staging.derived_timing(case, timeline or build_timeline(case))
    return staging.staging_section(case, grade, timing, basis)


def _lab(case: Case, name: str) -> float | None:
    m = measure(getattr(case.labs, name), name)
    return None if m is None else m.value


def _liver_function(case: Case, assumptions: list[str]) -> dict[str, Any]:
    lf = case.liver_function
    out: dict[str, Any] = {}
    r15 = measure(lf.icg_r15, "icg_r15")
    if r15 is not None:
        k = icg.icg_clearance(r15.value)
        out["icg"] = {
            "r15_percent": r15.value,
            "k_per_min": _round(k.k_per_min, 4),
            "pdr_percent_per_min": _round(k.pdr_percent_per_min, 2),
            "source": "K = ln(100/R15)/15 (mono-exponential clearance)",
        }
    else:
        out["icg"] = {"r15_percent": None, "k_per_min": None}
    if lf.gsa is not None:
        g = gsa.gsa_assessment(hh15=lf.gsa.hh15, lhl15=lf.gsa.lhl15)
        out["gsa"] = {
            "hh15": g.hh15,
            "lhl15": g.lhl15,
            "assessment": g.assessment,
            "reasons": list(g.reasons),
            "reference": g.reference,
        }
    else:
        out["gsa"] = {"hh15": None, "lhl15": None, "assessment": None}

    bilirubin = _lab(case, "bilirubin")
    ascites = case.labs.ascites
    if bilirubin is None and case.labs.within_normal_limits:
        bilirubin = 1.0
        assumptions.append(
            "Bilirubin taken as normal (<= 1.0 mg/dL) because the laboratory findings are "
            "reported as normal without values."
        )
    if ascites is None and case.labs.within_normal_limits:
        ascites = "none"
        assumptions.append("No ascites assumed: none is reported.")
    mk = makuuchi.makuuchi_max_extent(
        ascites=ascites,
        bilirubin_mg_dl=bilirubin,
        icg_r15_percent=None if r15 is None else r15.value,
    )
    max_extent = mk.max_extent
    out["makuuchi"] = {
        "max_extent": None if max_extent is None else ResectionExtent(max_extent).label,
        "max_extent_rank": None if max_extent is None else int(max_extent),
        "branch": mk.branch,
        "source": "Makuuchi 1993; Imamura 2003",
    }
    k_raw = None if r15 is None else icg.icg_k(r15.value)
    out["remnant"] = _remnant(case, k_raw)
    out["child_pugh"] = liver_scores.child_pugh_section(case)
    out["albi"] = _albi(case)
    out["meld"] = liver_scores.meld_section(case, assumptions)
    return out


def _remnant(case: Case, k_per_min: float | None) -> dict[str, Any]:
    """Return the FLR % against the minimum for the liver, and the remnant ICG-K."""
    lf = case.liver_function
    flr, total = (
        measure(lf.future_liver_remnant_volume, "volume"),
        measure(lf.total_liver_volume, "volume"),
    )
    if flr is None or total is None:
        missing = [
            name
            for name, v in (("future_liver_remnant_volume", flr), ("total_liver_volume", total))
            if v is None
        ]
        return _not_assessable(missing)
    tumour = measure(lf.tumour_volume, "volume")
    percent = volumetry.flr_percent(
        flr_ml=flr.value,
        total_liver_ml=total.value,
        tumour_ml=0.0 if tumour is None else tumour.value,
    )
    condition = lf.liver_condition or "normal"
    adequacy = volumetry.flr_assessment(flr_percent=percent, liver_condition=condition)
    out: dict[str, Any] = {
        "flr_percent": _round(percent, 1),
        "liver_condition": condition,
        "minimum_flr_percent": adequacy.minimum_percent,
        "flr_adequate": adequacy.adequate,
        "source": "minimum FLR: Kishi 2009; Shindoh 2013; Abdalla 2006",
    }
    if k_per_min is not None:
        kf = icg.icg_kf(k_per_min=k_per_min, flr_fraction=percent / 100.0)
        out["icg_kf"] = _round(kf.kf, 4)
        out["icg_kf_acceptable"] = kf.acceptable
        out["icg_kf_source"] = "Yokoyama 2010 (ICG-Kf >= 0.05)"
    return out


def _not_assessable(missing: list[str]) -> dict[str, Any]:
    return {"value": None, "status": "not assessable", "missing": missing}


def _albi(case: Case) -> dict[str, Any]:
    bili, alb = _lab(case, "bilirubin"), _lab(case, "albumin")
    if bili is None or alb is None:
        return _not_assessable([k for k, v in (("bilirubin", bili), ("albumin", alb)) if v is None])
    a = albi.albi(bilirubin_mg_dl=bili, albumin_g_dl=alb)
    return {"score": _round(a.score, 3), "grade": a.grade, "malbi_grade": a.malbi_grade}


def _resection(case: Case, liver_function: dict[str, Any]) -> dict[str, Any]:
    proc = case.procedure("liver_resection")
    tumour_segments = sorted(
        {
            s
            for i, lesion in enumerate(case.liver_lesions)
            for s in anatomy.parse_segments(lesion.segments, field=f"liver_lesions[{i}].segments")
        }
    )
    candidates = (
        [c.name for c in anatomy.candidate_resections(tumour_segments)] if tumour_segments else []
    )
    if proc is None or not proc.segments_resected:
        return {
            "segments": None,
            "procedure_name": None,
            "approach": None if proc is None else proc.approach,
            "within_safe_extent": None,
            "difficulty": None,
            "tumour_segments": tumour_segments,
            "candidates": candidates,
        }
    index = case.procedures.index(proc)
    name = anatomy.resection_name(
        proc.segments_resected, field=f"procedures[{index}].segments_resected"
    )
    max_rank = liver_function["makuuchi"]["max_extent_rank"]
    within = None if max_rank is None else int(name.extent) <= int(max_rank)
    # The labels keep a lone half of segment 4 (4a/4b), as the name does.
    kaw = difficulty.kawaguchi_grade(procedure=name.name, segments=list(name.labels))
    return {
        "segments": list(name.segments),
        "procedure_name": name.name,
        "synonyms": list(name.synonyms),
        "extent": ResectionExtent(name.extent).label,
        "major": name.major,
        "anatomical": name.anatomical,
        "approach": proc.approach,
        "within_safe_extent": within,
        "difficulty": {
            "system": "Kawaguchi 2018",
            "grade": kaw.grade,
            "points": kaw.points,
            "rationale": kaw.rationale,
        },
        "tumour_segments": tumour_segments,
        "candidates": candidates,
        "source": "Brisbane 2000 terminology (Strasberg 2000); Kawaguchi, Ann Surg 2018",
    }


def _outcome(
    case: Case, proc: Procedure | None, timeline: Timeline, *, liver: bool
) -> dict[str, Any] | None:
    if proc is None:
        return None
    grades = [
        complications.parse_clavien_dindo(c.clavien_dindo)
        if c.clavien_dindo
        else complications.suggest_clavien_dindo(c.treatment or c.description)
        for c in proc.complications
    ]
    known = [g for g in grades if g is not None]
    if proc.complications:
        worst: str | None = complications.highest_grade(known)
        cci: float | None = complications.comprehensive_complication_index(known)
    elif proc.no_complications:
        worst, cci = "none", 0.0
    else:
        worst, cci = None, None
    los = timeline.length_of_stay_days(proc.id)
    out: dict[str, Any] = {
        "clavien_dindo": worst,
        "cci": cci,
        "complications": [
            {"description": c.description, "grade": g, "treatment": c.treatment}
            for c, g in zip(proc.complications, grades, strict=True)
        ],
        "length_of_stay_days": _round(los, 1),
    }
    if liver:
        out["operative_minutes"] = (
            None if proc.duration is None else _round(duration_minutes(proc.duration), 0)
        )
        blood = measure(proc.blood_loss, "blood_loss")
        out["blood_loss_ml"] = None if blood is None else _round(blood.value, 0)
        out["approach"] = proc.approach
        out["converted"] = proc.converted
        out["margin"] = proc.margin
        died = _died_within_90_days(case, timeline, proc)
        major = None if worst is None else worst in complications.MAJOR_COMPLICATION_GRADES
        # "No postoperative complications" rules out a bile leak, liver failure and an
        # intraoperative incident of consequence, as the TOLS worked example reads it
        # (docs/clinical.md#textbook-outcome).
        none_if_unknown = False if proc.no_complications else None
        tols = textbook_outcome.textbook_outcome(
            intraoperative_incident_grade2_or_more=_known(
                proc.intraoperative_incident_grade2_or_more, none_if_unknown
            ),
            bile_leak_grade_b_or_c=_known(proc.bile_leak_grade_b_or_c, none_if_unknown),
            liver_failure_grade_b_or_c=_known(proc.liver_failure_grade_b_or_c, none_if_unknown),
            major_complication=major,
            readmission_90d=proc.readmission_90d,
            mortality_90d=died,
            r0_resection=None if proc.margin is None else proc.margin == "R0",
        )
        out["textbook_outcome"] = {
            "status": tols.status,
            "criteria": dict(tols.criteria),
            "missing": list(tols.missing),
            "source": "Görgec et al., Ann Surg 2023 (TOLS Delphi consensus)",
        }
    return out


def _known(value: bool | None, default: bool | None) -> bool | None:
    return default if value is None else value


def _died_within_90_days(case: Case, timeline: Timeline, proc: Procedure) -> bool | None:
    start = timeline.procedure_day.get(proc.id)
    if start is None:
        return None
    for event, day in zip(case.follow_up, timeline.follow_up_day, strict=True):
        if event.kind == "death" and day is not None and day - start <= 90:
            return True
    last = timeline.last_follow_up_day()
    return False if last is not None and last - start >= 90 else None


def _timeline(case: Case, timeline: Timeline) -> dict[str, Any]:
    # Only performed operations count: a planned one has not happened (no follow-up after it).
    primary, liver = case.performed("primary_resection"), case.performed("liver_resection")
    after_primary = timeline.months_between(primary.id, liver.id) if primary and liver else None
    last = timeline.last_follow_up_day()
    follow_up_after_liver = None
    if liver and last is not None and liver.id in timeline.procedure_day:
        follow_up_after_liver = (last - timeline.procedure_day[liver.id]) / DAYS_PER_MONTH
    follow_up_after_primary = None
    if primary and last is not None and primary.id in timeline.procedure_day:
        follow_up_after_primary = (last - timeline.procedure_day[primary.id]) / DAYS_PER_MONTH
    timing = timing_section(case, timeline)
    return {
        "metastasis_timing": timing.pop("metastasis_timing"),
        "liver_resection_after_primary_months": _round(after_primary, 1),
        "follow_up_after_liver_resection_months": _round(follow_up_after_liver, 1),
        "follow_up_after_primary_months": _round(follow_up_after_primary, 1),
        **timing,
        "events": _events(case, timeline),
    }


def _events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for proc in case.procedures:
        day = timeline.procedure_day.get(proc.id)
        label = proc.name or proc.kind.replace("_", " ")
        planned = proc.status == "planned"
        events.append(
            {"day": day, "event": f"{label} (planned)" if planned else label, "status": proc.status}
        )
        if proc.id in timeline.discharge_day:
            events.append(
                {"day": timeline.discharge_day[proc.id], "event": f"discharge ({proc.id})"}
            )
    for ev, day in zip(case.follow_up, timeline.follow_up_day, strict=True):
        label = ev.kind.replace("_", " ") + (f": {ev.status}" if ev.status else "")
        events.append({"day": day, "event": label})
    events += _dated_events(case, timeline)
    events.sort(key=lambda e: (e["day"] is None, e["day"] or 0.0))
    for e in events:
        date = timeline.date_of(e["day"])
        e["date"] = None if date is None else date.isoformat()
        e["month"] = None if e["day"] is None else _round(e["day"] / DAYS_PER_MONTH, 1)
        e["day"] = _round(e["day"], 1)
    return events


def _dated_events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return the diagnosis, lesion, imaging, biopsy and therapy events that have a time."""
    out: list[dict[str, Any]] = []
    if timeline.diagnosis_day is not None:
        out.append({"day": timeline.diagnosis_day, "event": "diagnosis of the primary tumour"})
    return (
        out
        + _lesion_events(case, timeline)
        + _imaging_events(case, timeline)
        + _biopsy_events(case, timeline)
        + _therapy_events(case, timeline)
    )


def _lesion_events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return the detection of each liver lesion that has a time."""
    out: list[dict[str, Any]] = []
    for lesion, day in zip(case.liver_lesions, timeline.lesion_detected_day, strict=True):
        if day is not None:
            segs = ", ".join(str(s) for s in lesion.segments)
            name = f"{lesion.id}, " if lesion.id else ""
            out.append({"day": day, "event": f"liver lesion detected ({name}segment {segs})"})
    return out


def _imaging_events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return each imaging study that has a time, with its modality, target and finding."""
    return [
        {"day": day, "event": f"{im.modality.upper()} of the {im.target}: {im.finding}"}
        for im, day in zip(case.imaging, timeline.imaging_day, strict=True)
        if day is not None
    ]


def _biopsy_events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return each biopsy that has a time, with its target and diagnosis."""
    return [
        {"day": day, "event": f"biopsy of the {biopsy.target}: {biopsy.diagnosis}"}
        for biopsy, day in zip(case.biopsies, timeline.biopsy_day, strict=True)
        if day is not None
    ]


def _therapy_events(case: Case, timeline: Timeline) -> list[dict[str, Any]]:
    """Return the start and the end of each systemic therapy line, where they have a time."""
    out: list[dict[str, Any]] = []
    for line, (start, end) in zip(case.systemic_therapy, timeline.therapy_days, strict=True):
        setting = f" ({line.setting})" if line.setting else ""
        if start is not None:
            out.append({"day": start, "event": f"{line.regimen}{setting} started"})
        if end is not None:
            out.append({"day": end, "event": f"{line.regimen}{setting} ended"})
    return out


def _surveillance(
    case: Case, grade: int | None, stage: str | None, grade_range: tuple[int, int] | None = None
) -> dict[str, Any]:
    # The index is the performed liver resection; before it, the schedule starts after the
    # planned one (months are counted from that operation, never from today).
    performed, planned = case.performed("liver_resection"), case.planned("liver_resection")
    liver = planned or performed
    plan = surveillance.surveillance_plan(
        grade=grade,
        stage=stage,
        metastasectomy=liver is not None,
        primary_site=case.primary_tumour.site,
        grade_range=grade_range,
    )
    if planned is not None:
        index, status = "planned liver resection", "planned"
    elif performed is not None:
        index, status = "liver resection", "performed"
    else:
        index, status = "primary treatment", None
    return {
        "index": index,
        "index_status": status,
        "starts": "after the planned liver resection" if status == "planned" else None,
        "rows": [
            {
                "years": f"{row.from_year:g}-{row.to_year:g}"
                if row.to_year
                else f"{row.from_year:g}+",
                "interval_months": list(row.interval_months),
                "modalities": list(row.modalities),
                "source": row.source,
            }
            for row in plan.rows
        ],
        "visits_months": [_round(m, 1) for m in surveillance.visit_schedule(plan, horizon_years=5)],
    }


# --- pipeline ----------------------------------------------------------------------------


def assess(case: Case, *, today: dt.date | None = None) -> Assessment:
    """Assess ``case``: scores, resection, outcomes, timeline, options, surveillance, findings.

    ``today`` is the assessment date when the case file has no ``assessed_on`` (default: the
    system date).
    """
    timeline = build_timeline(case, today=today)
    assumptions: list[str] = []
    grading = grading_section(case)
    grade = grading["fnclcc"]["grade"]
    staging_data = staging_section(case, grade, timeline)
    liver_function = _liver_function(case, assumptions)
    resection = _resection(case, liver_function)
    resection.update(resection_plan.plan_section(case, liver_function, resection))
    outcomes = {
        # Outcomes exist only for operations that have been performed.
        "liver_resection": _outcome(case, case.performed("liver_resection"), timeline, liver=True),
        "primary_resection": _outcome(
            case, case.performed("primary_resection"), timeline, liver=False
        ),
    }
    data: dict[str, Any] = {
        "livermet_version": __version__,
        "notice": NOTICE,
        "assessed_on": None if timeline.assessed_on is None else timeline.assessed_on.isoformat(),
        "phase": phase(case),
        "case": {
            "id": case.id,
            "age_years": case.patient.age_years,
            "sex": case.patient.sex,
            "histology": case.primary_tumour.histology,
            "primary_site": " ".join(
                x for x in (case.primary_tumour.laterality, case.primary_tumour.site) if x
            ),
            "source": case.source,
        },
        "fitness": fitness_section(case),
        "grading": grading,
        "staging": staging_data,
        "liver_function": liver_function,
        "liver_lesions": resection_plan.liver_lesions(case, timeline),
        "resection": resection,
        "outcomes": outcomes,
        "timeline": _timeline(case, timeline),
    }
    data["response"] = {"recist": response.recist_section(case, timeline)}
    data["prognostic_factors"] = prognosis.prognostic_factors(case, data)
    options = treatment_options(case, data)
    data["options"] = [o.to_dict() for o in options]
    data["surveillance"] = _surveillance(
        case,
        grade,
        staging.surveillance_stage(staging_data, case),
        prognosis.grade_range(grading),
    )
    data["evidence"] = evidence_summary()
    findings = detect_findings(case, timeline, data)
    data["findings"] = [f.to_dict() for f in findings]
    data["assumptions"] = assumptions
    return Assessment(data, findings, options)

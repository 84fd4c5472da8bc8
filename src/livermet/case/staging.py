"""Staging of the primary tumour: which system, the stage at diagnosis, and the recurrence.

The staging system follows the primary's site (``primary_tumour.site_group``) and histology;
``staging.system`` in the assessment names it:

``ajcc8-extremity-trunk``
    AJCC 8th edition chapter 41, soft tissue sarcoma of the trunk and extremities: T by size
    (5/10/15 cm), N, M, FNCLCC grade -> IA..IV; N1 is stage IV.
``ajcc8-retroperitoneum``
    AJCC 8th edition chapter 44: the same T and groups, except N1 M0 is stage IIIB.
``figo-uterine-sarcoma``
    FIGO 2009/2018 stage of uterine leiomyosarcoma / endometrial stromal sarcoma (IA..IVB), the
    stage groups of AJCC 8th edition chapter 54; grade is reported, not staged.
``ajcc8-head-neck-no-stage-groups``, ``ajcc8-visceral-no-stage-groups``
    AJCC 8th edition chapters 40 (head and neck) and 42 (abdomen and thoracic visceral organs):
    T, N and M are reported, the chapter has no stage groups.
``not-staged``
    No system applies or none is computed (site group "other", a uterine sarcoma that is not
    LMS/ESS, GIST, PEComa, desmoid...): the reason is given.

Stage at diagnosis vs recurrence (UICC/AJCC TNM rules as quoted by PathologyOutlines and the
NCI staging pages): the stage given at diagnosis is never changed by later spread. A distant
metastasis present at diagnosis (synchronous) is M1 at diagnosis; a metachronous one is not part
of the stage at diagnosis and is reported as a recurrence, classified with the "r" prefix (rM1).
The timing of the distant disease is a parameter: the liver lesions' stated timing, or the one
derived from dates by the caller.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np

from livermet.case.model import Case
from livermet.case.timeline import Timeline
from livermet.case.timing import lesion_timings
from livermet.clinical import ajcc, figo
from livermet.clinical.units import parse_quantity

Timing = Literal["synchronous", "metachronous"]

SIZE_METHOD_PREFERENCE = ("pathology", "mri", "ct", "ultrasound", "pet", "palpation", "other")
"""Which measurement stages the primary tumour: the pathological specimen first (pT, AJCC 8
pathological staging), then cross-sectional imaging, then palpation."""

SYSTEM_NAMES: Final[dict[str, str]] = {
    "ajcc8-extremity-trunk": "AJCC 8th edition, soft tissue sarcoma of the trunk and "
    "extremities (chapter 41)",
    "ajcc8-retroperitoneum": "AJCC 8th edition, soft tissue sarcoma of the retroperitoneum "
    "(chapter 44)",
    "figo-uterine-sarcoma": "FIGO 2009/2018 uterine leiomyosarcoma and endometrial stromal "
    "sarcoma (AJCC 8th edition, corpus uteri - sarcoma, chapter 54)",
    "ajcc8-head-neck-no-stage-groups": "AJCC 8th edition, soft tissue sarcoma of the head and "
    "neck (chapter 40): no stage groups",
    "ajcc8-visceral-no-stage-groups": "AJCC 8th edition, soft tissue sarcoma of the abdomen and "
    "thoracic visceral organs (chapter 42): no stage groups",
    "not-staged": "no staging system applied",
}
"""Every value of ``staging.system`` with its name for a reader."""

_SOURCES: Final[dict[str, str]] = {
    "ajcc8-extremity-trunk": "AJCC Cancer Staging Manual, 8th ed. (2017), soft tissue sarcoma "
    "of the trunk and extremities",
    "ajcc8-retroperitoneum": "AJCC Cancer Staging Manual, 8th ed. (2017), soft tissue sarcoma "
    "of the retroperitoneum (Pollock et al.), as reproduced by NCI PDQ Soft Tissue Sarcoma "
    "Treatment (2025)",
    "figo-uterine-sarcoma": "FIGO 2009 (Prat J, Int J Gynaecol Obstet 2009) and FIGO Cancer "
    "Report 2018 (Mbatani N, et al., Int J Gynaecol Obstet 2018); AJCC Cancer Staging Manual, "
    "8th ed. (2017), corpus uteri - sarcoma",
    "ajcc8-head-neck-no-stage-groups": "AJCC Cancer Staging Manual, 8th ed. (2017), soft "
    "tissue sarcoma of the head and neck; NCI PDQ Soft Tissue Sarcoma Treatment (2025)",
    "ajcc8-visceral-no-stage-groups": "AJCC Cancer Staging Manual, 8th ed. (2017), soft tissue "
    "sarcoma of the abdomen and thoracic visceral organs; NCI PDQ Soft Tissue Sarcoma Treatment "
    "(2025)",
    "not-staged": "AJCC Cancer Staging Manual, 8th ed. (2017)",
}

RECURRENCE_SOURCE: Final = (
    "UICC TNM: recurrent tumours classified after a disease-free interval take the prefix r; "
    "the stage given at diagnosis is kept (NCI, Cancer staging; PathologyOutlines)"
)

RECURRENCE_STAGE_WITH_PREFIX: Final = True
"""Engineering choice: the recurrence also carries the stage group of the distant disease with
the r prefix (rIV, FIGO rIVB) beside its rM1. How the combined rTNM of a distant-only recurrence
is written (rcM1/rpM1, rT/rN) is not settled by the sources read; the components are kept
separately (rT and rN not assessed, rM1). Set False to report rM1 only."""

RECURRENCE_STAGE_NOTE: Final = (
    "Engineering choice of livermet: the r-prefixed stage group of a distant-only recurrence "
    "(e.g. rIVB) is written from rM1 alone; rT and rN are not assessed."
)

EXTRAHEPATIC_TIMING_NOTE: Final = (
    "Extrahepatic metastases have no date in the case file: they are counted with the liver "
    "metastases' timing."
)

HISTOLOGY_NOT_STAGED: Final[dict[str, str]] = {
    "gastrointestinal stromal": "GIST is staged by its own AJCC 8th edition chapter (43), not "
    "computed here",
    "gist": "GIST is staged by its own AJCC 8th edition chapter (43), not computed here",
    "pecoma": "PEComa has no AJCC staging system",
    "perivascular epithelioid": "PEComa has no AJCC staging system",
    "inflammatory myofibroblastic": "inflammatory myofibroblastic tumour has no AJCC staging "
    "system",
    "desmoid": "desmoid fibromatosis is excluded from soft-tissue sarcoma staging",
    "fibromatosis": "desmoid fibromatosis is excluded from soft-tissue sarcoma staging",
    "kaposi": "Kaposi sarcoma is excluded from soft-tissue sarcoma staging",
}
"""Histologies not staged by the soft-tissue sarcoma chapters (AJCC 8th edition, chapter 42
table of cancers not staged; PathologyOutlines; Canadian Cancer Society)."""


# --- inputs ----------------------------------------------------------------------------------


def staging_size(case: Case) -> tuple[float | None, str | None]:
    """Return the greatest dimension (cm) used for T, and the method it comes from."""
    by_method = {s.method: s for s in case.primary_tumour.sizes}
    for method in SIZE_METHOD_PREFERENCE:
        if method in by_method:
            value = by_method[method].greatest_dimension
            try:
                return _size_cm(type(value).__name__, value), method
            except TypeError:  # an unhashable value (a case built without validation)
                return parse_quantity(value, "size", "size").value / 10.0, method
    return None, None


@functools.lru_cache(maxsize=4096)
def _size_cm(_type: str, value: str | float) -> float:
    """Return a reported size in cm (:func:`parse_quantity`; the type name keeps ``True`` apart).

    Remembered: a cohort repeats the same few sizes.
    """
    return parse_quantity(value, "size", "size").value / 10.0


def combined_timing(timings: Sequence[str | None]) -> Timing | None:
    """Return the timing of the distant disease from the liver lesions' timings.

    Synchronous when any lesion is (the patient was never free of distant disease); metachronous
    when every lesion is; None when no lesion is synchronous and one is of unknown timing.
    """
    if "synchronous" in timings:
        return "synchronous"
    if timings and all(t == "metachronous" for t in timings):
        return "metachronous"
    return None


def stated_timing(case: Case) -> Timing | None:
    """Return the distant disease's timing from ``liver_lesions[].timing`` as stated."""
    return combined_timing([lesion.timing for lesion in case.liver_lesions])


def system_of(case: Case) -> tuple[str, str | None]:
    """Return the staging system of the primary and, for ``not-staged``, the reason."""
    tumour = case.primary_tumour
    return _system(tumour.histology, tumour.site_group)


@functools.lru_cache(maxsize=4096)
def _system(histology_text: str, group: str) -> tuple[str, str | None]:
    """Return :func:`system_of` for a histology and site group.

    Remembered: a cohort repeats the same few pairs.
    """
    histology = histology_text.lower().replace("-", " ")
    for key, reason in HISTOLOGY_NOT_STAGED.items():
        if (key in histology.split()) if key == "gist" else (key in histology):
            return "not-staged", reason
    if group in ("extremity", "trunk"):
        return "ajcc8-extremity-trunk", None
    if group == "retroperitoneum":
        return "ajcc8-retroperitoneum", None
    if group == "uterus":
        applies, why = figo.scheme_applies(histology_text)
        return ("figo-uterine-sarcoma", None) if applies else ("not-staged", why)
    if group == "head_neck":
        return "ajcc8-head-neck-no-stage-groups", None
    if group == "visceral":
        return "ajcc8-visceral-no-stage-groups", None
    return "not-staged", (
        "the site group 'other' does not name an AJCC 8th edition chapter (unusual sites and "
        "histologies have no stage group computed here)"
    )


def _distant_disease(case: Case) -> bool | None:
    """Return whether distant metastasis is recorded: True, False (none), None."""
    if case.liver_lesions or case.extrahepatic_metastases:
        return True
    if case.extrahepatic_metastases == []:
        return False
    return None


def m_at_diagnosis(case: Case, timing: Timing | None) -> str | None:
    """Return M at diagnosis: M1 if synchronous, M0 if metachronous (or none)."""
    distant = _distant_disease(case)
    if distant is False:
        return "M0"
    if distant is None:
        return None
    return {"synchronous": "M1", "metachronous": "M0", None: None}[timing]


def _grade_label(grade: int | None) -> str:
    return "GX" if grade is None else f"G{grade}"


def _round(value: float | None) -> float | int | None:
    if value is None:
        return None
    rounded = round(value, 2)
    return int(rounded) if float(rounded).is_integer() else rounded


# --- section ---------------------------------------------------------------------------------


@dataclass
class _Staged:
    """T, N, the stage and its notes under one staging system (the parts that differ by system).

    ``reason`` is why no stage group is given (``system_of``'s reason, or the chapter without
    stage groups); ``n`` is the N the system reports (the chapter's category, else as stated).
    """

    chapter: ajcc.Ajcc8Chapter | None
    t: str | None
    n: str | None
    bounds: ajcc.StageBounds
    stage_text: str
    reason: str | None
    notes: list[str] = field(default_factory=list)
    interpretations: list[str] = field(default_factory=list)


def _staged_soft_tissue(
    system: str, size_cm: float | None, n: str | None, m: str | None, grade: int | None
) -> _Staged:
    """Stage by AJCC 8th edition chapter 41 (trunk and extremities) or 44 (retroperitoneum)."""
    site = "retroperitoneum" if system == "ajcc8-retroperitoneum" else "trunk_extremity"
    result = ajcc.ajcc8_stage(size_cm=size_cm, n=n, m=m, grade=grade, site=site)
    bounds = ajcc.ajcc8_stage_bounds(size_cm=size_cm, n=n, m=m, grade=grade, site=site)
    return _Staged(ajcc.AJCC8_CHAPTERS[site], result.t, result.n, bounds, bounds.text, None)


def _staged_figo(case: Case, size_cm: float | None, m: str | None) -> _Staged:
    """Stage a uterine LMS/ESS by FIGO 2009/2018 (AJCC 8th edition chapter 54 groups)."""
    tumour = case.primary_tumour
    n = tumour.nodal_status
    fr = figo.figo_stage(size_cm=size_cm, extension=tumour.extension, n=n, m=m)
    staged = _Staged(
        ajcc.AJCC8_CHAPTERS["uterus"], fr.t, n, fr.bounds, f"FIGO {fr.bounds.text}", None
    )
    staged.notes += fr.notes
    staged.notes.append("The FNCLCC grade is reported but is not part of the FIGO stage.")
    if m == "M1" and case.liver_lesions:
        staged.interpretations.append(figo.LIVER_M1_INTERPRETATION)
    if tumour.extension is None:
        staged.notes.append(
            "The extension of the primary (confined, adnexa, pelvis, abdomen, "
            "bladder or rectum) is not recorded."
        )
    return staged


def _t_without_stage_groups(
    system: str, case: Case, size_cm: float | None
) -> tuple[ajcc.Ajcc8Chapter | None, str | None, list[str]]:
    """Return the chapter, T and notes of a system without stage groups (chapters 40 and 42).

    The chapter is None for ``not-staged``.
    """
    if system == "ajcc8-head-neck-no-stage-groups":
        note = (
            "T from the size only: invasion of adjoining structures (T4) is not "
            "recorded in the case file."
        )
        return ajcc.AJCC8_CHAPTERS["head_neck"], ajcc.ajcc8_head_neck_t_category(size_cm), [note]
    if system == "ajcc8-visceral-no-stage-groups":
        t = "T1" if case.primary_tumour.extension == "confined" else None
        notes = (
            []
            if t is not None
            else [
                "T of the visceral chapter depends on serosal and organ invasion "
                "and multifocality, which the case file does not record."
            ]
        )
        return ajcc.AJCC8_CHAPTERS["visceral"], t, notes
    return None, None, []


def _staged_without_groups(
    system: str, case: Case, size_cm: float | None, reason: str | None
) -> _Staged:
    """Stage by a chapter without stage groups, or as ``not-staged``: T, reason."""
    chapter, t, notes = _t_without_stage_groups(system, case, size_cm)
    bounds = ajcc.StageBounds(None, (), (), "")
    n = case.primary_tumour.nodal_status
    if chapter is None:
        return _Staged(None, t, n, bounds, "stage group not computed", reason, notes)
    reason = f"AJCC 8th edition chapter {chapter.number} ({chapter.title}) has no stage groups"
    stage_text = f"no AJCC stage group (chapter {chapter.number})"
    return _Staged(chapter, t, n, bounds, stage_text, reason, notes)


def _staged(
    case: Case,
    system: str,
    reason: str | None,
    size_cm: float | None,
    m: str | None,
    grade: int | None,
) -> _Staged:
    """Stage the primary by its system (the systems are described in the module docstring)."""
    if system in ("ajcc8-extremity-trunk", "ajcc8-retroperitoneum"):
        return _staged_soft_tissue(system, size_cm, case.primary_tumour.nodal_status, m, grade)
    if system == "figo-uterine-sarcoma":
        return _staged_figo(case, size_cm, m)
    return _staged_without_groups(system, case, size_cm, reason)


def staging_section(
    case: Case,
    grade: int | None,
    timing: Timing | None = None,
    timing_source: str | None = None,
) -> dict[str, Any]:
    """Return the ``staging`` section of the assessment.

    Parameters
    ----------
    case
        The case.
    grade
        FNCLCC grade (1-3) or None (GX).
    timing
        Timing of the distant disease relative to the primary's diagnosis ("synchronous",
        "metachronous") or None (not known: the stage at diagnosis is bounded over M0/M1).
    timing_source
        Where the timing comes from, for the reader ("stated in the case file", "derived from
        the dates").

    Returns
    -------
    dict
        ``ajcc8`` (T, N, M, grade, stage of the AJCC 8 chapter at diagnosis; the key kept from
        earlier versions), ``system``, ``system_name``, ``chapter``, ``stage_groups``,
        ``at_diagnosis``, ``distant_timing``, ``timing_source``, ``recurrence`` (None unless the
        distant disease is metachronous) and ``source``.
    """
    system, reason = system_of(case)
    size_cm, method = staging_size(case)
    m = m_at_diagnosis(case, timing)
    staged = _staged(case, system, reason, size_cm, m, grade)
    if timing == "metachronous" and case.extrahepatic_metastases:
        staged.notes.append(EXTRAHEPATIC_TIMING_NOTE)
    size = {"size_cm": _round(size_cm), "size_method": method}
    tnm = {"t": staged.t, "n": staged.n, "m": m, "grade": _grade_label(grade)}
    bounds, chapter, reason = staged.bounds, staged.chapter, staged.reason
    at_diagnosis: dict[str, Any] = {
        "system": system,
        **tnm,
        "stage": bounds.stage,
        "stage_text": staged.stage_text,
        "stage_candidates": list(bounds.candidates),
        "missing": list(bounds.missing),
        **size,
        "notes": staged.notes,
        "interpretations": staged.interpretations,
    }
    ajcc8: dict[str, Any] = {**tnm, "stage": bounds.stage, **size, "source": _SOURCES[system]}
    if reason is not None:
        ajcc8["reason"] = reason
        at_diagnosis["reason"] = reason
    return {
        "ajcc8": ajcc8,
        "system": system,
        "system_name": SYSTEM_NAMES[system],
        "chapter": None if chapter is None else chapter.number,
        "stage_groups": chapter is not None and chapter.stage_groups and reason is None,
        "at_diagnosis": at_diagnosis,
        "distant_timing": timing,
        "timing_source": timing_source,
        "recurrence": _recurrence(case, system, timing, bounds.stage),
        "source": _SOURCES[system],
    }


def _recurrence(
    case: Case, system: str, timing: Timing | None, stage_at_diagnosis: str | None
) -> dict[str, Any] | None:
    """Return the recurrence of a metachronous distant metastasis (None otherwise)."""
    if timing != "metachronous" or not _distant_disease(case):
        return None
    sites = (["liver"] if case.liver_lesions else []) + list(case.extrahepatic_metastases or [])
    group = {
        "figo-uterine-sarcoma": "IVB",
        "ajcc8-extremity-trunk": "IV",
        "ajcc8-retroperitoneum": "IV",
    }.get(system)
    stage = f"r{group}" if group is not None and RECURRENCE_STAGE_WITH_PREFIX else None
    prefix = "FIGO " if system == "figo-uterine-sarcoma" else ""
    kept = (
        f"the stage at diagnosis ({prefix}{stage_at_diagnosis}) is kept"
        if stage_at_diagnosis is not None
        else "the stage at diagnosis is kept"
    )
    where = ", ".join(sites)
    text = f"Recurrent distant disease (metachronous metastasis: {where}), rM1"
    text += f", {prefix}{stage}; {kept}." if stage else f"; {kept}."
    interpretations = (
        [figo.LIVER_M1_INTERPRETATION]
        if system == "figo-uterine-sarcoma" and case.liver_lesions
        else []
    )
    return {
        "kind": "distant",
        "timing": "metachronous",
        "sites": sites,
        "t": None,
        "n": None,
        "m": "M1",
        "classification": "rM1",
        "stage": stage,
        "text": text,
        "engineering_choice": RECURRENCE_STAGE_NOTE if stage else None,
        "interpretations": interpretations,
        "source": RECURRENCE_SOURCE,
    }


def surveillance_stage(staging: dict[str, Any], case: Case) -> str | None:
    """Return the AJCC stage group that chooses the follow-up plan (None if none).

    The trunk/extremity and retroperitoneal chapters: stage IV while distant disease is recorded
    (at diagnosis or as a recurrence), else the stage at diagnosis. Other systems (FIGO, chapters
    without stage groups) have no soft-tissue stage group: None, and the plan follows the grade.
    """
    if staging["system"] not in ("ajcc8-extremity-trunk", "ajcc8-retroperitoneum"):
        return None
    if _distant_disease(case):
        return "IV"
    stage = staging["at_diagnosis"]["stage"]
    return str(stage) if stage is not None else None


def derived_timing(case: Case, timeline: Timeline) -> tuple[Timing | None, str | None]:
    """Return the timing of the distant disease and its basis, from the dates when known.

    Each lesion's timing comes from :func:`livermet.case.timing.lesion_timings` (from the dates,
    else as stated); they are combined by :func:`combined_timing`.
    """
    timings = lesion_timings(case, timeline)
    timing = combined_timing([t.timing for t in timings])
    if timing is None:
        return None, None
    deciding = [t for t in timings if t.timing == timing]
    from_dates = any(t.basis == "dates" for t in deciding)
    return timing, "derived from the dates" if from_dates else "stated in the case file"


Issue = tuple[Literal["warning", "info"], str, str]
"""(severity, code, message) of a finding; livermet.case.findings wraps it."""


def staging_issues(staging: dict[str, Any]) -> list[Issue]:
    """Return the findings of the staging section.

    The 5 cm FIGO boundary, the liver-as-M1 interpretation, an undecided stage at diagnosis and
    its missing inputs, a primary not staged.
    """
    at = staging["at_diagnosis"]
    out: list[Issue] = []
    if figo.BOUNDARY_NOTE in at["notes"]:
        out.append(("info", "figo-5cm-boundary", figo.BOUNDARY_NOTE))
    recurrence = staging.get("recurrence") or {}
    if at["interpretations"] or recurrence.get("interpretations"):
        out.append(("info", "liver-metastasis-staged-as-m1", figo.LIVER_M1_INTERPRETATION))
    if staging["stage_groups"] and at["stage"] is None and at["missing"]:
        out.append(
            (
                "info",
                "stage-at-diagnosis-undecided",
                f"The stage at diagnosis is {at['stage_text']}: it depends on "
                f"{' and '.join(at['missing'])}, not known from the case file.",
            )
        )
    if staging["system"] == "not-staged" and at.get("reason"):
        out.append(("info", "primary-not-staged", f"No stage is computed: {at['reason']}."))
    return out


# --- many cases at once (the registry's cohort columns) ---------------------------------------

_SOFT_TISSUE_SITES: Final[dict[str, str]] = {
    "ajcc8-extremity-trunk": "trunk_extremity",
    "ajcc8-retroperitoneum": "retroperitoneum",
}
"""The AJCC 8 soft-tissue systems with stage groups, and the ``site`` of ``ajcc.ajcc8_stage``."""

STAGE_GROUP_SYSTEMS: Final = frozenset({*_SOFT_TISSUE_SITES, "figo-uterine-sarcoma"})
"""The values of ``staging.system`` that give a stage group (the others give None whatever the
timing of the distant disease)."""


@functools.lru_cache(maxsize=4096)
def _figo_stage(
    size_cm: float | None, extension: str | None, n: str | None, m: str | None
) -> str | None:
    """Return the stage :func:`livermet.clinical.figo.figo_stage` decides, else None.

    Remembered: a cohort repeats the same few inputs.
    """
    return figo.figo_stage(size_cm=size_cm, extension=extension, n=n, m=m).stage


def _soft_tissue_stages(
    rows: list[tuple[int, float | None, str | None, str | None, int | None]], site: str
) -> dict[int, str | None]:
    """Return the stage at diagnosis of the rows ``(index, size_cm, n, m, grade)`` of one chapter.

    Rows whose size and M are known take one vectorised :func:`ajcc.ajcc8_stage` call: their
    :func:`ajcc.ajcc8_stage_bounds` hold a single combination, whose stage is that call's. The
    other rows are bounded one at a time by :func:`ajcc.ajcc8_stage_bounds`, as the section does.
    """
    out: dict[int, str | None] = {}
    known = [r for r in rows if r[1] is not None and r[3] is not None]
    for i, size_cm, n, m, grade in rows:
        if size_cm is None or m is None:
            bounds = ajcc.ajcc8_stage_bounds(size_cm=size_cm, n=n, m=m, grade=grade, site=site)
            out[i] = bounds.stage
    if known:
        result = ajcc.ajcc8_stage(
            size_cm=np.array([r[1] for r in known], dtype=float),
            n=np.array([r[2] for r in known], dtype=object),
            m=np.array([r[3] for r in known], dtype=object),
            grade=np.array([np.nan if r[4] is None else r[4] for r in known], dtype=float),
            site=site,
        )
        for r, stage in zip(known, np.atleast_1d(result.stage), strict=True):
            out[r[0]] = None if stage is None else str(stage)
    return out


def stages_at_diagnosis(
    cases: Sequence[Case], grades: Sequence[int | None], timings: Sequence[Timing | None]
) -> list[str | None]:
    """Return each case's stage at diagnosis, as :func:`staging_section` gives it, for many cases.

    The value of ``staging_section(case, grade, timing)["at_diagnosis"]["stage"]`` for each
    case, with the same inputs (:func:`system_of`, :func:`staging_size`, :func:`m_at_diagnosis`):
    the AJCC 8 trunk/extremity (chapter 41) and retroperitoneal (chapter 44) stage in one
    vectorised call per chapter (:func:`_soft_tissue_stages`), the FIGO stage of a uterine
    LMS/ESS (:func:`livermet.clinical.figo.figo_stage`) and None for systems without stage groups
    and primaries not staged. A metachronous distant metastasis is not part of it (M0 at
    diagnosis; see the module docstring).

    Parameters
    ----------
    cases
        The cases.
    grades
        FNCLCC grade (1-3) or None (GX) of each case, as for :func:`staging_section`.
    timings
        Timing of each case's distant disease (:func:`derived_timing` in the assessment).

    Returns
    -------
    list of str or None
        One stage per case, in order.

    Raises
    ------
    InputError
        An input the staging functions refuse (a size out of range), naming the field.
    """
    stages: list[str | None] = [None] * len(cases)
    by_site: dict[str, list[tuple[int, float | None, str | None, str | None, int | None]]] = {}
    for i, (case, grade, timing) in enumerate(zip(cases, grades, timings, strict=True)):
        system, _ = system_of(case)
        if system == "figo-uterine-sarcoma":
            tumour = case.primary_tumour
            stages[i] = _figo_stage(
                staging_size(case)[0],
                tumour.extension,
                tumour.nodal_status,
                m_at_diagnosis(case, timing),
            )
        elif system in _SOFT_TISSUE_SITES:
            row = (
                i,
                staging_size(case)[0],
                case.primary_tumour.nodal_status,
                m_at_diagnosis(case, timing),
                grade,
            )
            by_site.setdefault(_SOFT_TISSUE_SITES[system], []).append(row)
    for site, rows in by_site.items():
        for i, stage in _soft_tissue_stages(rows, site).items():
            stages[i] = stage
    return stages

"""Words shared by every view of the assessment: the web page, the PDF and the terminal.

The grade and the stage at diagnosis are bounded when inputs are missing (``grade`` null and
``total_min``/``total_max`` set; ``stage`` null and ``stage_text`` naming the candidates). Each
view takes their wording from here, so the web cards, the printed cards, the appendix and the
terminal say the same thing.
"""

from __future__ import annotations

from typing import Any

from livermet.case.assessment_model import (
    AssessmentModel,
    Fnclcc,
    Makuuchi,
    StageAtDiagnosis,
    Staging,
    Surveillance,
)
from livermet.clinical.fnclcc import GRADE_LOWER_BOUNDS


def _grade_of_total(total: int) -> int:
    """FNCLCC grade of a total score (Trojani 1984: 2-3 grade 1, 4-5 grade 2, 6-8 grade 3)."""
    return 1 + sum(total >= bound for bound in GRADE_LOWER_BOUNDS)


def grade_text(fn: Fnclcc) -> str:
    """Return the FNCLCC grade: "2", or its bounds when undecided ("2-3 (undecided)")."""
    if fn.grade is not None:
        return str(fn.grade)
    lo, hi = _grade_of_total(fn.total_min), _grade_of_total(fn.total_max)
    return str(lo) if lo == hi else f"{lo}-{hi} (undecided)"


def tnm_text(at: StageAtDiagnosis) -> str:
    """Return T, N, M and grade at diagnosis, "TX NX M0 GX" (X: not known)."""
    return f"{at.t or 'TX'} {at.n or 'NX'} {at.m or 'MX'} {at.grade}"


def stage_text(staging: Staging) -> str:
    """Return the stage group at diagnosis: "IIIA", "IB or IIA" (bounded), "no stage group".

    A bounded stage names every candidate ("not known" when nothing can be said); a system
    without stage groups (or a primary not staged) says so, its reason being in
    ``at_diagnosis.reason``. The system is not named (see :func:`stage_label`).
    """
    if not staging.stage_groups:
        return "no stage group"
    return staging.at_diagnosis.stage_text.removeprefix("FIGO ")


def stage_label(staging: Staging) -> str:
    """Return the stage at diagnosis with its system: "FIGO IB or IIA", "stage IIIA"."""
    text = stage_text(staging)
    if not staging.stage_groups:
        return text
    return f"FIGO {text}" if staging.system == "figo-uterine-sarcoma" else f"stage {text}"


def makuuchi_text(mk: Makuuchi) -> str:
    """Return the Makuuchi limit ("up to segmentectomy"), or the branch naming what is missing."""
    return f"up to {mk.max_extent}" if mk.max_extent else mk.branch


def planned_without_segments(m: AssessmentModel) -> str | None:
    """Return the sentence for a liver resection recorded without its segments, else None.

    Such a plan cannot be compared with the lesions, the Makuuchi limit or a difficulty score.
    """
    rs = m.resection
    if rs.plan_status is None or rs.segments:
        return None
    return (
        f"a liver resection is {rs.plan_status} but its segments are not recorded "
        "(segments_resected)"
    )


def visits_anchor(sv: Surveillance) -> str:
    """Return what the visit months count from: "months after the planned liver resection".

    ``starts`` is added only when it says more than the index ("after the planned liver
    resection" repeats the index "planned liver resection").
    """
    text = f"months after the {sv.index}"
    if sv.starts and sv.index not in sv.starts:
        text += f", {sv.starts}"
    return text


def key_values(data: dict[str, Any] | AssessmentModel) -> dict[str, str]:
    """Return the grade and the stage at diagnosis as the web page's key values show them."""
    m = data if isinstance(data, AssessmentModel) else AssessmentModel.model_validate(data)
    return {"grade": grade_text(m.grading.fnclcc), "stage": stage_text(m.staging)}

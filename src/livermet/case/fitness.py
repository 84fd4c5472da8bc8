"""The assessment's ``fitness`` block: age, ECOG performance status and ASA class, with sources."""

from __future__ import annotations

from typing import Any

from livermet.case.model import Case
from livermet.clinical import fitness


def fitness_section(case: Case) -> dict[str, Any]:
    """Return age, ECOG and ASA as recorded, each with its wording and source.

    No cut-off is applied.
    """
    patient = case.patient
    mortality = fitness.age_mortality(patient.age_years)
    age: dict[str, Any] = {"years": patient.age_years}
    if mortality is not None:
        age.update(
            age_group=f">= {mortality.age_group_min}",
            mortality_30d_percent=mortality.mortality_30d_percent,
            mortality_90d_percent=mortality.mortality_90d_percent,
            note=f"Pooled mortality after hepatectomy in patients aged {mortality.age_group_min} "
            f"or more: {mortality.text}; advanced age alone may not be a sufficient exclusion "
            "criterion.",
            source=fitness.AGE_MORTALITY_SOURCE,
        )
    ecog: dict[str, Any] = {
        "grade": patient.ecog,
        "status": "recorded" if patient.ecog is not None else "not known",
        "description": None if patient.ecog is None else fitness.ecog_description(patient.ecog),
        "reported": patient.performance_status,
        "source": fitness.ECOG_SOURCE,
    }
    asa_result = fitness.asa_assessment(patient.asa, list(patient.comorbidities))
    asa: dict[str, Any] = {
        "class": asa_result.asa_class,
        "label": None
        if asa_result.asa_class is None
        else fitness.ASA_CLASSES[asa_result.asa_class][0],
        "description": None
        if asa_result.asa_class is None
        else fitness.ASA_CLASSES[asa_result.asa_class][1],
        "status": asa_result.status,
        "range": None
        if asa_result.low is None or asa_result.high is None
        else [asa_result.low, asa_result.high],
        "basis": asa_result.basis,
        "comorbidities": list(patient.comorbidities),
        "source": fitness.ASA_SOURCE,
    }
    within: bool | None = None
    if patient.ecog is not None and asa_result.high is not None:
        within = (
            patient.ecog <= fitness.COLLISION_ECOG_MAX
            and asa_result.high <= fitness.COLLISION_ASA_MAX
        )
    elif (patient.ecog is not None and patient.ecog > fitness.COLLISION_ECOG_MAX) or (
        asa_result.low is not None and asa_result.low > fitness.COLLISION_ASA_MAX
    ):
        within = False
    return {
        "age": age,
        "ecog": ecog,
        "asa": asa,
        "trial_context": {
            "within_collision_criteria": within,
            "text": "The COLLISION trial (ablation vs resection of colorectal liver metastases) "
            "enrolled patients with ECOG 0-2 and ASA I-III: a trial's eligibility criterion, not "
            "a guideline.",
            "source": fitness.COLLISION_SOURCE,
        },
    }

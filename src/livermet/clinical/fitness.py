"""Fitness for surgery as the case records it: ECOG performance status, ASA class and age.

Only what a publication supports is shown; no cut-off is made up.

- ECOG performance status: Oken MM, Creech RH, Tormey DC, et al. Toxicity and response criteria
  of the Eastern Cooperative Oncology Group. Am J Clin Oncol 1982;5:649-655. Grades 0-5 (5: dead;
  a case file records 0-4). The WHO/Zubrod scale has the same grades.
- ASA physical status classification (American Society of Anesthesiologists; class definitions and
  adult examples as approved 2014, later amended). The class is assigned by the anaesthetist.
  When it is not recorded, a bounded suggestion is offered only from comorbidities that the ASA
  examples place in a class: hypertension and diabetes mellitus are class II when well controlled
  and class III when poorly controlled, so with control unknown the class is II-III
  ("not assessable").
- Age and hepatectomy: Ghanie A, et al. Surgery 2022;172:1164-1173 (meta-analysis, 66 studies,
  29,998 patients): pooled 30-day / 90-day mortality by age group, ≥ 65: 1.3 % / 2.7 %; ≥ 70:
  2.8 % / 2.8 %; ≥ 75: 3.0 % / 5.1 %; ≥ 80: 1.7 % (1.22-2.20) / 2.4 % (0.60-4.16); "advanced age
  alone may not be a sufficient exclusion criterion". The age groups are the meta-analysis's own,
  not thresholds for a decision.
- Trial context: the COLLISION trial (ablation vs resection of colorectal liver metastases;
  Puijk RS, et al. BMC Cancer 2018;18:821) enrolled patients with ECOG 0-2 and ASA 1-3 — an
  eligibility criterion of a trial, not a guideline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from livermet.errors import InputError

ECOG_SOURCE: Final = "Oken MM, et al. Am J Clin Oncol 1982;5:649-655 (ECOG performance status)"
ECOG_GRADES: Final = {
    0: "fully active, able to carry on all pre-disease performance without restriction",
    1: "restricted in physically strenuous activity but ambulatory and able to carry out work of "
    "a light or sedentary nature",
    2: "ambulatory and capable of all self-care but unable to carry out any work activities; up "
    "and about more than 50 % of waking hours",
    3: "capable of only limited self-care; confined to bed or chair more than 50 % of waking hours",
    4: "completely disabled; cannot carry on any self-care; totally confined to bed or chair",
}

ASA_SOURCE: Final = "American Society of Anesthesiologists physical status classification"
ASA_CLASSES: Final = {
    1: ("I", "a normal healthy patient"),
    2: ("II", "a patient with mild systemic disease"),
    3: ("III", "a patient with severe systemic disease"),
    4: ("IV", "a patient with severe systemic disease that is a constant threat to life"),
    5: ("V", "a moribund patient who is not expected to survive without the operation"),
    6: ("VI", "a declared brain-dead patient whose organs are being removed for donor purposes"),
}

ASA_CONTROL_DEPENDENT: Final = {
    "hypertension": ("hypertension", (2, 3)),
    "diabet": ("diabetes mellitus", (2, 3)),
}
"""Comorbidities the ASA examples place in class II when well controlled and III when poorly
controlled (matched as lower-case word stems)."""

AGE_MORTALITY_SOURCE: Final = "Ghanie A, et al. Surgery 2022;172:1164-1173 (meta-analysis)"
AGE_MORTALITY: Final = (
    (80, 1.7, 2.4, "30-day 1.7 % (1.22-2.20), 90-day 2.4 % (0.60-4.16)"),
    (75, 3.0, 5.1, "30-day 3.0 %, 90-day 5.1 %"),
    (70, 2.8, 2.8, "30-day 2.8 %, 90-day 2.8 %"),
    (65, 1.3, 2.7, "30-day 1.3 %, 90-day 2.7 %"),
)
"""(age group ≥, 30-day %, 90-day %, text): pooled mortality after hepatectomy by age group
(Ghanie 2022); the highest group the patient belongs to is reported."""

COLLISION_SOURCE: Final = "Puijk RS, et al. BMC Cancer 2018;18:821 (COLLISION trial protocol)"
COLLISION_ECOG_MAX: Final = 2
COLLISION_ASA_MAX: Final = 3


@dataclass(frozen=True)
class AsaAssessment:
    """ASA class as recorded, or the bounds the listed comorbidities allow.

    Attributes
    ----------
    asa_class
        The recorded class (1-6), or None.
    low, high
        Bounds of the class: equal to ``asa_class`` when recorded; from the comorbidities when a
        bound can be given; None otherwise.
    status
        "recorded", "not assessable" (bounds only) or "not known".
    basis
        What the bounds rest on.
    """

    asa_class: int | None
    low: int | None
    high: int | None
    status: Literal["recorded", "not assessable", "not known"]
    basis: str


def asa_assessment(asa_class: int | None, comorbidities: list[str]) -> AsaAssessment:
    """Return the recorded ASA class, else a bounded suggestion from the comorbidities.

    Raises
    ------
    InputError
        ``asa_class`` outside 1-6 ("patient.asa").
    """
    if asa_class is not None:
        if isinstance(asa_class, bool) or asa_class not in ASA_CLASSES:
            raise InputError(f"ASA class must be 1-6; got {asa_class!r}", "patient.asa")
        return AsaAssessment(asa_class, asa_class, asa_class, "recorded", "recorded in the case")
    found = []
    for stem, (name, bounds) in ASA_CONTROL_DEPENDENT.items():
        if any(stem in c.lower() for c in comorbidities):
            found.append((name, bounds))
    if not found:
        return AsaAssessment(None, None, None, "not known", "not recorded")
    low = max(b[0] for _, b in found)
    high = max(b[1] for _, b in found)
    names = " and ".join(n for n, _ in found)
    return AsaAssessment(
        None,
        low,
        high,
        "not assessable",
        f"{names}: class II when well controlled, III when poorly controlled (control not "
        "recorded); the class is assigned by the anaesthetist",
    )


def ecog_description(grade: int) -> str:
    """Return the ECOG grade's wording (Oken 1982).

    Raises
    ------
    InputError
        ``grade`` outside 0-4 ("patient.ecog").
    """
    if isinstance(grade, bool) or grade not in ECOG_GRADES:
        raise InputError(f"ECOG grade must be 0-4; got {grade!r}", "patient.ecog")
    return ECOG_GRADES[grade]


@dataclass(frozen=True)
class AgeMortality:
    """Pooled mortality after hepatectomy of the highest age group the patient belongs to."""

    age_group_min: int
    mortality_30d_percent: float
    mortality_90d_percent: float
    text: str


def age_mortality(age_years: int | None) -> AgeMortality | None:
    """Ghanie 2022's pooled mortality for the patient's age group (None below 65 or unknown).

    Raises
    ------
    InputError
        ``age_years`` negative or above 120 ("patient.age_years").
    """
    if age_years is None:
        return None
    if isinstance(age_years, bool) or not 0 <= age_years <= 120:
        raise InputError(f"age must be 0-120 years; got {age_years!r}", "patient.age_years")
    for low, d30, d90, text in AGE_MORTALITY:
        if age_years >= low:
            return AgeMortality(low, d30, d90, text)
    return None

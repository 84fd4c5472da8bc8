"""The typed model of the assessment: every section and key of ``livermet assess --format json``.

:func:`livermet.case.assess.assess` builds the assessment section by section; this module
describes what it builds (types, vocabularies, the meaning of every key). The JSON output
(``Assessment.to_dict()``), the web API's response schema (``POST /api/v1/assessments``,
``GET /api/v1/cases/{case_id}/assessment``) and ``livermet schema --assessment`` are generated
from :class:`AssessmentModel`.

Conventions:

- A key that the assessment writes only in some cases (the name of a staging system's missing
  stage groups, the intra-operative outcomes of a liver resection...) has a default of None here
  and is left out of the output when the assessment did not write it (``exclude_unset``), so the
  JSON is the one the sections built, key for key.
- Numbers that the assessment rounds are written as integers when they are whole (``12`` rather
  than ``12.0``): they are typed ``int | float``.
- "not assessable": a score that cannot be computed, with the missing inputs named
  (:class:`NotAssessable`); "not known": a value missing from the case file.
- Every object accepts keys this model does not name (``extra="allow"``), so that a key added by
  a newer section is never dropped from the output; the tests require every key to be named
  here, so that the published schema stays complete.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# The vocabularies defined where the values are made (a word added there is allowed here).
from livermet.case.findings import Severity
from livermet.case.model import LiverCondition
from livermet.case.options import Verdict
from livermet.case.prognosis import Direction
from livermet.clinical.ablation import Status as CriterionStatus
from livermet.clinical.recist import Category as RecistCategory
from livermet.clinical.recist import NonTarget as RecistNonTarget
from livermet.clinical.timing import Category as TimingCategory
from livermet.clinical.timing import DfiStatus, Timing

Number = int | float
"""A rounded number: an integer when whole, else a float."""

TimingBasis = Literal["dates", "stated"]
DetectionBasis = Literal["detected", "first liver imaging", "first liver biopsy"]
ProcedureStatus = Literal["planned", "performed"]
Approach = Literal["open", "laparoscopic", "robotic", "hand-assisted", "hybrid"]
Margin = Literal["R0", "R1", "R2"]
ClavienDindo = Literal["I", "II", "IIIa", "IIIb", "IVa", "IVb", "V"]
TolsStatus = Literal["met", "failed", "not assessable"]
StagingSystem = Literal[
    "ajcc8-extremity-trunk",
    "ajcc8-retroperitoneum",
    "figo-uterine-sarcoma",
    "ajcc8-head-neck-no-stage-groups",
    "ajcc8-visceral-no-stage-groups",
    "not-staged",
]
StageGroup = Literal[
    "IA", "IB", "II", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV", "IVA", "IVB"
]  # AJCC 8 soft-tissue (IA..IV) and FIGO uterine sarcoma (IA..IVB) stage groups
TCategory = Literal["T1", "T1a", "T1b", "T2", "T2a", "T2b", "T3", "T3a", "T3b", "T4"]
SizeMethod = Literal["pathology", "mri", "ct", "ultrasound", "pet", "palpation", "other"]
ExtentLabel = Literal[
    "no hepatectomy",
    "enucleation",
    "limited (partial, non-anatomical) resection",
    "segmentectomy",
    "sectionectomy or left hemihepatectomy",
    "right hemihepatectomy or trisectionectomy",
]


class Section(BaseModel):
    """Base of every object of the assessment (see the module docstring for ``extra``)."""

    model_config = ConfigDict(extra="allow")


def _f(description: str, **kwargs: Any) -> Any:
    """Return a field with its one-line description (it becomes the API's documented schema)."""
    return Field(description=description, **kwargs)


def _opt(description: str) -> Any:
    """Return a key written only in some cases: None here, left out of the output if unwritten."""
    return Field(default=None, description=f"{description} (absent when not applicable)")


class NotAssessable(Section):
    """A score that cannot be computed from the case file, with the inputs it lacks."""

    value: None = _f("always null: no value can be computed")
    status: Literal["not assessable"] = _f("'not assessable'")
    missing: list[str] = _f("the inputs that are not known (case-file names)")


# --- case, fitness -----------------------------------------------------------------------------


class CaseSummary(Section):
    """``case``: the case in a few words."""

    id: str = _f("the case's identifier")
    age_years: int | None = _f("age at presentation in years; null when not known")
    sex: Literal["male", "female", "other"] | None = _f("sex as recorded; null when not known")
    histology: str = _f("histology of the primary tumour as recorded")
    primary_site: str = _f("laterality and site of the primary tumour, as recorded")
    source: str | None = _f("where the case comes from (e.g. a publication); null when not given")


class AgeBlock(Section):
    """``fitness.age``: age, with the pooled mortality of its age group when published."""

    years: int | None = _f("age in years; null when not known")
    age_group: str | None = _opt("age group of the pooled post-hepatectomy mortality, e.g. '>= 80'")
    mortality_30d_percent: Number | None = _opt("pooled 30-day mortality after hepatectomy, %")
    mortality_90d_percent: Number | None = _opt("pooled 90-day mortality after hepatectomy, %")
    note: str | None = _opt("the pooled mortality in words, for the report")
    source: str | None = _opt("publication of the pooled mortality")


class EcogBlock(Section):
    """``fitness.ecog``: ECOG performance status."""

    grade: Literal[0, 1, 2, 3, 4] | None = _f("ECOG performance status 0-4; null when not known")
    status: Literal["recorded", "not known"] = _f("whether the ECOG grade is recorded")
    description: str | None = _f("the ECOG grade's definition; null when not known")
    reported: str | None = _f("performance status as written in the case file (free text)")
    source: str = _f("publication of the ECOG scale")


class AsaBlock(Section):
    """``fitness.asa``: ASA physical status class, or the range the comorbidities allow."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    asa_class: Literal[1, 2, 3, 4, 5, 6] | None = Field(
        alias="class", description="ASA physical status class 1-6; null when not decided"
    )
    label: str | None = _f("the class in Roman numerals (I-VI); null when not decided")
    description: str | None = _f("the class's definition; null when not decided")
    status: Literal["recorded", "not assessable", "not known"] = _f(
        "'recorded' (stated), 'not assessable' (only a range follows from the comorbidities), "
        "'not known'"
    )
    range: list[int] | None = _f("[lowest, highest] class the comorbidities allow; null if none")
    basis: str = _f("where the class or range comes from")
    comorbidities: list[str] = _f("comorbidities as recorded")
    source: str = _f("the ASA classification")


class TrialContext(Section):
    """``fitness.trial_context``: the patient against a trial's fitness criteria."""

    within_collision_criteria: bool | None = _f(
        "within the COLLISION trial's ECOG 0-2 and ASA I-III eligibility; null when not known"
    )
    text: str = _f("what the trial criterion is (an eligibility criterion, not a guideline)")
    source: str = _f("publication of the trial protocol")


class Fitness(Section):
    """``fitness``: age, ECOG and ASA, with sources."""

    age: AgeBlock = _f("age, with the pooled mortality of its age group when one is published")
    ecog: EcogBlock = _f("ECOG performance status")
    asa: AsaBlock = _f("ASA physical status class")
    trial_context: TrialContext = _f("the patient against a trial's fitness criteria")


# --- grading, staging --------------------------------------------------------------------------


class Fnclcc(Section):
    """``grading.fnclcc``: FNCLCC scores and grade, bounded when components are unknown."""

    mitosis_score: Literal[1, 2, 3] | None = _f("FNCLCC mitotic count score 1-3; null if unknown")
    necrosis_score: Literal[0, 1, 2] | None = _f(
        "FNCLCC tumour necrosis score 0-2; null if unknown"
    )
    differentiation_score: Literal[1, 2, 3] | None = _f(
        "FNCLCC differentiation score 1-3; null if unknown"
    )
    differentiation_source: str | None = _f(
        "where the differentiation score comes from (stated, or from the histologic type)"
    )
    total: int | None = _f("total score 2-8; null when a component is unknown")
    total_min: int = _f("lowest total the known components allow")
    total_max: int = _f("highest total the known components allow")
    grade: Literal[1, 2, 3] | None = _f("FNCLCC grade 1-3; null when the bounds straddle grades")
    reported_grade: Literal[1, 2, 3] | None = _f("grade as reported in the case file")
    source: str = _f("publications of the FNCLCC system")


class Grading(Section):
    """``grading``: grade of the primary tumour."""

    fnclcc: Fnclcc = _f("FNCLCC grade of the primary tumour, bounded when components are unknown")


class Ajcc8(Section):
    """The stage at diagnosis in the shape kept from earlier versions (``staging.ajcc8``)."""

    t: TCategory | None = _f("T category; null when not determinable")
    n: Literal["N0", "N1", "NX"] | None = _f("N category; null when not recorded")
    m: Literal["M0", "M1"] | None = _f("M category at diagnosis; null when not determinable")
    grade: Literal["G1", "G2", "G3", "GX"] = _f("grade as staged (GX: not decided)")
    stage: StageGroup | None = _f("stage group at diagnosis; null when undecided or none applies")
    size_cm: Number | None = _f("greatest dimension of the primary (cm) used for T")
    size_method: SizeMethod | None = _f("measurement the size comes from")
    source: str = _f("publication of the staging system")
    reason: str | None = _opt("why no stage group is computed")


class StageAtDiagnosis(Section):
    """``staging.at_diagnosis``: the stage at diagnosis, never changed by later spread."""

    system: StagingSystem = _f("the staging system applied")
    t: TCategory | None = _f("T category; null when not determinable")
    n: Literal["N0", "N1", "NX"] | None = _f("N category; null when not recorded")
    m: Literal["M0", "M1"] | None = _f("M at diagnosis (M1 only for synchronous distant disease)")
    grade: Literal["G1", "G2", "G3", "GX"] = _f("grade (GX: not decided)")
    stage: StageGroup | None = _f("stage group; null when undecided or none applies")
    stage_text: str = _f("the stage in words, with its bounds when undecided")
    stage_candidates: list[StageGroup] = _f("every stage group the unknown inputs allow")
    missing: list[str] = _f("inputs the stage depends on that are not known (size, M, N...)")
    size_cm: Number | None = _f("greatest dimension of the primary (cm) used for T")
    size_method: SizeMethod | None = _f("measurement the size comes from")
    notes: list[str] = _f("notes on the stage (boundaries, grade not staged, missing extension)")
    interpretations: list[str] = _f("readings of the staging rules the stage rests on")
    reason: str | None = _opt("why no stage group is computed")


class Recurrence(Section):
    """``staging.recurrence``: metachronous distant disease classified as a recurrence (rM1)."""

    kind: Literal["distant"] = _f("kind of recurrence")
    timing: Literal["metachronous"] = _f("a recurrence is metachronous distant disease")
    sites: list[str] = _f("sites of the recurrent distant disease ('liver', then extrahepatic)")
    t: None = _f("rT: not assessed")
    n: None = _f("rN: not assessed")
    m: Literal["M1"] = _f("distant metastasis")
    classification: Literal["rM1"] = _f("TNM classification of the recurrence (r prefix)")
    stage: Literal["rIV", "rIVB"] | None = _f(
        "r-prefixed stage group of the distant disease (engineering choice); null without one"
    )
    text: str = _f("the recurrence in words; says that the stage at diagnosis is kept")
    engineering_choice: str | None = _f("the engineering choice behind the r-prefixed stage")
    interpretations: list[str] = _f("readings of the staging rules the classification rests on")
    source: str = _f("source of the recurrence classification")


class Staging(Section):
    """``staging``: staging system, stage at diagnosis and recurrence."""

    ajcc8: Ajcc8 = _f("stage at diagnosis in the shape of earlier versions (kept for readers)")
    system: StagingSystem = _f("the staging system chosen by the primary's site and histology")
    system_name: str = _f("the staging system's name for a reader")
    chapter: int | None = _f("AJCC 8th edition chapter number; null when none applies")
    stage_groups: bool = _f("whether the system has stage groups (false: T, N, M only)")
    at_diagnosis: StageAtDiagnosis = _f("the stage at diagnosis, never changed by later spread")
    distant_timing: Timing | None = _f("timing of the distant disease; null when not known")
    timing_source: Literal["stated in the case file", "derived from the dates"] | None = _f(
        "where the timing of the distant disease comes from"
    )
    recurrence: Recurrence | None = _f("metachronous distant disease as a recurrence; else null")
    source: str = _f("publication of the staging system")


# --- liver function ----------------------------------------------------------------------------


class Icg(Section):
    """``liver_function.icg``: indocyanine green retention and clearance."""

    r15_percent: Number | None = _f("ICG retention at 15 minutes, %; null when not measured")
    k_per_min: Number | None = _f("ICG plasma clearance rate K (/min)")
    pdr_percent_per_min: Number | None = _opt("ICG plasma disappearance rate, %/min")
    source: str | None = _opt("formula of the clearance")


class Gsa(Section):
    """``liver_function.gsa``: 99mTc-GSA scintigraphy indices and their reading."""

    hh15: Number | None = _f("99mTc-GSA HH15; null when not measured")
    lhl15: Number | None = _f("99mTc-GSA LHL15; null when not measured")
    assessment: Literal["normal", "impaired", "indeterminate"] | None = _f(
        "GSA scintigraphy reading; null when no index is measured"
    )
    reasons: list[str] | None = _opt("each index against its cut-off")
    reference: str | None = _opt("the cut-offs used")


class Makuuchi(Section):
    """``liver_function.makuuchi``: largest safe hepatectomy by the Makuuchi criteria."""

    max_extent: ExtentLabel | None = _f(
        "largest safe hepatectomy by the Makuuchi criteria; null when not assessable"
    )
    max_extent_rank: Literal[0, 1, 2, 3, 4, 5] | None = _f(
        "the same extent as a rank (0 none ... 5 right hemihepatectomy or trisectionectomy)"
    )
    branch: str = _f("the branch of the decision tree taken, with its inputs")
    source: str = _f("publications of the criteria")


class Remnant(Section):
    """``liver_function.remnant``: future liver remnant against its minimum."""

    flr_percent: Number = _f("future liver remnant, % of the functional liver volume")
    liver_condition: LiverCondition = _f("background liver the minimum depends on")
    minimum_flr_percent: Number = _f("minimum remnant for that liver, %")
    flr_adequate: bool = _f("whether the remnant reaches the minimum")
    source: str = _f("publications of the minimum remnant")
    icg_kf: Number | None = _opt("ICG-K of the remnant (K x remnant fraction)")
    icg_kf_acceptable: bool | None = _opt("whether ICG-Kf reaches 0.05")
    icg_kf_source: str | None = _opt("publication of the ICG-Kf limit")


class ChildPughComponents(Section):
    """``liver_function.child_pugh.components``: Child-Pugh points per item."""

    bilirubin: Literal[1, 2, 3] | None = _f("points for bilirubin; null when not known")
    albumin: Literal[1, 2, 3] | None = _f("points for albumin; null when not known")
    inr: Literal[1, 2, 3] | None = _f("points for INR; null when not known")
    ascites: Literal[1, 2, 3] | None = _f("points for ascites; null when not known")
    encephalopathy: Literal[1, 2, 3] | None = _f("points for encephalopathy; null when not known")


class ChildPugh(Section):
    """``liver_function.child_pugh``: Child-Pugh score, bounded when items are unknown."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    points: int | None = _f("Child-Pugh points 5-15; null when an item is unknown")
    child_class: Literal["A", "B", "C"] | None = Field(
        alias="class", description="Child-Pugh class; null when the unknown items leave it open"
    )
    points_min: int = _f("lowest points the known items allow")
    points_max: int = _f("highest points the known items allow")
    points_range: str = _f("the points as written in reports: '5' or '5-7'")
    status: Literal["assessed", "class decided", "not assessable"] = _f(
        "'assessed' (every item known), 'class decided' (items unknown, class fixed), "
        "'not assessable'"
    )
    missing: list[str] = _f("items not known")
    components: ChildPughComponents = _f("points per item")
    thresholds: str = _f("the unit system of the thresholds applied")
    source: str = _f("publications of the score")
    value: None = _opt("null when not assessable (the shape of other not-assessable results)")


class Albi(Section):
    """``liver_function.albi``: ALBI score and grade."""

    score: Number = _f("ALBI score")
    grade: Literal[1, 2, 3] = _f("ALBI grade 1-3")
    malbi_grade: Literal["1", "2a", "2b", "3"] = _f("modified ALBI grade")


class MeldNotAssessable(Section):
    """``liver_function.meld.not_assessable``: per score, the inputs it lacks."""

    meld_na: list[str] | None = _opt("inputs MELD-Na lacks")
    meld_3: list[str] | None = _opt("inputs MELD 3.0 lacks")


class Meld(Section):
    """``liver_function.meld``: MELD, MELD-Na and MELD 3.0."""

    meld: int = _f("MELD (UNOS form)")
    status: Literal["assessed"] = _f("'assessed'")
    meld_na: int | None = _f("MELD-Na; null when sodium is not known")
    meld_3: int | None = _f("MELD 3.0; null when sodium, albumin or sex is not known")
    missing: list[str] = _f("inputs the scores that could not be computed lack")
    not_assessable: MeldNotAssessable = _f("per score, the inputs it lacks")
    dialysis: bool | None = _f("dialysis as recorded; null when not recorded (taken as none)")
    context: str = _f("how to read MELD in a non-cirrhotic liver")
    source: str = _f("publications of the scores")


class LiverFunction(Section):
    """``liver_function``: liver reserve (ICG, GSA, Makuuchi, remnant, scores)."""

    icg: Icg = _f("indocyanine green clearance")
    gsa: Gsa = _f("99mTc-GSA scintigraphy")
    makuuchi: Makuuchi = _f("largest safe hepatectomy by the Makuuchi criteria")
    remnant: Remnant | NotAssessable = _f("future liver remnant against its minimum")
    child_pugh: ChildPugh = _f("Child-Pugh score, bounded when items are unknown")
    albi: Albi | NotAssessable = _f("ALBI grade")
    meld: Meld | NotAssessable = _f("MELD, MELD-Na and MELD 3.0")


# --- lesions, resection plan -------------------------------------------------------------------


class LiverLesion(Section):
    """One row of ``liver_lesions``: a liver lesion with its timing and coverage."""

    id: str | None = _f("the lesion's identifier in the case file; null when none")
    segments: list[int] = _f("Couinaud segments of the lesion (1-8)")
    size_mm: Number | None = _f("greatest dimension, mm; null when not measured")
    number: int = _f("number of lesions the row stands for")
    timing: Timing | None = _f("synchronous or metachronous; null when not known")
    timing_source: TimingBasis | None = _f("'dates' (derived) or 'stated' (as the file says)")
    covered_by_plan: bool | None = _f(
        "whether the planned or performed resection or ablation includes the lesion; null "
        "when there is no plan to compare with"
    )
    covered_by: Literal["resection", "ablation", "resection + ablation"] | None = _f(
        "what covers the lesion; null when not covered or no plan"
    )


class Difficulty(Section):
    """``resection.difficulty``: laparoscopic difficulty grade of the resection."""

    system: str = _f("the difficulty system (Kawaguchi 2018)")
    grade: Literal["I", "II", "III"] | None = _f("laparoscopic difficulty grade; null if unknown")
    points: int | None = _f("points of the grade; null when unknown")
    rationale: str = _f("why this grade")
    applies_to_plan: bool = _f("whether the plan's approach is laparoscopic or robotic")
    label: str | None = _f("the grade for reports, '(if laparoscopic)' for another approach")


class LesionCoverage(Section):
    """One row of ``resection.coverage``: a lesion against the plan."""

    id: str | None = _f("the lesion's identifier; null when none")
    segments: list[int] = _f("the lesion's Couinaud segments")
    size_mm: Number | None = _f("greatest dimension, mm")
    covered_by_plan: bool | None = _f("whether the plan covers the lesion; null without a plan")
    covered_by: Literal["resection", "ablation", "resection + ablation"] | None = _f(
        "what covers the lesion"
    )
    outside_plan_segments: list[str] = _f("segments (or 4a/4b) of the lesion left outside the plan")


class ClearingResection(Section):
    """One row of ``resection.clearing_resections``: a resection that clears every lesion."""

    name: str = _f("Brisbane 2000 name of the resection (or the partial resection)")
    segments: list[int] = _f("segments it removes")
    within_safe_extent: bool | None = _f(
        "within the Makuuchi maximum extent; null when that limit is not assessable"
    )
    extent: ExtentLabel = _f("extent class of the resection")
    anatomical: bool = _f("anatomical (true) or partial, non-anatomical (false)")
    combination: bool = _f("whether it combines several resections")
    engineering_choice: bool = _f("whether it rests on an engineering rule of livermet")
    condition: str | None = _f("condition for a partial resection to apply; null otherwise")


class AblationCriterion(Section):
    """One ablation eligibility criterion of a lesion, with its status."""

    criterion: str = _f("the criterion (size, number, extrahepatic disease, bile-duct distance)")
    status: CriterionStatus = _f("whether the lesion meets it")
    text: str = _f("the criterion with this lesion's value and its source")


class AblationZone(Section):
    """Ablation zone diameter a lesion needs for one ablative margin."""

    margin_mm: Number = _f("ablative margin aimed at, mm")
    zone_mm: Number = _f("ablation zone diameter that margin needs, mm")


class AblationRow(Section):
    """One row of ``resection.ablation``: a lesion's ablation eligibility."""

    id: str | None = _f("the lesion's identifier; null when none")
    segments: list[int] = _f("the lesion's Couinaud segments")
    size_mm: Number | None = _f("greatest dimension, mm")
    eligible: bool | None = _f("whether the lesion is an ablation candidate; null if undecided")
    status: Literal["eligible", "not eligible", "not assessable"] = _f("eligibility in words")
    criteria: list[AblationCriterion] = _f("each eligibility criterion")
    zone_needed_mm: list[AblationZone] = _f("ablation zone needed for each margin")
    overlapping_zones_likely: bool | None = _f("whether overlapping ablations would be needed")
    heat_sink_risk: bool | None = _f(
        "a vessel wider than 3 mm abuts the lesion (prefer microwave); null when not recorded"
    )


class ResectionAlternative(Section):
    """One row of ``resection.alternatives``: PVE or two-stage hepatectomy, with why."""

    option: Literal["portal vein embolisation", "two-stage hepatectomy"] = _f("the strategy")
    reason: str = _f("why it is named for this patient, with the data it rests on")
    source: str = _f("publications")


class Resection(Section):
    """``resection``: the liver-resection plan against the lesions."""

    segments: list[int] | None = _f("segments of the planned or performed resection; null if none")
    procedure_name: str | None = _f("Brisbane 2000 name of that resection; null if none")
    synonyms: list[str] | None = _opt("other names of the resection")
    extent: ExtentLabel | None = _opt("extent class of the resection")
    major: bool | None = _opt("major hepatectomy (three or more segments)")
    anatomical: bool | None = _opt("anatomical resection")
    approach: Approach | None = _f("approach of the liver resection; null when not recorded")
    within_safe_extent: bool | None = _f(
        "the resection against the Makuuchi maximum extent; null when either is unknown"
    )
    difficulty: Difficulty | None = _f("laparoscopic difficulty grade; null without a resection")
    tumour_segments: list[int] = _f("every segment with a lesion")
    candidates: list[str] = _f("anatomical resections containing the tumour segments")
    source: str | None = _opt("sources of the names and the difficulty grade")
    plan_status: ProcedureStatus | None = _f("planned or performed; null without a resection")
    coverage: list[LesionCoverage] = _f("each lesion against the plan")
    clearing_resections: list[ClearingResection] = _f(
        "smallest resections that clear every lesion, smallest first"
    )
    clearing_within_safe_extent: list[str] = _f(
        "names of the anatomical clearing resections within the Makuuchi limit"
    )
    partial_within_safe_extent: list[str] = _f(
        "names of the partial clearing resections within the Makuuchi limit"
    )
    clearing_rule: str = _f("the rule that lists the clearing resections (engineering choice)")
    ablation: list[AblationRow] = _f("each lesion's ablation eligibility")
    ablation_rule: str = _f("the rule of ablation eligibility (engineering choice)")
    alternatives: list[ResectionAlternative] = _f(
        "portal vein embolisation / two-stage hepatectomy when no resection within the limit "
        "clears every lesion or the remnant is short"
    )


# --- outcomes ----------------------------------------------------------------------------------


class Complication(Section):
    """One complication with its Clavien-Dindo grade."""

    description: str = _f("the complication as recorded")
    grade: ClavienDindo | None = _f("Clavien-Dindo grade (stated, or suggested by the treatment)")
    treatment: str | None = _f("treatment as recorded")


class OperationOutcome(Section):
    """Outcome of a performed operation: complications and length of stay."""

    clavien_dindo: ClavienDindo | Literal["none"] | None = _f(
        "worst Clavien-Dindo grade; 'none' without complications; null when not known"
    )
    cci: Number | None = _f("Comprehensive Complication Index 0-100; null when not known")
    complications: list[Complication] = _f("complications with their grades")
    length_of_stay_days: Number | None = _f("days from the operation to discharge")


class TolsCriteria(Section):
    """Each criterion of the textbook outcome in liver surgery: met, failed or not assessable."""

    intraoperative_incident_grade2_or_more: TolsStatus = _f("no intra-operative incident >= 2")
    bile_leak_grade_b_or_c: TolsStatus = _f("no bile leak grade B/C")
    liver_failure_grade_b_or_c: TolsStatus = _f("no post-hepatectomy liver failure grade B/C")
    major_complication: TolsStatus = _f("no major complication (Clavien-Dindo >= III)")
    readmission_90d: TolsStatus = _f("no readmission within 90 days")
    mortality_90d: TolsStatus = _f("no death within 90 days")
    r0_resection: TolsStatus = _f("R0 resection")


class TextbookOutcome(Section):
    """Textbook outcome in liver surgery (TOLS) of the performed liver resection."""

    status: Literal["achieved", "not achieved", "not assessable"] = _f("textbook outcome (TOLS)")
    criteria: TolsCriteria = _f("each criterion: met, failed or not assessable")
    missing: list[str] = _f("criteria that cannot be assessed")
    source: str = _f("publication of the definition")


class LiverResectionOutcome(OperationOutcome):
    """``outcomes.liver_resection``: outcome of the performed liver resection."""

    operative_minutes: Number | None = _f("duration of the operation, minutes")
    blood_loss_ml: Number | None = _f("blood loss, mL")
    approach: Approach | None = _f("approach of the operation")
    converted: bool | None = _f("converted to open surgery")
    margin: Margin | None = _f("resection margin")
    textbook_outcome: TextbookOutcome = _f("textbook outcome in liver surgery (TOLS)")


class Outcomes(Section):
    """``outcomes``: outcomes of the performed operations."""

    liver_resection: LiverResectionOutcome | None = _f(
        "outcome of the performed liver resection; null when none has been performed"
    )
    primary_resection: OperationOutcome | None = _f(
        "outcome of the performed resection of the primary; null when none"
    )


# --- timeline ----------------------------------------------------------------------------------


class TimelineEvent(Section):
    """One row of ``timeline.events``: a dated (or undated) event of the case."""

    day: Number | None = _f("days from the case's day 0; null when undated")
    event: str = _f("what happened (or is planned)")
    status: ProcedureStatus | None = _opt("planned or performed (procedures only)")
    date: dt.date | None = _f("calendar date; null when the case has no dates")
    month: Number | None = _f("months from day 0; null when undated")


class TimingDefinition(Section):
    """The first liver lesion's timing by one definition of synchronous disease."""

    scheme: str = _f("key of the definition")
    definition: str = _f("the definition in words")
    source: str = _f("publication of the definition")
    timing: Timing = _f("the first lesion's timing by this definition")
    category: TimingCategory = _f("its category by this definition")


class LesionTiming(Section):
    """One lesion's timing: detection, interval and basis."""

    id: str | None = _f("the lesion's identifier; null when none")
    # Segments as the case file writes them (1-8, '4a', 'VII', 'S7'), not normalised.
    segments: list[int | str] = _f("segments as written in the case file")
    detected_date: dt.date | None = _f("date of first detection")
    detected_month: Number | None = _f("month of first detection from day 0")
    detected_basis: DetectionBasis | None = _f("which record gives the detection")
    months_from_anchor: Number | None = _f("months from the anchor to the detection")
    timing: Timing | None = _f("timing (from the dates, else as stated)")
    category: TimingCategory | None = _f("category by the default definition (from dates)")
    basis: TimingBasis | None = _f("'dates' or 'stated'")
    stated: Timing | None = _f("timing as stated in the case file")


class MetastasisTiming(Section):
    """``timeline.timing``: definition, anchor and dates of the liver disease's timing."""

    scheme: str = _f("key of the default definition")
    definition: str = _f("the default definition in words")
    source: str = _f("publication of the definition")
    choice: str = _f("why this definition is the default, and the others reported")
    anchor: str | None = _f("what the interval is counted from; null when no date")
    anchor_date: dt.date | None = _f("date of the anchor")
    first_detection_date: dt.date | None = _f("date the first liver lesion was detected")
    first_detection_month: Number | None = _f("month of that detection from day 0")
    first_detection_basis: DetectionBasis | None = _f("which record gives it")
    months_from_diagnosis: Number | None = _f("months from the primary's diagnosis")
    months_from_primary_resection: Number | None = _f("months from the primary's resection")
    category: TimingCategory | None = _f("category of the liver disease by the default definition")
    other_definitions: list[TimingDefinition] = _f("the first lesion by the other definitions")
    lesions: list[LesionTiming] = _f("each lesion's timing")


class TimelineSection(Section):
    """``timeline``: timing, disease-free interval and dated events."""

    metastasis_timing: Timing | None = _f("timing of the liver disease; null when not known")
    liver_resection_after_primary_months: Number | None = _f(
        "months from the primary's resection to the liver resection (performed)"
    )
    follow_up_after_liver_resection_months: Number | None = _f(
        "follow-up after the performed liver resection, months"
    )
    follow_up_after_primary_months: Number | None = _f(
        "follow-up after the performed resection of the primary, months"
    )
    metastasis_timing_basis: TimingBasis | None = _f("'dates' or 'stated'")
    timing: MetastasisTiming = _f("definition, anchor and dates of the timing")
    disease_free_interval_months: Number | None = _f(
        "disease-free interval, months; null when not assessable"
    )
    disease_free_interval_status: DfiStatus = _f("whether the interval exists")
    disease_free_interval_reason: str = _f("why (or from what) the interval is counted")
    disease_free_interval_definition: str = _f("definition of the interval")
    events: list[TimelineEvent] = _f("dated events in order (undated last)")


# --- response, prognosis, options, surveillance ---------------------------------------------


class RecistSum(Section):
    """Sum of the RECIST target diameters at one time point."""

    date: str = _f("the time point (ISO date, 'month N', or 'undated')")
    sum_mm: Number | None = _f("sum of the target diameters, mm; null when not all measured")


class RecistTimePoint(Section):
    """RECIST 1.1 response at one time point after the baseline."""

    date: str = _f("the time point (ISO date, 'month N', or 'undated')")
    sum_mm: Number | None = _f("sum of the target diameters, mm")
    percent_change_from_baseline: Number | None = _f("change from the baseline sum, %")
    category: RecistCategory = _f("overall response at this time point")


class RecistAssessed(Section):
    """``response.recist`` when assessed: RECIST 1.1 response from the imaging time points."""

    status: Literal["assessed"] = _f("'assessed'")
    missing: list[str] = _f("empty")
    baseline: RecistSum = _f("baseline time point")
    nadir: RecistSum = _f("smallest sum so far")
    current: RecistSum = _f("latest time point")
    percent_change_from_baseline: Number | None = _f("current against the baseline, %")
    percent_change_from_nadir: Number | None = _f("current against the nadir, %")
    change_from_nadir_mm: Number | None = _f("current against the nadir, mm")
    target_response: RecistCategory | None = _f("response of the target lesions")
    non_target_response: RecistNonTarget = _f("response of the non-target lesions")
    new_lesions: bool | None = _f("new lesions at the current time point; null if not stated")
    category: RecistCategory = _f("overall RECIST 1.1 response (CR, PR, SD, PD, NE)")
    rule: str = _f("the rule applied, with the numbers")
    systemic_therapy_between: list[str] = _f("regimens given between baseline and current")
    response_to_chemotherapy: Literal["response", "no response"] | None = _f(
        "response to chemotherapy (CR or PR); null without chemotherapy between the images"
    )
    response_definition: str = _f("what counts as a response (documented default)")
    time_points: list[RecistTimePoint] = _f("every time point after the baseline")
    notes: list[str] = _f("notes on the time points (undated, late baseline...)")
    source: str = _f("RECIST 1.1 publication")


class RecistNotAssessable(Section):
    """``response.recist`` when not assessable, with what is missing."""

    status: Literal["not assessable"] = _f("'not assessable'")
    missing: list[str] = _f("what is missing")
    category: None = _f("null")
    source: str = _f("RECIST 1.1 publication")


class ResponseToTreatment(Section):
    """``response``: response of the disease to treatment."""

    recist: Annotated[RecistAssessed | RecistNotAssessable, Field(discriminator="status")] = _f(
        "RECIST 1.1 response from the imaging time points"
    )


class DfiVotes(Section):
    """Direction of the disease-free interval by each source's cut-off."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    dematteo: Literal["favourable", "unfavourable"] = Field(
        alias="DeMatteo", description="by DeMatteo 2001 (> 24 months favourable)"
    )
    adam: Literal["favourable", "unfavourable"] = Field(
        alias="Adam", description="by Adam 2006 (< 12 months adverse)"
    )
    jain: Literal["favourable", "unfavourable"] = Field(
        alias="Jain", description="by Jain 2023 (>= 12 months favourable)"
    )


class DfiValue(Section):
    """Value of the disease-free interval factor: months and each source's direction."""

    months: Number = _f("disease-free interval, months")
    by_cut_off: DfiVotes = _f("direction by each source's cut-off")


class SizeValue(Section):
    """Value of the lesion size factor: the largest liver lesion."""

    size_mm: Number = _f("largest liver lesion, mm")
    note: str | None = _opt("when some lesions are not measured")


class ResponseValue(Section):
    """Value of the response factor: RECIST category and the regimens given."""

    recist: RecistCategory | None = _f("RECIST 1.1 category")
    percent_change_from_baseline: Number | None = _opt("change from the baseline sum, %")
    systemic_therapy: list[str] | None = _f("regimens between the images; null when none")


class GradeRange(Section):
    """Value of the grade factor when the grade is bounded, not decided."""

    grade_min: int = _f("lowest FNCLCC grade the known components allow")
    grade_max: int = _f("highest FNCLCC grade the known components allow")


class PrognosticFactor(Section):
    """One row of ``prognostic_factors``: a factor, this patient's value and its effect."""

    factor: str = _f("the factor (disease-free interval, extrahepatic disease, histology...)")
    # The value's shape depends on the factor: a word ("none found"), a number (age, lesion
    # count, grade), or one of the structured values below; null when not known.
    value: DfiValue | SizeValue | ResponseValue | GradeRange | int | float | str | None = _f(
        "this patient's value of the factor; null when not known"
    )
    direction: Direction = _f("favourable, unfavourable, mixed (sources disagree) or not known")
    effect: str = _f("the effect the sources report")
    population: str = _f("the population it was reported in")
    source: str = _f("publications")
    missing: list[str] = _f("inputs not known")
    note: str | None = _opt("a note on the value or on a choice made")


class OptionReason(Section):
    """One reason for or against a treatment option."""

    text: str = _f("the reason, worded from this patient's data")
    source: str = _f("the publication it rests on")
    supports: bool = _f("true: speaks for the option; false: against it")


class TreatmentOption(Section):
    """One row of ``options``: a treatment option with its verdict and reasons."""

    option: str = _f("the treatment option (liver resection, ablation, systemic chemotherapy...)")
    verdict: Verdict = _f("favoured, possible or not favoured")
    reasons: list[OptionReason] = _f("reasons for and against")


class SurveillanceRow(Section):
    """One period of the follow-up schedule."""

    years: str = _f("years after the index operation, e.g. '0-2' or '5+'")
    interval_months: list[Number] = _f("[shortest, longest] interval between visits, months")
    modalities: list[str] = _f("imaging and examinations at each visit")
    source: str = _f("guideline")


class Surveillance(Section):
    """``surveillance``: follow-up schedule."""

    index: Literal["liver resection", "planned liver resection", "primary treatment"] = _f(
        "what the months are counted from"
    )
    index_status: ProcedureStatus | None = _f("planned or performed index operation")
    starts: str | None = _f("when the schedule starts, for a planned operation")
    rows: list[SurveillanceRow] = _f("the schedule by period")
    visits_months: list[Number] = _f("visit months over five years")


# --- evidence, findings --------------------------------------------------------------------------


class PooledSurvival(Section):
    """Pooled survival after hepatectomy at one time point."""

    months: int = _f("time point, months")
    estimate: Number | None = _f("pooled survival (proportion)")
    ci_lb: Number | None = _f("95 % confidence interval, lower bound")
    ci_ub: Number | None = _f("95 % confidence interval, upper bound")
    pi_lb: Number | None = _f("95 % prediction interval, lower bound")
    pi_ub: Number | None = _f("95 % prediction interval, upper bound")
    k: int = _f("number of series")
    i2: Number | None = _f("I² heterogeneity, %")


class ExcludedMedian(Section):
    """A series whose median survival is left out of the pooled median."""

    id: str = _f("series identifier")
    label: str | None = _f("series name for readers (first author and year)")
    reason: str = _f("why its median is left out")


class PooledMedian(Section):
    """Pooled median survival of the surgical series."""

    estimate: Number | None = _f("pooled median survival, months")
    ci_lb: Number | None = _f("95 % confidence interval, lower bound")
    ci_ub: Number | None = _f("95 % confidence interval, upper bound")
    method: str = _f("synthesis method")
    excluded_medians: list[ExcludedMedian] = _f("medians left out")


class SeriesRange(Section):
    """Smallest and largest value of a figure across the surgical series."""

    min: Number | None = _f("smallest value across series")
    max: Number | None = _f("largest value across series")
    k: int = _f("number of series reporting it")


class RangeAcrossSeries(Section):
    """Ranges of survival figures across the surgical series."""

    os5_percent: SeriesRange = _f("5-year overall survival, %")
    median_months: SeriesRange = _f("median survival, months")
    patients: int = _f("patients across the series")


class QuotedFigure(Section):
    """A figure quoted from the literature, not recomputed."""

    topic: str = _f("topic")
    text: str = _f("the figure as quoted")
    source: str = _f("where it is quoted from")


class Evidence(Section):
    """``evidence``: pooled evidence of the surgical series."""

    pooled_survival: list[PooledSurvival] = _f("pooled survival after hepatectomy by time point")
    pooled_survival_method: str = _f("pooling method")
    pooled_median_months: PooledMedian = _f("pooled median survival")
    range_across_series: RangeAcrossSeries = _f("ranges across the surgical series")
    quoted: list[QuotedFigure] = _f("figures quoted from the literature, not recomputed")
    sources: str = _f("the series pooled")


class AssessmentFinding(Section):
    """One row of ``findings``: an inconsistency or gap in the case."""

    severity: Severity = _f("warning (contradiction, assumption) or info (a gap)")
    code: str = _f("stable code of the finding, e.g. 'lesion-not-in-plan'")
    message: str = _f("the finding, naming the values involved")


# --- the assessment ------------------------------------------------------------------------------


class AssessmentModel(Section):
    """The tumour-board assessment of one case (``livermet assess --format json``)."""

    livermet_version: str = _f("version of livermet that made the assessment")
    notice: str = _f("decision support, not medical advice")
    assessed_on: dt.date | None = _f("date of the assessment (the case's, else today)")
    phase: Literal["pre-operative", "post-operative"] = _f(
        "pre-operative when the liver resection is planned or absent, post-operative when performed"
    )
    case: CaseSummary = _f("the case in a few words")
    fitness: Fitness = _f("age, ECOG and ASA, with sources")
    grading: Grading = _f("grade of the primary tumour")
    staging: Staging = _f("staging system, stage at diagnosis and recurrence")
    liver_function: LiverFunction = _f("liver reserve: ICG, GSA, Makuuchi, remnant, scores")
    liver_lesions: list[LiverLesion] = _f("each liver lesion with its timing and coverage")
    resection: Resection = _f("the liver-resection plan against the lesions")
    outcomes: Outcomes = _f("outcomes of the performed operations")
    timeline: TimelineSection = _f("timing, disease-free interval and dated events")
    response: ResponseToTreatment = _f("response of the disease to treatment")
    prognostic_factors: list[PrognosticFactor] = _f("prognostic factor panel, no score")
    options: list[TreatmentOption] = _f("treatment options with their verdicts and reasons")
    surveillance: Surveillance = _f("follow-up schedule")
    evidence: Evidence = _f("pooled evidence of the surgical series")
    findings: list[AssessmentFinding] = _f("inconsistencies and gaps in the case")
    assumptions: list[str] = _f("assumptions the assessment made, in words")


def assessment_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of the assessment (``livermet schema --assessment``)."""
    return AssessmentModel.model_json_schema(by_alias=True, mode="serialization")

"""The case file: one patient, as a case report or a clinic letter describes them.

Every measured value keeps the text it was reported with (``"1.2 mg/dL"``, ``"5 h 14 min"``); it is
checked against its unit and plausibility range when the file is read, and converted to the
canonical unit only when a score needs it (``livermet.clinical.units``). Dates may be real dates or
offsets from another event (``{after: primary-resection, months: 4}``), because case reports give
only intervals.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from livermet.clinical.anatomy import parse_segments
from livermet.clinical.complications import parse_clavien_dindo
from livermet.clinical.contracts import (
    ASCITES_CONTROL,
    DIFFERENTIATION,
    ENCEPHALOPATHY,
    GRADE,
    HH15,
    LHL15,
    LIVER_CONDITION,
    MITOSES,
    N_CATEGORY,
    NECROSIS,
)
from livermet.clinical.recist import diameter_mm
from livermet.clinical.units import Measurement, parse_quantity
from livermet.errors import InputError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- vocabularies and bounds of the score contracts (livermet.clinical.contracts) ---------------


def _whole(value: float) -> float:
    """Return a bound as an int when it is whole, so that the JSON Schema reads ``500``."""
    return int(value) if float(value).is_integer() else value


if TYPE_CHECKING:
    Grade = int
    Differentiation = int
    NodalStatus = str
    LabAscites = str
    Encephalopathy = str
    LiverCondition = str
else:
    Grade = Literal[tuple(int(v) for v in GRADE.values)]
    Differentiation = Literal[tuple(int(v) for v in DIFFERENTIATION.values)]
    NodalStatus = Literal[N_CATEGORY.vocabulary]
    LabAscites = Literal[ASCITES_CONTROL.vocabulary]
    Encephalopathy = Literal[ENCEPHALOPATHY.vocabulary]
    LiverCondition = Literal[LIVER_CONDITION.vocabulary]
"""Grades and differentiation scores 1-3, N categories, ascites (Makuuchi's words: none,
controlled, uncontrollable), encephalopathy and background liver, as the score contracts declare
them (the type checker sees the plain type)."""


# --- measured values -------------------------------------------------------------------------

Reported = str | float
"""A value as reported: a number in the canonical unit or a text with its unit."""


def _checked(kind: str) -> AfterValidator:
    def check(value: Reported | None) -> Reported | None:
        if value is not None:
            _as_measurement(value, kind)
        return value

    return AfterValidator(check)


def _as_measurement(value: Reported, kind: str) -> Measurement:
    try:
        return parse_quantity(value, kind, kind)
    except ValueError as exc:  # InputError is a ValueError; pydantic adds the path
        raise ValueError(_message_of(exc)) from None


_DURATION = re.compile(
    r"^\s*(?:(\d+(?:\.\d+)?)\s*h(?:ours?|rs?)?)?\s*(?:(\d+(?:\.\d+)?)\s*min(?:utes?)?)?\s*$"
)


def duration_minutes(value: Reported) -> float:
    """Minutes in ``"314 min"``, ``"5 h 14 min"``, ``"5.2 h"`` or a bare number of minutes."""
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m and (m.group(1) or m.group(2)):
            return float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    return parse_quantity(value, "duration", "duration").value


def _check_duration(value: Reported | None) -> Reported | None:
    if value is not None:
        try:
            minutes = duration_minutes(value)
        except ValueError as exc:
            raise ValueError(getattr(exc, "message", str(exc))) from None
        if not 0 < minutes <= 2880:
            raise ValueError(f"{value!r} is outside the plausible range for a duration (0-48 h)")
    return value


def _message_of(exc: ValueError) -> str:
    return str(getattr(exc, "message", exc))


def _check_segments(values: list[int | str]) -> list[int | str]:
    if not values:  # an empty list is "none recorded"; where one is required, min_length says so
        return values
    try:
        parse_segments(values, field="segments")
    except ValueError as exc:
        raise ValueError(_message_of(exc)) from None
    return values


def _check_clavien_dindo(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_clavien_dindo(value)
        except ValueError as exc:
            raise ValueError(_message_of(exc)) from None
    return value


Segments = Annotated[list[int | str], AfterValidator(_check_segments)]
ClavienDindoGrade = Annotated[str, AfterValidator(_check_clavien_dindo)]
Size = Annotated[Reported, _checked("size")]
Volume = Annotated[Reported, _checked("volume")]
BloodLoss = Annotated[Reported, _checked("blood_loss")]
Duration = Annotated[Reported, AfterValidator(_check_duration)]


def _check_diameter(value: Reported) -> Reported:
    try:
        diameter_mm(value, "diameter")
    except ValueError as exc:
        raise ValueError(_message_of(exc)) from None
    return value


Diameter = Annotated[Reported, AfterValidator(_check_diameter)]
"""A lesion diameter (RECIST): a size, or 0 mm for a lesion that has gone."""


def _length_at_most(limit_mm: float) -> AfterValidator:
    """Return a check of a length in mm from 0 to ``limit_mm`` (the ablation rule's range)."""

    def check(value: Reported) -> Reported:
        expected = f"expected a length from 0 to {limit_mm:g} mm, got {value!r}"
        try:
            mm = diameter_mm(value, "length")
        except ValueError as exc:
            message = _message_of(exc)
            raise ValueError(expected if "range" in message else message) from None
        if mm > limit_mm:
            raise ValueError(expected)
        return value

    return AfterValidator(check)


BileDuctDistance = Annotated[Reported, _length_at_most(300.0)]
"""Distance from a lesion to the main or a segmental bile duct, 0-300 mm (the range of
:func:`livermet.clinical.ablation.lesion_ablation`)."""
VesselDiameter = Annotated[Reported, _length_at_most(100.0)]
"""Diameter of a vessel abutting a lesion, 0-100 mm (0 mm: no vessel abuts it)."""


def measure(value: Reported | None, kind: str) -> Measurement | None:
    """Canonical measurement of an already-validated reported value (None stays None)."""
    return None if value is None else parse_quantity(value, kind, kind)


# --- time ----------------------------------------------------------------------------------


class Offset(_Model):
    """A time given relative to another event of the case, as case reports do."""

    after: str = Field(description="id of the event this time is counted from")
    days: float | None = Field(default=None, ge=0)
    weeks: float | None = Field(default=None, ge=0)
    months: float | None = Field(default=None, ge=0)
    years: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_amount(self) -> Offset:
        given = [x for x in (self.days, self.weeks, self.months, self.years) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of days, weeks, months or years")
        return self


When = dt.date | Offset
"""A real date (ISO, ``2021-04-01``) or an offset from another event."""


# --- patient and tumour -------------------------------------------------------------------


_ROMAN_ASA = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


def _asa_class(value: Any) -> Any:
    """ASA classes are written in Roman numerals as often as not ('III', 'ASA III')."""
    if isinstance(value, str):
        text = value.strip().upper().removeprefix("ASA").strip()
        if text in _ROMAN_ASA:
            return _ROMAN_ASA[text]
        if text.isdigit():
            return int(text)
        raise ValueError(f"{value!r} is not an ASA class; expected 1-6 or I-VI")
    return value


class Patient(_Model):
    """The patient at presentation: age, sex, body size, comorbidities and fitness."""

    age_years: int | None = Field(default=None, ge=0, le=120, description="age at presentation")
    sex: Literal["male", "female", "other"] | None = None
    height: Annotated[Reported, _checked("height")] | None = None
    weight: Annotated[Reported, _checked("weight")] | None = None
    comorbidities: list[str] = Field(default_factory=list)
    performance_status: str | None = Field(
        default=None, description="ECOG grade or the report's words, e.g. 'general condition good'"
    )
    ecog: int | None = Field(
        default=None, ge=0, le=4, description="ECOG performance status, 0 (fully active) to 4"
    )
    asa: Annotated[int, BeforeValidator(_asa_class)] | None = Field(
        default=None, ge=1, le=6, description="ASA physical status class, 1-6 (or I-VI)"
    )
    dialysis: bool | None = Field(
        default=None,
        description="dialysis at least twice, or CVVHD for 24 h, in the week before (MELD sets "
        "creatinine to 4.0 mg/dL)",
    )


class SizeMeasurement(_Model):
    """One measurement of the primary tumour's size, by one method."""

    method: Literal["palpation", "ct", "mri", "ultrasound", "pet", "pathology", "other"]
    greatest_dimension: Size
    dimensions: list[Size] = Field(default_factory=list, description="all axes, if reported")
    source: str | None = Field(default=None, description="the sentence of the report it comes from")


class Immunohistochemistry(_Model):
    """One immunohistochemical marker of the primary tumour and its result."""

    marker: str
    result: Literal["positive", "negative", "equivocal"] | None = None
    value: str | None = Field(default=None, description="e.g. a labelling index '60 %'")


NecrosisCategory = Literal["none", "<50%", ">=50%"]

PrimaryExtension = Literal[
    "confined",
    "adnexa",
    "pelvis",
    "abdomen_one_site",
    "abdomen_multiple_sites",
    "bladder_or_rectum",
]


class PrimaryTumour(_Model):
    """The primary sarcoma: site, histology, size, grading, nodes and extension."""

    site: str = Field(description="anatomical site, e.g. 'thigh'")
    site_group: Literal[
        "extremity", "trunk", "retroperitoneum", "head_neck", "visceral", "uterus", "other"
    ] = Field(
        description="AJCC 8 chapter of the site: extremity and trunk, retroperitoneum (AJCC 8 "
        "stage groups), uterus (FIGO), head_neck and visceral (no stage groups), other"
    )
    laterality: Literal["left", "right", "midline", "bilateral"] | None = None
    depth: Literal["superficial", "deep"] | None = None
    histology: str = Field(description="e.g. 'leiomyosarcoma'")
    histology_variant: str | None = Field(
        default=None, description="e.g. 'conventional', 'pleomorphic', 'well-differentiated'"
    )
    sizes: list[SizeMeasurement] = Field(default_factory=list)
    mitoses_per_10hpf: int | None = Field(
        default=None, ge=_whole(MITOSES.low), le=_whole(MITOSES.high)
    )
    necrosis_percent: float | None = Field(
        default=None, ge=_whole(NECROSIS.low), le=_whole(NECROSIS.high)
    )
    necrosis_category: NecrosisCategory | None = None
    differentiation_score: Differentiation | None = None
    reported_grade: Grade | None = Field(
        default=None, description="the grade the pathology report states (FNCLCC)"
    )
    immunohistochemistry: list[Immunohistochemistry] = Field(default_factory=list)
    nodal_status: NodalStatus | None = None
    diagnosed: When | None = Field(
        default=None, description="when the primary was diagnosed (a date or an offset)"
    )
    extension: PrimaryExtension | None = Field(
        default=None,
        description="how far the primary extends (FIGO T of a uterine sarcoma): confined to the "
        "organ, adnexa, other pelvic tissues, abdominal tissues at one or more sites, bladder or "
        "rectum",
    )


class LiverLesion(_Model):
    """A liver metastasis, or several alike ones: segments, size, timing and surroundings."""

    id: str | None = Field(
        default=None, description="a label the imaging measurements refer to, e.g. 'L1'"
    )
    segments: Segments = Field(min_length=1, description="Couinaud segments, 1-8 (4a/4b)")
    size: Size | None = None
    size_method: Literal["ct", "mri", "ultrasound", "pathology", "other"] | None = None
    number: int = Field(default=1, ge=1)
    timing: Literal["synchronous", "metachronous"] | None = None
    vascularity: Literal["hypovascular", "hypervascular", "unknown"] | None = None
    detected: When | None = Field(
        default=None, description="when the lesion was first seen (a date or an offset)"
    )
    peripheral: bool | None = Field(
        default=None,
        description="the surgeon judges the lesion peripheral and small enough for a partial "
        "(non-anatomical) resection",
    )
    bile_duct_distance: BileDuctDistance | None = Field(
        default=None,
        description="distance to the main or a segmental bile duct, e.g. '12 mm' (0-300 mm)",
    )
    abutting_vessel: VesselDiameter | None = Field(
        default=None,
        description="diameter of the largest vessel abutting the lesion, e.g. '4 mm'; '0 mm' when "
        "no vessel abuts it (0-100 mm)",
    )
    source: str | None = None


# --- liver function ----------------------------------------------------------------------


class Labs(_Model):
    """Laboratory values as reported, with their units, and ascites and encephalopathy."""

    within_normal_limits: bool | None = Field(
        default=None, description="the report says 'laboratory findings were normal'"
    )
    bilirubin: Annotated[Reported, _checked("bilirubin")] | None = None
    albumin: Annotated[Reported, _checked("albumin")] | None = None
    inr: Annotated[Reported, _checked("inr")] | None = None
    creatinine: Annotated[Reported, _checked("creatinine")] | None = None
    sodium: Annotated[Reported, _checked("sodium")] | None = None
    platelets: Annotated[Reported, _checked("platelets")] | None = None
    ascites: LabAscites | None = None
    encephalopathy: Encephalopathy | None = None


class GsaScintigraphy(_Model):
    """Indices of technetium-99m GSA scintigraphy (liver function)."""

    hh15: float | None = Field(
        default=None, gt=_whole(HH15.low), lt=_whole(HH15.high), description="blood clearance index"
    )
    lhl15: float | None = Field(
        default=None, gt=_whole(LHL15.low), lt=_whole(LHL15.high), description="receptor index"
    )


class LiverFunction(_Model):
    """Liver function tests and the volumes for the future liver remnant."""

    icg_r15: Annotated[Reported, _checked("icg_r15")] | None = Field(
        default=None, description="ICG retention at 15 min, e.g. '4.3 %'"
    )
    gsa: GsaScintigraphy | None = None
    liver_condition: LiverCondition | None = Field(
        default=None,
        description="background liver, for the minimum future liver remnant: normal; after "
        "extensive chemotherapy, steatosis or cholestasis; cirrhosis or fibrosis",
    )
    total_liver_volume: Volume | None = None
    future_liver_remnant_volume: Volume | None = None
    tumour_volume: Volume | None = None


class LesionMeasurement(_Model):
    """One lesion's diameter at one imaging time point (RECIST 1.1)."""

    lesion: str = Field(description="the lesion's label, the same at every time point, e.g. 'L1'")
    diameter: Diameter = Field(
        description="longest diameter (short axis for a lymph node); 0 mm for a lesion that has "
        "gone"
    )
    organ: str = Field(default="liver", description="organ of the lesion, e.g. 'liver', 'lung'")
    target: bool = Field(default=True, description="a RECIST target lesion (else non-target)")
    lymph_node: bool = False


class Imaging(_Model):
    """One imaging study and what it found."""

    modality: Literal["ct", "mri", "eob-mri", "fdg-pet", "ultrasound", "other"]
    target: str = Field(description="'primary', 'liver', or a site")
    finding: str
    segments: Segments = Field(default_factory=list)
    size: Size | None = None
    suv_max: float | None = Field(default=None, ge=0, le=100)
    when: When | None = None
    measurements: list[LesionMeasurement] = Field(
        default_factory=list, description="lesion diameters at this time point (RECIST 1.1)"
    )
    new_lesions: bool | None = Field(
        default=None, description="unequivocal new lesions at this time point"
    )


class Biopsy(_Model):
    """A biopsy: what was sampled, how, and the diagnosis."""

    target: str
    method: str
    diagnosis: str
    when: When | None = None


# --- treatment and outcome ---------------------------------------------------------------


class Complication(_Model):
    """A complication of a procedure, graded by Clavien-Dindo."""

    description: str
    clavien_dindo: ClavienDindoGrade | None = Field(
        default=None, description="I, II, IIIa, IIIb, IVa, IVb, V (suffix d allowed)"
    )
    treatment: str | None = None
    onset_pod: int | None = Field(default=None, ge=0)


ProcedureKind = Literal[
    "primary_resection",
    "liver_resection",
    "liver_ablation",
    "chemoembolisation",
    "chemotherapy",
    "radiotherapy",
    "other",
]


class Procedure(_Model):
    """A resection, ablation or other treatment, performed or planned; events refer to its id."""

    id: str = Field(description="short id other events refer to, e.g. 'liver-resection'")
    kind: ProcedureKind
    status: Literal["planned", "performed"] = Field(
        default="performed",
        description="a planned procedure has a planned date (when) or none; a file without "
        "the field means performed",
    )
    name: str | None = Field(default=None, description="as the report names it")
    when: When | None = None
    approach: Literal["open", "laparoscopic", "robotic", "hand-assisted", "hybrid"] | None = None
    segments_resected: Segments = Field(default_factory=list)
    target_segments: Segments = Field(
        default_factory=list,
        description="segments treated by an ablation or another local therapy (not resected)",
    )
    duration: Duration | None = None
    blood_loss: BloodLoss | None = None
    converted: bool | None = Field(default=None, description="conversion to open surgery")
    transfusion: bool | None = None
    complications: list[Complication] = Field(default_factory=list)
    no_complications: bool | None = Field(
        default=None, description="the report states there were no complications"
    )
    discharge: When | None = None
    readmission_90d: bool | None = None
    margin: Literal["R0", "R1", "R2"] | None = None
    intraoperative_incident_grade2_or_more: bool | None = None
    bile_leak_grade_b_or_c: bool | None = None
    liver_failure_grade_b_or_c: bool | None = None


class SystemicTherapy(_Model):
    """A line of chemotherapy or other systemic treatment, previous or current."""

    regimen: str = Field(description="e.g. 'doxorubicin', 'gemcitabine + docetaxel'")
    setting: Literal["neoadjuvant", "adjuvant", "palliative", "other"] | None = None
    started: When | None = None
    ended: When | None = Field(default=None, description="none: ongoing")


class FollowUpEvent(_Model):
    """An event of the follow-up: last contact, recurrence, re-resection or death."""

    kind: Literal["last_contact", "recurrence", "re_resection", "death"]
    when: When
    site: str | None = None
    status: str | None = Field(default=None, description="e.g. 'no evidence of disease'")


class Statements(_Model):
    """Figures the report states in words, kept so that they can be checked against the data."""

    observation_period_after_liver_resection_months: float | None = None
    observation_period_after_primary_months: float | None = None


class Case(_Model):
    """One patient with liver metastases of a soft-tissue sarcoma."""

    schema_version: Literal[1] = 1
    id: str = Field(description="case identifier (no names, no hospital numbers)")
    source: str | None = Field(default=None, description="where the data come from")
    index_event: str = Field(description="id of the event that is day 0 of the timeline")
    patient: Patient
    primary_tumour: PrimaryTumour
    liver_lesions: list[LiverLesion] = Field(default_factory=list)
    extrahepatic_metastases: list[str] | None = Field(
        default=None, description="sites; an empty list means none were found"
    )
    labs: Labs = Field(default_factory=Labs)
    liver_function: LiverFunction = Field(default_factory=LiverFunction)
    imaging: list[Imaging] = Field(default_factory=list)
    biopsies: list[Biopsy] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    systemic_therapy: list[SystemicTherapy] = Field(default_factory=list)
    follow_up: list[FollowUpEvent] = Field(default_factory=list)
    statements: Statements = Field(default_factory=Statements)
    assessed_on: dt.date | None = Field(
        default=None, description="the date of the tumour board (default: today)"
    )
    notes: str | None = None

    @model_validator(mode="after")
    def _ids_unique(self) -> Case:
        """Refuse a procedure id or a liver-lesion id used twice.

        Events and lesions are named by id (the timeline, imaging measurements and the plan's
        coverage refer to them). The InputError names the repeated field
        (``liver_lesions[1].id``); the loader reports it there.
        """
        seen: dict[str, int] = {}
        for i, proc in enumerate(self.procedures):
            if proc.id in seen:
                raise InputError(
                    f"procedure id {proc.id!r} is used twice (procedures[{seen[proc.id]}].id "
                    "and here); give each procedure its own id",
                    f"procedures[{i}].id",
                )
            seen[proc.id] = i
        lesions: dict[str, int] = {}
        for i, lesion in enumerate(self.liver_lesions):
            if lesion.id is None:
                continue
            if lesion.id in lesions:
                raise InputError(
                    f"lesion id {lesion.id!r} is used twice (liver_lesions[{lesions[lesion.id]}]"
                    ".id and here); measurements and the plan refer to lesions by id: give each "
                    "lesion its own id",
                    f"liver_lesions[{i}].id",
                )
            lesions[lesion.id] = i
        return self

    def procedure(self, kind: str) -> Procedure | None:
        """Return the first procedure of a kind (a case report has at most one of each)."""
        return next((p for p in self.procedures if p.kind == kind), None)

    def performed(self, kind: str) -> Procedure | None:
        """Return the first performed procedure of a kind (planned ones are skipped)."""
        return next(
            (p for p in self.procedures if p.kind == kind and p.status == "performed"), None
        )

    def planned(self, kind: str) -> Procedure | None:
        """Return the first planned procedure of a kind."""
        return next((p for p in self.procedures if p.kind == kind and p.status == "planned"), None)


def case_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a case file, generated from the model."""
    schema = Case.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "livermet case file"
    return schema

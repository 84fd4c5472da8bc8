"""The livermet REDCap project: instruments (forms), their fields, and the case path of each.

Non-repeating instruments hold the case's single parts (case, patient, primary tumour, labs,
liver function); every list of the case is a repeating instrument, one instance per item
(research note §1.4). Choice fields use numeric codes 1..k in the order of the case model's
choices; the label is the model's value. Times (``when``) are four fields: a date, or an offset
(procedure id, amount, unit).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel

from livermet.case.model import (
    Biopsy,
    Case,
    Complication,
    FollowUpEvent,
    GsaScintigraphy,
    Imaging,
    Immunohistochemistry,
    Labs,
    LesionMeasurement,
    LiverFunction,
    LiverLesion,
    Offset,
    Patient,
    PrimaryTumour,
    Procedure,
    SizeMeasurement,
    Statements,
    SystemicTherapy,
)

KINDS = (
    "record_id",  # the REDCap record name (not a case field)
    "text",  # free text, one line
    "notes",  # free text, several lines
    "int",
    "number",
    "reported",  # a number with its unit ("1.2 mg/dL") or a bare number in the canonical unit
    "bool",  # yesno 1/0
    "choice",  # one of the model's values, coded 1..k
    "list",  # a JSON list (segments [6, 7], dimensions ["15 cm", "9.3 cm"])
    "when",  # date or offset: four REDCap fields
    "date",  # a calendar date only (date_ymd)
    "presence",  # yesno: the optional part at `path` is recorded (even if all its fields are empty)
    "link",  # the item a nested item belongs to: a procedure id, an imaging instance number
)


@dataclass(frozen=True)
class RField:
    """One field of an instrument (a ``when`` field is four REDCap variables)."""

    name: str
    path: tuple[str, ...]
    kind: str
    label: str
    choices: tuple[Any, ...] = ()
    required: bool = False
    quantity: str | None = None  # quantity kind of a reported value (units.QUANTITIES)
    minimum: float | None = None
    maximum: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Form:
    """An instrument. ``repeating`` is the case list it holds (``procedures``), or None."""

    name: str
    label: str
    fields: tuple[RField, ...]
    repeating: str | None = None


def _annotation(model: type[BaseModel], name: str) -> Any:
    return model.model_fields[name].annotation


def choices_of(model: type[BaseModel], name: str) -> tuple[Any, ...]:
    """Return the values of a ``Literal[...]`` field (optional or not), in the model's order."""
    annotation = _annotation(model, name)
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    for candidate in typing.get_args(annotation):  # Optional[Literal[...]]
        if typing.get_origin(candidate) is Literal:
            return typing.get_args(candidate)
    raise TypeError(f"{model.__name__}.{name} is not a Literal field")


def bounds_of(model: type[BaseModel], name: str) -> tuple[float | None, float | None]:
    """Return the (low, high) bounds a model field declares (``ge``/``gt``, ``le``/``lt``)."""
    low = high = None
    for item in model.model_fields[name].metadata:
        if isinstance(item, annotated_types.Ge | annotated_types.Gt):
            low = float(getattr(item, "ge", getattr(item, "gt", 0)))
        if isinstance(item, annotated_types.Le | annotated_types.Lt):
            high = float(getattr(item, "le", getattr(item, "lt", 0)))
    return low, high


def _choice(model: type[BaseModel], name: str, fname: str, label: str, **kw: Any) -> RField:
    return RField(fname, (name,), "choice", label, choices=choices_of(model, name), **kw)


def _number(model: type[BaseModel], name: str, fname: str, label: str, kind: str) -> RField:
    low, high = bounds_of(model, name)
    return RField(fname, (name,), kind, label, minimum=low, maximum=high)


def _reported(name: str, fname: str, label: str, quantity: str, **kw: Any) -> RField:
    return RField(fname, (name,), "reported", label, quantity=quantity, **kw)


def _under(prefix: tuple[str, ...], fields: list[RField]) -> tuple[RField, ...]:
    return tuple(
        RField(
            f.name,
            prefix + f.path,
            f.kind,
            f.label,
            f.choices,
            f.required,
            f.quantity,
            f.minimum,
            f.maximum,
            f.note,
        )
        for f in fields
    )


OFFSET_UNITS = ("days", "weeks", "months", "years")
assert set(OFFSET_UNITS) <= set(Offset.model_fields)

SEGMENTS_NOTE = 'JSON list of Couinaud segments, e.g. [6, 7] or [7, "4a"]'

FORMS: tuple[Form, ...] = (
    Form(
        "case",
        "Case",
        (
            RField("record_id", (), "record_id", "Record ID"),
            RField("case_id", ("id",), "text", "Case id (no names, no hospital numbers)", (), True),
            _number(Case, "schema_version", "schema_version", "Case schema version", "int"),
            RField("case_source", ("source",), "notes", "Source of the data"),
            RField(
                "index_event",
                ("index_event",),
                "text",
                "Index event (id of the procedure that is day 0)",
                required=True,
            ),
            RField(
                "ehm_assessed",
                ("extrahepatic_metastases",),
                "presence",
                "Extrahepatic metastases assessed?",
                note="yes = the 'Extrahepatic metastasis' instances list every site found "
                "(none = no extrahepatic metastasis); empty = unknown",
            ),
            *_under(
                ("statements",),
                [
                    _number(
                        Statements,
                        "observation_period_after_liver_resection_months",
                        "stated_obs_liver_months",
                        "Observation period after liver resection as the report states it (months)",
                        "number",
                    ),
                    _number(
                        Statements,
                        "observation_period_after_primary_months",
                        "stated_obs_primary_months",
                        "Observation period after the primary resection as the report states "
                        "it (months)",
                        "number",
                    ),
                ],
            ),
            RField("assessed_on", ("assessed_on",), "date", "Date of the tumour board"),
            RField("case_notes", ("notes",), "notes", "Notes"),
        ),
    ),
    Form(
        "patient",
        "Patient",
        _under(
            ("patient",),
            [
                _number(Patient, "age_years", "pt_age", "Age at presentation (years)", "int"),
                _choice(Patient, "sex", "pt_sex", "Sex"),
                _reported("height", "pt_height", "Height", "height"),
                _reported("weight", "pt_weight", "Weight", "weight"),
                RField(
                    "pt_performance_status",
                    ("performance_status",),
                    "text",
                    "Performance status (ECOG grade or the report's words)",
                ),
                _number(Patient, "ecog", "pt_ecog", "ECOG performance status (0-4)", "int"),
                _number(Patient, "asa", "pt_asa", "ASA physical status class (1-6)", "int"),
                RField(
                    "pt_dialysis",
                    ("dialysis",),
                    "bool",
                    "Dialysis at least twice (or CVVHD for 24 h) in the week before the labs",
                ),
            ],
        ),
    ),
    Form(
        "comorbidity",
        "Comorbidity",
        (RField("comorbidity", (), "text", "Comorbidity", required=True),),
        repeating="patient.comorbidities",
    ),
    Form(
        "primary_tumour",
        "Primary tumour",
        _under(
            ("primary_tumour",),
            [
                RField("prim_site", ("site",), "text", "Site (e.g. thigh)", required=True),
                _choice(
                    PrimaryTumour,
                    "site_group",
                    "prim_site_group",
                    "AJCC 8 site group",
                    required=True,
                ),
                _choice(PrimaryTumour, "laterality", "prim_laterality", "Laterality"),
                _choice(PrimaryTumour, "depth", "prim_depth", "Depth"),
                RField("prim_histology", ("histology",), "text", "Histology", required=True),
                RField(
                    "prim_histology_variant",
                    ("histology_variant",),
                    "text",
                    "Histologic variant",
                ),
                _number(
                    PrimaryTumour,
                    "mitoses_per_10hpf",
                    "prim_mitoses",
                    "Mitoses per 10 high-power fields",
                    "int",
                ),
                _number(
                    PrimaryTumour,
                    "necrosis_percent",
                    "prim_necrosis_percent",
                    "Necrosis (%)",
                    "number",
                ),
                _choice(
                    PrimaryTumour,
                    "necrosis_category",
                    "prim_necrosis_category",
                    "Necrosis category",
                ),
                _choice(
                    PrimaryTumour,
                    "differentiation_score",
                    "prim_differentiation",
                    "FNCLCC differentiation score",
                ),
                _choice(
                    PrimaryTumour, "reported_grade", "prim_reported_grade", "Reported FNCLCC grade"
                ),
                _choice(PrimaryTumour, "nodal_status", "prim_nodal_status", "Nodal status"),
                RField("prim_diagnosed", ("diagnosed",), "when", "Diagnosis of the primary"),
                _choice(
                    PrimaryTumour,
                    "extension",
                    "prim_extension",
                    "Extension of the primary (FIGO T)",
                ),
            ],
        ),
    ),
    Form(
        "tumour_size",
        "Primary tumour size",
        (
            _choice(SizeMeasurement, "method", "size_method", "Measured by", required=True),
            _reported(
                "greatest_dimension", "size_greatest", "Greatest dimension", "size", required=True
            ),
            RField(
                "size_dimensions",
                ("dimensions",),
                "list",
                "All axes",
                note='JSON list, e.g. ["15 cm", "9.3 cm", "8.2 cm"]',
            ),
            RField("size_source", ("source",), "notes", "Sentence of the report"),
        ),
        repeating="primary_tumour.sizes",
    ),
    Form(
        "immunohistochemistry",
        "Immunohistochemistry",
        (
            RField("ihc_marker", ("marker",), "text", "Marker", required=True),
            _choice(Immunohistochemistry, "result", "ihc_result", "Result"),
            RField("ihc_value", ("value",), "text", "Value (e.g. labelling index 60 %)"),
        ),
        repeating="primary_tumour.immunohistochemistry",
    ),
    Form(
        "liver_lesion",
        "Liver lesion",
        (
            RField("les_id", ("id",), "text", "Lesion label (as imaging measurements name it)"),
            RField(
                "les_segments", ("segments",), "list", "Segments", required=True, note=SEGMENTS_NOTE
            ),
            _reported("size", "les_size", "Size", "size"),
            _choice(LiverLesion, "size_method", "les_size_method", "Size measured by"),
            _number(LiverLesion, "number", "les_number", "Number of lesions", "int"),
            _choice(LiverLesion, "timing", "les_timing", "Timing"),
            _choice(LiverLesion, "vascularity", "les_vascularity", "Vascularity"),
            RField("les_detected", ("detected",), "when", "Lesion first seen"),
            RField(
                "les_peripheral",
                ("peripheral",),
                "bool",
                "Peripheral and small enough for a partial resection (surgeon's judgement)",
            ),
            _reported(
                "bile_duct_distance",
                "les_bile_duct_distance",
                "Distance to the main or a segmental bile duct (0-300 mm)",
                "size",
            ),
            _reported(
                "abutting_vessel",
                "les_abutting_vessel",
                "Largest vessel abutting the lesion (0-100 mm; 0 = none)",
                "size",
            ),
            RField("les_source", ("source",), "notes", "Sentence of the report"),
        ),
        repeating="liver_lesions",
    ),
    Form(
        "extrahepatic_metastasis",
        "Extrahepatic metastasis",
        (RField("ehm_site", (), "text", "Site", required=True),),
        repeating="extrahepatic_metastases",
    ),
    Form(
        "labs",
        "Laboratory",
        _under(
            ("labs",),
            [
                RField(
                    "lab_normal",
                    ("within_normal_limits",),
                    "bool",
                    "The report says laboratory findings were normal",
                ),
                _reported("bilirubin", "lab_bilirubin", "Bilirubin", "bilirubin"),
                _reported("albumin", "lab_albumin", "Albumin", "albumin"),
                _reported("inr", "lab_inr", "INR", "inr"),
                _reported("creatinine", "lab_creatinine", "Creatinine", "creatinine"),
                _reported("sodium", "lab_sodium", "Sodium", "sodium"),
                _reported("platelets", "lab_platelets", "Platelets", "platelets"),
                _choice(Labs, "ascites", "lab_ascites", "Ascites"),
                _choice(Labs, "encephalopathy", "lab_encephalopathy", "Encephalopathy"),
            ],
        ),
    ),
    Form(
        "liver_function",
        "Liver function",
        _under(
            ("liver_function",),
            [
                _reported("icg_r15", "lf_icg_r15", "ICG retention at 15 min", "icg_r15"),
                RField("lf_gsa", ("gsa",), "presence", "99mTc-GSA scintigraphy done?"),
                *_under(
                    ("gsa",),
                    [
                        _number(GsaScintigraphy, "hh15", "lf_gsa_hh15", "GSA HH15", "number"),
                        _number(GsaScintigraphy, "lhl15", "lf_gsa_lhl15", "GSA LHL15", "number"),
                    ],
                ),
                _choice(LiverFunction, "liver_condition", "lf_liver_condition", "Background liver"),
                _reported("total_liver_volume", "lf_total_volume", "Total liver volume", "volume"),
                _reported(
                    "future_liver_remnant_volume",
                    "lf_flr_volume",
                    "Future liver remnant volume",
                    "volume",
                ),
                _reported("tumour_volume", "lf_tumour_volume", "Tumour volume", "volume"),
            ],
        ),
    ),
    Form(
        "imaging",
        "Imaging",
        (
            _choice(Imaging, "modality", "img_modality", "Modality", required=True),
            RField(
                "img_target", ("target",), "text", "Target (primary, liver, or a site)", (), True
            ),
            RField("img_finding", ("finding",), "notes", "Finding", required=True),
            RField("img_segments", ("segments",), "list", "Liver segments", note=SEGMENTS_NOTE),
            _reported("size", "img_size", "Size", "size"),
            _number(Imaging, "suv_max", "img_suv_max", "SUVmax", "number"),
            RField("img", ("when",), "when", "Imaging"),
            RField("img_new_lesions", ("new_lesions",), "bool", "Unequivocal new lesions"),
        ),
        repeating="imaging",
    ),
    Form(
        "lesion_measurement",
        "Lesion measurement",
        (
            RField(
                "meas_imaging",
                (),
                "link",
                "Imaging instance this measurement belongs to",
                required=True,
                minimum=1,
                note="the redcap_repeat_instance of the imaging study",
            ),
            RField(
                "meas_lesion",
                ("lesion",),
                "text",
                "Lesion label (the same at every time point, e.g. L1)",
                required=True,
            ),
            _reported(
                "diameter",
                "meas_diameter",
                "Diameter (longest; short axis for a lymph node)",
                "size",
                required=True,
            ),
            RField("meas_organ", ("organ",), "text", "Organ (e.g. liver, lung)"),
            RField("meas_target", ("target",), "bool", "RECIST target lesion"),
            RField("meas_lymph_node", ("lymph_node",), "bool", "Lymph node"),
        ),
        repeating="imaging[].measurements",
    ),
    Form(
        "biopsy",
        "Biopsy",
        (
            RField("bx_target", ("target",), "text", "Target", required=True),
            RField("bx_method", ("method",), "text", "Method", required=True),
            RField("bx_diagnosis", ("diagnosis",), "notes", "Diagnosis", required=True),
            RField("bx", ("when",), "when", "Biopsy"),
        ),
        repeating="biopsies",
    ),
    Form(
        "procedure",
        "Procedure",
        (
            RField(
                "proc_id", ("id",), "text", "Procedure id (e.g. liver-resection)", required=True
            ),
            _choice(Procedure, "kind", "proc_kind", "Kind", required=True),
            _choice(Procedure, "status", "proc_status", "Status (empty: performed)"),
            RField("proc_name", ("name",), "text", "Name as the report gives it"),
            RField("proc", ("when",), "when", "Procedure"),
            _choice(Procedure, "approach", "proc_approach", "Approach"),
            RField(
                "proc_segments",
                ("segments_resected",),
                "list",
                "Segments resected",
                note=SEGMENTS_NOTE,
            ),
            RField(
                "proc_target_segments",
                ("target_segments",),
                "list",
                "Segments treated (ablation or other local therapy, not resected)",
                note=SEGMENTS_NOTE,
            ),
            RField(
                "proc_duration",
                ("duration",),
                "reported",
                "Operative time",
                quantity="duration",
                note="e.g. 314 min or 5 h 14 min; a bare number is minutes",
            ),
            _reported("blood_loss", "proc_blood_loss", "Blood loss", "blood_loss"),
            RField("proc_converted", ("converted",), "bool", "Converted to open surgery"),
            RField("proc_transfusion", ("transfusion",), "bool", "Transfusion"),
            RField(
                "proc_no_complications",
                ("no_complications",),
                "bool",
                "The report states there were no complications",
            ),
            RField("proc_discharge", ("discharge",), "when", "Discharge"),
            RField("proc_readmission_90d", ("readmission_90d",), "bool", "Readmission within 90 d"),
            _choice(Procedure, "margin", "proc_margin", "Resection margin"),
            RField(
                "proc_incident_g2",
                ("intraoperative_incident_grade2_or_more",),
                "bool",
                "Intraoperative incident grade 2 or more",
            ),
            RField(
                "proc_bile_leak_bc",
                ("bile_leak_grade_b_or_c",),
                "bool",
                "Bile leak grade B or C",
            ),
            RField(
                "proc_liver_failure_bc",
                ("liver_failure_grade_b_or_c",),
                "bool",
                "Post-hepatectomy liver failure grade B or C",
            ),
        ),
        repeating="procedures",
    ),
    Form(
        "complication",
        "Complication",
        (
            RField(
                "comp_procedure",
                (),
                "link",
                "Procedure id this complication follows",
                required=True,
            ),
            RField("comp_description", ("description",), "notes", "Description", required=True),
            RField(
                "comp_clavien_dindo",
                ("clavien_dindo",),
                "text",
                "Clavien-Dindo grade",
                note="I, II, IIIa, IIIb, IVa, IVb, V (suffix d allowed)",
            ),
            RField("comp_treatment", ("treatment",), "text", "Treatment"),
            _number(
                Complication, "onset_pod", "comp_onset_pod", "Onset (postoperative day)", "int"
            ),
        ),
        repeating="procedures[].complications",
    ),
    Form(
        "systemic_therapy",
        "Systemic therapy",
        (
            RField(
                "sys_regimen",
                ("regimen",),
                "text",
                "Regimen (e.g. doxorubicin, gemcitabine + docetaxel)",
                required=True,
            ),
            _choice(SystemicTherapy, "setting", "sys_setting", "Setting"),
            RField("sys_started", ("started",), "when", "Started"),
            RField("sys_ended", ("ended",), "when", "Ended (empty: ongoing)"),
        ),
        repeating="systemic_therapy",
    ),
    Form(
        "follow_up",
        "Follow-up",
        (
            _choice(FollowUpEvent, "kind", "fu_kind", "Event", required=True),
            RField("fu", ("when",), "when", "Follow-up event"),
            RField("fu_site", ("site",), "text", "Site"),
            RField("fu_status", ("status",), "text", "Status (e.g. no evidence of disease)"),
        ),
        repeating="follow_up",
    ),
)

FORM_BY_NAME = {form.name: form for form in FORMS}
REPEATING_INSTRUMENTS = tuple(form.name for form in FORMS if form.repeating)
"""Instruments to enable as repeating in the REDCap project (not part of the dictionary)."""


def variables(field: RField) -> tuple[str, ...]:
    """Return the REDCap variables of a field (four for a time)."""
    if field.kind == "when":
        return tuple(f"{field.name}_{part}" for part in ("date", "after", "amount", "unit"))
    return (field.name,)


# The models each list holds; used by tests to check that every case field has a REDCap home.
LIST_MODELS: dict[str, type[BaseModel] | None] = {
    "patient.comorbidities": None,
    "primary_tumour.sizes": SizeMeasurement,
    "primary_tumour.immunohistochemistry": Immunohistochemistry,
    "liver_lesions": LiverLesion,
    "extrahepatic_metastases": None,
    "imaging": Imaging,
    "biopsies": Biopsy,
    "procedures": Procedure,
    "procedures[].complications": Complication,
    "imaging[].measurements": LesionMeasurement,
    "systemic_therapy": SystemicTherapy,
    "follow_up": FollowUpEvent,
}

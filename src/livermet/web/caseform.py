"""The add-a-case form: its fields, the case document they make, and errors put back on fields.

The form covers what a tumour board enters first (patient, primary tumour, the liver lesion,
key labs and liver function, the liver resection); anything else goes through a full case file
pasted or uploaded. Quantities are typed with their unit (``15 cm``, ``0.8 mg/dL``) and checked by
the case model, whose error names the field path; :data:`FIELDS` maps that path back to the
form field so the message is shown beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from livermet.case.limits import MAX_CASE_FILE_BYTES
from livermet.case.load import PARSE_ERRORS, case_from_data, load_yaml, parse_error
from livermet.case.model import Case
from livermet.errors import InputError


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    path: str  # the case path the field fills (its errors carry this path)
    unit_hint: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False


FIELDS: tuple[FormField, ...] = (
    FormField("case_id", "Case id (no names, no hospital numbers)", "id", required=True),
    FormField("age_years", "Age", "patient.age_years", "years"),
    FormField("sex", "Sex", "patient.sex", choices=("", "male", "female", "other")),
    FormField("histology", "Histology", "primary_tumour.histology", required=True),
    FormField("primary_site", "Primary site", "primary_tumour.site", required=True),
    FormField(
        "site_group",
        "Site group (AJCC 8 chapter)",
        "primary_tumour.site_group",
        choices=(
            "extremity",
            "trunk",
            "retroperitoneum",
            "head_neck",
            "visceral",
            "uterus",
            "other",
        ),
        required=True,
    ),
    FormField(
        "primary_size",
        "Primary size",
        "primary_tumour.sizes[0].greatest_dimension",
        "cm or mm, e.g. 15 cm",
    ),
    FormField(
        "size_method",
        "Size measured by",
        "primary_tumour.sizes[0].method",
        choices=("pathology", "mri", "ct", "ultrasound", "pet", "palpation", "other"),
    ),
    FormField("mitoses", "Mitoses", "primary_tumour.mitoses_per_10hpf", "per 10 HPF"),
    FormField(
        "necrosis",
        "Necrosis",
        "primary_tumour.necrosis_category",
        choices=("", "none", "<50%", ">=50%"),
    ),
    FormField(
        "lesion_segments",
        "Liver lesion segments",
        "liver_lesions[0].segments",
        "Couinaud 1-8, e.g. 7 or 6,7",
    ),
    FormField("lesion_size", "Liver lesion size", "liver_lesions[0].size", "mm or cm, e.g. 21 mm"),
    FormField(
        "lesion_timing",
        "Timing",
        "liver_lesions[0].timing",
        choices=("", "synchronous", "metachronous"),
    ),
    FormField("bilirubin", "Bilirubin", "labs.bilirubin", "mg/dL, mg/L or umol/L"),
    FormField("albumin", "Albumin", "labs.albumin", "g/dL or g/L"),
    FormField("icg_r15", "ICG R15", "liver_function.icg_r15", "%, e.g. 4.3 %"),
    FormField(
        "approach",
        "Liver resection approach",
        "procedures[1].approach",
        choices=("", "open", "laparoscopic", "robotic", "hand-assisted", "hybrid"),
    ),
    FormField(
        "segments_resected", "Segments resected", "procedures[1].segments_resected", "e.g. 6,7"
    ),
    FormField(
        "resection_after_months",
        "Liver resection after the primary",
        "procedures[1].when.months",
        "months",
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}


def _segments(text: str) -> list[Any]:
    return [
        int(s) if s.strip().isdigit() else s.strip()
        for s in text.replace(";", ",").split(",")
        if s.strip()
    ]


def _number(text: str) -> Any:
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text  # the case model names the field and says what it expected


def document_from_form(values: dict[str, str]) -> dict[str, Any]:
    """The case document the form's values describe (not yet validated)."""
    v = {k: (values.get(k) or "").strip() for k in FIELD_BY_NAME}
    tumour: dict[str, Any] = {
        "site": v["primary_site"],
        "site_group": v["site_group"] or "extremity",
        "histology": v["histology"],
    }
    if v["primary_size"]:
        tumour["sizes"] = [
            {"method": v["size_method"] or "pathology", "greatest_dimension": v["primary_size"]}
        ]
    if v["mitoses"]:
        tumour["mitoses_per_10hpf"] = _number(v["mitoses"])
    if v["necrosis"]:
        tumour["necrosis_category"] = v["necrosis"]
    patient: dict[str, Any] = {}
    if v["age_years"]:
        patient["age_years"] = _number(v["age_years"])
    if v["sex"]:
        patient["sex"] = v["sex"]
    doc: dict[str, Any] = {
        "id": v["case_id"],
        "index_event": "primary-resection",
        "patient": patient,
        "primary_tumour": tumour,
    }
    if v["lesion_segments"] or v["lesion_size"]:
        lesion: dict[str, Any] = {"segments": _segments(v["lesion_segments"])}
        if v["lesion_size"]:
            lesion["size"] = v["lesion_size"]
        if v["lesion_timing"]:
            lesion["timing"] = v["lesion_timing"]
        doc["liver_lesions"] = [lesion]
    labs = {k: v[k] for k in ("bilirubin", "albumin") if v[k]}
    if labs:
        doc["labs"] = labs
    if v["icg_r15"]:
        doc["liver_function"] = {"icg_r15": v["icg_r15"]}
    procedures: list[dict[str, Any]] = [{"id": "primary-resection", "kind": "primary_resection"}]
    if v["approach"] or v["segments_resected"] or v["resection_after_months"]:
        liver: dict[str, Any] = {"id": "liver-resection", "kind": "liver_resection"}
        if v["approach"]:
            liver["approach"] = v["approach"]
        if v["segments_resected"]:
            liver["segments_resected"] = _segments(v["segments_resected"])
        if v["resection_after_months"]:
            liver["when"] = {
                "after": "primary-resection",
                "months": _number(v["resection_after_months"]),
            }
        procedures.append(liver)
    doc["procedures"] = procedures
    return doc


def form_errors(exc: InputError) -> dict[str, str]:
    """Messages by form field name; an error the form has no field for goes under ``_case``."""
    pairs: list[tuple[str, str]] = getattr(exc, "all_errors", None) or [
        (exc.field or "(case)", exc.message)
    ]
    by_path = {f.path: f.name for f in FIELDS}
    out: dict[str, str] = {}
    for path, message in pairs:
        name = by_path.get(path)
        if name is None:  # e.g. liver_lesions[0].segments[1] -> its list field
            name = next((n for p, n in by_path.items() if path.startswith(p)), "_case")
        out.setdefault(name, message if name != "_case" else f"{path}: {message}")
    return out


def parse_case_text(text: str, field: str = "case_text") -> Case:
    """A case from pasted or uploaded YAML or JSON text (JSON is YAML, mostly; try it first)."""
    if not text.strip():
        raise InputError("paste a case file or choose one to upload", field)
    if len(text) > MAX_CASE_FILE_BYTES:
        raise InputError(f"a case file is at most {MAX_CASE_FILE_BYTES:,} bytes", field)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        try:
            data = load_yaml(text)
        except PARSE_ERRORS as exc:
            raise InputError(
                f"cannot read the case file as YAML or JSON: {parse_error(exc)}", field
            ) from None
    except PARSE_ERRORS as exc:  # valid JSON syntax, but nested too deeply or a huge number
        raise InputError(f"cannot read the case file: {parse_error(exc)}", field) from None
    return case_from_data(data)


def case_yaml(case: Case) -> str:
    """The case as YAML text for the edit form."""
    return yaml.safe_dump(
        case.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
    )

"""The add-a-case form: its fields, the case document they make, and errors put back on fields.

The form covers every input of the tumour-board assessment that is one value (patient with ECOG
and ASA, primary tumour, up to :data:`LESION_ROWS` liver lesions with segments and sizes, labs and
liver function with ICG and GSA, the planned or performed liver procedure); lists of events
(imaging with measurements, systemic therapy, follow-up) go in the form's case-file text, which
is merged with the fields, or a whole case file is pasted instead. Quantities are typed with
their unit (``15 cm``, ``0.8 mg/dL``) and checked by
the case model, whose error names the field path; :data:`FIELDS` maps that path back to the
form field so the message is shown beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from livermet.case.load import PARSE_ERRORS, case_from_text, load_yaml, parse_error
from livermet.case.model import Case
from livermet.errors import InputError


@dataclass(frozen=True)
class FormField:
    """One field of the add-a-case form, and the case path its value and its errors belong to."""

    name: str
    label: str
    path: str  # the case path the field fills (its errors carry this path)
    unit_hint: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False
    group: str = "Case"
    other_paths: tuple[str, ...] = ()  # further case paths whose errors belong to this field


DATE = "YYYY-MM-DD"
LESION_ROWS = 5
"""Liver lesions the form has rows for; more go in the case-file text."""

_SEGMENTS_HINT = "Couinaud 1-8, e.g. 7 or 6,7"
_LESION_FIELDS = tuple(
    field
    for i in range(1, LESION_ROWS + 1)
    for field in (
        FormField(
            f"lesion{i}_segments",
            f"Lesion L{i}: segments",
            f"liver_lesions[L{i}].segments",
            _SEGMENTS_HINT if i == 1 else "",
            group="Liver lesions",
        ),
        FormField(
            f"lesion{i}_size",
            f"Lesion L{i}: size",
            f"liver_lesions[L{i}].size",
            "mm or cm, e.g. 21 mm" if i == 1 else "",
            group="Liver lesions",
        ),
    )
)

FIELDS: tuple[FormField, ...] = (
    FormField("case_id", "Case id (no names, no hospital numbers)", "id", required=True),
    FormField("assessed_on", "Tumour board date", "assessed_on", f"{DATE} (default: today)"),
    FormField("age_years", "Age", "patient.age_years", "years", group="Patient"),
    FormField(
        "sex", "Sex", "patient.sex", choices=("", "male", "female", "other"), group="Patient"
    ),
    FormField(
        "ecog",
        "ECOG performance status",
        "patient.ecog",
        choices=("", "0", "1", "2", "3", "4"),
        group="Patient",
    ),
    FormField(
        "asa",
        "ASA class",
        "patient.asa",
        choices=("", "1", "2", "3", "4", "5", "6"),
        group="Patient",
    ),
    FormField(
        "histology", "Histology", "primary_tumour.histology", required=True, group="Primary tumour"
    ),
    FormField(
        "primary_site",
        "Primary site",
        "primary_tumour.site",
        "e.g. uterus, thigh",
        required=True,
        group="Primary tumour",
    ),
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
        group="Primary tumour",
    ),
    FormField(
        "diagnosed",
        "Primary diagnosed on",
        "primary_tumour.diagnosed",
        DATE,
        group="Primary tumour",
    ),
    FormField(
        "primary_size",
        "Primary size",
        "primary_tumour.sizes[0].greatest_dimension",
        "cm or mm, e.g. 15 cm",
        group="Primary tumour",
    ),
    FormField(
        "size_method",
        "Size measured by",
        "primary_tumour.sizes[0].method",
        choices=("pathology", "mri", "ct", "ultrasound", "pet", "palpation", "other"),
        group="Primary tumour",
    ),
    FormField(
        "mitoses",
        "Mitoses",
        "primary_tumour.mitoses_per_10hpf",
        "per 10 HPF",
        group="Primary tumour",
    ),
    FormField(
        "necrosis",
        "Necrosis",
        "primary_tumour.necrosis_category",
        choices=("", "none", "<50%", ">=50%"),
        group="Primary tumour",
    ),
    FormField(
        "extension",
        "Extension of the primary",
        "primary_tumour.extension",
        choices=(
            "",
            "confined",
            "adnexa",
            "pelvis",
            "abdomen_one_site",
            "abdomen_multiple_sites",
            "bladder_or_rectum",
        ),
        group="Primary tumour",
    ),
    FormField(
        "nodal_status",
        "Lymph nodes",
        "primary_tumour.nodal_status",
        choices=("", "N0", "N1", "NX"),
        group="Primary tumour",
    ),
    FormField(
        "primary_resected_on",
        "Primary resected on",
        "procedures[0].when",
        DATE,
        group="Primary tumour",
    ),
    FormField(
        "primary_margin",
        "Margin of the primary resection",
        "procedures[0].margin",
        choices=("", "R0", "R1", "R2"),
        group="Primary tumour",
    ),
    *_LESION_FIELDS,
    FormField(
        "lesion_method",
        "Lesions measured by",
        "liver_lesions[*].size_method",
        choices=("", "mri", "ct", "ultrasound", "pathology", "other"),
        group="Liver lesions",
    ),
    FormField(
        "lesion_timing",
        "Timing",
        "liver_lesions[*].timing",
        choices=("", "synchronous", "metachronous"),
        group="Liver lesions",
    ),
    FormField(
        "lesion_detected",
        "Lesions first seen on",
        "liver_lesions[*].detected",
        DATE,
        group="Liver lesions",
    ),
    FormField(
        "extrahepatic",
        "Metastases outside the liver",
        "extrahepatic_metastases",
        "none, or sites, e.g. lung, bone (blank: not known)",
        group="Liver lesions",
    ),
    FormField("bilirubin", "Bilirubin", "labs.bilirubin", "mg/dL, mg/L or umol/L", group="Labs"),
    FormField("albumin", "Albumin", "labs.albumin", "g/dL or g/L", group="Labs"),
    FormField("inr", "INR", "labs.inr", "e.g. 1.1", group="Labs"),
    FormField("creatinine", "Creatinine", "labs.creatinine", "mg/dL or umol/L", group="Labs"),
    FormField("sodium", "Sodium", "labs.sodium", "mmol/L", group="Labs"),
    FormField(
        "ascites",
        "Ascites",
        "labs.ascites",
        choices=("", "none", "controlled", "uncontrollable"),
        group="Labs",
    ),
    FormField(
        "encephalopathy",
        "Encephalopathy",
        "labs.encephalopathy",
        choices=("", "none", "grade 1-2", "grade 3-4"),
        group="Labs",
    ),
    FormField("icg_r15", "ICG R15", "liver_function.icg_r15", "%, e.g. 4.3 %", group="Labs"),
    FormField(
        "gsa_hh15", "GSA HH15", "liver_function.gsa.hh15", "index, 0-1, e.g. 0.55", group="Labs"
    ),
    FormField(
        "gsa_lhl15", "GSA LHL15", "liver_function.gsa.lhl15", "index, 0-1, e.g. 0.93", group="Labs"
    ),
    FormField(
        "liver_condition",
        "Background liver",
        "liver_function.liver_condition",
        choices=("", "normal", "chemotherapy", "steatosis", "cholestasis", "cirrhosis", "fibrosis"),
        group="Labs",
    ),
    FormField(
        "liver_kind",
        "Liver procedure",
        "procedures[1].kind",
        choices=("liver_resection", "liver_ablation"),
        group="Liver procedure",
    ),
    FormField(
        "liver_status",
        "Status",
        "procedures[1].status",
        choices=("", "planned", "performed"),
        group="Liver procedure",
    ),
    FormField(
        "liver_name",
        "Name",
        "procedures[1].name",
        "e.g. right hepatectomy",
        group="Liver procedure",
    ),
    FormField(
        "approach",
        "Approach",
        "procedures[1].approach",
        choices=("", "open", "laparoscopic", "robotic", "hand-assisted", "hybrid"),
        group="Liver procedure",
    ),
    FormField(
        "segments_resected",
        "Segments resected (ablated)",
        "procedures[1].segments_resected",
        "e.g. 6,7",
        group="Liver procedure",
        other_paths=("procedures[1].target_segments",),
    ),
    FormField(
        "liver_date",
        "Date (planned or performed)",
        "procedures[1].when",
        DATE,
        group="Liver procedure",
    ),
    FormField(
        "resection_after_months",
        "Or: months after the primary resection",
        "procedures[1].when.months",
        "months",
        group="Liver procedure",
    ),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}

EXTRA_FIELD = "extra_text"
"""The form's text area for the rest of a case file (imaging, systemic therapy, follow-up...)."""


def field_groups() -> list[tuple[str, list[FormField]]]:
    """Return the fields by group, in form order (for the template's fieldsets)."""
    groups: dict[str, list[FormField]] = {}
    for f in FIELDS:
        groups.setdefault(f.group, []).append(f)
    return list(groups.items())


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


def _lesion_rows(v: dict[str, str]) -> list[int]:
    """Return the lesion rows (1-based) the user filled, in order (lesion k is row rows[k])."""
    return [
        i
        for i in range(1, LESION_ROWS + 1)
        if v.get(f"lesion{i}_segments") or v.get(f"lesion{i}_size")
    ]


def _extra_document(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = load_yaml(text)
    except PARSE_ERRORS as exc:
        raise InputError(f"cannot read the text as YAML: {parse_error(exc)}", EXTRA_FIELD) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            "write the rest of the case file as YAML fields, e.g. 'imaging:' with its list",
            EXTRA_FIELD,
        )
    return data


def _merge(doc: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add the case-file text's fields to the form's document.

    Lists are appended to, mappings filled in; a value the form's fields set already is an
    error naming the field.
    """
    for key, value in extra.items():
        mine = doc.get(key)
        if mine is None or mine == {} or mine == []:
            doc[key] = value
        elif isinstance(mine, list) and isinstance(value, list):
            doc[key] = [*mine, *value]
        elif isinstance(mine, dict) and isinstance(value, dict):
            clash = sorted(set(mine) & set(value))
            if clash:
                raise InputError(
                    f"{key}.{clash[0]} is set by the form's fields already; give it once",
                    EXTRA_FIELD,
                )
            doc[key] = {**mine, **value}
        else:
            raise InputError(
                f"{key} is set by the form's fields already; give it once", EXTRA_FIELD
            )


_LAB_FIELDS = ("bilirubin", "albumin", "inr", "creatinine", "sodium", "ascites", "encephalopathy")
_LIVER_KEYS = ("liver_status", "liver_name", "approach", "segments_resected", "liver_date")


def _tumour_from_form(v: dict[str, str]) -> dict[str, Any]:
    """Return the ``primary_tumour`` mapping from the stripped form values."""
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
    for name, key in (
        ("necrosis", "necrosis_category"),
        ("diagnosed", "diagnosed"),
        ("extension", "extension"),
        ("nodal_status", "nodal_status"),
    ):
        if v[name]:
            tumour[key] = v[name]
    return tumour


def _patient_from_form(v: dict[str, str]) -> dict[str, Any]:
    """Return the ``patient`` mapping from the stripped form values (only the fields given)."""
    patient: dict[str, Any] = {}
    for name in ("age_years", "ecog", "asa"):
        if v[name]:
            patient[name] = _number(v[name])
    if v["sex"]:
        patient["sex"] = v["sex"]
    return patient


def _lesions_from_form(values: dict[str, str], v: dict[str, str]) -> list[dict[str, Any]]:
    """One liver lesion per filled lesion row; method, timing and detection are shared."""
    lesions = []
    for i in _lesion_rows(v):
        lesion: dict[str, Any] = {
            "id": f"L{i}",
            "segments": _segments(values.get(f"lesion{i}_segments", "")),
        }
        size = (values.get(f"lesion{i}_size") or "").strip()
        if size:
            lesion["size"] = size
            if v["lesion_method"]:
                lesion["size_method"] = v["lesion_method"]
        if v["lesion_timing"]:
            lesion["timing"] = v["lesion_timing"]
        if v["lesion_detected"]:
            lesion["detected"] = v["lesion_detected"]
        lesions.append(lesion)
    return lesions


def _extrahepatic_sites(text: str) -> list[str]:
    """Return the sites of a comma- or semicolon-separated list (just ``none``: no sites)."""
    sites = [s.strip() for s in text.replace(";", ",").split(",") if s.strip()]
    return [] if [s.lower() for s in sites] == ["none"] else sites


def _liver_function_from_form(v: dict[str, str]) -> dict[str, Any]:
    """Return the ``liver_function`` mapping (ICG-R15, GSA scintigraphy, liver condition)."""
    liver_function: dict[str, Any] = {}
    if v["icg_r15"]:
        liver_function["icg_r15"] = v["icg_r15"]
    gsa = {k: _number(v[f"gsa_{k}"]) for k in ("hh15", "lhl15") if v[f"gsa_{k}"]}
    if gsa:
        liver_function["gsa"] = gsa
    if v["liver_condition"]:
        liver_function["liver_condition"] = v["liver_condition"]
    return liver_function


def _primary_resection_from_form(v: dict[str, str]) -> dict[str, Any]:
    """Return the primary resection (the index event), with its date and margin if given."""
    primary: dict[str, Any] = {"id": "primary-resection", "kind": "primary_resection"}
    if v["primary_resected_on"]:
        primary["when"] = v["primary_resected_on"]
    if v["primary_margin"]:
        primary["margin"] = v["primary_margin"]
    return primary


def _liver_when(v: dict[str, str]) -> Any:
    """Return the liver procedure's ``when``: a date, months after the primary resection, or None.

    Raises
    ------
    InputError
        When both are given (field ``liver_date``).
    """
    if v["liver_date"] and v["resection_after_months"]:
        raise InputError(
            "give the date or the months after the primary resection, not both", "liver_date"
        )
    if v["liver_date"]:
        return v["liver_date"]
    if v["resection_after_months"]:
        return {"after": "primary-resection", "months": _number(v["resection_after_months"])}
    return None


def _liver_procedure_from_form(v: dict[str, str]) -> dict[str, Any] | None:
    """Return the liver resection or ablation of the form, or None when no liver field is set."""
    if not any(v[k] for k in (*_LIVER_KEYS, "resection_after_months")):
        return None
    kind = v["liver_kind"] or "liver_resection"
    liver: dict[str, Any] = {"id": kind.replace("_", "-"), "kind": kind}
    for name, key in (("liver_status", "status"), ("liver_name", "name"), ("approach", "approach")):
        if v[name]:
            liver[key] = v[name]
    if v["segments_resected"]:
        key = "target_segments" if kind == "liver_ablation" else "segments_resected"
        liver[key] = _segments(v["segments_resected"])
    when = _liver_when(v)
    if when is not None:
        liver["when"] = when
    return liver


def document_from_form(values: dict[str, str]) -> dict[str, Any]:
    """Return the case document the form's values describe (not yet validated).

    Raises InputError (field ``extra_text``) when the case-file text cannot be read or repeats
    what the fields set.
    """
    v = {k: (values.get(k) or "").strip() for k in FIELD_BY_NAME}
    tumour = _tumour_from_form(v)
    doc: dict[str, Any] = {
        "id": v["case_id"],
        "index_event": "primary-resection",
        "patient": _patient_from_form(v),
        "primary_tumour": tumour,
    }
    if v["assessed_on"]:
        doc["assessed_on"] = v["assessed_on"]
    lesions = _lesions_from_form(values, v)
    if lesions:
        doc["liver_lesions"] = lesions
    if v["extrahepatic"]:
        doc["extrahepatic_metastases"] = _extrahepatic_sites(v["extrahepatic"])
    labs: dict[str, Any] = {k: v[k] for k in _LAB_FIELDS if v[k]}
    if labs:
        doc["labs"] = labs
    liver_function = _liver_function_from_form(v)
    if liver_function:
        doc["liver_function"] = liver_function
    procedures: list[dict[str, Any]] = [_primary_resection_from_form(v)]
    liver = _liver_procedure_from_form(v)
    if liver is not None:
        procedures.append(liver)
    doc["procedures"] = procedures
    _merge(doc, _extra_document(values.get(EXTRA_FIELD, "")))
    return doc


_INDEX = re.compile(r"^liver_lesions\[(\d+)\]")


def _owner(path: str, by_path: dict[str, str]) -> str | None:
    """Return the field of a path, or of the nearest path enclosing it (``x.segments[1]``)."""
    if path in by_path:
        return by_path[path]
    inside = [p for p in by_path if path.startswith((f"{p}.", f"{p}["))]
    return by_path[max(inside, key=len)] if inside else None


def form_errors(exc: InputError, values: dict[str, str] | None = None) -> dict[str, str]:
    """Messages by form field name.

    An error the form has no field for goes under the case-file text when the user wrote some
    (its fields are the likely cause), else under ``_case``, with its path.
    """
    pairs: list[tuple[str, str]] = getattr(exc, "all_errors", None) or [
        (exc.field or "(case)", exc.message)
    ]
    values = values or {}
    rows = _lesion_rows({k: (v or "").strip() for k, v in values.items()})
    by_path: dict[str, str] = {}
    for f in FIELDS:
        for path in (f.path, *f.other_paths):
            by_path[path] = f.name
    out: dict[str, str] = {}
    for raw_path, message in pairs:
        if raw_path in FIELD_BY_NAME or raw_path == EXTRA_FIELD:  # raised by the form itself
            out.setdefault(raw_path, message)
            continue
        path = raw_path
        found = _INDEX.match(path)
        if found and int(found.group(1)) < len(rows):
            rest = path[found.end() :]
            row_path = f"liver_lesions[L{rows[int(found.group(1))]}]{rest}"
            path = row_path if _owner(row_path, by_path) else f"liver_lesions[*]{rest}"
        name = _owner(path, by_path)
        if name is None:
            name = EXTRA_FIELD if (values.get(EXTRA_FIELD) or "").strip() else "_case"
            message = f"{raw_path}: {message}"
        out.setdefault(name, message)
    return out


def parse_case_text(text: str, field: str = "case_text") -> Case:
    """Return the case of pasted or uploaded YAML or JSON text: :func:`case_from_text`."""
    return case_from_text(text, field)


def case_yaml(case: Case) -> str:
    """Return the case as YAML text for the edit form."""
    return yaml.safe_dump(
        case.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
    )

"""Pieces shared by the FHIR writer and reader: livermet extensions, quantities, times.

Resources are built as FHIR JSON mappings, then validated by ``fhir.resources`` (R4B models,
which the research note §2.3 recommends for R4-shaped JSON: there is no 4.0.1 package). The reader
works on the same JSON, so every rule here has its inverse next to it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from livermet.case.model import Offset, Reported, When, duration_minutes
from livermet.clinical.recist import diameter_mm
from livermet.clinical.units import parse_quantity
from livermet.errors import InputError
from livermet.interchange import codes
from livermet.interchange.codes import OFFSET_UNITS, STRUCTURE_DEFINITION, UCUM

Json = dict[str, Any]

# --- livermet extensions (URLs under STRUCTURE_DEFINITION; docs/interchange.md lists them) --------

EXTENSIONS: dict[str, str] = {
    "case-element": "the case-model path a resource (or component) carries, e.g. labs.bilirubin",
    "case-schema-version": "Case.schema_version",
    "case-source": "Case.source: where the data come from",
    "case-notes": "Case.notes",
    "index-event": "Case.index_event: id of the procedure that is day 0",
    "stated-observation-period-after-liver-resection-months": (
        "Case.statements.observation_period_after_liver_resection_months"
    ),
    "stated-observation-period-after-primary-months": (
        "Case.statements.observation_period_after_primary_months"
    ),
    "extrahepatic-metastases-assessed": (
        "true when Case.extrahepatic_metastases is a list (an empty list means none were found)"
    ),
    "age-at-presentation": "Patient.age_years (valueAge, UCUM a)",
    "reported-text": "a measured value exactly as reported ('1.2 mg/dL', '5 h 14 min')",
    "relative-time": "a time given as an offset from a procedure: sub-extensions after + offset",
    "discharge": "Procedure.discharge: valueDate, or sub-extensions after + offset",
    "site-group": "PrimaryTumour.site_group (AJCC 8 chapter)",
    "tumour-depth": "PrimaryTumour.depth",
    "histology-variant": "PrimaryTumour.histology_variant",
    "tumour-dimensions": "SizeMeasurement.dimensions (one extension per axis, valueQuantity)",
    "liver-segments": "Couinaud segments, one extension per segment (valueInteger or valueString)",
    "lesion-count": "LiverLesion.number",
    "lesion-size-method": "LiverLesion.size_method",
    "metastasis-timing": "LiverLesion.timing (synchronous / metachronous)",
    "lesion-vascularity": "LiverLesion.vascularity",
    "lesion-peripheral": "LiverLesion.peripheral (the surgeon's judgement, valueBoolean)",
    "bile-duct-distance": "LiverLesion.bile_duct_distance (valueQuantity, mm)",
    "abutting-vessel": "LiverLesion.abutting_vessel (valueQuantity, mm; 0 = none)",
    "finding-target": "Imaging.target / Biopsy.target ('primary', 'liver', or a site)",
    "procedure-kind": "Procedure.kind",
    "surgical-approach": "Procedure.approach (R4 Procedure has no approach element)",
    "operative-duration": "Procedure.duration (valueDuration in min)",
    "converted-to-open": "Procedure.converted",
    "transfusion": "Procedure.transfusion",
    "no-complications-reported": "Procedure.no_complications",
    "readmission-90d": "Procedure.readmission_90d",
    "intraoperative-incident-grade2-or-more": "Procedure.intraoperative_incident_grade2_or_more",
    "bile-leak-grade-b-or-c": "Procedure.bile_leak_grade_b_or_c",
    "liver-failure-grade-b-or-c": "Procedure.liver_failure_grade_b_or_c",
    "clavien-dindo": "Complication.clavien_dindo (local code + the text as reported)",
    "complication-treatment": "Complication.treatment",
    "onset-postoperative-day": "Complication.onset_pod",
    "follow-up-kind": "FollowUpEvent.kind",
    "assessed-on": "Case.assessed_on: the date of the tumour board (valueDate)",
    "procedure-status": "Procedure.status: planned (a performed procedure carries no extension)",
    "planned-time": "Procedure.when of a planned procedure: valueDate, or sub-extensions after + "
    "offset (never performed[x])",
    "target-segments": "Procedure.target_segments: Couinaud segments treated, not resected (one "
    "extension per segment, valueInteger or valueString)",
    "new-lesions": "Imaging.new_lesions (unequivocal new lesions at this time point)",
    "lesion-label": "LesionMeasurement.lesion: the lesion's label, the same at every time point",
    "recist-target": "LesionMeasurement.target: a RECIST 1.1 target lesion (false: non-target)",
    "lymph-node": "LesionMeasurement.lymph_node (the diameter is then the short axis)",
    "therapy-setting": "SystemicTherapy.setting (neoadjuvant, adjuvant, palliative, other)",
    "therapy-started": "SystemicTherapy.started given as an offset: sub-extensions after + offset",
    "therapy-ended": "SystemicTherapy.ended given as an offset: sub-extensions after + offset",
}
"""Every livermet extension name and what it carries."""

PROCEDURE_FLAGS: tuple[tuple[str, str], ...] = (
    ("converted", "converted-to-open"),
    ("transfusion", "transfusion"),
    ("no_complications", "no-complications-reported"),
    ("readmission_90d", "readmission-90d"),
    ("intraoperative_incident_grade2_or_more", "intraoperative-incident-grade2-or-more"),
    ("bile_leak_grade_b_or_c", "bile-leak-grade-b-or-c"),
    ("liver_failure_grade_b_or_c", "liver-failure-grade-b-or-c"),
)
"""``(Procedure field, extension name)`` of each yes/no fact of a procedure (``valueBoolean``)."""


def url(name: str) -> str:
    """Return the URL of livermet extension ``name`` (KeyError for an unlisted name)."""
    if name not in EXTENSIONS:
        raise KeyError(name)
    return STRUCTURE_DEFINITION + name


def ext(name: str, **value: Any) -> Json:
    """Return a livermet extension: ``ext("lesion-count", valueInteger=1)``."""
    return {"url": url(name), **value}


def exts(resource: Json, name: str) -> list[Json]:
    """Return every extension ``name`` of a resource, in order."""
    return [e for e in resource.get("extension", []) if e.get("url") == url(name)]


def one_ext(resource: Json, name: str) -> Json | None:
    """Return the first extension ``name`` of a resource, None when it has none."""
    found = exts(resource, name)
    return found[0] if found else None


def ext_value(resource: Json, name: str, key: str) -> Any:
    """Return the ``key`` value (``valueString``...) of a livermet extension, None if absent."""
    found = one_ext(resource, name)
    return None if found is None else found.get(key)


def element_of(resource: Json) -> str | None:
    """Return the case-model path a resource carries, None if livermet did not write it."""
    value = ext_value(resource, "case-element", "valueString")
    return value if isinstance(value, str) else None


def reference(full_url: str) -> Json:
    """Return a FHIR Reference to the entry ``full_url``."""
    return {"reference": full_url}


# --- text ---------------------------------------------------------------------------------------


_FHIR_STRING = re.compile(r"[ \r\n\t\S]")  # fhir.resources' string pattern (unanchored)


def text(value: str, path: str) -> str:
    """Return ``value`` as a FHIR string, or raise InputError naming ``path``.

    FHIR strings are never empty (nor only unusual white space such as a vertical tab), so such a
    text is refused with its field named, never silently dropped.
    """
    if not _FHIR_STRING.search(value):
        raise InputError(
            "an empty text (or one of only unusual white space) cannot be written to FHIR; "
            "remove the field or give it a value",
            path,
        )
    return value


# --- quantities ---------------------------------------------------------------------------------


def quantity(value: Reported, kind: str, path: str) -> Json:
    """Return a reported value as a Quantity in the unit it was reported in.

    A text keeps its exact spelling in the ``reported-text`` extension (so that ``"5 h 14 min"``
    and ``"1.2mg/dL"`` come back unchanged); a bare number is written in the canonical unit.
    """
    if kind == "duration":
        number, unit = duration_minutes(value), "min"
    else:
        m = parse_quantity(value, kind, path)
        number, unit = m.reported_value, m.reported_unit
    q: Json = {"value": number}
    if unit:
        q["unit"] = unit
        ucum = codes.ucum_code(unit)
        if ucum:
            q["system"] = UCUM
            q["code"] = ucum
    if isinstance(value, str):
        q["extension"] = [ext("reported-text", valueString=value)]
    return q


def length_quantity(value: Reported) -> Json:
    """Return a lesion's distance or abutting-vessel diameter (0 mm allowed) as a Quantity in mm.

    The reported text is kept as :func:`quantity` keeps it.
    """
    q: Json = {"value": diameter_mm(value, "length"), "unit": "mm", "system": UCUM, "code": "mm"}
    if isinstance(value, str):
        q["extension"] = [ext("reported-text", valueString=value)]
    return q


def reported_of(q: Json, path: str) -> Reported:
    """Inverse of :func:`quantity`: the reported text when there is one, else the number."""
    reported = ext_value(q, "reported-text", "valueString")
    if isinstance(reported, str):
        return reported
    number = q.get("value")
    if not isinstance(number, (int, float)) or isinstance(number, bool):
        raise InputError("a quantity without a numeric value", path)
    return float(number)


def number_of(value: Any, path: str) -> float:
    """Return a JSON number as a float, or raise InputError naming ``path``."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InputError(f"expected a number, got {value!r}", path)
    return float(value)


# --- times: real dates, or offsets from a procedure ----------------------------------------------


def offset_parts(offset: Offset) -> list[Json]:
    """Return the ``after`` and ``offset`` (UCUM duration) sub-extensions of an offset."""
    for name, (ucum, unit) in OFFSET_UNITS.items():
        amount = getattr(offset, name)
        if amount is not None:
            duration = {"value": amount, "unit": unit, "system": UCUM, "code": ucum}
            return [
                {"url": "after", "valueString": text(offset.after, "after")},
                {"url": "offset", "valueDuration": duration},
            ]
    raise AssertionError("an Offset has exactly one amount")  # guaranteed by the model


def offset_from_parts(parts: list[Json], path: str) -> Json:
    """Return the offset (``{"after": ..., unit: amount}``) its sub-extensions carry."""
    by_url = {p.get("url"): p for p in parts}
    after = by_url.get("after", {}).get("valueString")
    duration = by_url.get("offset", {}).get("valueDuration")
    if not isinstance(after, str) or not isinstance(duration, dict):
        raise InputError("a relative time needs the sub-extensions 'after' and 'offset'", path)
    names = {ucum: name for name, (ucum, _) in OFFSET_UNITS.items()}
    name = names.get(duration.get("code", ""))
    if name is None:
        raise InputError(
            f"offset unit {duration.get('code')!r} is not one of d, wk, mo, a (UCUM)", path
        )
    return {"after": after, name: number_of(duration.get("value"), path)}


def put_when(resource: Json, element: str, when: When | None) -> None:
    """Put a time into a resource.

    A date goes into the standard element (``performedDateTime``...), an offset into the
    ``relative-time`` extension.
    """
    if when is None:
        return
    if isinstance(when, dt.date):
        resource[element] = when.isoformat()
    else:
        resource.setdefault("extension", []).append(
            {"url": url("relative-time"), "extension": offset_parts(when)}
        )


def date_of(value: Any, path: str) -> dt.date:
    """Return the full date ``YYYY-MM-DD`` a JSON value holds, or raise InputError at ``path``."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InputError(f"expected a full date YYYY-MM-DD, got {value!r}", path)


def get_when(resource: Json, element: str, path: str) -> dt.date | Json | None:
    """Return the time :func:`put_when` wrote: the offset, else the date, else None."""
    relative = one_ext(resource, "relative-time")
    if relative is not None:
        return offset_from_parts(relative.get("extension", []), path)
    if element in resource:
        return date_of(resource[element], path)
    return None


def time_ext(name: str, when: When) -> Json:
    """Return a time in its own extension (``discharge``, ``planned-time``): date or offset."""
    if isinstance(when, dt.date):
        return ext(name, valueDate=when.isoformat())
    return {"url": url(name), "extension": offset_parts(when)}


def time_of(resource: Json, name: str, path: str) -> dt.date | Json | None:
    """Inverse of :func:`time_ext` (None when the resource has no such extension)."""
    found = one_ext(resource, name)
    if found is None:
        return None
    if "valueDate" in found:
        return date_of(found["valueDate"], path)
    return offset_from_parts(found.get("extension", []), path)


def discharge_ext(when: When) -> Json:
    """Return the ``discharge`` extension of a procedure's discharge time."""
    return time_ext("discharge", when)


def discharge_of(resource: Json, path: str) -> dt.date | Json | None:
    """Return the discharge time of a Procedure resource, None without one."""
    return time_of(resource, "discharge", path)


# --- Couinaud segments ------------------------------------------------------------------------


def segment_exts(segments: list[int | str], name: str = "liver-segments") -> list[Json]:
    """One extension per segment, keeping numbers as integers and labels ("4a") as text."""
    return [
        ext(name, valueInteger=s) if isinstance(s, int) else ext(name, valueString=text(s, name))
        for s in segments
    ]


def segments_of(resource: Json, name: str = "liver-segments") -> list[int | str]:
    """Return the Couinaud segments of the ``name`` extensions, in order."""
    out: list[int | str] = []
    for e in exts(resource, name):
        out.append(e["valueInteger"] if "valueInteger" in e else e.get("valueString", ""))
    return out


# --- simple observations: one case field, one Observation ---------------------------------------


@dataclass(frozen=True)
class Simple:
    """Describe a case field carried by one Observation.

    That is its concept, how the value is written, and the observation category (FHIR's own
    vocabulary).
    """

    concept: Json
    kind: str  # "reported:<quantity kind>", "integer", "decimal", "percent", "boolean",
    #            "choice" (valueCodeableConcept text), "string"
    category: str | None = None
    tumour: bool = False  # linked to the primary cancer condition (mCODE relatedCondition)


def _text_only(label: str) -> Json:
    return codes.concept(label)


SIMPLE_OBSERVATIONS: dict[str, Simple] = {
    "patient.height": Simple(_text_only("Body height"), "reported:height", "vital-signs"),
    "patient.weight": Simple(_text_only("Body weight"), "reported:weight", "vital-signs"),
    "patient.performance_status": Simple(_text_only("Performance status"), "string", "survey"),
    "patient.ecog": Simple(_text_only("ECOG performance status (0-4)"), "integer", "survey"),
    "patient.asa": Simple(_text_only("ASA physical status class (1-6)"), "integer", "exam"),
    "patient.dialysis": Simple(
        _text_only("Dialysis at least twice (or CVVHD for 24 h) in the week before"),
        "boolean",
        "therapy",
    ),
    "primary_tumour.mitoses_per_10hpf": Simple(
        _text_only("Mitotic count per 10 high-power fields"), "integer", "laboratory", True
    ),
    "primary_tumour.necrosis_percent": Simple(
        _text_only("Tumour necrosis, percent of the tumour"), "percent", "laboratory", True
    ),
    "primary_tumour.necrosis_category": Simple(
        _text_only("Tumour necrosis category (FNCLCC: none, <50%, >=50%)"),
        "choice",
        "laboratory",
        True,
    ),
    "primary_tumour.differentiation_score": Simple(
        _text_only("Tumour differentiation score (FNCLCC, 1-3)"), "integer", "laboratory", True
    ),
    "primary_tumour.nodal_status": Simple(
        _text_only("Regional lymph nodes category (TNM N)"), "choice", "exam", True
    ),
    "primary_tumour.extension": Simple(
        _text_only(
            "Extension of the primary tumour (FIGO T: confined, adnexa, pelvis, abdomen at one "
            "or more sites, bladder or rectum)"
        ),
        "choice",
        "exam",
        True,
    ),
    "labs.within_normal_limits": Simple(
        _text_only("Laboratory findings within normal limits"), "boolean", "laboratory"
    ),
    "labs.albumin": Simple(
        codes.concept("Albumin", codes.LOINC_ALBUMIN), "reported:albumin", "laboratory"
    ),
    "labs.inr": Simple(codes.concept("INR", codes.LOINC_INR), "reported:inr", "laboratory"),
    "labs.creatinine": Simple(_text_only("Creatinine"), "reported:creatinine", "laboratory"),
    "labs.sodium": Simple(_text_only("Sodium"), "reported:sodium", "laboratory"),
    "labs.platelets": Simple(
        codes.concept("Platelets", codes.LOINC_PLATELETS), "reported:platelets", "laboratory"
    ),
    "labs.ascites": Simple(_text_only("Ascites"), "choice", "exam"),
    "labs.encephalopathy": Simple(_text_only("Hepatic encephalopathy"), "choice", "exam"),
    "liver_function.icg_r15": Simple(
        _text_only("Indocyanine green retention rate at 15 min (ICG-R15)"),
        "reported:icg_r15",
        "laboratory",
    ),
    "liver_function.liver_condition": Simple(
        _text_only(
            "Background liver (normal, chemotherapy, steatosis, cholestasis, cirrhosis, fibrosis)"
        ),
        "choice",
        "exam",
    ),
    "liver_function.total_liver_volume": Simple(
        _text_only("Total liver volume (volumetry)"), "reported:volume", "imaging"
    ),
    "liver_function.future_liver_remnant_volume": Simple(
        _text_only("Future liver remnant volume (volumetry)"), "reported:volume", "imaging"
    ),
    "liver_function.tumour_volume": Simple(
        _text_only("Tumour volume (volumetry)"), "reported:volume", "imaging"
    ),
}
"""Case fields that are one Observation each. Bilirubin is not here: its LOINC code depends on the
unit it was reported in (codes.bilirubin_loinc)."""


def category(code: str) -> list[Json]:
    """Return ``Observation.category`` with one code of FHIR's observation-category system."""
    return [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": code}]}]

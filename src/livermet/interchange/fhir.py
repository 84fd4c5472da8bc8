"""A case as an HL7 FHIR R4 collection Bundle shaped after mCODE STU4, and back, losslessly.

``bundle_to_case(case_to_bundle(c)) == c`` for every valid case (without empty texts, which FHIR
strings cannot hold: they are refused with the field named). What the standard profiles carry is
written there (Patient.gender, PrimaryCancerCondition with ICD-O-3 morphology, body site and
laterality, SecondaryCancerCondition per liver lesion, TumorSize, HistologicGrade, LOINC labs,
CancerDiseaseStatus, Procedure with complicationDetail); everything else goes into livermet
extensions under ``https://livermet.example/fhir/StructureDefinition/`` (docs/interchange.md).

Resources are validated with ``fhir.resources`` R4B models (structure, cardinality, datatypes);
they do not claim mCODE conformance in ``meta.profile``, since no profile validator has checked
them (research note §2.3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from livermet.case.limits import MAX_DOCUMENT_BYTES, check_document
from livermet.case.load import parse_error
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.interchange import codes
from livermet.interchange.fhir_parts import text
from livermet.interchange.fhir_read import bundle_document
from livermet.interchange.fhir_write import case_resources
from livermet.interchange.validate import path_text, validate_case

__all__ = [
    "bundle_to_case",
    "case_from_fhir_json",
    "case_to_bundle",
    "case_to_fhir_json",
    "validated_resource",
]

MAX_BUNDLE_BYTES = 10 * MAX_DOCUMENT_BYTES
"""Largest FHIR bundle read (10 MB of JSON): a bundle spells a case out at length."""


def _pydantic_reason(exc: ValidationError) -> str:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}"


def validated_resource(resource: Mapping[str, Any], element: str = "resource") -> Resource:
    """Validate one resource's JSON with its ``fhir.resources`` R4B model.

    Raises
    ------
    InputError
        naming ``element`` when the JSON is not a valid resource of its type.
    """
    try:
        model = get_fhir_model_class(str(resource.get("resourceType")))
        return cast(Resource, model.model_validate(dict(resource)))
    except (KeyError, ValueError, ValidationError) as exc:
        reason = _pydantic_reason(exc) if isinstance(exc, ValidationError) else str(exc)
        kind = resource.get("resourceType")
        raise InputError(f"not a valid FHIR {kind}: {reason}", element) from None


def case_to_bundle(case: Case, *, patient_ref: str | None = None) -> Bundle:
    """Return the case as a FHIR R4 collection Bundle (R4B models), every resource validated.

    Parameters
    ----------
    case
        A validated case.
    patient_ref
        The pseudonymous identifier the Patient resource carries (``Patient.identifier``, system
        ``https://livermet.example/fhir/NamingSystem/patient-pseudonym``); the case id when None.
        The case id itself is ``Bundle.identifier``. No names are ever written.

    Raises
    ------
    InputError
        naming the field when a text is empty (FHIR strings cannot be empty).
    """
    entries = [
        BundleEntry(fullUrl=url, resource=validated_resource(res, _element(res)))
        for url, res in case_resources(case, patient_ref)
    ]
    return Bundle(
        type="collection",
        identifier={"system": codes.CASE_ID_SYSTEM, "value": text(case.id, "id")},
        entry=entries,
    )


def _element(resource: Mapping[str, Any]) -> str:
    for e in resource.get("extension", []):
        if e.get("url", "").endswith("/case-element"):
            return str(e.get("valueString"))
    return "resource"


def _bundle_json(bundle: Bundle | Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(bundle, Bundle):
        if bundle.get("resourceType") != "Bundle":
            raise InputError("expected a FHIR Bundle", "resourceType")
        bundle = Bundle.model_validate(dict(bundle))
    data: dict[str, Any] = json.loads(bundle.model_dump_json())
    return data


def bundle_to_case(bundle: Bundle | Mapping[str, Any]) -> Case:
    """Return the case a bundle from :func:`case_to_bundle` carries (a Bundle or its JSON).

    Raises
    ------
    InputError
        naming the element or field that is missing, malformed or fails the case model (all the
        case model's problems are listed in the message, the first one is ``field``).
    """
    try:
        document = bundle_document(_bundle_json(bundle))
    except ValidationError as exc:
        raise InputError(f"not a valid FHIR Bundle: {_pydantic_reason(exc)}", "bundle") from None
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise InputError(f"unexpected structure: {exc!r}", "bundle") from None
    case, problems = validate_case(document)
    if case is None:
        listed = "; ".join(f"{path_text(p)}: {m}" for p, m in problems)
        raise InputError(listed, path_text(problems[0][0]))
    return case


def case_to_fhir_json(case: Case, *, patient_ref: str | None = None) -> str:
    """Return the bundle of :func:`case_to_bundle` as FHIR JSON (indented)."""
    return case_to_bundle(case, patient_ref=patient_ref).model_dump_json(indent=2)


def case_from_fhir_json(text: str) -> Case:
    """Inverse of :func:`case_to_fhir_json`; bad JSON or a bad bundle is an InputError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} (line {exc.lineno})", "bundle") from None
    except (RecursionError, ValueError) as exc:  # nested too deeply, a 5,000-digit number
        raise InputError(f"not usable JSON: {parse_error(exc)}", "bundle") from None
    if not isinstance(data, dict):
        raise InputError("expected a FHIR Bundle (a JSON object)", "bundle")
    # Depth, NaN and NUL before fhir.resources sees the bundle; the case is checked in full later.
    check_document(data, max_bytes=MAX_BUNDLE_BYTES, max_int=None)
    return bundle_to_case(data)

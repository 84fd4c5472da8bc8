"""FHIR R4 / mCODE bundles.

Lossless round trips, every resource valid, codes from the research note
(shared/spec/registry-research.md §2-§3), offsets kept, bad bundles refused with the field.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings

from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.interchange import codes
from livermet.interchange.fhir import (
    bundle_to_case,
    case_from_fhir_json,
    case_to_bundle,
    case_to_fhir_json,
)
from tests.conftest import SEED_CASE
from tests.interchange.strategies import VARIED, cases, dated_si_case, empty_text_case

LM = "https://livermet.example/fhir/StructureDefinition/"

# LOINC codes the research note gives (§2.2 and §3.4), copied here independently of codes.py.
RESEARCH_NOTE_LOINC = {
    "1975-2",
    "14631-6",
    "1751-7",
    "6301-6",
    "777-3",
    "26515-7",
    "21889-1",
    "33728-7",
    "33729-5",
    "31206-6",
    "77753-2",
    "97509-4",
}


@pytest.fixture(scope="module")
def seed() -> Case:
    """Return the seed case of the examples."""
    return load_case(SEED_CASE)


@pytest.fixture(scope="module")
def seed_json(seed: Case) -> dict[str, Any]:
    """Return the seed case's bundle as JSON, with a patient pseudonym."""
    data: dict[str, Any] = json.loads(case_to_fhir_json(seed, patient_ref="pseudo-7f3a"))
    return data


def _by_element(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for entry in bundle["entry"]:
        res = entry["resource"]
        element = next(
            e["valueString"] for e in res["extension"] if e["url"] == LM + "case-element"
        )
        out[element] = res
    return out


def _codings(node: Any) -> list[dict[str, Any]]:
    """Every Coding anywhere in a JSON tree."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "system" in node and "code" in node and "value" not in node:
            found.append(node)
        for value in node.values():
            found += _codings(value)
    elif isinstance(node, list):
        for value in node:
            found += _codings(value)
    return found


# --- round trips ------------------------------------------------------------------------------


def test_seed_case_round_trips_exactly(seed: Case) -> None:
    back = bundle_to_case(case_to_bundle(seed))
    assert back == seed
    assert back.model_dump() == seed.model_dump()


def test_seed_case_round_trips_through_json_text(seed: Case) -> None:
    back = case_from_fhir_json(case_to_fhir_json(seed))
    assert back == seed
    assert back.model_dump(mode="json") == seed.model_dump(mode="json")


@pytest.mark.parametrize("name", sorted(VARIED))
def test_varied_cases_round_trip(name: str) -> None:
    case = VARIED[name]()
    assert case_from_fhir_json(case_to_fhir_json(case)) == case


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_cases_round_trip(case: Case) -> None:
    back = case_from_fhir_json(case_to_fhir_json(case))
    assert back == case
    assert back.model_dump() == case.model_dump()


def test_the_bundle_is_deterministic(seed: Case) -> None:
    assert case_to_fhir_json(seed) == case_to_fhir_json(seed)


# --- validity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: load_case(SEED_CASE), *VARIED.values()])
def test_every_resource_validates_with_fhir_resources(make: Any) -> None:
    bundle = json.loads(case_to_fhir_json(make()))
    assert Bundle.model_validate(bundle).type == "collection"
    kinds = set()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"])
        parsed = model.model_validate(resource)  # raises if invalid
        assert json.loads(parsed.model_dump_json()) == resource  # nothing dropped or altered
        assert entry["fullUrl"].startswith("urn:uuid:")
        kinds.add(resource["resourceType"])
    assert kinds <= {"Patient", "Condition", "Observation", "Procedure", "DiagnosticReport"}


def test_references_point_to_entries_of_the_bundle(seed_json: dict[str, Any]) -> None:
    urls = {e["fullUrl"] for e in seed_json["entry"]}
    refs = [
        v["reference"]
        for e in seed_json["entry"]
        for v in _walk(e["resource"])
        if isinstance(v, dict) and "reference" in v
    ]
    assert refs and set(refs) <= urls


def _walk(node: Any) -> list[Any]:
    out = [node]
    if isinstance(node, dict):
        for v in node.values():
            out += _walk(v)
    elif isinstance(node, list):
        for v in node:
            out += _walk(v)
    return out


# --- what the seed case becomes ----------------------------------------------------------------


def test_patient_is_pseudonymous(seed_json: dict[str, Any]) -> None:
    patient = _by_element(seed_json)["patient"]
    assert "name" not in patient and "birthDate" not in patient
    assert patient["identifier"] == [
        {"system": codes.PATIENT_PSEUDONYM_SYSTEM, "value": "pseudo-7f3a"}
    ]
    assert patient["gender"] == "male"
    age = next(e for e in patient["extension"] if e["url"] == LM + "age-at-presentation")
    assert age["valueAge"] == {"value": 80, "unit": "years", "system": codes.UCUM, "code": "a"}
    assert seed_json["identifier"] == {"system": codes.CASE_ID_SYSTEM, "value": "seed-case"}


def test_primary_cancer_condition_codes(seed_json: dict[str, Any]) -> None:
    primary = _by_element(seed_json)["primary_tumour"]
    # ICD-10-CM C49.21: soft tissue of the right lower limb (research note §3.2, index case)
    assert primary["code"]["coding"] == [{"system": codes.ICD10CM, "code": "C49.21"}]
    hmb = next(
        e for e in primary["extension"] if e["url"].endswith("histology-morphology-behavior")
    )
    assert hmb["valueCodeableConcept"]["coding"] == [{"system": codes.ICDO3, "code": "8890/3"}]
    site = primary["bodySite"][0]
    assert site["coding"] == [{"system": codes.ICDO3, "code": "C49.2"}]
    laterality = site["extension"][0]
    assert laterality["url"].endswith("mcode-laterality-qualifier")
    assert laterality["valueCodeableConcept"]["coding"] == [
        {"system": codes.SNOMED, "code": "24028007"}  # right (§3.3)
    ]


def test_liver_metastasis_is_a_secondary_condition_with_its_segment(
    seed_json: dict[str, Any],
) -> None:
    elements = _by_element(seed_json)
    lesion = elements["liver_lesions[0]"]
    assert {(c["system"], c["code"]) for c in lesion["code"]["coding"]} == {
        (codes.SNOMED, "94381002"),
        (codes.ICD10CM, "C78.7"),
    }
    related = next(e for e in lesion["extension"] if e["url"].endswith("condition-related"))
    primary_url = next(
        e["fullUrl"] for e in seed_json["entry"] if e["resource"] is elements["primary_tumour"]
    )
    assert related["valueReference"]["reference"] == primary_url
    segments = [e["valueInteger"] for e in lesion["extension"] if e["url"] == LM + "liver-segments"]
    assert segments == [7]
    morphology = next(e for e in lesion["extension"] if e["url"].endswith("behavior"))
    assert morphology["valueCodeableConcept"]["coding"][0]["code"] == "8890/6"  # /6 metastatic
    size = elements["liver_lesions[0].size"]["component"][0]["valueQuantity"]
    assert (size["value"], size["unit"]) == (21, "mm")


def test_grade_stage_and_disease_status(seed_json: dict[str, Any]) -> None:
    elements = _by_element(seed_json)
    grade = elements["primary_tumour.reported_grade"]
    assert grade["code"]["coding"] == [{"system": codes.NCIT, "code": "C18000"}]
    assert grade["valueCodeableConcept"]["coding"] == [
        {"system": codes.SNOMED, "code": "1155707008"}  # high grade = FNCLCC 3 (§2.2 mapping)
    ]
    # README: T3 (15 cm specimen), M1 -> stage IV. Derived, text only (AJCC codes unverified).
    assert elements["derived.ajcc8.stage"]["valueCodeableConcept"] == {"text": "Stage IV"}
    assert elements["derived.ajcc8.t"]["valueCodeableConcept"] == {"text": "T3"}
    assert elements["derived.ajcc8.m"]["valueCodeableConcept"] == {"text": "M1"}
    status = elements["follow_up[0]"]
    assert status["code"]["coding"] == [{"system": codes.LOINC, "code": "97509-4"}]
    assert status["valueCodeableConcept"] == {"text": "no recurrence"}


def test_surgical_procedure_keeps_approach_segments_time_and_blood_loss(
    seed_json: dict[str, Any],
) -> None:
    elements = _by_element(seed_json)
    proc = elements["procedures[1]"]
    ext = {e["url"].removeprefix(LM): e for e in proc["extension"]}
    assert ext["surgical-approach"]["valueCode"] == "laparoscopic"
    assert ext["operative-duration"]["valueDuration"]["value"] == 314  # 5 h 14 min
    assert ext["operative-duration"]["valueDuration"]["extension"][0]["valueString"] == (
        "5 h 14 min"
    )
    assert [e["valueInteger"] for e in proc["extension"] if e["url"] == LM + "liver-segments"] == [
        6,
        7,
    ]
    blood = elements["procedures[1].blood_loss"]
    assert blood["valueQuantity"]["value"] == 80 and blood["valueQuantity"]["code"] == "mL"
    assert blood["partOf"][0]["reference"] == next(
        e["fullUrl"] for e in seed_json["entry"] if e["resource"] is proc
    )
    # the primary resection's wound infection is a Condition referenced as complicationDetail
    first = elements["procedures[0]"]
    comp = elements["procedures[0].complications[0]"]
    assert first["complicationDetail"][0]["reference"] == next(
        e["fullUrl"] for e in seed_json["entry"] if e["resource"] is comp
    )
    grade = next(e for e in comp["extension"] if e["url"] == LM + "clavien-dindo")
    assert grade["valueCodeableConcept"]["coding"] == [
        {"system": codes.CLAVIEN_DINDO_SYSTEM, "code": "II"}
    ]


def test_relative_offsets_survive_as_an_extension(seed_json: dict[str, Any]) -> None:
    proc = _by_element(seed_json)["procedures[1]"]
    assert "performedDateTime" not in proc
    relative = next(e for e in proc["extension"] if e["url"] == LM + "relative-time")
    assert relative["extension"] == [
        {"url": "after", "valueString": "primary-resection"},
        {
            "url": "offset",
            "valueDuration": {"value": 4, "unit": "months", "system": codes.UCUM, "code": "mo"},
        },
    ]


def test_real_dates_use_the_standard_elements() -> None:
    elements = _by_element(json.loads(case_to_fhir_json(dated_si_case())))
    assert elements["procedures[0]"]["performedDateTime"] == "2018-03-05"
    assert elements["imaging[0]"]["effectiveDateTime"] == "2020-02-01"
    assert elements["follow_up[0]"]["effectiveDateTime"] == "2021-01-20"
    # death after an offset: Patient.deceasedBoolean (derived for mCODE consumers)
    assert elements["patient"]["deceasedBoolean"] is True


# --- codes --------------------------------------------------------------------------------------


def test_loinc_codes_are_those_of_the_research_note() -> None:
    assert codes.LOINC_CODES_USED <= RESEARCH_NOTE_LOINC
    used: set[str] = set()
    for make in [lambda: load_case(SEED_CASE), *VARIED.values()]:
        bundle = json.loads(case_to_fhir_json(make()))
        used |= {c["code"] for c in _codings(bundle) if c["system"] == codes.LOINC}
    assert used <= RESEARCH_NOTE_LOINC
    # these cases use every lab code livermet writes (mg/dL and umol/L bilirubin included)
    assert used == {
        "1975-2",
        "14631-6",
        "1751-7",
        "6301-6",
        "777-3",
        "21889-1",
        "33728-7",
        "97509-4",
    }


def test_lab_codes_follow_the_reported_unit() -> None:
    elements = _by_element(json.loads(case_to_fhir_json(dated_si_case())))
    bilirubin = elements["labs.bilirubin"]
    assert bilirubin["code"]["coding"] == [{"system": codes.LOINC, "code": "14631-6"}]  # umol/L
    assert bilirubin["valueQuantity"]["code"] == "umol/L"
    assert elements["labs.albumin"]["code"]["coding"][0]["code"] == "1751-7"
    assert elements["labs.inr"]["code"]["coding"][0]["code"] == "6301-6"
    assert elements["labs.platelets"]["code"]["coding"][0]["code"] == "777-3"
    # no LOINC for creatinine, sodium and ICG-R15 in the research note: text-only concepts
    assert elements["labs.creatinine"]["code"] == {"text": "Creatinine"}
    assert elements["labs.sodium"]["code"] == {"text": "Sodium"}
    assert "coding" not in elements["liver_function.icg_r15"]["code"]
    mass = json.loads(case_to_fhir_json(_with_labs({"bilirubin": "1.2 mg/dL"})))
    assert _by_element(mass)["labs.bilirubin"]["code"]["coding"][0]["code"] == "1975-2"


def _with_labs(labs: dict[str, Any]) -> Case:
    data = load_case(SEED_CASE).model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["labs"] = labs
    return Case.model_validate(data)


def test_every_snomed_code_is_one_the_research_note_gives() -> None:
    note_snomed = {
        "94381002", "128462008", "363346000", "1163022006", "897703001", "373808002",
        "363676003", "24028007", "7771000", "51440002", "399488007", "1155708003",
        "1286893008", "1155707008", "787377000", "77477000", "113091000", "16310003",
        "82918005", "5880005",
    }  # fmt: skip
    used = set()
    for make in [lambda: load_case(SEED_CASE), *VARIED.values()]:
        bundle = json.loads(case_to_fhir_json(make()))
        used |= {c["code"] for c in _codings(bundle) if c["system"] == codes.SNOMED}
    assert used and used <= note_snomed


# --- refusals -----------------------------------------------------------------------------------


def test_empty_text_is_refused_with_its_field() -> None:
    with pytest.raises(InputError) as err:
        case_to_bundle(empty_text_case())
    assert err.value.field in {"notes", "patient.performance_status", "primary_tumour.histology"}


def test_derived_resources_are_not_read_back(seed: Case, seed_json: dict[str, Any]) -> None:
    data = copy.deepcopy(seed_json)
    _by_element(data)["derived.ajcc8.stage"]["valueCodeableConcept"] = {"text": "Stage IA"}
    assert bundle_to_case(data) == seed


@pytest.mark.parametrize(
    ("break_it", "field"),
    [
        (lambda b: b.pop("identifier"), "id"),
        (lambda b: b["entry"].pop(0), "patient"),
        (
            lambda b: _set(b, "liver_function.icg_r15", "valueQuantity", None),
            "liver_function.icg_r15",
        ),
        (lambda b: _rename(b, "follow_up[0]", "follow_up[7]"), "follow_up"),
        (lambda b: _rename(b, "follow_up[0]", "frobnicate"), "frobnicate"),
        (lambda b: _drop_ext(b, "procedures[1]", "procedure-kind"), "procedures[1].kind"),
        (lambda b: _bad_segment(b, "procedures[1]"), "procedures[1].segments_resected"),
    ],
)
def test_broken_bundles_name_the_field(
    seed_json: dict[str, Any], break_it: Any, field: str
) -> None:
    data = copy.deepcopy(seed_json)
    break_it(data)
    with pytest.raises(InputError) as err:
        bundle_to_case(data)
    assert err.value.field == field


def _set(bundle: dict[str, Any], element: str, key: str, value: Any) -> None:
    resource = _by_element(bundle)[element]
    if value is None:
        resource.pop(key)
    else:
        resource[key] = value


def _drop_ext(bundle: dict[str, Any], element: str, name: str) -> None:
    resource = _by_element(bundle)[element]
    resource["extension"] = [e for e in resource["extension"] if e["url"] != LM + name]


def _bad_segment(bundle: dict[str, Any], element: str) -> None:
    resource = _by_element(bundle)[element]
    next(e for e in resource["extension"] if e["url"] == LM + "liver-segments")["valueInteger"] = 9


def _rename(bundle: dict[str, Any], element: str, new: str) -> None:
    resource = _by_element(bundle)[element]
    for e in resource["extension"]:
        if e["url"] == LM + "case-element":
            e["valueString"] = new


def test_not_json_or_not_a_bundle_is_an_input_error() -> None:
    with pytest.raises(InputError):
        case_from_fhir_json("{not json")
    with pytest.raises(InputError):
        case_from_fhir_json('{"resourceType": "Patient"}')

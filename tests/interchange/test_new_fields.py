"""The pre-operative fields of the case model travel through CSV, REDCap and FHIR without loss.

The fields are planned procedures, ablation targets, ECOG, ASA, dialysis, diagnosis and detection
times, lesion labels, RECIST measurements, systemic therapy and the assessment date; each format
puts them where its readers expect them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.interchange import codes
from livermet.interchange.csv_io import cases_from_csv, cases_to_csv
from livermet.interchange.errors import RowsError
from livermet.interchange.fhir import case_from_fhir_json, case_to_fhir_json
from livermet.interchange.redcap import (
    case_to_records,
    data_dictionary,
    export_records_csv,
    import_records_csv,
    records_to_cases,
)
from tests.interchange.model_paths import leaf_paths, unset_leaves
from tests.interchange.strategies import every_field_case

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PREOP = sorted(EXAMPLES.glob("preop-*.yaml"))
LM = "https://livermet.example/fhir/StructureDefinition/"

FORMATS = {
    "csv": lambda c: cases_from_csv(cases_to_csv([c]))[0],
    "redcap": lambda c: import_records_csv(export_records_csv([c]))[0],
    "fhir": lambda c: case_from_fhir_json(case_to_fhir_json(c)),
}


def test_the_every_field_case_gives_every_field() -> None:
    # schema_version has one value only (its default); every other field is given somewhere
    assert unset_leaves(every_field_case()) == {"schema_version"}
    assert {
        "assessed_on",
        "patient.ecog",
        "patient.asa",
        "patient.dialysis",
        "primary_tumour.diagnosed",
        "primary_tumour.extension",
        "liver_lesions[].id",
        "liver_lesions[].detected",
        "imaging[].measurements[].lymph_node",
        "imaging[].new_lesions",
        "procedures[].status",
        "procedures[].target_segments",
        "systemic_therapy[].ended",
    } <= leaf_paths()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_field_survives_every_format(fmt: str) -> None:
    case = every_field_case()
    back = FORMATS[fmt](case)
    assert back == case
    assert back.model_dump() == case.model_dump()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("path", PREOP, ids=lambda p: p.stem)
def test_preoperative_examples_round_trip(fmt: str, path: Path) -> None:
    case = load_case(path)
    assert FORMATS[fmt](case) == case


def test_there_are_preoperative_examples() -> None:
    assert len(PREOP) >= 3


# --- CSV ------------------------------------------------------------------------------------------


def _row(case: Case) -> dict[str, str]:
    (row,) = csv.DictReader(io.StringIO(cases_to_csv([case])))
    return row


def test_csv_cells_of_the_new_fields() -> None:
    row = _row(every_field_case())
    assert row["assessed_on"] == "2020-02-20"
    assert (row["patient.ecog"], row["patient.asa"], row["patient.dialysis"]) == ("1", "2", "false")
    assert json.loads(row["primary_tumour.diagnosed"]) == {"after": "primary", "days": 0.0}
    assert row["primary_tumour.extension"] == "abdomen_one_site"
    therapy = json.loads(row["systemic_therapy"])
    assert therapy[0]["ended"] == "2021-01-10" and therapy[1] == {
        "regimen": "gemcitabine + docetaxel",
        "started": "2021-02-01",
    }
    planned = json.loads(row["procedures"])[-1]
    assert planned["status"] == "planned" and planned["target_segments"] == [6]
    # a performed procedure is the default: not written
    assert "status" not in json.loads(row["procedures"])[0]


def test_csv_time_cell_takes_a_date_or_an_offset_and_names_a_bad_one() -> None:
    row = _row(every_field_case())
    row["primary_tumour.diagnosed"] = "2018-02-01"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    (case,) = cases_from_csv(out.getvalue())
    assert case.primary_tumour.diagnosed == dt.date(2018, 2, 1)
    for bad in ("1.2.2018", '{"after": "primary"', "[1]"):
        row["primary_tumour.diagnosed"] = bad
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(row), lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        with pytest.raises(RowsError) as err:
            cases_from_csv(out.getvalue())
        assert [(e.row, e.field) for e in err.value.errors] == [(2, "primary_tumour.diagnosed")]


# --- REDCap ---------------------------------------------------------------------------------------


def test_redcap_measurements_are_a_repeating_instrument_linked_to_their_imaging() -> None:
    rows = case_to_records(every_field_case(), "1")
    meas = [r for r in rows if r["redcap_repeat_instrument"] == "lesion_measurement"]
    assert [(r["redcap_repeat_instance"], r["meas_imaging"], r["meas_lesion"]) for r in meas] == [
        ("1", "2", "L1"),
        ("2", "2", "N1"),
        ("3", "2", "P1"),
    ]
    assert (meas[1]["meas_lymph_node"], meas[1]["meas_organ"], meas[2]["meas_target"]) == (
        "1",
        "lymph node",
        "0",
    )
    proc = [r for r in rows if r["redcap_repeat_instrument"] == "procedure"][-1]
    assert proc["proc_status"] == "1"  # 1 = planned (the model's order: planned, performed)
    assert proc["proc_target_segments"] == "[6]"
    base = rows[0]
    assert (base["assessed_on"], base["pt_ecog"], base["pt_asa"], base["pt_dialysis"]) == (
        "2020-02-20",
        "1",
        "2",
        "0",
    )
    therapy = [r for r in rows if r["redcap_repeat_instrument"] == "systemic_therapy"]
    assert (therapy[0]["sys_started_after"], therapy[0]["sys_started_unit"]) == (
        "hepatectomy",
        "3",
    )
    dictionary = {r["Variable / Field Name"]: r for r in data_dictionary()}
    assert dictionary["assessed_on"]["Text Validation Type OR Show Slider Number"] == "date_ymd"
    assert dictionary["assessed_on"]["Identifier?"] == "y"
    assert dictionary["meas_imaging"]["Text Validation Type OR Show Slider Number"] == "integer"


def test_redcap_measurement_of_an_unknown_imaging_is_reported() -> None:
    rows = case_to_records(every_field_case(), "1")
    meas = next(r for r in rows if r["redcap_repeat_instrument"] == "lesion_measurement")
    meas["meas_imaging"] = "7"
    with pytest.raises(RowsError) as err:
        records_to_cases(rows)
    ((row, field, reason),) = [(e.row, e.field, e.reason) for e in err.value.errors]
    assert field == "meas_imaging" and "no imaging has the instance 7" in reason
    assert row == rows.index(meas) + 2


def test_redcap_imaging_instances_need_not_be_consecutive() -> None:
    case = every_field_case()
    rows = case_to_records(case, "1")
    for r in rows:  # instances 1, 2 renumbered 10, 20 as after deletions in REDCap
        if r["redcap_repeat_instrument"] == "imaging":
            r["redcap_repeat_instance"] = str(10 * int(r["redcap_repeat_instance"]))
        if r["redcap_repeat_instrument"] == "lesion_measurement":
            r["meas_imaging"] = str(10 * int(r["meas_imaging"]))
    assert records_to_cases(rows) == [case]


# --- FHIR -----------------------------------------------------------------------------------------


def _elements(case: Case) -> dict[str, dict[str, Any]]:
    bundle = json.loads(case_to_fhir_json(case))
    out = {}
    for entry in bundle["entry"]:
        res = entry["resource"]
        element = next(
            e["valueString"] for e in res["extension"] if e["url"] == LM + "case-element"
        )
        out[element] = res | {"_url": entry["fullUrl"]}
    return out


def _ext(resource: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [e for e in resource.get("extension", []) if e["url"] == LM + name]


def test_fhir_planned_procedure_is_never_performed() -> None:
    elements = _elements(every_field_case())
    planned = elements["procedures[3]"]
    assert planned["status"] == "preparation" and "performedDateTime" not in planned
    assert _ext(planned, "procedure-status") == [
        {"url": LM + "procedure-status", "valueCode": "planned"}
    ]
    (when,) = _ext(planned, "planned-time")
    assert when["extension"][0] == {"url": "after", "valueString": "tace"}
    assert not _ext(planned, "relative-time")
    assert [e["valueInteger"] for e in _ext(planned, "target-segments")] == [6]
    performed = elements["procedures[1]"]
    assert performed["status"] == "completed" and not _ext(performed, "procedure-status")


def test_fhir_lesions_measurements_and_therapy() -> None:
    elements = _elements(every_field_case())
    lesion = elements["liver_lesions[0]"]
    assert lesion["identifier"] == [{"system": codes.LESION_LABEL_SYSTEM, "value": "L1"}]
    assert lesion["onsetDateTime"] == "2020-01-15"  # mCODE: onset = diagnosis of the metastasis
    primary = elements["primary_tumour"]
    assert "onsetDateTime" not in primary and _ext(primary, "relative-time")  # an offset
    target = elements["imaging[1].measurements[0]"]
    assert target["code"]["coding"] == [{"system": codes.LOINC, "code": "21889-1"}]
    assert target["component"][0]["code"]["coding"] == [{"system": codes.LOINC, "code": "33728-7"}]
    assert target["component"][0]["valueQuantity"]["value"] == 32
    assert target["focus"] == [{"reference": lesion["_url"]}]  # the label names lesion L1
    node = elements["imaging[1].measurements[1]"]
    assert node["component"][0]["code"] == {"text": "Short axis of a lymph node (RECIST 1.1)"}
    assert node["bodySite"] == {"text": "lymph node"} and "focus" not in node
    report = elements["imaging[1]"]
    assert [r["reference"] for r in report["result"]] == [
        elements[f"imaging[1].measurements[{j}]"]["_url"] for j in range(3)
    ]
    assert _ext(report, "new-lesions")[0]["valueBoolean"] is False
    first, second = elements["systemic_therapy[0]"], elements["systemic_therapy[1]"]
    assert first["resourceType"] == "MedicationStatement" and first["status"] == "completed"
    assert first["effectivePeriod"] == {"end": "2021-01-10"} and _ext(first, "therapy-started")
    assert second["status"] == "active" and second["effectivePeriod"] == {"start": "2021-02-01"}
    assert second["medicationCodeableConcept"] == {"text": "gemcitabine + docetaxel"}
    patient = elements["patient"]
    assert _ext(patient, "assessed-on")[0]["valueDate"] == "2020-02-20"
    assert elements["patient.ecog"]["valueInteger"] == 1
    assert elements["patient.dialysis"]["valueBoolean"] is False


def test_fhir_dated_diagnosis_is_the_asserted_date() -> None:
    data = every_field_case().model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["primary_tumour"]["diagnosed"] = "2018-02-20"
    case = Case.model_validate(data)
    primary = _elements(case)["primary_tumour"]
    asserted = [e for e in primary["extension"] if e["url"] == codes.CONDITION_ASSERTED_DATE]
    assert asserted == [{"url": codes.CONDITION_ASSERTED_DATE, "valueDateTime": "2018-02-20"}]
    assert case_from_fhir_json(case_to_fhir_json(case)) == case

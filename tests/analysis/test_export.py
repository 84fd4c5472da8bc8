"""The analysis export without a registry.

The one event-free-survival rule, the row of a case file, cell formatting and the data dictionary
(file and docs/analysis-export.md).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from livermet.analysis.cohort import ENDPOINTS, efs_event_of, with_endpoints
from livermet.case.assess import assess
from livermet.case.load import load_case
from livermet.registry.analysis_export import (
    COLUMNS,
    DICTIONARY_FIELDS,
    FIXED_COLUMNS,
    HEADER,
    StoredEndpoints,
    analysis_values,
    dictionary_path_for,
    write_dictionary,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOC = ROOT / "docs" / "analysis-export.md"
NO_FOLLOW_UP = StoredEndpoints(None, False, None, None)


# --- the endpoints, defined once ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("first_event", "expected"),
    [
        ("recurrence", 1),
        ("death", 1),
        ("censored", 0),
        (" censored ", 0),
        (None, None),
        (np.nan, None),
        (pd.NA, None),
        ("", None),
        ("  ", None),
    ],
)
def test_efs_event_of_one_case(first_event: object, expected: int | None) -> None:
    assert efs_event_of(first_event) == expected


def test_the_cohort_table_uses_the_same_efs_rule() -> None:
    labels = ["recurrence", "censored", None, "death", "", "censored"]
    frame = with_endpoints(pd.DataFrame({"first_event": labels}, index=[5, 3, 9, 1, 2, 8]))
    assert list(frame.index) == [5, 3, 9, 1, 2, 8]  # the rows keep their labels
    assert frame["efs_event"].tolist() == [1, 0, pd.NA, 1, pd.NA, 0]
    assert frame["efs_event"].tolist() == [
        pd.NA if efs_event_of(v) is None else efs_event_of(v) for v in labels
    ]
    assert ENDPOINTS["efs"] == ("efs_months", "efs_event")
    assert ENDPOINTS["os"] == ("os_months", "death")


# --- one row from a case file ------------------------------------------------------------------


def test_a_pre_operative_retroperitoneal_case() -> None:
    """examples/preop-retroperitoneal-lms.yaml, worked out from the file."""
    case = load_case(EXAMPLES / "preop-retroperitoneal-lms.yaml")
    row = analysis_values(case, NO_FOLLOW_UP, case_id="x", site="s", synthetic=False)
    expected = {
        "os_months": None,  # the liver resection is only planned: no time zero
        "death": 0,
        "efs_months": None,
        "first_event": None,
        "efs_event": None,
        # lesion detected 2025-02-14, the day of diagnosis: synchronous by the dates; found
        # before the primary's resection (2025-03-10): never disease-free
        "timing": "synchronous",
        "timing_basis": "dates",
        "dfi_months": 0,
        "dfi_status": "never disease-free",
        "age": 63,
        "sex": "male",
        "histology": "leiomyosarcoma",
        "primary_site": "retroperitoneum",
        # mitoses 15 (score 2) + necrosis < 50% (1) + differentiation 2 = 5: grade 2
        "grade": 2,
        "grade_basis": "computed",
        # AJCC 8 chapter 44, M1 at diagnosis: IV
        "stage": "IV",
        "stage_system": "ajcc8-retroperitoneum",
        "lesion_count": 1,
        "largest_lesion_mm": 25.0,
        "lesions_unmeasured": 0,
        "approach": None,  # the planned approach is not a cohort's
        "margin": None,
        "synthetic": 0,
        "case_id": "x",
        "site": "s",
        "phase": "pre-operative",
        "primary_site_detail": "retroperitoneum",
    }
    assert row == expected


@pytest.mark.parametrize(
    "name",
    ["seed-case", "preop-uterine-lms", "preop-retroperitoneal-lms", "preop-plan-misses-lesions"],
)
def test_timing_dfi_grade_and_stage_are_the_assessments(name: str) -> None:
    case = load_case(EXAMPLES / f"{name}.yaml")
    row = analysis_values(case, NO_FOLLOW_UP, case_id=name, site="s", synthetic=False)
    report = assess(case).to_dict()
    assert row["timing"] == report["timeline"]["metastasis_timing"]
    assert row["dfi_months"] == report["timeline"]["disease_free_interval_months"]
    assert row["stage"] == report["staging"]["at_diagnosis"]["stage"]
    assert row["stage_system"] == report["staging"]["system"]
    fnclcc = report["grading"]["fnclcc"]
    assert row["grade"] == (
        fnclcc["grade"] if fnclcc["grade"] is not None else fnclcc["reported_grade"]
    )
    assert row["phase"] == report["phase"]


def test_a_stated_grade_stands_in_for_an_undecided_one() -> None:
    data = load_case(EXAMPLES / "preop-uterine-lms.yaml").model_dump(mode="json", exclude_none=True)
    data["primary_tumour"]["reported_grade"] = 3
    from livermet.case.load import case_from_data

    row = analysis_values(case_from_data(data), NO_FOLLOW_UP, case_id="x", site="s", synthetic=True)
    assert (row["grade"], row["grade_basis"], row["synthetic"]) == (3, "reported", 1)


def test_unmeasured_lesions_are_counted() -> None:
    data = load_case(EXAMPLES / "preop-uterine-lms.yaml").model_dump(mode="json", exclude_none=True)
    data["liver_lesions"][1].pop("size")
    data["liver_lesions"][1].pop("size_method")
    data["liver_lesions"][0]["number"] = 3
    from livermet.case.load import case_from_data

    row = analysis_values(
        case_from_data(data), NO_FOLLOW_UP, case_id="x", site="s", synthetic=False
    )
    assert (row["lesion_count"], row["largest_lesion_mm"], row["lesions_unmeasured"]) == (
        4,
        28.0,
        1,
    )


# --- the data dictionary -----------------------------------------------------------------------


def _dictionary() -> list[dict[str, str]]:
    out = io.StringIO()
    write_dictionary(out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_the_dictionary_lists_every_column_in_order() -> None:
    rows = _dictionary()
    assert tuple(rows[0]) == DICTIONARY_FIELDS
    assert tuple(r["column"] for r in rows) == HEADER
    assert HEADER[: len(FIXED_COLUMNS)] == FIXED_COLUMNS
    assert FIXED_COLUMNS == (
        "os_months", "death", "efs_months", "first_event", "dfi_months", "timing", "age", "sex",
        "histology", "primary_site", "grade", "stage", "lesion_count", "largest_lesion_mm",
        "approach", "margin", "synthetic",
    )  # fmt: skip
    for row in rows:
        assert row["type"] in {"number", "integer", "0/1", "category", "text"}, row
        assert len(row["definition"]) > 20 and row["source"], row
        if row["type"] == "number":
            assert row["unit"] in {"months", "mm"}, row
        if row["type"] in {"category", "0/1"}:
            assert row["allowed_values"], row


def test_the_dictionary_gives_the_vocabularies_of_the_case_model() -> None:
    allowed = {r["column"]: r["allowed_values"] for r in _dictionary()}
    assert allowed["approach"] == "open, laparoscopic, robotic, hand-assisted, hybrid"
    assert allowed["margin"] == "R0, R1, R2"
    assert allowed["sex"] == "male, female, other"
    assert "uterus" in allowed["primary_site"] and "extremity" in allowed["primary_site"]
    assert allowed["first_event"] == "recurrence, death, censored"
    assert "IIIB" in allowed["stage"] and "IVB" in allowed["stage"]


def test_the_docs_describe_every_column() -> None:
    text = DOC.read_text(encoding="utf-8")
    for column in COLUMNS:
        assert f"| `{column.name}` |" in text, column.name


def test_the_dictionary_file_name() -> None:
    assert dictionary_path_for("cohort.csv") == "cohort.dictionary.csv"
    assert dictionary_path_for("cohort.CSV") == "cohort.dictionary.csv"
    assert dictionary_path_for("cohort") == "cohort.dictionary.csv"

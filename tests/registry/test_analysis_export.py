"""Test the analysis export on SQLite and PostgreSQL.

Covered: the seed case value by value, a pre-operative case without follow-up, the same
endpoints as the cohort analyses, rights, de-identification, formula-safe cells and the audit
record.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
import pytest
import yaml

from livermet.analysis.cohort import with_endpoints
from livermet.analysis.cohort_report import cohort_report
from livermet.analysis.summary import km_analysis
from livermet.case.load import case_from_data, load_case
from livermet.case.model import Case
from livermet.errors import ForbiddenError
from livermet.interchange.cells import encode_number
from livermet.registry import Registry, synthetic_cases
from livermet.registry.analysis_export import FIXED_COLUMNS, HEADER, export_analysis
from tests.registry.conftest import SEED_CASE, World

EXAMPLES = SEED_CASE.parent
N_SYNTHETIC = 60

# The seed case (examples/seed-case.yaml), worked out from the file:
SEED_ROW = {
    # liver resection 4 months after the primary; the last contact 5 months after it (and 9
    # after the primary: the same day); no death, no recurrence
    "os_months": "5",
    "death": "0",
    "efs_months": "5",
    "first_event": "censored",
    # the liver lesion is stated synchronous and has no dates: never disease-free, DFI 0
    "dfi_months": "0",
    "timing": "synchronous",
    "age": "80",
    "sex": "male",
    "histology": "leiomyosarcoma",
    "primary_site": "extremity",
    # 42 mitoses/10 HPF (score 3) + necrosis >= 50% (2) + differentiation >= 1: total >= 6
    "grade": "3",
    # pT 15 cm (T3), synchronous liver metastasis M1: AJCC 8 chapter 41 stage IV
    "stage": "IV",
    "lesion_count": "1",
    "largest_lesion_mm": "21",
    "approach": "laparoscopic",
    "margin": "R0",
    "synthetic": "0",
    "efs_event": "0",
    "case_id": "seed-case",
    "site": "alpha",
    "phase": "post-operative",
    "timing_basis": "stated",
    "dfi_status": "never disease-free",
    "grade_basis": "computed",
    "stage_system": "ajcc8-extremity-trunk",
    "primary_site_detail": "thigh",
    "lesions_unmeasured": "0",
}

# examples/preop-uterine-lms.yaml: liver resection only planned, so no time zero
PREOP_ROW = {
    "os_months": "",
    "death": "0",
    "efs_months": "",
    "first_event": "",
    "efs_event": "",
    # hysterectomy 2022-10-03 -> lesions detected 2024-12-02: 791 days / 30.4375 = 25.99
    "dfi_months": "25.99",
    "dfi_status": "disease-free interval",
    # diagnosed 2022-09-10, detected 2024-12-02: after the diagnosis -> metachronous (dates)
    "timing": "metachronous",
    "timing_basis": "dates",
    "age": "55",
    "sex": "female",
    "primary_site": "uterus",
    # 25 mitoses (3) + necrosis < 50% (1) + differentiation unknown (1-3): 5-7, grade 2 or 3
    "grade": "",
    "grade_basis": "",
    # FIGO: confined to the uterus, 9 cm > 5 cm: IB; metachronous metastasis not at diagnosis
    "stage": "IB",
    "stage_system": "figo-uterine-sarcoma",
    "lesion_count": "2",
    "largest_lesion_mm": "34",
    "approach": "",
    "margin": "",
    "phase": "pre-operative",
}


def _export(reg: Registry, **kwargs: object) -> list[dict[str, str]]:
    out = io.StringIO()
    count = export_analysis(reg, out, **kwargs)  # type: ignore[arg-type]
    text = out.getvalue()
    header = text.splitlines()[0].split(",")
    assert tuple(header) == HEADER
    assert tuple(header[: len(FIXED_COLUMNS)]) == FIXED_COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    return rows


def _seed_with(*changes: tuple[str, str, object]) -> Case:
    """Return the seed case with (section, field, value) changed."""
    data = yaml.safe_load(SEED_CASE.read_text(encoding="utf-8"))
    for section, name, value in changes:
        data[section][name] = value
    return case_from_data(data)


def _months(value: float) -> str:
    """Format a time as the export writes it: exact (shortest round-trip digits), no ``.0``."""
    return "" if pd.isna(value) else encode_number(float(value))


def _by_id(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["case_id"]: r for r in rows}


@pytest.fixture
def filled(world: World) -> World:
    reg = world.reg
    reg.create_case(load_case(SEED_CASE), site="alpha")
    reg.create_case(load_case(EXAMPLES / "preop-uterine-lms.yaml"), site="alpha")
    reg.create_case(load_case(EXAMPLES / "preop-retroperitoneal-lms.yaml"), site="beta")
    reg.import_cases(synthetic_cases(N_SYNTHETIC, seed=3), source="synthetic", site="beta")
    return world


def test_the_seed_case_row_value_by_value(filled: World) -> None:
    rows = _by_id(_export(filled.reg, deidentified=False))
    assert rows["seed-case"] == SEED_ROW


def test_a_pre_operative_case_exports_with_empty_survival(filled: World) -> None:
    rows = _by_id(_export(filled.reg, deidentified=False))
    row = rows["preop-uterine-lms"]
    assert {k: row[k] for k in PREOP_ROW} == PREOP_ROW
    assert rows["preop-retroperitoneal-lms"]["os_months"] == ""
    assert rows["preop-retroperitoneal-lms"]["site"] == "beta"


def test_synthetic_cases_only_when_asked(filled: World) -> None:
    real = _export(filled.reg, deidentified=False)
    assert len(real) == 3 and {r["synthetic"] for r in real} == {"0"}
    both = _export(filled.reg, deidentified=False, include_synthetic=True)
    assert len(both) == 3 + N_SYNTHETIC
    assert sum(r["synthetic"] == "1" for r in both) == N_SYNTHETIC


def test_endpoints_are_those_of_the_cohort_analyses(filled: World) -> None:
    """Check that the export's endpoints equal the cohort table's.

    os/death/efs/first_event/efs_event and grade equal the cohort table's (CLI and web), and the
    event-free Kaplan-Meier of the export equals the web page's.
    """
    reg = filled.reg
    rows = _by_id(_export(reg, deidentified=False, include_synthetic=True))
    cohort = with_endpoints(reg.cohort_frame(include_synthetic=True)).set_index("id")
    assert set(rows) == set(cohort.index)
    for case_id, c in cohort.iterrows():
        row = rows[str(case_id)]
        for name in ("os_months", "efs_months"):
            assert row[name] == _months(c[name]), (case_id, name)
        assert row["death"] == str(int(c["death"]))
        assert row["first_event"] == ("" if pd.isna(c["first_event"]) else c["first_event"])
        for name in ("efs_event", "grade"):
            assert row[name] == ("" if pd.isna(c[name]) else str(int(c[name]))), (case_id, name)
        assert row["approach"] == (c["approach"] or "")
    events = [r for r in rows.values() if r["efs_months"]]
    assert {r["first_event"] for r in events} == {"recurrence", "death", "censored"}
    n_events = sum(r["efs_event"] == "1" for r in events)
    assert n_events == sum(r["first_event"] in {"recurrence", "death"} for r in events) > 0
    web = cohort_report(reg, "approach", "efs", True, ["age"])
    assert web["km"]["overall"]["n"] == len(events)
    assert web["km"]["overall"]["events"] == n_events
    frame = pd.DataFrame(
        {
            "efs_months": [float(r["efs_months"]) for r in events],
            "efs_event": [int(r["efs_event"]) for r in events],
        }
    )
    ours = km_analysis(frame, "efs_months", "efs_event").report["overall"]
    # the same median and interval (the export writes the months exactly)
    assert ours["median"] == web["km"]["overall"]["median"]


def test_numbers_are_plain_and_missing_is_empty(filled: World) -> None:
    rows = _export(filled.reg, deidentified=False, include_synthetic=True)
    plain = re.compile(r"^(?:0|[1-9]\d*)(?:\.\d{1,2})?$")
    exact = re.compile(r"^(?:0|[1-9]\d*)(?:\.\d*[1-9])?$")
    for row in rows:
        for name in ("os_months", "efs_months", "dfi_months", "largest_lesion_mm", "age"):
            cell = row[name]
            pattern = exact if name in {"os_months", "efs_months"} else plain
            assert cell == "" or (pattern.match(cell) and not cell.endswith(".0")), (name, cell)
        for name in ("death", "synthetic"):
            assert row[name] in {"0", "1"}
        for name in ("efs_event", "grade", "lesion_count", "lesions_unmeasured"):
            assert row[name] == "" or row[name].isdigit()
        assert "nan" not in row.values() and "None" not in row.values()


def test_de_identified_export_for_the_coordinator(filled: World) -> None:
    coordinator = filled.as_("coordinator")
    rows = _export(coordinator, include_synthetic=True)
    assert len(rows) == 3 + N_SYNTHETIC
    assert all(re.fullmatch(r"(SYN-)?DEID-[0-9a-f]{16}", r["case_id"]) for r in rows)
    assert all(r["primary_site_detail"] == "" for r in rows)  # free text removed
    # the coordinator's ids are the ones the registry shows the coordinator
    # in the order of the pseudonyms within each site, not of the registry's ids
    order = [(r["site"], r["case_id"]) for r in rows]
    assert order == sorted(order)
    assert {r["case_id"] for r in rows} == set(
        coordinator.cohort_frame(include_synthetic=True)["id"]
    )
    seed = next(
        r for r in rows if r["stage_system"] == "ajcc8-extremity-trunk" and r["synthetic"] == "0"
    )
    # dates are shifted per patient: every interval, hence every value, is unchanged
    expected = {**SEED_ROW, "case_id": seed["case_id"], "primary_site_detail": ""}
    assert seed == expected
    with pytest.raises(ForbiddenError):
        export_analysis(coordinator, io.StringIO(), deidentified=False)


def test_ages_over_89_are_grouped_when_de_identified(world: World) -> None:
    old = _seed_with(("patient", "age_years", 95))
    world.reg.create_case(old, site="alpha")
    (identified,) = _export(world.reg, deidentified=False)
    (deidentified,) = _export(world.reg)
    assert identified["age"] == "95" and deidentified["age"] == "90"


def test_rights_are_those_of_the_other_exports(filled: World) -> None:
    own = _export(filled.as_("site_admin_alpha"), deidentified=False)
    assert {r["site"] for r in own} == {"alpha"} and len(own) == 2
    for user in ("viewer_alpha", "editor_alpha"):
        with pytest.raises(ForbiddenError):
            export_analysis(filled.as_(user), io.StringIO())
    with pytest.raises(ForbiddenError):
        export_analysis(filled.as_("site_admin_alpha"), io.StringIO(), sites=["beta"])


def test_the_export_is_audited_before_rows_leave(filled: World) -> None:
    out = io.StringIO()
    export_analysis(filled.as_("site_admin_alpha"), out, deidentified=False)
    (record,) = [e for e in filled.reg.audit_entries() if e.action == "export"]
    after = json.loads(str(record.after))
    assert after["format"] == "analysis"
    assert after["count"] == 2 and after["sites"] == ["alpha"]
    assert sorted(after["case_ids"]) == ["preop-uterine-lms", "seed-case"]
    assert record.entity_id == "full"
    assert filled.db.verify_audit().ok
    # a refused export writes nothing and audits nothing
    refused = io.StringIO()
    with pytest.raises(ForbiddenError):
        export_analysis(filled.as_("viewer_alpha"), refused)
    assert refused.getvalue() == ""
    assert len([e for e in filled.reg.audit_entries() if e.action == "export"]) == 1


def test_texts_that_look_like_formulas_are_neutralised(world: World) -> None:
    case = _seed_with(
        ("primary_tumour", "site", '=HYPERLINK("http://x")'),
        ("primary_tumour", "histology", "@SUM(A1)"),
    )
    world.reg.create_case(case, site="alpha")
    (row,) = _export(world.reg, deidentified=False)
    assert row["primary_site_detail"] == '\'=HYPERLINK("http://x")'
    assert row["histology"] == "'@SUM(A1)"
    (deid,) = _export(world.reg)
    assert deid["histology"] == ""  # not a known histology: removed by de-identification


def test_an_empty_registry_exports_the_header_only(world: World) -> None:
    out = io.StringIO()
    assert export_analysis(world.reg, out) == 0
    assert out.getvalue() == ",".join(HEADER) + "\n"

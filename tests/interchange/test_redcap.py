"""REDCap exchange.

The 18-column dictionary, flat records with repeating instruments, lossless round trips, and
broken files reported row by row (research note §1.1-§1.4).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.interchange.errors import RowError, RowsError
from livermet.interchange.redcap import (
    DICTIONARY_HEADERS,
    METADATA_KEYS,
    REPEATING_INSTRUMENTS,
    case_to_records,
    data_dictionary,
    data_dictionary_csv,
    export_records_csv,
    import_records_csv,
    record_columns,
    records_to_cases,
)
from tests.conftest import SEED_CASE
from tests.interchange.model_paths import leaf_paths
from tests.interchange.strategies import ANY_TEXTS, VARIED, cases, empty_text_case

# Copied from the research note §1.1 (REDCap's download headers, columns A-R), not from the code.
NOTE_HEADERS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]
NOTE_FIELD_TYPES = {
    "text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "calc", "file",
    "slider", "descriptive", "sql",
}  # fmt: skip


@pytest.fixture(scope="module")
def seed() -> Case:
    """Return the seed case of the examples."""
    return load_case(SEED_CASE)


# --- dictionary ----------------------------------------------------------------------------------


def test_dictionary_has_exactly_the_18_headers_in_order() -> None:
    assert list(DICTIONARY_HEADERS) == NOTE_HEADERS
    assert len(METADATA_KEYS) == 18 and METADATA_KEYS[0] == "field_name"
    rows = data_dictionary()
    assert all(list(row) == NOTE_HEADERS for row in rows)
    header = next(csv.reader(io.StringIO(data_dictionary_csv())))
    assert header == NOTE_HEADERS


def test_dictionary_follows_redcap_rules() -> None:
    rows = list(csv.DictReader(io.StringIO(data_dictionary_csv())))
    assert rows[0]["Variable / Field Name"] == "record_id" and rows[0]["Field Type"] == "text"
    assert rows[0]["Identifier?"] == ""  # the record id is not flagged (§1.1)
    names = [r["Variable / Field Name"] for r in rows]
    assert len(names) == len(set(names))
    forms = [r["Form Name"] for r in rows]
    assert [f for i, f in enumerate(forms) if i == 0 or f != forms[i - 1]] == list(
        dict.fromkeys(forms)
    ), "the rows of a form must be contiguous"
    for r in rows:
        name = r["Variable / Field Name"]
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name) and len(name) <= 26, name
        assert r["Field Type"] in NOTE_FIELD_TYPES
        assert r["Field Label"] and r["Form Name"]
        if r["Field Type"] in ("radio", "dropdown"):
            pairs = r["Choices, Calculations, OR Slider Labels"].split(" | ")
            assert [p.split(", ", 1)[0] for p in pairs] == [
                str(i) for i in range(1, len(pairs) + 1)
            ]
        assert r["Text Validation Type OR Show Slider Number"] in {
            "",
            "integer",
            "number",
            "date_ymd",
        }
        if r["Text Validation Type OR Show Slider Number"] == "date_ymd":
            assert r["Identifier?"] == "y"  # dates are removed by a de-identified export
    assert set(REPEATING_INSTRUMENTS) < set(forms)


def test_every_case_field_has_a_redcap_field() -> None:
    covered = set()
    for r in data_dictionary():
        annotation = r["Field Annotation"].removeprefix("livermet: ")
        covered.add(re.sub(r" \((date|offset)\)$", "", annotation).removesuffix("[]"))
    assert leaf_paths() <= covered


def test_every_record_column_is_in_the_dictionary() -> None:
    names = {r["Variable / Field Name"] for r in data_dictionary()}
    forms = {r["Form Name"] for r in data_dictionary()}
    fixed = {"record_id", "redcap_repeat_instrument", "redcap_repeat_instance"}
    completes = {f"{f}_complete" for f in forms}
    assert set(record_columns()) == names | fixed | completes
    assert record_columns()[:3] == [
        "record_id",
        "redcap_repeat_instrument",
        "redcap_repeat_instance",
    ]


# --- records --------------------------------------------------------------------------------------


def test_seed_records_have_redcap_flat_shape(seed: Case) -> None:
    rows = case_to_records(seed, "101")
    base, repeats = rows[0], rows[1:]
    assert base["record_id"] == "101" and base["redcap_repeat_instrument"] == ""
    assert base["redcap_repeat_instance"] == "" and base["case_id"] == "seed-case"
    assert base["pt_age"] == "80" and base["lf_icg_r15"] == "4.3 %"
    counts: dict[str, list[str]] = {}
    for row in repeats:
        assert row["record_id"] == "101"
        counts.setdefault(row["redcap_repeat_instrument"], []).append(row["redcap_repeat_instance"])
        assert row[f"{row['redcap_repeat_instrument']}_complete"] == "2"
        assert row["case_id"] == ""  # fields of other instruments stay empty
    assert counts == {
        "comorbidity": ["1", "2"],
        "tumour_size": ["1", "2", "3", "4"],
        "immunohistochemistry": ["1", "2", "3"],
        "liver_lesion": ["1"],
        "imaging": ["1", "2", "3", "4", "5", "6"],
        "biopsy": ["1", "2"],
        "procedure": ["1", "2"],
        "complication": ["1"],
        "follow_up": ["1", "2"],
    }
    liver = next(r for r in repeats if r["proc_id"] == "liver-resection")
    assert (liver["proc_after"], liver["proc_amount"], liver["proc_unit"]) == (
        "primary-resection",
        "4",
        "3",  # 3 = months
    )
    assert liver["proc_segments"] == "[6, 7]" and liver["proc_duration"] == "5 h 14 min"
    comp = next(r for r in repeats if r["redcap_repeat_instrument"] == "complication")
    assert comp["comp_procedure"] == "primary-resection" and comp["comp_clavien_dindo"] == "II"


def test_seed_case_round_trips_through_rows_and_csv(seed: Case) -> None:
    back = records_to_cases(case_to_records(seed, "1"))
    assert back == [seed] and back[0].model_dump() == seed.model_dump()
    assert import_records_csv(export_records_csv([seed])) == [seed]


def test_several_cases_in_one_export_keep_their_order(seed: Case) -> None:
    all_cases = [seed, *(make() for make in VARIED.values()), empty_text_case()]
    assert import_records_csv(export_records_csv(all_cases)) == all_cases


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(texts=ANY_TEXTS))
def test_generated_cases_round_trip(case: Case) -> None:
    back = import_records_csv(export_records_csv([case], ["r-1"]))
    assert back == [case]
    assert back[0].model_dump() == case.model_dump()


def test_labelled_export_is_read_too(seed: Case) -> None:
    labelled = case_to_records(seed, "1")
    labelled[0]["pt_sex"] = "male"  # rawOrLabel=label writes the label, which is the value
    labelled[0]["prim_site_group"] = "extremity"
    assert records_to_cases(labelled) == [seed]


def test_record_ids_must_be_usable() -> None:
    with pytest.raises(InputError) as err:
        case_to_records(load_case(SEED_CASE), " x")
    assert err.value.field == "record_id"
    for formula in ("=1+1", "+1", "-1", "@SUM(A1)"):  # would run in a spreadsheet
        with pytest.raises(InputError, match="begins with") as err:
            case_to_records(load_case(SEED_CASE), formula)
        assert err.value.field == "record_id"


# --- broken files -----------------------------------------------------------------------------


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _write(rows: list[dict[str, str]], header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_every_broken_row_is_reported_and_nothing_is_returned(seed: Case) -> None:
    text = export_records_csv([seed, VARIED["dated-si"]()])
    rows = _rows(text)
    header = list(rows[0])

    def at(instrument: str, instance: str, record: str = "1") -> int:
        """Index in `rows` of a row (file row number = index + 2)."""
        return next(
            i
            for i, r in enumerate(rows)
            if r["record_id"] == record
            and r["redcap_repeat_instrument"] == instrument
            and r["redcap_repeat_instance"] == instance
        )

    base = at("", "")
    rows[base]["pt_sex"] = "9"  # not a choice code
    rows[base]["pt_age"] = "eighty"  # not a whole number
    size = at("tumour_size", "2")
    rows[size]["size_greatest"] = "25 furlongs"  # unknown unit (model)
    comp = at("complication", "1")
    rows[comp]["comp_procedure"] = "no-such-procedure"
    img = at("imaging", "3")
    rows[img]["redcap_repeat_instrument"] = "imagery"  # not an instrument
    dup = at("follow_up", "2")
    rows[dup]["redcap_repeat_instance"] = "1"  # duplicate instance
    lesion = at("liver_lesion", "1")
    rows[lesion]["lab_bilirubin"] = "1.0"  # a field of another instrument
    other = at("procedure", "1", record="2")
    rows[other]["proc_discharge_date"] = "2018-03-01"  # before the operation (timeline)

    with pytest.raises(RowsError) as err:
        import_records_csv(_write(rows, header))
    found = {(e.row, e.field) for e in err.value.errors}
    expected = {
        (base + 2, "pt_sex"),
        (base + 2, "pt_age"),
        (size + 2, "size_greatest"),
        (comp + 2, "comp_procedure"),
        (img + 2, "redcap_repeat_instrument"),
        (dup + 2, "redcap_repeat_instance"),
        (lesion + 2, "lab_bilirubin"),
        (other + 2, "proc_discharge_date"),
    }
    assert found == expected
    reasons = {(e.row, e.field): e.reason for e in err.value.errors}
    assert "furlongs" in reasons[(size + 2, "size_greatest")]
    assert "before the operation" in reasons[(other + 2, "proc_discharge_date")]
    assert isinstance(err.value, InputError) and "7 row(s)" in err.value.message  # 8 errors, 7 rows


def test_file_level_problems_are_row_1() -> None:
    header = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "frobnicate"]
    with pytest.raises(RowsError) as err:
        import_records_csv(_write([], header))
    assert err.value.errors == [RowError(1, "frobnicate", err.value.errors[0].reason)]


def test_a_record_without_its_base_row_is_reported() -> None:
    rows = case_to_records(load_case(SEED_CASE), "7")[1:]
    with pytest.raises(RowsError) as err:
        records_to_cases(rows)
    assert [(e.row, e.field) for e in err.value.errors] == [(2, "record_id")]


def test_empty_texts_are_kept(seed: Case) -> None:
    case = empty_text_case()
    rows = case_to_records(case, "1")
    assert rows[0]["case_notes"] == '""'  # JSON empty string, told apart from "not given"
    assert records_to_cases(rows) == [case]


def test_text_that_looks_like_a_number_stays_text() -> None:
    case = VARIED["awkward-text"]()
    rows = case_to_records(case, "1")
    assert rows[0]["lab_bilirubin"] == '"1.2"' and rows[0]["lab_albumin"] == "3.5"
    lesion: dict[str, Any] = next(
        r for r in rows if r["redcap_repeat_instrument"] == "liver_lesion"
    )
    assert lesion["les_segments"] == '["7", 7, "S7"]'
    assert records_to_cases(rows) == [case]

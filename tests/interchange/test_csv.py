"""CSV, one row per case: documented columns, lossless round trips, every broken row reported."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings

from livermet.case.load import load_case
from livermet.case.model import Case
from livermet.errors import InputError
from livermet.interchange.csv_io import CSV_COLUMNS, cases_from_csv, cases_to_csv
from livermet.interchange.errors import RowsError
from tests.conftest import SEED_CASE
from tests.interchange.model_paths import leaf_paths
from tests.interchange.strategies import ANY_TEXTS, VARIED, cases, empty_text_case


@pytest.fixture(scope="module")
def seed() -> Case:
    """Return the seed case of the examples."""
    return load_case(SEED_CASE)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _write(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def test_columns_are_documented_and_cover_every_case_field() -> None:
    assert all(meaning.strip() for meaning in CSV_COLUMNS.values())
    header = next(csv.reader(io.StringIO(cases_to_csv([]))))
    assert header == list(CSV_COLUMNS)
    for path in leaf_paths():
        # a field has its own column, or lies inside a JSON-list column
        assert any(
            path == c or path.startswith(c + ".") or path.startswith(c + "[]") for c in CSV_COLUMNS
        ), path


def test_seed_case_round_trips_exactly(seed: Case) -> None:
    back = cases_from_csv(cases_to_csv([seed]))
    assert back == [seed]
    assert back[0].model_dump() == seed.model_dump()


def test_seed_row_is_readable(seed: Case) -> None:
    (row,) = _rows(cases_to_csv([seed]))
    assert row["id"] == "seed-case" and row["patient.age_years"] == "80"
    assert row["primary_tumour.necrosis_category"] == ">=50%"
    assert row["liver_function.icg_r15"] == "4.3 %"
    assert row["liver_function.gsa.hh15"] == "0.535"
    assert row["extrahepatic_metastases"] == "[]"  # none found, not unknown
    assert row["labs.bilirubin"] == ""  # unknown
    assert (
        '"months": 4' in row["procedures"] and '"after": "primary-resection"' in row["procedures"]
    )


def test_several_cases(seed: Case) -> None:
    all_cases = [seed, *(make() for make in VARIED.values()), empty_text_case()]
    assert cases_from_csv(cases_to_csv(all_cases)) == all_cases


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(texts=ANY_TEXTS))
def test_generated_cases_round_trip(case: Case) -> None:
    back = cases_from_csv(cases_to_csv([case]))
    assert back == [case]
    assert back[0].model_dump() == case.model_dump()


def test_ambiguous_values_are_written_apart() -> None:
    (row,) = _rows(cases_to_csv([VARIED["awkward-text"]()]))
    assert row["labs.bilirubin"] == '"1.2"'  # the text "1.2", not the number
    assert row["labs.albumin"] == "3.5"  # the number
    assert row["primary_tumour.site"] == '"thigh "'  # trailing space kept
    assert row["notes"] == "multi\nline\nnotes"
    (empty,) = _rows(cases_to_csv([empty_text_case()]))
    assert empty["notes"] == '""' and empty["source"] == ""  # empty text vs not given


def test_columns_may_be_missing_or_reordered(seed: Case) -> None:
    (row,) = _rows(cases_to_csv([seed]))
    kept = {k: row[k] for k in reversed(list(row)) if row[k] != ""}
    assert cases_from_csv(_write([kept])) == [seed]


def test_every_broken_row_is_reported_and_nothing_is_returned(seed: Case) -> None:
    good = _rows(cases_to_csv([seed]))[0]
    rows = [dict(good, id=f"case-{i}") for i in range(6)]
    rows[1]["patient.age_years"] = "eighty"  # row 3: not a whole number
    rows[1]["labs.bilirubin"] = "1.2 mg"  # row 3: unknown unit (model)
    rows[2]["primary_tumour.site_group"] = "limb"  # row 4: not a choice
    rows[4]["procedures"] = rows[4]["procedures"].replace('"80 mL"', '"80 furlongs"')  # row 6
    rows[5]["id"] = "case-0"  # row 7: duplicate id
    with pytest.raises(RowsError) as err:
        cases_from_csv(_write(rows))
    found = {(e.row, e.field) for e in err.value.errors}
    assert found == {
        (3, "patient.age_years"),
        (3, "labs.bilirubin"),
        (4, "primary_tumour.site_group"),
        (6, "procedures"),
        (7, "id"),
    }
    reasons = {(e.row, e.field): e.reason for e in err.value.errors}
    assert reasons[(6, "procedures")].startswith("procedures[1].blood_loss: unknown unit")
    assert "'mg'" in reasons[(3, "labs.bilirubin")]
    assert isinstance(err.value, InputError)


def test_broken_structure_is_reported_per_row(seed: Case) -> None:
    text = cases_to_csv([seed])
    header, line = text.splitlines()[0], text.splitlines()[1]
    bad = "\n".join([header + ",frobnicate", line + ",x", "only,three,cells", line + ",y"]) + "\n"
    with pytest.raises(RowsError) as err:
        cases_from_csv(bad)
    fields = {(e.row, e.field) for e in err.value.errors}
    assert (1, "frobnicate") in fields  # unknown column: its data would be lost
    assert (3, "(row)") in fields  # wrong number of cells
    assert (4, "id") in fields  # duplicate of row 2


def test_bad_json_list_is_reported(seed: Case) -> None:
    (row,) = _rows(cases_to_csv([seed]))
    row["liver_lesions"] = "[{"
    row["patient.comorbidities"] = '{"a": 1}'
    with pytest.raises(RowsError) as err:
        cases_from_csv(_write([row]))
    assert {(e.row, e.field) for e in err.value.errors} == {
        (2, "liver_lesions"),
        (2, "patient.comorbidities"),
    }
